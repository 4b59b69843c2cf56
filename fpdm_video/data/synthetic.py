"""Synthetic signers: seeded identities performing generated (or real) holistic motion.

These machines have no pretrained weights and no PHOENIX, so the project trains its demo model on
cartoon signers drawn here. Identity and motion are independent: any identity can perform any
pose sequence, which also gives ground truth for "reference identity performing the driving
motion". The parts:

- :func:`sample_identity` (``synthetic_identity``): skin, hair, clothing, proportions, background;
- :func:`generate_motion` (``synthetic_motion``): sign-like holistic motion, or use any ``.pose``
  file through :func:`fpdm_video.pose.load_holistic`;
- :func:`apply_proportions` (``synthetic_proportions``): the identity's bone lengths on a pose;
- :func:`render_signer` (``synthetic_draw``): one frame as an image; :func:`render_reference`: an
  identity's reference image in the rest pose of :func:`reference_pose`;
- :func:`write_synthetic_dataset` (``synthetic_dataset``): a PHOENIX-2014T layout with a pose
  sidecar per clip at ``<root>/poses/<split>/<name>.pose``.

Command line::

    python -m fpdm_video.data.synthetic --out DIR --clips N --frames T --size S --seed K \\
        [--split train] [--width W --height H] [--identities M] [--fps F]
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

# the generator's public API, importable from here as well as from fpdm_video.data
from fpdm_video.data.synthetic_dataset import (  # noqa: F401
    SyntheticDatasetConfig,
    render_clip,
    render_reference,
    sidecar_path,
    write_synthetic_dataset,
)
from fpdm_video.data.synthetic_draw import render_signer  # noqa: F401
from fpdm_video.data.synthetic_identity import SignerIdentity, sample_identity  # noqa: F401
from fpdm_video.data.synthetic_motion import describe_motion, generate_motion, reference_pose  # noqa: F401
from fpdm_video.data.synthetic_proportions import apply_proportions  # noqa: F401
from fpdm_video.cli import run_guarded
from fpdm_video.errors import EXIT_BAD_INPUT, InputError
from fpdm_video.run_paths import check_run_paths

logger = logging.getLogger(__name__)


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line on stderr and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m fpdm_video.data.synthetic",
        description="Write a synthetic-signer dataset in the PHOENIX-2014T layout with .pose sidecars.",
    )
    parser.add_argument("--out", required=True, help="dataset root folder (created if absent)")
    parser.add_argument("--clips", type=int, required=True, help="number of clips")
    parser.add_argument("--frames", type=int, required=True, help="frames per clip")
    parser.add_argument("--size", type=int, default=128, help="square frame side in pixels (default 128)")
    parser.add_argument("--width", type=int, help="frame width; give with --height instead of --size (PHOENIX: 210)")
    parser.add_argument("--height", type=int, help="frame height; give with --width (PHOENIX: 260)")
    parser.add_argument("--seed", type=int, default=0, help="base seed; different seeds, different signers (default 0)")
    parser.add_argument("--split", default="train", choices=("train", "dev", "test"), help="split (default train)")
    parser.add_argument("--identities", type=int, help="distinct identities cycled over the clips (default: one per clip)")
    parser.add_argument("--fps", type=float, default=25.0, help="frame rate (default 25, as PHOENIX)")
    parser.add_argument("--log-level", default="INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR"))
    return parser


def config_from_args(args: argparse.Namespace) -> SyntheticDatasetConfig:
    if (args.width is None) != (args.height is None):
        raise InputError("give --width and --height together (or neither, and --size for a square frame)")
    width, height = (args.size, args.size) if args.width is None else (args.width, args.height)
    config = SyntheticDatasetConfig(
        clips=args.clips,
        frames=args.frames,
        width=width,
        height=height,
        seed=args.seed,
        split=args.split,
        identities=args.identities,
        fps=args.fps,
    )
    config.check()
    return config


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit code (0 ok, 2 bad input, 130 interrupted)."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)

    def body() -> None:
        config = config_from_args(args)
        check_run_paths({}, {"--out": args.out}, folders={"--out"})
        rows = write_synthetic_dataset(args.out, config)
        logger.info("wrote %d clips of %d frames (%dx%d) to %s", len(rows), config.frames, config.width, config.height, args.out)

    return run_guarded(body, interrupted="run the same command again to finish the missing clips")


if __name__ == "__main__":
    sys.exit(main())
