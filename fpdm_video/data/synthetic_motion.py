"""Synthetic sign-like motion as a holistic :class:`PoseSequence`.

A seed gives a plan: a timeline of keyframes for both hands. Each keyframe holds a wrist target
in signing space (in front of the torso, between the hips and the face), a handshape (see
:mod:`fpdm_video.data.synthetic_hand`) and a hand orientation; a keyframe can also be a contact,
where the index fingertip touches the chin, a cheek or the forehead. The dominant hand moves
between keyframes along minimum-jerk paths and holds at each for a moment; the other hand rests,
mirrors the dominant hand (a two-handed sign) or holds still as a base hand. The torso sways and
the head turns a little all the time.

Each frame is built from the plan: torso and head (with the 468 face points of
:mod:`fpdm_video.data.synthetic_face`), then each arm by two-bone inverse kinematics from the
shoulder to the wrist target, then the hand's 21 points from its shape and orientation. Points
are pixels of a ``width x height`` frame with z in pixels (negative = towards the camera), as in
the rest of the project. Legs are outside the signing frame and marked missing.

The plan also names what happens in each segment (``describe_motion``): a made-up gloss such as
``POINT CONTACT-CHIN V MOVE-RIGHT TWO-HANDS``. It describes the motion; it is not a language.
Directions are the signer's own (MOVE-RIGHT goes to the signer's right, the image's left).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from fpdm_video.data.synthetic_face import CONTACT_POINTS, EYE_CENTRES, LEFT_CHEEK, RIGHT_CHEEK, face_template
from fpdm_video.data.synthetic_hand import HANDSHAPES, Handshape, pose_hand
from fpdm_video.errors import InputError
from fpdm_video.pose.sequence import BODY_POINTS, HOLISTIC_COMPONENTS, PoseSequence

B = {name: i for i, name in enumerate(BODY_POINTS)}
SIDES: tuple[str, ...] = ("left", "right")
SIDE_SIGN = {"left": 1.0, "right": -1.0}  # image x direction of the signer's side
HAND_OFFSET = {"left": 33, "right": 54}  # start of each hand in the canonical layout
FACE_OFFSET = 75

# the neutral skeleton, in body units u (see _unit)
SHOULDER_Y = 0.5  # shoulder line, as a fraction of the frame height
SHOULDER_HALF = 0.21  # half the shoulder distance
HIP_DROP, HIP_HALF = 0.52, 0.15  # hips below the shoulder line, half hip distance
NECK = 0.09  # shoulder line to chin
FACE_HALF_HEIGHT = 0.16  # half the face height (forehead top to chin)
UPPER_ARM, FOREARM = 0.3, 0.27  # bone lengths
HAND_LENGTH = 0.25  # wrist to middle fingertip (cartoon hands, a little large)

# timing, in seconds
MOVE_SECONDS = (0.28, 0.56)
HOLD_SECONDS = (0.08, 0.32)
P_CONTACT = 0.25  # chance that a dominant-hand segment ends in a contact


@dataclass(frozen=True)
class HandKey:
    """The state one hand reaches at a keyframe."""

    target: tuple[float, float, float]  # wrist, relative to the shoulder midpoint, in body units
    shape: Handshape  # the handshape
    roll: float  # radians; relative to the forearm's direction unless ``contact`` is set
    yaw: float  # palm turn about the fingers' axis, radians (0 = palm to the camera)
    pitch: float  # fingers tipped towards the camera, radians
    contact: int = -1  # face point the index fingertip touches (the roll is then absolute), or -1


@dataclass
class MotionPlan:
    """Keyframes of both hands on one timeline, plus the sway and a gloss per segment."""

    times: list[float] = field(default_factory=list)  # keyframe times in seconds, increasing
    keys: dict[str, list[HandKey]] = field(default_factory=dict)  # per side, one key per time
    gloss: list[str] = field(default_factory=list)  # one token group per segment
    sway: np.ndarray = field(default_factory=lambda: np.zeros((6, 3)))  # (6, 3) amplitude, frequency Hz, phase
    dominant: str = "right"  # the signer's dominant hand


def _unit(width: int, height: int) -> float:
    """The body unit in pixels: the signer fills the frame's width or most of its height."""
    return float(min(width, 0.85 * height))


