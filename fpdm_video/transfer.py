"""``python -m fpdm_video.transfer INPUT --signer REF_IMAGE``: the signing of INPUT, performed by the person in REF_IMAGE.

INPUT is a video file, a folder of frames, or a .pose file (then the poses alone drive the output,
at the pose file's frame rate and size). Writes OUTPUT.mp4 and its record OUTPUT.json.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from fpdm_video.cli import run_guarded
from fpdm_video.native_logs import quiet_native_logs

logger = logging.getLogger("fpdm_video.transfer")


def build_parser() -> argparse.ArgumentParser:
    from pipelines.settings.sampling import add_sampling_arguments

    p = argparse.ArgumentParser(prog="python -m fpdm_video.transfer", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)  # fmt: skip
    p.add_argument("input", type=Path, help="the signing to copy: a video file, a folder of PNG/JPEG frames, or a .pose file")
    p.add_argument("--signer", type=Path, required=True, help="photo of the new signer (upper body, hands visible if possible)")
    p.add_argument("-o", "--output", type=Path, help="output video; default: <input>__<signer>.mp4 in the working folder")
    p.add_argument("--checkpoint", type=Path, help="FPDM checkpoint: a folder (config.yaml + model.safetensors) or a Hugging Face hub name owner/name; default: the embedded demo model")
    g = p.add_argument_group("sampling (docs/speed.md; each option left out takes the --speed preset's value, then the checkpoint's)")
    add_sampling_arguments(g)
    g.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto", help="where to run (auto: the GPU if there is one)")
    g.add_argument("--dtype", choices=("auto", "fp32", "bf16", "fp16"), default="auto", help="number format (auto: bf16 on a GPU, and on a CPU with native bf16 for models from the demo size up; else fp32)")
    r = p.add_argument_group("frames")
    r.add_argument("--start", type=int, default=0, help="first input frame to use (0-based)")
    r.add_argument("--end", type=int, help="stop before this input frame (default: the end)")
    r.add_argument("--max-frames", type=int, help="use at most this many frames from --start")
    q = p.add_argument_group("poses")
    q.add_argument("--poses", type=Path, help="use these poses (.pose, same frame count as the video) instead of extracting them")
    q.add_argument("--save-poses", type=Path, help="also save the extracted poses to this .pose file (reuse them with --poses)")
    q.add_argument("--no-retarget", action="store_true", help="keep the driving signer's body proportions instead of the new signer's")
    o = p.add_argument_group("output")
    o.add_argument("--comparison", type=Path, help="also write a side-by-side video: source | pose | output")
    o.add_argument("--quiet", action="store_true", help="only warnings and errors, and on a terminal one progress line "
                   "(the rendered frames); nothing else when stderr is a file or a pipe")  # fmt: skip
    return p


def default_output(input_path: Path, signer: Path) -> Path:
    return Path.cwd() / f"{input_path.stem or input_path.name}__{signer.stem}.mp4"


def request_of(args: argparse.Namespace):
    """The TransferRequest of parsed arguments (what was not given stays None: resolved on the checkpoint)."""
    from pipelines.settings.sampling import request_from_args
    from pipelines.transfer import TransferRequest

    return TransferRequest(request_from_args(args), start=args.start, end=args.end, max_frames=args.max_frames,
                           retarget=not args.no_retarget)  # fmt: skip


def progress_of(quiet: bool, terminal: bool) -> bool | str:
    """What the run draws: every stage's bar; with --quiet, only the frames' line on a terminal, else nothing."""
    if not quiet:
        return True
    return "frames" if terminal else False


def command_line(argv: Sequence[str] | None) -> list[str]:
    """The command line that reruns this one, as the record keeps it (``python -m fpdm_video.transfer ARGS``)."""
    return ["python", "-m", "fpdm_video.transfer", *(sys.argv[1:] if argv is None else argv)]


def run(argv: Sequence[str] | None = None):
    """Parse ``argv`` and run the transfer; errors are raised (``main`` turns them into exit codes). Returns the result."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    from pipelines.transfer.paths import check_paths  # no torch: a missing input is refused before it loads (seconds)

    request = request_of(args)
    output = args.output or default_output(args.input, args.signer)
    check_paths(args.input, args.signer, output, checkpoint=args.checkpoint, poses=args.poses, save_poses=args.save_poses,
                comparison=args.comparison)  # before the model loads; transfer() checks again, with the model's files  # fmt: skip
    from fpdm_video.models.checkpoint import load_config
    from pipelines.transfer import SignerTransfer, default_checkpoint, resolve_settings
    from pipelines.transfer.inputs import ReadAhead
    speed = request.sampling.speed  # None when --speed was not given
    local = default_checkpoint(speed) if args.checkpoint is None else Path(args.checkpoint)
    progress = progress_of(args.quiet, sys.stderr.isatty())  # asked before --quiet points fd 2 at its filter
    with contextlib.ExitStack() as stack:
        stack.enter_context(quiet_native_logs(args.quiet))
        ahead = None
        if local.is_dir():  # the settings are checked on the checkpoint's config before its weights load ...
            settings = resolve_settings(request, load_config(local))
            # ... and the reference and the driving poses are read while they load (pipelines/transfer/inputs.py)
            ahead = stack.enter_context(ReadAhead(args.input, args.signer, settings, args.poses, progress=progress is True))
        runner = SignerTransfer.from_pretrained(args.checkpoint, device=args.device, dtype=args.dtype, speed=speed)
        result = runner.transfer(
            args.input, args.signer, output, request=request, poses=args.poses, save_poses=args.save_poses,
            comparison=args.comparison, progress=progress, argv=command_line(argv), runner="cli", inputs=ahead,
        )  # fmt: skip
    rec = result.record
    logger.info("wrote %s (%d frames, %s fps) and %s", result.output, rec["frames"], round(rec["fps"], 3), result.record_path)
    logger.info("stage seconds: %s", ", ".join(f"{k} {v}" for k, v in rec["stage_seconds"].items()))
    return result


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point: 0 done, 2 bad input, 128 + N stopped by signal N (130 Ctrl-C, 143 SIGTERM)."""

    def body() -> None:
        run(argv)

    return run_guarded(body)


if __name__ == "__main__":
    sys.exit(main())
