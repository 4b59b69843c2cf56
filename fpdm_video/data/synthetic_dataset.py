"""Synthetic signer datasets in the PHOENIX-2014T layout, with a pose sidecar per clip.

Layout under ``root`` (PHOENIX's own, written by :class:`~fpdm_video.video.PhoenixWriter`)::

    features/fullFrame-210x260px/<split>/<name>/images0001.png ...   the rendered frames
    annotations/manual/PHOENIX-2014-T.<split>.corpus.csv             one row per clip
    poses/<split>/<name>.pose                                        the pose sidecar

The sidecar holds the holistic poses exactly as drawn (after the identity's proportions), in the
frame's pixel coordinates, at the clip's fps: the ground-truth pose of every frame. It is written
before the corpus row, so a clip that has a row has its sidecar.

Corpus rows: ``speaker`` is the identity id (``synth-<identity seed>``); ``orth`` is the made-up
gloss of the motion (see :func:`~fpdm_video.data.synthetic_motion.describe_motion`);
``translation`` says that the clip is synthetic and has no linguistic content.

Clip ``i`` of a dataset with base seed ``seed`` uses identity seed ``seed * 10000 + i %
identities`` and its own motion seed drawn from ``SeedSequence([seed, i])``, so identities repeat
across clips when ``identities < clips`` (several clips per speaker) and motions never do.
Re-running with the same arguments skips clips that are complete and writes the others again.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from fpdm_video.data.synthetic_draw import output_size, render_signer
from fpdm_video.data.synthetic_identity import SignerIdentity, sample_identity
from fpdm_video.data.synthetic_motion import check_motion_args, describe_motion, generate_motion, reference_pose
from fpdm_video.data.synthetic_proportions import apply_proportions
from fpdm_video.errors import InputError
from fpdm_video.pose.pose_format_io import write_pose
from fpdm_video.pose.sequence import PoseSequence
from fpdm_video.video.phoenix_corpus import PhoenixSample
from fpdm_video.video.phoenix_writer import PhoenixWriter

logger = logging.getLogger(__name__)

POSES_SUBDIR = Path("poses")  # sidecar folder, relative to the dataset root
IDENTITY_STRIDE = 10_000  # identity seeds of base seed s are s * IDENTITY_STRIDE + k
CHUNK = 32  # frames rendered per chunk handed to the writer


@dataclass(frozen=True)
class SyntheticDatasetConfig:
    """What to generate."""

    clips: int  # number of clips
    frames: int  # frames per clip
    width: int  # frame width in pixels
    height: int  # frame height in pixels
    seed: int = 0  # base seed: different seeds give different identities and motions
    split: str = "train"  # PHOENIX split to write
    identities: int | None = None  # distinct identities, cycled over clips; None: one per clip
    fps: float = 25.0  # frame rate of the motion (PHOENIX: 25)

    def check(self) -> None:
        """Raise :class:`InputError` for values that cannot make a dataset."""
        for name in ("clips", "frames", "width", "height"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise InputError(f"{name} must be a positive integer, got {value!r}")
        output_size((self.width, self.height))  # 16 to 8192 pixels per side, checked before anything is written
        check_motion_args(self.seed, self.frames, self.fps)
        ids = self.identities
        if ids is not None and (isinstance(ids, bool) or not isinstance(ids, int) or not 1 <= ids <= IDENTITY_STRIDE):
            raise InputError(f"identities must be an integer from 1 to {IDENTITY_STRIDE}, got {ids!r}")

    @property
    def num_identities(self) -> int:
        return min(self.identities or self.clips, IDENTITY_STRIDE)


def sidecar_path(root: str | os.PathLike, split: str, name: str) -> Path:
    """``<root>/poses/<split>/<name>.pose``: where the pose sidecar of clip ``name`` lives."""
    return Path(root) / POSES_SUBDIR / split / f"{name}.pose"


def clip_name(seed: int, index: int) -> str:
    return f"synthetic-s{seed}-{index:05d}"


def clip_seeds(config: SyntheticDatasetConfig, index: int) -> tuple[int, int]:
    """(identity seed, motion seed) of clip ``index``."""
    identity_seed = config.seed * IDENTITY_STRIDE + index % config.num_identities
    motion_seed = int(np.random.SeedSequence([config.seed, index]).generate_state(1)[0])
    return identity_seed, motion_seed


def render_clip(identity: SignerIdentity, motion: PoseSequence, size: int | tuple[int, int]) -> tuple[PoseSequence, Iterator[np.ndarray]]:
    """``motion`` performed by ``identity``: (the pose as drawn, frame chunks (t, H, W, 3) uint8).

    The pose is ``motion`` with the identity's proportions; the chunks are rendered lazily.
    """
    posed = apply_proportions(motion, identity)

    def chunks() -> Iterator[np.ndarray]:
        for start in range(0, posed.num_frames, CHUNK):
            stop = min(start + CHUNK, posed.num_frames)
            yield np.stack([render_signer(identity, posed, i, size) for i in range(start, stop)])

    return posed, chunks()


def render_reference(identity: SignerIdentity, size: int | tuple[int, int]) -> np.ndarray:
    """The reference image of ``identity``: its rest pose (see ``reference_pose``), (H, W, 3) uint8."""
    width, height = output_size(size)
    pose = apply_proportions(reference_pose(width, height), identity)
    return render_signer(identity, pose, 0, (width, height))


def write_synthetic_dataset(root: str | os.PathLike, config: SyntheticDatasetConfig) -> list[PhoenixSample]:
    """Write ``config.clips`` synthetic clips under ``root``; returns their corpus rows."""
    config.check()
    writer = PhoenixWriter(root, config.split)
    rows = []
    for index in tqdm(range(config.clips), desc="synthetic clips", unit="clip", disable=None):
        name = clip_name(config.seed, index)
        sidecar = sidecar_path(root, config.split, name)
        if writer.is_complete(name, config.frames) and sidecar.is_file():
            logger.info("clip %s is complete; skipped", name)
            rows.extend(row for row in writer.samples() if row.name == name)
            continue
        identity_seed, motion_seed = clip_seeds(config, index)
        identity = sample_identity(identity_seed)
        motion = generate_motion(motion_seed, config.frames, config.width, config.height, config.fps)
        gloss = describe_motion(motion_seed, config.frames, config.fps)
        posed, chunks = render_clip(identity, motion, (config.width, config.height))
        write_pose(posed, sidecar)
        rows.append(
            writer.add_clip(
                name,
                chunks,
                speaker=identity.id,
                orth=gloss,
                translation=f"synthetic signer without linguistic content, motion seed {motion_seed}",
            )
        )
    return rows