def _rest_key(side: str, rng: np.random.Generator) -> HandKey:
    sign = SIDE_SIGN[side]
    return HandKey(
        target=(sign * rng.uniform(0.08, 0.16), rng.uniform(0.34, 0.42), rng.uniform(-0.22, -0.14)),
        shape=Handshape.from_array(HANDSHAPES["FLAT"].as_array() + np.array([0.2, 0.25, 0.25, 0.3, 0.3, 0.0, 0.0])),
        roll=sign * rng.uniform(-0.2, 0.2),
        yaw=rng.uniform(0.9, 1.3),
        pitch=0.0,
    )


def _free_key(side: str, rng: np.random.Generator, shape: str) -> HandKey:
    """A random target in the signing space of ``side`` with handshape ``shape``."""
    sign = SIDE_SIGN[side]
    shoulder = np.array([sign * SHOULDER_HALF, 0.0, 0.0])
    reach = 0.92 * (UPPER_ARM + FOREARM)
    for _ in range(32):
        target = np.array([sign * rng.uniform(-0.12, 0.34), rng.uniform(-0.06, 0.4), rng.uniform(-0.34, -0.14)])
        if np.linalg.norm(target - shoulder) <= reach:
            break
    return HandKey(
        target=tuple(float(v) for v in target),  # type: ignore[arg-type]
        shape=HANDSHAPES[shape],
        roll=sign * rng.uniform(-0.5, 0.35),
        yaw=rng.uniform(-0.8, 0.6),
        pitch=rng.uniform(-0.3, 0.3),
    )


def _contact_key(side: str, rng: np.random.Generator, place: str) -> HandKey:
    sign = SIDE_SIGN[side]
    point = CONTACT_POINTS[place]
    if place == "cheek":
        point = LEFT_CHEEK if side == "left" else RIGHT_CHEEK
    roll = {"chin": 0.55, "cheek": 0.15, "forehead": 0.45}[place]
    return HandKey(
        target=(0.0, 0.0, 0.0),
        shape=HANDSHAPES["POINT"],
        roll=-sign * (roll + rng.uniform(-0.1, 0.1)),
        yaw=-sign * rng.uniform(0.2, 0.6),
        pitch=rng.uniform(-0.1, 0.1),
        contact=point,
    )


def _mirror(key: HandKey) -> HandKey:
    x, y, z = key.target
    # pose_hand mirrors the hand model for the other side, so the yaw stays as it is
    return HandKey(target=(-x, y, z), shape=key.shape, roll=-key.roll, yaw=key.yaw, pitch=key.pitch)


def _direction_token(prev: HandKey, key: HandKey) -> str:
    dx, dy = key.target[0] - prev.target[0], key.target[1] - prev.target[1]
    if max(abs(dx), abs(dy)) < 0.05:
        return "HOLD"
    if abs(dx) >= abs(dy):
        return "MOVE-RIGHT" if dx < 0 else "MOVE-LEFT"  # the signer's right is the image's left
    return "MOVE-DOWN" if dy > 0 else "MOVE-UP"


def check_motion_args(seed: int, frames: int, fps: float) -> None:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InputError(f"motion seed must be a non-negative integer, got {seed!r}")
    if isinstance(frames, bool) or not isinstance(frames, (int, np.integer)) or frames < 1:
        raise InputError(f"number of frames must be a positive integer, got {frames!r}")
    if not (isinstance(fps, (int, float)) and np.isfinite(fps) and fps > 0):
        raise InputError(f"fps must be a positive number, got {fps!r}")


