"""The main job on the embedded default: ``python -m fpdm_video.demo --out outputs/demo``.

It makes example inputs (a synthetic driving signer and a reference "photo" of another synthetic
signer, see :mod:`fpdm_video.data.examples`) and runs the stages that exist today on them:

1. decode the driving video (the frames of the comparison video come from the decoded file)
2. load its poses, repair them (swaps, jitter, short gaps)
3. retarget them to the reference signer's proportions and place
4. render the pose maps at the model size
5. write ``comparison.mp4`` (driving | driving pose | retargeted pose over the reference) and a
   strip of frames ``comparison.png``

The FPDM rendering step is not part of it yet: the project's demo model has not been trained, and
random weights would only paint noise. When it lands, this job runs the signer transfer itself.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from fpdm_video.cli import run_guarded

logger = logging.getLogger("fpdm_video.demo")


def overlay(background: np.ndarray, pose_map: np.ndarray) -> np.ndarray:
    """Draw the non-black pixels of a uint8 (H, W, 3) pose map over a uint8 (H, W, 3) image."""
    out = background.copy()
    drawn = pose_map.max(axis=2) > 0
    out[drawn] = pose_map[drawn]
    return out


def run_demo(out: Path, *, frames: int = 48, size: int = 256, seed: int = 0) -> dict[str, Path]:
    """Run the demo into ``out``; returns the paths written."""
    from fpdm_video.data.examples import make_example_inputs
    from fpdm_video.geometry import SquareFit
    from fpdm_video.pose import load_holistic, render_pose_map, repair_poses, retarget
    from fpdm_video.video import read_video, write_comparison_video

    inputs = make_example_inputs(out / "inputs", frames=frames, size=size, seed=seed)
    clip = read_video(inputs.video)  # (T, H, W, 3)
    driving, _ = repair_poses(load_holistic(inputs.poses))  # the repair module logs its report
    reference = load_holistic(inputs.signer_poses)
    target = retarget(driving, reference)
    signer = np.asarray(Image.open(inputs.signer_image).convert("RGB"))
    fit = SquareFit(target.width, target.height, size)
    signer_square = fit.image_to_canvas(signer)

    pose_col = np.stack([render_pose_map(driving, i, size, as_uint8=True) for i in range(len(driving))])
    target_col = np.stack(
        [overlay(signer_square, render_pose_map(target, i, size, as_uint8=True)) for i in range(len(target))]
    )
    source_col = np.stack([SquareFit(clip.frames.shape[2], clip.frames.shape[1], size).image_to_canvas(f) for f in clip.frames])
    comparison = write_comparison_video(
        out / "comparison.mp4",
        [source_col, pose_col, target_col],
        ["driving", "pose", "retargeted on signer"],
        fps=clip.fps,
    )
    picks = np.linspace(0, len(clip.frames) - 1, 4).round().astype(int)
    strip = np.concatenate([np.concatenate([source_col[i], pose_col[i], target_col[i]], axis=0) for i in picks], axis=1)
    strip_path = out / "comparison.png"
    Image.fromarray(strip).save(strip_path)
    return {"comparison": comparison, "strip": strip_path, "video": inputs.video, "signer": inputs.signer_image}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fpdm_video.demo", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("outputs/demo"), help="output folder (default outputs/demo)")
    parser.add_argument("--frames", type=int, default=48, help="frames of the generated driving clip")
    parser.add_argument("--size", type=int, default=256, help="square size of the generated clip and pose maps")
    parser.add_argument("--seed", type=int, default=0, help="seed of the generated signers and motion")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

    def body() -> None:
        paths = run_demo(args.out, frames=args.frames, size=args.size, seed=args.seed)
        for name, path in paths.items():
            logger.info("%s: %s", name, path)

    return run_guarded(body)


if __name__ == "__main__":
    sys.exit(main())
