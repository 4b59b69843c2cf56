"""Training triples for FPDM: (source frame, target pose map, target frame) drawn within clips.

A dataset in the PHOENIX-2014T layout (real PHOENIX or a synthetic one) plus one holistic pose
sidecar per clip at ``<root>/poses/<split>/<name>.pose`` (what the synthetic generator writes; for
real PHOENIX, :func:`ensure_pose_sidecars` extracts them once with MediaPipe and caches them there).

Pairs are drawn once from a seed (the paper draws 100k for PHOENIX): a clip uniformly at random,
then two different frames of it, source and target. The index list is fixed for the dataset's life,
so epochs and resumed runs see the same pairs. Frames are letterboxed to the model square with
:class:`~fpdm_video.geometry.CanvasFit`, and pose maps are rendered at the model resolution with the
same fit; every tensor is float (3, R, R) in [0, 1] (each encoder normalises its own input).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from fpdm_video.config import PoseMapConfig
from fpdm_video.data.synthetic_dataset import sidecar_path
from fpdm_video.errors import InputError
from fpdm_video.geometry import CanvasFit
from fpdm_video.pose.pose_format_io import load_holistic, write_pose
from fpdm_video.pose.render import render_pose_map, style_for
from fpdm_video.pose.sequence import PoseSequence
from fpdm_video.video.phoenix import PhoenixDataset, load_sample
from fpdm_video.video.phoenix_corpus import PhoenixSample

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TripleConfig:
    """Which triples to draw."""

    root: str  # dataset root in the PHOENIX-2014T layout, with pose sidecars
    split: str = "train"  # PHOENIX split
    resolution: int | tuple[int, int] = 128  # the model canvas: a square side R, or (width, height)
    pose_map: PoseMapConfig = field(default_factory=PoseMapConfig)  # the model's pose-map style
    pairs: int = 100_000  # number of (source, target) pairs drawn once
    seed: int = 0  # seed of the pair draw
    cache: bool = False  # keep letterboxed frames and pose maps in memory once made (small datasets)


def ensure_pose_sidecars(root: str | os.PathLike, split: str, *, progress: bool = True) -> list[Path]:
    """Extract and cache the holistic poses of every clip of ``split`` that has no sidecar yet."""
    from fpdm_video.pose.extract import HolisticExtractor, extract_poses

    dataset = PhoenixDataset(root)
    written = []
    with HolisticExtractor() as extractor:
        for sample in dataset.samples(split):
            path = sidecar_path(root, split, sample.name)
            if path.is_file():
                continue
            extractor.reset()
            pose = extract_poses(sample.frames_dir, fps=25.0, progress=progress, extractor=extractor)
            path.parent.mkdir(parents=True, exist_ok=True)
            written.append(write_pose(pose, path))
    return written


def draw_pairs(frame_counts: list[int], pairs: int, seed: int) -> np.ndarray:
    """(pairs, 3) int64 rows (clip, source frame, target frame), source != target, from a seed."""
    counts = np.asarray(frame_counts)
    usable = np.flatnonzero(counts >= 2)
    if usable.size == 0:
        raise InputError("no clip has two frames or more: cannot draw (source, target) pairs")
    rng = np.random.default_rng(seed)
    clips = usable[rng.integers(0, usable.size, size=pairs)]
    source = rng.integers(0, counts[clips])
    shift = rng.integers(1, counts[clips])  # 1 .. T-1, so target != source
    target = (source + shift) % counts[clips]
    return np.stack([clips, source, target], axis=1).astype(np.int64)


class PoseTripleDataset(Dataset):
    """Items: dict of float (3, R, R) tensors source, target, target_pose, source_pose, and the indices."""

    def __init__(self, config: TripleConfig) -> None:
        self.config = config
        dataset = PhoenixDataset(config.root)
        self.samples: list[PhoenixSample] = dataset.samples(config.split)
        if not self.samples:
            raise InputError(f"split {config.split!r} of {config.root} has no clips")
        self.poses: list[PoseSequence] = []
        for sample in self.samples:
            path = sidecar_path(config.root, config.split, sample.name)
            if not path.is_file():
                raise InputError(
                    f"clip {sample.name} has no pose sidecar at {path}; extract the poses once with "
                    "`python -m fpdm_video.train poses --config CONFIG` (or fpdm_video.data.triples.ensure_pose_sidecars(root, split))"
                )
            pose = load_holistic(path)
            frames = dataset.num_frames(sample)
            if len(pose) != frames:
                raise InputError(f"pose sidecar {path} has {len(pose)} frames but clip {sample.name} has {frames}")
            self.poses.append(pose)
        self.index = draw_pairs([len(p) for p in self.poses], config.pairs, config.seed)  # (N, 3)
        self._cache: dict[tuple[str, int, int], torch.Tensor] = {}

    def __len__(self) -> int:
        return len(self.index)

    def _cached(self, key: tuple[str, int, int], make) -> torch.Tensor:
        if not self.config.cache:
            return make()
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    def _frame(self, clip: int, frame: int, fit: CanvasFit) -> torch.Tensor:
        return self._cached(("frame", clip, frame), lambda: self._load_frame(clip, frame, fit))

    def _pose_map(self, clip: int, frame: int, fit: CanvasFit) -> torch.Tensor:
        pose, size = self.poses[clip], self.config.resolution
        style = style_for(self.config.pose_map)
        return self._cached(("pose", clip, frame), lambda: torch.from_numpy(render_pose_map(pose, frame, size, fit=fit, style=style)))

    def _load_frame(self, clip: int, frame: int, fit: CanvasFit) -> torch.Tensor:
        image = load_sample(self.samples[clip], frame, frame + 1).frames[0]  # (H, W, 3) uint8
        square = fit.image_to_canvas(image)  # (R, R, 3)
        return torch.from_numpy(np.array(square)).permute(2, 0, 1).float() / 255.0  # (3, R, R)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        clip, s, t = (int(v) for v in self.index[i])
        pose = self.poses[clip]
        fit = CanvasFit.of(pose.width, pose.height, self.config.resolution)
        return {
            "source": self._frame(clip, s, fit),
            "target": self._frame(clip, t, fit),
            "target_pose": self._pose_map(clip, t, fit),
            "source_pose": self._pose_map(clip, s, fit),
            "index": torch.tensor([clip, s, t]),
        }