def plan_motion(seed: int, frames: int, fps: float = 25.0) -> MotionPlan:
    """The keyframe plan of seed ``seed`` covering ``frames`` frames at ``fps``."""
    check_motion_args(seed, frames, fps)
    rng = np.random.default_rng([int(seed), 0x5167])
    dominant = "right" if rng.random() < 0.8 else "left"
    other = "left" if dominant == "right" else "right"
    plan = MotionPlan(dominant=dominant, keys={side: [] for side in SIDES})
    # sway rows: torso x, torso lean, head yaw, head pitch, head roll, head nod (amplitude, Hz, phase)
    amplitudes = np.array([0.012, 0.03, 0.14, 0.07, 0.05, 0.02])
    plan.sway = np.stack(
        [amplitudes * rng.uniform(0.5, 1.0, 6), rng.uniform(0.15, 0.6, 6), rng.uniform(0, 2 * np.pi, 6)], axis=1
    )
    start = {side: _rest_key(side, rng) for side in SIDES}
    plan.times.append(0.0)
    for side in SIDES:
        plan.keys[side].append(start[side])
    duration = frames / fps
    t = 0.0
    names = sorted(HANDSHAPES)
    while t <= duration:
        move = rng.uniform(*MOVE_SECONDS)
        hold = rng.uniform(*HOLD_SECONDS)
        prev = plan.keys[dominant][-1]
        if rng.random() < P_CONTACT:
            place = ("chin", "cheek", "forehead")[int(rng.integers(3))]
            key = _contact_key(dominant, rng, place)
            tokens = ["POINT", f"CONTACT-{place.upper()}"]
        else:
            shape = names[int(rng.integers(len(names)))]
            key = _free_key(dominant, rng, shape)
            tokens = [shape, _direction_token(prev, key)]
        mode = rng.choice(["rest", "mirror", "base"], p=[0.5, 0.3, 0.2])
        if key.contact >= 0 or mode == "rest":
            other_key = _rest_key(other, rng)
        elif mode == "mirror":
            other_key = _mirror(key)
            tokens.append("TWO-HANDS")
        else:
            sign = SIDE_SIGN[other]
            other_key = HandKey(
                target=(sign * 0.04, rng.uniform(0.26, 0.34), -0.3),
                shape=HANDSHAPES["FLAT"],
                roll=sign * 1.35,
                yaw=-sign * 1.2,
                pitch=0.0,
            )
            tokens.append("BASE-HAND")
        for when in (t + move, t + move + hold):  # arrive, then hold still
            plan.times.append(when)
            plan.keys[dominant].append(key)
            plan.keys[other].append(other_key)
        plan.gloss.append(" ".join(tokens))
        t += move + hold
    return plan


def describe_motion(seed: int, frames: int, fps: float = 25.0) -> str:
    """The made-up gloss of the motion of ``seed`` (see the module docstring)."""
    return " ".join(plan_motion(seed, frames, fps).gloss)


# ---- frames ------------------------------------------------------------------------------------
def _min_jerk(s: np.ndarray | float) -> np.ndarray | float:
    """Minimum-jerk easing of s in [0, 1] (Flash & Hogan 1985): 10 s^3 - 15 s^4 + 6 s^5."""
    return s**3 * (10.0 - 15.0 * s + 6.0 * s**2)


def _rot2(angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, -s], [s, c]])


def _head_rotation(yaw: float, pitch: float, roll: float) -> np.ndarray:
    cy, sy, cp, sp, cr, sr = np.cos(yaw), np.sin(yaw), np.cos(pitch), np.sin(pitch), np.cos(roll), np.sin(roll)
    r_yaw = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    r_pitch = np.array([[1, 0, 0], [0, cp, -sp], [0, sp, cp]])
    r_roll = np.array([[cr, -sr, 0], [sr, cr, 0], [0, 0, 1]])
    return r_roll @ r_pitch @ r_yaw


def _two_bone_ik(shoulder: np.ndarray, wrist: np.ndarray, l1: float, l2: float, pole: np.ndarray):
    """(elbow, wrist) for a two-bone arm reaching for ``wrist``, the elbow bent towards ``pole``."""
    offset = wrist - shoulder
    d = float(np.linalg.norm(offset))
    d_clamped = float(np.clip(d, abs(l1 - l2) + 1e-3 * (l1 + l2), 0.999 * (l1 + l2)))
    n = offset / max(d, 1e-9)
    wrist = shoulder + n * d_clamped
    a = (l1**2 - l2**2 + d_clamped**2) / (2.0 * d_clamped)
    h = float(np.sqrt(max(l1**2 - a**2, 0.0)))
    b = pole - n * float(pole @ n)
    b /= max(float(np.linalg.norm(b)), 1e-9)
    return shoulder + a * n + h * b, wrist


