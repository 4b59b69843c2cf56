"""Command line of the pose stage.

    python -m fpdm_video.pose extract VIDEO [-o OUT.pose] [--max-frames N] [--fps FPS] [--quiet]
    python -m fpdm_video.pose info FILE.pose

``extract`` runs MediaPipe holistic on every frame of a video file or frame folder and writes a
``.pose`` file (atomically; by default beside the video). ``info`` prints what a ``.pose`` file
holds. Bad input ends with one line on stderr and exit code 2. MediaPipe's native log lines are
held back unless ``--verbose`` is given (:mod:`fpdm_video.native_logs`: only its known chatter; errors pass).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from fpdm_video.cli import run_guarded
from fpdm_video.errors import InputError
from fpdm_video.native_logs import quiet_native_logs
from fpdm_video.pose.sequence import PoseSequence
from fpdm_video.run_paths import check_run_paths

logger = logging.getLogger("fpdm_video.pose")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m fpdm_video.pose", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    ext = sub.add_parser("extract", help="extract holistic poses of a video into a .pose file")
    ext.add_argument("video", type=Path, help="video file or folder of frames (PHOENIX layout)")
    ext.add_argument("-o", "--output", type=Path, help="output .pose file (default: VIDEO with suffix .pose)")
    ext.add_argument("--max-frames", type=int, help="process only the first N frames")
    ext.add_argument("--fps", type=float, help="frame rate of a frame folder (default 25), or override a file's")
    ext.add_argument("--chunk-size", type=int, default=32, help="frames decoded at a time (default 32)")
    verbosity = ext.add_mutually_exclusive_group()
    verbosity.add_argument("-q", "--quiet", action="store_true", help="no progress bar, warnings only")
    verbosity.add_argument("-v", "--verbose", action="store_true", help="debug logs, and MediaPipe's own")

    info = sub.add_parser("info", help="print what a .pose file holds")
    info.add_argument("pose", type=Path, help=".pose file")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    verbose = getattr(args, "verbose", False)
    quiet = getattr(args, "quiet", False)
    with quiet_native_logs(not verbose):
        logging.basicConfig(
            level=logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO,
            format="%(levelname)s %(name)s: %(message)s",
            force=True,
        )

        def body() -> None:
            if args.command == "extract":
                run_extract(args.video, args.output, max_frames=args.max_frames, fps=args.fps,
                            chunk_size=args.chunk_size, progress=not quiet)
            else:
                print(format_info(load_for_info(args.pose), args.pose))

        return run_guarded(body)


def run_extract(
    video: Path,
    output: Path | None,
    *,
    max_frames: int | None = None,
    fps: float | None = None,
    chunk_size: int = 32,
    progress: bool = True,
) -> Path:
    """Extract the poses of ``video`` and write them to ``output`` (checked before any work)."""
    from fpdm_video.pose.extract import extract_poses
    from fpdm_video.pose.pose_format_io import write_pose

    output = video.with_suffix(".pose") if output is None else output
    if output.suffix != ".pose":
        raise InputError(f"output {output} must end in .pose")
    check_run_paths({"VIDEO": video}, {"-o": output})
    pose = extract_poses(video, fps=fps, progress=progress, chunk_size=chunk_size, max_frames=max_frames)
    write_pose(pose, output)
    logger.info("wrote %s", output)
    return output


def load_for_info(path: Path) -> PoseSequence:
    from fpdm_video.pose.pose_format_io import read_pose

    return read_pose(path)


def format_info(pose: PoseSequence, path: Path | str) -> str:
    """Human-readable summary of a pose sequence: size, timing and presence per component."""
    n = pose.num_frames
    lines = [
        f"file:       {path}",
        f"frames:     {n}",
        f"fps:        {pose.fps:g}  ({n / pose.fps:.2f} s)",
        f"size:       {pose.width}x{pose.height} (W x H), {pose.dims}D points",
        "components: name, points, frames present",
    ]
    counts = pose.presence_counts()
    width = max(len(name) for name in pose.component_names()) if pose.components else 0
    for comp in pose.components:
        lines.append(f"  {comp.name:<{width}}  {len(comp):>4}  {counts[comp.name]:>5}/{n}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
