"""The main job on the embedded default: ``python -m fpdm_video.demo --out outputs/demo``.

It makes example inputs (a synthetic driving signer with its poses, and a reference "photo" of
another synthetic signer, see :mod:`fpdm_video.data.examples`) and runs the signer transfer on them
with the embedded demo model, exactly as ``python -m fpdm_video.transfer`` does:

    outputs/demo/inputs/      driving.mp4, driving.pose, signer.png, signer.pose
    outputs/demo/transfer.mp4 the driving signing, performed by the signer of signer.png
    outputs/demo/transfer.json its record (settings, hashes, per-stage times)
    outputs/demo/comparison.mp4 driving | pose | output, side by side
    outputs/demo/comparison.png a strip of four comparison frames

The transfer is driven by ``driving.pose`` (``--poses``): MediaPipe finds cartoon signers only in
part, so the generator's own poses stand in for extraction here. The reference photo's pose is
extracted with MediaPipe, as for any photo.
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


def strip_from(video: Path, path: Path, count: int = 4) -> Path:
    """``count`` evenly spaced frames of ``video`` stacked vertically, as a PNG."""
    from fpdm_video.atomic import atomic_path
    from fpdm_video.video import read_video

    frames = read_video(video).frames
    picks = np.linspace(0, len(frames) - 1, count).round().astype(int)
    with atomic_path(path) as tmp:
        Image.fromarray(np.concatenate([frames[i] for i in picks], axis=0)).save(tmp, format="PNG")
    return path


def run_demo(out: Path, *, frames: int = 16, width: int = 192, height: int = 256, seed: int = 0,
             checkpoint: Path | None = None, steps: int = 20, quiet: bool = False) -> dict[str, Path]:  # fmt: skip
    """Run the demo into ``out``; returns the paths written."""
    from fpdm_video.data.examples import make_example_inputs
    from fpdm_video.models.checkpoint import checkpoint_files
    from fpdm_video.run_paths import check_run_paths
    from fpdm_video.transfer import run as run_transfer

    check_run_paths(checkpoint_files(checkpoint), {"--out": out}, folders={"--out"})
    inputs = make_example_inputs(out / "inputs", frames=frames, size=(width, height), seed=seed)
    argv = [str(inputs.video), "--poses", str(inputs.poses), "--signer", str(inputs.signer_image),
            "-o", str(out / "transfer.mp4"), "--comparison", str(out / "comparison.mp4"), "--steps", str(steps)]  # fmt: skip
    if checkpoint is not None:
        argv += ["--checkpoint", str(checkpoint)]
    if quiet:
        argv.append("--quiet")
    run_transfer(argv)
    strip = strip_from(out / "comparison.mp4", out / "comparison.png")
    return {"output": out / "transfer.mp4", "record": out / "transfer.json", "comparison": out / "comparison.mp4",
            "strip": strip, "inputs": out / "inputs"}  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fpdm_video.demo", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("outputs/demo"), help="output folder (default outputs/demo)")
    parser.add_argument("--frames", type=int, default=16, help="frames of the generated driving clip (default 16)")
    parser.add_argument("--width", type=int, default=192, help="frame width of the generated clip (default 192)")
    parser.add_argument("--height", type=int, default=256, help="frame height of the generated clip (default 256)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the generated signers and motion")
    parser.add_argument("--steps", type=int, default=20, help="denoising steps per frame (default 20)")
    parser.add_argument("--checkpoint", type=Path, help="checkpoint folder (default: the embedded demo model)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

    def body() -> None:
        paths = run_demo(args.out, frames=args.frames, width=args.width, height=args.height, seed=args.seed,
                         checkpoint=args.checkpoint, steps=args.steps, quiet=args.quiet)  # fmt: skip
        for name, path in paths.items():
            logger.info("%s: %s", name, path)

    return run_guarded(body)


if __name__ == "__main__":
    sys.exit(main())