def _wrap(angle: float) -> float:
    return float((angle + np.pi) % (2.0 * np.pi) - np.pi)


def _frame(plan: MotionPlan, t: float, width: int, height: int) -> np.ndarray:
    """Points (543, 3) of the frame at time ``t`` seconds."""
    u = _unit(width, height)
    sway = plan.sway
    wave = sway[:, 0] * np.sin(2.0 * np.pi * sway[:, 1] * t + sway[:, 2])  # (6,)
    pts = np.zeros((543, 3))
    lean = _rot2(wave[1])
    mid = np.array([width / 2.0 + wave[0] * u, SHOULDER_Y * height, 0.0])  # shoulder midpoint
    hip_mid = mid[:2] + np.array([0.0, HIP_DROP * u])

    def body_xy(dx: float, dy: float) -> np.ndarray:  # torso point, leaning about the hips
        return hip_mid + lean @ (mid[:2] + np.array([dx, dy]) * u - hip_mid)

    for side in SIDES:
        sign = SIDE_SIGN[side]
        up = side.upper()
        pts[B[f"{up}_SHOULDER"], :2] = body_xy(sign * SHOULDER_HALF, 0.0)
        pts[B[f"{up}_HIP"], :2] = hip_mid + np.array([sign * HIP_HALF * u, 0.0])
    mid_now = np.array([*body_xy(0.0, 0.0), 0.0])
    # head: face template rotated and placed above the neck
    head_centre = np.array([*body_xy(0.0, -(NECK + FACE_HALF_HEIGHT)), 0.0])
    head_centre[1] += wave[5] * u
    rotation = _head_rotation(wave[2], wave[3], wave[4] + wave[1])
    face = head_centre + (face_template() @ rotation.T) * FACE_HALF_HEIGHT * u  # (468, 3)
    pts[FACE_OFFSET:] = face
    pts[B["NOSE"]] = face[1]
    for side, eye in EYE_CENTRES.items():
        up = side.upper()
        pts[B[f"{up}_EYE"]] = face[list(eye)].mean(axis=0)
        pts[B[f"{up}_EYE_OUTER"]] = face[eye[0]]
        pts[B[f"{up}_EYE_INNER"]] = face[eye[len(eye) // 2]]
    pts[B["LEFT_EAR"]] = face[454] + np.array([0.0, 0.0, 0.3 * FACE_HALF_HEIGHT * u])
    pts[B["RIGHT_EAR"]] = face[234] + np.array([0.0, 0.0, 0.3 * FACE_HALF_HEIGHT * u])
    pts[B["MOUTH_LEFT"]], pts[B["MOUTH_RIGHT"]] = face[291], face[61]
    # keyframe bracket and easing
    times = np.asarray(plan.times)
    k = int(np.clip(np.searchsorted(times, t, side="right") - 1, 0, len(times) - 1))
    k1 = min(k + 1, len(times) - 1)
    span = times[k1] - times[k]
    s = float(_min_jerk(np.clip((t - times[k]) / span, 0.0, 1.0))) if span > 0 else 0.0
    for side in SIDES:
        _arm(pts, plan.keys[side][k], plan.keys[side][k1], s, side, mid_now, face, u)
    return pts


def _key_wrist(key: HandKey, side: str, mid: np.ndarray, face: np.ndarray, u: float) -> np.ndarray:
    """Where ``key`` puts the wrist (3,) in pixels in the current frame."""
    if key.contact < 0:
        return mid + np.asarray(key.target) * u
    tip = pose_hand(key.shape, side, key.roll, key.yaw, key.pitch)[8] * HAND_LENGTH * u  # index tip from wrist
    touch = face[key.contact] - np.array([0.0, 0.0, 0.02 * u])  # just in front of the skin
    return touch - tip


def _arm(pts, key0: HandKey, key1: HandKey, s: float, side: str, mid: np.ndarray, face: np.ndarray, u: float) -> None:
    """Fill the arm and hand points of ``side`` for easing ``s`` between two keys."""
    sign = SIDE_SIGN[side]
    up = side.upper()
    shoulder = np.array([*pts[B[f"{up}_SHOULDER"], :2], 0.0])
    target = (1 - s) * _key_wrist(key0, side, mid, face, u) + s * _key_wrist(key1, side, mid, face, u)
    pole = np.array([sign * 0.6, 1.0, 0.35])  # elbows hang down, out and back
    elbow, wrist = _two_bone_ik(shoulder, target, UPPER_ARM * u, FOREARM * u, pole)
    forearm_roll = float(np.arctan2(wrist[0] - elbow[0], -(wrist[1] - elbow[1])))  # 0 = pointing up

    def roll_of(key: HandKey) -> float:
        return key.roll if key.contact >= 0 else forearm_roll + key.roll

    r0, r1 = roll_of(key0), roll_of(key1)
    roll = r0 + s * _wrap(r1 - r0)
    shape = Handshape.from_array((1 - s) * key0.shape.as_array() + s * key1.shape.as_array())
    yaw = (1 - s) * key0.yaw + s * key1.yaw
    pitch = (1 - s) * key0.pitch + s * key1.pitch
    hand = wrist + pose_hand(shape, side, roll, yaw, pitch) * HAND_LENGTH * u  # (21, 3)
    pts[B[f"{up}_ELBOW"]] = elbow
    pts[B[f"{up}_WRIST"]] = wrist
    pts[B[f"{up}_PINKY"]] = (hand[17] + hand[18]) / 2.0
    pts[B[f"{up}_INDEX"]] = (hand[5] + hand[6]) / 2.0
    pts[B[f"{up}_THUMB"]] = hand[3]
    pts[HAND_OFFSET[side] : HAND_OFFSET[side] + 21] = hand


def reference_pose(width: int, height: int, fps: float = 25.0) -> PoseSequence:
    """One frame of a neutral rest pose: upright, head straight, both hands open in front of the belly.

    The pose for an identity's reference image (the source photo of a transfer); it is the same
    for every identity until :func:`~fpdm_video.data.synthetic_proportions.apply_proportions`.
    """
    rest = {
        side: HandKey(
            target=(SIDE_SIGN[side] * 0.19, 0.32, -0.25),
            shape=HANDSHAPES["FLAT"],
            roll=SIDE_SIGN[side] * 0.95,  # fingers turned up from the inward-pointing forearm
            yaw=0.5,
            pitch=0.0,
        )
        for side in SIDES
    }
    _check_frame_size(width, height)
    check_motion_args(0, 1, fps)
    plan = MotionPlan(times=[0.0], keys={side: [key] for side, key in rest.items()})  # no sway
    return _sequence(np.stack([_frame(plan, 0.0, int(width), int(height))]), width, height, fps)


def _sequence(points: np.ndarray, width: int, height: int, fps: float) -> PoseSequence:
    """Points (T, 543, 3) as a holistic sequence, legs marked missing."""
    confidence = np.ones(points.shape[:2], dtype=np.float32)  # (T, 543)
    legs = [B[name] for name in BODY_POINTS[25:]]
    confidence[:, legs] = 0.0  # below the signing frame
    return PoseSequence(
        points=points.astype(np.float32),
        confidence=confidence,
        fps=float(fps),
        width=int(width),
        height=int(height),
        components=HOLISTIC_COMPONENTS,
    )


def _check_frame_size(width: int, height: int) -> None:
    for name, value in (("width", width), ("height", height)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 16:
            raise InputError(f"frame {name} must be an integer of at least 16 pixels, got {value!r}")


def generate_motion(seed: int, frames: int, width: int, height: int, fps: float = 25.0) -> PoseSequence:
    """Sign-like motion of ``frames`` frames for a ``width x height`` frame (canonical holistic layout).

    The same arguments give the same sequence; different seeds give different motion.
    """
    _check_frame_size(width, height)
    plan = plan_motion(seed, frames, fps)
    points = np.stack([_frame(plan, i / fps, int(width), int(height)) for i in range(frames)])  # (T, 543, 3)
    return _sequence(points, width, height, fps)
