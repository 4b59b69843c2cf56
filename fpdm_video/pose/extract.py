"""Holistic pose extraction with MediaPipe (``mediapipe.solutions.holistic``, version 0.10.21).

Every frame gives the canonical holistic layout (body 33 | left_hand 21 | right_hand 21 | face 468)
in pixel coordinates: MediaPipe's normalised x, y, z become ``x * W``, ``y * H``, ``z * W``.

Confidence:

- body: MediaPipe's ``visibility``, clipped to ``[BODY_MIN_CONFIDENCE, 1]``. When the body is
  found, MediaPipe returns all 33 points, also those outside the frame (legs of a seated signer),
  with a low visibility; they are kept where MediaPipe puts them, present with a low confidence.
- hands and face: MediaPipe gives no per-point score, so every point of a detected hand or face
  has confidence 1.0.
- a part that is not detected in a frame is missing there: confidence 0, coordinates 0. Nothing
  is invented; filling gaps is the job of ``fpdm_video.pose.repair``.

Video runs in tracking mode (``static_image_mode=False``): one :class:`HolisticExtractor` is used for
all frames of a video, in order. A single reference photo runs in static mode. Only
``model_complexity=1`` works offline: the 0.10.21 wheel ships that pose landmark model only.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import time
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError
from tqdm.auto import tqdm

from fpdm_video.errors import InputError, PoseError, VideoReadError
from fpdm_video.images import MAX_IMAGE_PIXELS, check_image_size, image_path_problem, to_rgb8
from fpdm_video.pose.sequence import HOLISTIC_COMPONENTS, PoseSequence
from fpdm_video.video import PHOENIX_FPS, Clip, iter_video_chunks, probe

logger = logging.getLogger(__name__)

BODY_MIN_CONFIDENCE = 1e-3  # floor of a found body point's confidence, so that it never reads as missing
IMAGE_FPS = 1.0  # frame rate given to the one-frame sequence of a still image (it has none)
SUPPORTED_MODEL_COMPLEXITY = 1  # the only pose model inside the mediapipe 0.10.21 wheel


@dataclass(frozen=True)
class HolisticConfig:
    """Settings of MediaPipe holistic."""

    static: bool = False  # True: detect in every frame on its own (photos); False: track through a video
    model_complexity: int = SUPPORTED_MODEL_COMPLEXITY  # pose model size; only 1 is available offline
    min_detection_confidence: float = 0.5  # score the person detector needs to report a body
    min_tracking_confidence: float = 0.5  # below it, tracking mode re-detects instead of tracking
    smooth_landmarks: bool = True  # MediaPipe's own temporal filter of body points (tracking mode only)


class HolisticExtractor:
    """A MediaPipe holistic graph, opened once and used for every frame of a video, in order.

    Use as a context manager. In tracking mode each frame's result depends on the frames before it;
    call :meth:`reset` before a new video (``extract_poses`` does).
    """

    def __init__(self, config: HolisticConfig | None = None) -> None:
        self.config = config or HolisticConfig()
        if self.config.model_complexity != SUPPORTED_MODEL_COMPLEXITY:
            raise InputError(
                f"model_complexity={self.config.model_complexity} is not available offline with "
                f"mediapipe 0.10.21; use model_complexity={SUPPORTED_MODEL_COMPLEXITY}"
            )
        self._graph: Any = None  # mediapipe.solutions.holistic.Holistic while open

    def __enter__(self) -> HolisticExtractor:
        self.open()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def open(self) -> None:
        """Build the MediaPipe graph (about 50 ms; importing mediapipe the first time takes ~1.5 s)."""
        if self._graph is not None:
            return
        from mediapipe.python.solutions import holistic  # heavy import, only when extracting

        c = self.config
        self._graph = holistic.Holistic(
            static_image_mode=c.static,
            model_complexity=c.model_complexity,
            smooth_landmarks=c.smooth_landmarks,
            refine_face_landmarks=False,  # 468 face points, no iris points
            min_detection_confidence=c.min_detection_confidence,
            min_tracking_confidence=c.min_tracking_confidence,
        )

    def close(self) -> None:
        if self._graph is not None:
            self._graph.close()
            self._graph = None

    def reset(self) -> None:
        """Forget the tracking state (start of a new video) by rebuilding the graph."""
        self.close()
        self.open()

    def process(self, frame: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Poses of one RGB frame (H, W, 3) uint8: points (543, 3) in pixels and confidence (543,)."""
        if self._graph is None:
            raise RuntimeError("HolisticExtractor is not open; use it as a context manager")
        frame = check_frames(frame[None])[0]
        height, width = frame.shape[:2]
        check_image_size(width, height, "a frame")  # MediaPipe aborts the process on some sizes: refuse them first
        results = self._graph.process(np.ascontiguousarray(frame))
        return landmarks_to_arrays(results, width, height)


