"""Seeded appearance of a synthetic signer: skin, hair, clothing, body proportions, background.

An identity is independent of any motion: any identity can perform any pose sequence. Its
proportions change the skeleton (see :mod:`fpdm_video.data.synthetic_proportions`), its colours
and styles change the drawing (see :mod:`fpdm_video.data.synthetic_draw`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fpdm_video.errors import InputError

RGB = tuple[int, int, int]

HAIR_STYLES: tuple[str, ...] = ("short", "long", "bun", "bald", "curly")
PATTERNS: tuple[str, ...] = ("solid", "stripes", "dots")
SLEEVES: tuple[str, ...] = ("long", "short")
BACKGROUNDS: tuple[str, ...] = ("plain", "gradient")

SKIN_TONES: tuple[RGB, ...] = (  # light to dark
    (250, 221, 196), (238, 196, 160), (222, 170, 128), (196, 140, 98),
    (164, 110, 72), (124, 82, 54), (92, 60, 40),
)  # fmt: skip
HAIR_COLOURS: tuple[RGB, ...] = (
    (24, 20, 18), (62, 42, 28), (108, 72, 40), (176, 132, 70), (218, 190, 130), (150, 62, 32), (140, 140, 140),
)  # fmt: skip

# (low, high) of each proportion factor; 1.0 is the neutral skeleton of the motion generator
PROPORTION_RANGES: dict[str, tuple[float, float]] = {
    "shoulder_width": (0.85, 1.18),
    "upper_arm": (0.9, 1.1),
    "forearm": (0.9, 1.1),
    "head_size": (0.88, 1.14),
    "hand_size": (0.9, 1.15),
}
MIN_SKIN_CONTRAST = 90.0  # least RGB distance of clothing and background from the skin, so hands stand out


@dataclass(frozen=True)
class SignerIdentity:
    """Everything that makes one synthetic signer look like themselves."""

    id: str  # speaker id written to corpora, e.g. "synth-0007"
    seed: int  # the seed this identity was sampled from
    skin: RGB  # skin colour
    hair_style: str  # one of HAIR_STYLES
    hair_colour: RGB  # hair and eyebrow colour
    clothing_colour: RGB  # shirt colour
    clothing_pattern: str  # one of PATTERNS
    pattern_colour: RGB  # colour of stripes or dots (unused for "solid")
    sleeves: str  # one of SLEEVES: "long" covers the forearm, "short" shows it
    shoulder_width: float  # factor on the distance between the shoulders
    upper_arm: float  # factor on shoulder-elbow length
    forearm: float  # factor on elbow-wrist length
    head_size: float  # factor on the size of the head and face
    hand_size: float  # factor on the size of the hands
    background: str  # one of BACKGROUNDS
    background_top: RGB  # background colour (top of the gradient)
    background_bottom: RGB  # bottom of the gradient (equal to the top for "plain")

    def proportions(self) -> dict[str, float]:
        """The body proportion factors by name (the keys of :data:`PROPORTION_RANGES`)."""
        return {name: float(getattr(self, name)) for name in PROPORTION_RANGES}


def _colour(rng: np.random.Generator, low: int = 0, high: int = 255) -> RGB:
    return tuple(int(v) for v in rng.integers(low, high + 1, size=3))  # type: ignore[return-value]


def _distance(a: RGB, b: RGB) -> float:
    return float(np.linalg.norm(np.subtract(a, b, dtype=np.float64)))


def _contrasting(rng: np.random.Generator, avoid: RGB, low: int, high: int) -> RGB:
    """A random colour at least MIN_SKIN_CONTRAST away from ``avoid`` (deterministic for the rng)."""
    for _ in range(64):
        colour = _colour(rng, low, high)
        if _distance(colour, avoid) >= MIN_SKIN_CONTRAST:
            return colour
    # the complement of the skin is always far enough from it
    return tuple(255 - c for c in avoid)  # type: ignore[return-value]


def sample_identity(seed: int) -> SignerIdentity:
    """The identity of seed ``seed`` (a non-negative integer); the same seed gives the same identity."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InputError(f"identity seed must be a non-negative integer, got {seed!r}")
    seed = int(seed)
    rng = np.random.default_rng([seed, 0x1D])
    skin = SKIN_TONES[int(rng.integers(len(SKIN_TONES)))]
    props = {name: float(rng.uniform(lo, hi)) for name, (lo, hi) in PROPORTION_RANGES.items()}
    background = BACKGROUNDS[int(rng.integers(len(BACKGROUNDS)))]
    top = _contrasting(rng, skin, 40, 235)
    if background == "gradient":
        bottom = tuple(int(np.clip(c + d, 0, 255)) for c, d in zip(top, rng.integers(-90, 91, size=3)))
        if _distance(bottom, skin) < MIN_SKIN_CONTRAST:
            bottom = top
    else:
        bottom = top
    clothing = _contrasting(rng, skin, 10, 245)
    return SignerIdentity(
        id=f"synth-{seed:04d}",
        seed=seed,
        skin=skin,
        hair_style=HAIR_STYLES[int(rng.integers(len(HAIR_STYLES)))],
        hair_colour=HAIR_COLOURS[int(rng.integers(len(HAIR_COLOURS)))],
        clothing_colour=clothing,
        clothing_pattern=PATTERNS[int(rng.integers(len(PATTERNS)))],
        pattern_colour=_contrasting(rng, clothing, 0, 255),
        sleeves=SLEEVES[int(rng.integers(len(SLEEVES)))],
        background=background,
        background_top=top,
        background_bottom=bottom,  # type: ignore[arg-type]
        **props,
    )
