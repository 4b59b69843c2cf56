"""Example inputs made on the spot, so the main job runs on a fresh machine with nothing downloaded.

:func:`make_example_inputs` writes, into a folder:

- ``driving.mp4``: a synthetic signer (one seeded identity) performing generated sign-like motion;
- ``driving.pose``: that clip's ground-truth holistic poses (MediaPipe finds cartoon signers only
  in part, so the demo drives from the pose file, as ``--poses`` or a ``.pose`` input would);
- ``signer.png``: another identity in its rest pose, the "photo" of the new signer;
- ``signer.pose``: that reference's pose.

Everything is deterministic for a seed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from fpdm_video.atomic import atomic_path
from fpdm_video.data.synthetic_dataset import render_clip
from fpdm_video.data.synthetic_draw import render_signer
from fpdm_video.data.synthetic_identity import sample_identity
from fpdm_video.data.synthetic_motion import generate_motion, reference_pose
from fpdm_video.data.synthetic_proportions import apply_proportions
from fpdm_video.pose.pose_format_io import write_pose
from fpdm_video.video.writer import VideoWriter


@dataclass(frozen=True)
class ExampleInputs:
    """Paths of the generated example inputs."""

    video: Path  # driving signer, H.264 mp4
    poses: Path  # driving poses, .pose
    signer_image: Path  # reference photo of the new signer, PNG
    signer_poses: Path  # the reference's pose, .pose (one frame)


def make_example_inputs(
    directory: str | os.PathLike,
    *,
    frames: int = 48,
    size: int | tuple[int, int] = 256,
    fps: float = 25.0,
    seed: int = 0,
) -> ExampleInputs:
    """Write a driving clip, its poses and a reference signer into ``directory`` (atomically each).

    ``size`` is a square side or ``(width, height)``; the demo model was trained on 3:4 portrait frames.
    """
    width, height = (size, size) if isinstance(size, int) else size
    directory = Path(directory)
    out = ExampleInputs(
        video=directory / "driving.mp4",
        poses=directory / "driving.pose",
        signer_image=directory / "signer.png",
        signer_poses=directory / "signer.pose",
    )
    driver, signer = sample_identity(2 * seed + 1), sample_identity(2 * seed + 2)
    motion = generate_motion(seed, frames, width, height, fps=fps)
    posed, chunks = render_clip(driver, motion, (width, height))
    with VideoWriter(out.video, fps=fps, width=width, height=height) as writer:
        for chunk in chunks:
            writer.write(chunk)
    write_pose(posed, out.poses)

    rest = apply_proportions(reference_pose(width, height, fps=fps), signer)
    image = render_signer(signer, rest, 0, (width, height))
    with atomic_path(out.signer_image) as tmp:
        Image.fromarray(np.ascontiguousarray(image)).save(tmp, format="PNG")
    write_pose(rest, out.signer_poses)
    return out