def landmarks_to_arrays(results: Any, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """MediaPipe holistic results of one frame -> points (543, 3) in pixels, confidence (543,)."""
    scale = np.array([width, height, width], dtype=np.float32)  # z is scaled like x
    parts = []
    for comp, landmarks in zip(
        HOLISTIC_COMPONENTS,
        (results.pose_landmarks, results.left_hand_landmarks, results.right_hand_landmarks, results.face_landmarks),
    ):
        n = len(comp)
        if landmarks is None:
            parts.append((np.zeros((n, 3), np.float32), np.zeros(n, np.float32)))
            continue
        marks = landmarks.landmark[:n]
        xyz = np.array([(m.x, m.y, m.z) for m in marks], dtype=np.float32) * scale  # (n, 3)
        if comp.name == "body":
            conf = np.clip(np.array([m.visibility for m in marks], np.float32), BODY_MIN_CONFIDENCE, 1.0)
        else:
            conf = np.ones(n, np.float32)
        parts.append((xyz, conf))
    return np.concatenate([p for p, _ in parts]), np.concatenate([c for _, c in parts])


def check_frames(frames: Any) -> np.ndarray:
    """Return ``frames`` as (T, H, W, 3) uint8 RGB, or raise :class:`VideoReadError` saying what is wrong."""
    if not isinstance(frames, np.ndarray):
        raise VideoReadError(f"frames must be a numpy array (T, H, W, 3) uint8 RGB, got {type(frames).__name__}")
    if frames.ndim != 4 or frames.shape[-1] != 3:
        raise VideoReadError(f"frames must have shape (T, H, W, 3) RGB, got {frames.shape}")
    if frames.dtype != np.uint8:
        raise VideoReadError(f"frames must be uint8 (0..255), got {frames.dtype}; convert with .astype(np.uint8)")
    return frames


# ---- whole videos -------------------------------------------------------------------------------
@dataclass
class _Chunk:
    frames: np.ndarray  # (T, H, W, 3) uint8 RGB
    timestamps: np.ndarray | None  # (T,) seconds, when the source has them


def extract_poses(
    source: str | os.PathLike | np.ndarray | Iterable[np.ndarray],
    *,
    fps: float | None = None,
    progress: bool = True,
    static: bool = False,
    chunk_size: int = 32,
    max_frames: int | None = None,
    extractor: HolisticExtractor | None = None,
) -> PoseSequence:
    """Holistic poses of every frame of a video, in the canonical layout and in pixels.

    ``source`` is a video file or frame folder (decoded ``chunk_size`` frames at a time), an array
    (T, H, W, 3) uint8 RGB, an iterable of such chunks, or a :class:`~fpdm_video.video.Clip` (or
    an iterable of clips). ``fps`` is required for arrays; for files and clips it overrides their
    rate (it is the rate of a frame folder, default 25); file and clip timestamps are kept. With
    ``max_frames`` only the first frames are processed. ``extractor``: an open extractor to reuse
    (its tracking state is reset first); by default one is opened for this call.
    Raises :class:`PoseError` when no body is found in any frame.
    """
    if chunk_size < 1:
        raise InputError(f"chunk_size must be at least 1, got {chunk_size}")
    if max_frames is not None and max_frames < 1:
        raise InputError(f"max_frames must be at least 1, got {max_frames}")
    chunks, video_fps, total = _open_source(source, fps, chunk_size, max_frames)
    total = total if total is None or max_frames is None else min(total, max_frames)
    started = time.perf_counter()
    with _extractor_for(extractor, static) as ex, tqdm(
        total=total, unit="frame", desc="holistic poses", disable=not progress
    ) as bar:
        points, confidence, timestamps, (width, height) = _track(ex, chunks, max_frames, bar.update)
    elapsed = time.perf_counter() - started
    pose = PoseSequence(
        points=points, confidence=confidence, fps=float(video_fps), width=width, height=height, timestamps=timestamps
    )
    _log_summary(pose, elapsed)
    if not pose.present("body").any():
        raise PoseError(
            f"no person was found in any of the {pose.num_frames} frames; "
            "give a video that shows the signer's upper body"
        )
    return pose


def extract_image_pose(
    image: str | os.PathLike | np.ndarray, *, extractor: HolisticExtractor | None = None
) -> PoseSequence:
    """Holistic pose of one photo (static mode): a sequence of T=1 frame at fps ``IMAGE_FPS``.

    ``image`` is a path (EXIF rotation applied) or an array (H, W, 3) uint8 RGB. Raises
    :class:`PoseError` when no body is found; a missing face or hand is only logged.
    """
    name = str(image) if isinstance(image, (str, os.PathLike)) else "the image"
    frame = load_rgb_image(image) if isinstance(image, (str, os.PathLike)) else image
    if not isinstance(frame, np.ndarray) or frame.ndim != 3:
        shape = getattr(frame, "shape", type(frame).__name__)
        raise InputError(f"an image must be a path or an array (H, W, 3) uint8 RGB, got {shape}")
    if extractor is not None and not extractor.config.static:
        raise ValueError("extract_image_pose needs a static-mode extractor: HolisticConfig(static=True)")
    with _extractor_for(extractor, static=True) as ex:
        points, confidence = ex.process(frame)
    pose = PoseSequence(
        points=points[None],  # (1, 543, 3)
        confidence=confidence[None],  # (1, 543)
        fps=IMAGE_FPS,
        width=frame.shape[1],
        height=frame.shape[0],
    )
    if not pose.present("body")[0]:
        raise PoseError(f"no person was found in {name}; use a photo that shows the person's upper body")
    absent = [c.name for c in HOLISTIC_COMPONENTS if not pose.present(c.name)[0]]
    if absent:
        logger.warning("not found in %s: %s; the output will lack them", name, ", ".join(absent))
    return pose


def load_rgb_image(path: str | os.PathLike) -> np.ndarray:
    """An image file as (H, W, 3) uint8 RGB, upright according to its EXIF orientation."""
    path = Path(path)
    problem = image_path_problem(path)
    if problem is not None:
        raise InputError(problem)
    try:
        with warnings.catch_warnings():  # PIL warns of large images; the size is checked just below, with a message
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(path)
        with im:
            check_image_size(im.width, im.height, f"image {path}")  # from the header, before any pixel is decoded
            return to_rgb8(ImageOps.exif_transpose(im))
    except Image.DecompressionBombError:  # so large that PIL refuses to open it
        raise InputError(f"image {path} has more pixels than PIL opens (a decompression bomb?); give a photo of at most "
                         f"{MAX_IMAGE_PIXELS / 1e6:.0f} megapixels") from None  # fmt: skip
    except (UnidentifiedImageError, OSError) as exc:
        raise InputError(f"{path} is not a readable image ({exc}); give a PNG or JPEG photo") from None


# ---- internals ----------------------------------------------------------------------------------
@contextlib.contextmanager
def _extractor_for(extractor: HolisticExtractor | None, static: bool) -> Iterator[HolisticExtractor]:
    """The given extractor, reset (it is the caller's to close), or a new one closed afterwards."""
    if extractor is None:
        with HolisticExtractor(HolisticConfig(static=static)) as ex:
            yield ex
        return
    if extractor.config.static != static:
        raise ValueError(f"extractor has static={extractor.config.static} but static={static} was asked for")
    extractor.reset()
    yield extractor


def _track(
    ex: HolisticExtractor, chunks: Iterable[_Chunk], max_frames: int | None, advance: Callable[[int], object]
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, tuple[int, int]]:
    """Run ``ex`` over the frames of ``chunks`` in order: points (T, 543, 3), confidence (T, 543),
    timestamps (T,) when every chunk has them, and the frame size (W, H)."""
    points, confidence, stamps = [], [], []
    size: tuple[int, int] | None = None
    for chunk in chunks:
        frames = check_frames(chunk.frames)[: None if max_frames is None else max_frames - len(points)]
        if size is not None and (frames.shape[2], frames.shape[1]) != size:
            raise VideoReadError(
                f"frame size changed from {size[0]}x{size[1]} to {frames.shape[2]}x{frames.shape[1]}; "
                "all frames of one video must have one size"
            )
        size = (frames.shape[2], frames.shape[1])
        for frame in frames:
            p, c = ex.process(frame)
            points.append(p)
            confidence.append(c)
            advance(1)
        stamps.append(None if chunk.timestamps is None else np.asarray(chunk.timestamps, np.float64)[: len(frames)])
        if max_frames is not None and len(points) >= max_frames:
            break
    if not points or size is None:
        raise VideoReadError("the video has no frames; give a video with at least one frame")
    timestamps = None if any(t is None for t in stamps) else np.concatenate(stamps)
    return np.stack(points), np.stack(confidence), timestamps, size


def _open_source(
    source: Any, fps: float | None, chunk_size: int, max_frames: int | None
) -> tuple[Iterator[_Chunk], float, int | None]:
    """(chunks, fps, frame count if known) of any supported source."""
    if fps is not None and not fps > 0:
        raise InputError(f"fps must be positive, got {fps}")
    if isinstance(source, (str, os.PathLike)):
        return _video_chunks(Path(source), fps, chunk_size, max_frames)
    if isinstance(source, np.ndarray):
        frames = check_frames(source)
        chunks = (_Chunk(frames[i : i + chunk_size], None) for i in range(0, len(frames), chunk_size))
        return chunks, _require_fps(fps), len(frames)
    if isinstance(source, Clip):
        return iter([_Chunk(source.frames, source.timestamps)]), fps or source.fps, len(source)
    if not isinstance(source, Iterable):
        raise InputError(
            f"cannot extract poses from {type(source).__name__}; give a video path, a frame folder, "
            "an array (T, H, W, 3) uint8, a Clip, or an iterable of arrays or clips"
        )
    items = iter(source)
    first = next(items, None)
    if first is None:
        raise VideoReadError("the iterable of frame chunks is empty; give at least one frame")
    fps = fps or (first.fps if isinstance(first, Clip) else _require_fps(fps))
    chunks = (
        _Chunk(c.frames, c.timestamps) if isinstance(c, Clip) else _Chunk(c, None)
        for c in itertools.chain([first], items)
    )
    return chunks, fps, None


def _require_fps(fps: float | None) -> float:
    if fps is None:
        raise InputError("frames given as arrays have no frame rate; pass fps=... (e.g. fps=25.0)")
    return fps


def _video_chunks(
    path: Path, fps: float | None, chunk_size: int, max_frames: int | None
) -> tuple[Iterator[_Chunk], float, int | None]:
    """Chunks of a video file or frame folder, read by :mod:`fpdm_video.video`."""
    if not path.exists():
        raise VideoReadError(f"{path} does not exist; give a video file or a folder of frames")
    folder_fps = fps or PHOENIX_FPS
    info = probe(path, folder_fps=folder_fps)
    end = info.num_frames if max_frames is None else min(max_frames, info.num_frames)
    clips = iter_video_chunks(path, chunk_size, 0, end, folder_fps=folder_fps)
    return (_Chunk(clip.frames, clip.timestamps) for clip in clips), fps or info.fps, end


def _log_summary(pose: PoseSequence, elapsed: float) -> None:
    counts = pose.presence_counts()
    logger.info(
        "holistic poses of %d frames in %.1f s (%.1f frames/s): body %d, left hand %d, right hand %d, face %d",
        pose.num_frames,
        elapsed,
        pose.num_frames / max(elapsed, 1e-9),
        counts["body"],
        counts["left_hand"],
        counts["right_hand"],
        counts["face"],
    )
