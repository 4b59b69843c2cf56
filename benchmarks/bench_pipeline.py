"""The whole signer transfer, stage by stage: where the time goes, and peak memory.

Stages, each timed on its own with the functions the transfer uses (pipelines/transfer/stages.py):
decode (all selected frames, in chunks), pose extraction (MediaPipe), repair and retarget, pose-map
rendering, sampling (the checkpoint, fixed noise, 3-way guidance), encoding (H.264). Reports
seconds, frames/s and share of the total per stage, peak RSS of the process and peak GPU memory,
the device, git commit and versions, as JSON in ``benchmarks/results/pipeline_<name>_<device>.json``.

    python benchmarks/bench_pipeline.py ../shared/data/real/test_video.mp4 --signer ../shared/data/real/fake_human.png
    python benchmarks/bench_pipeline.py in.mp4 --signer ref.png --checkpoint DIR --device cuda --max-frames 64
"""

from __future__ import annotations

import argparse
import json
import logging
import resource
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from bench_sampler import device_name, git_commit
from fpdm_video.geometry import CanvasFit
from fpdm_video.pose.extract import extract_poses
from fpdm_video.video import VideoWriter
from pipelines.samplers import SAMPLERS
from pipelines.settings import SamplingRequest
from pipelines.transfer import SignerTransfer, TransferRequest
from pipelines.transfer.record import package_versions
from pipelines.transfer.signer import load_signer
from pipelines.transfer.stages import input_chunks, open_input, pose_map_chunks, prepare_poses, source_tensor
from pipelines.video_sampling import sample_video
from result_file import check_result, write_result

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(args: argparse.Namespace) -> dict:
    runner = SignerTransfer.from_pretrained(args.checkpoint, device=args.device, dtype=args.dtype)
    if runner.device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    sampling = SamplingRequest(steps=args.steps, scheduler=args.scheduler, batch_size=args.batch_size, seed=0)
    settings = runner.settings(TransferRequest(sampling=sampling, max_frames=args.max_frames))
    spec = open_input(args.input, settings)
    seconds: dict[str, float] = {}

    def timed(name: str, fn):
        if runner.device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        out = fn()
        if runner.device.type == "cuda":
            torch.cuda.synchronize()
        seconds[name] = time.perf_counter() - start
        return out

    signer = timed("reference_photo", lambda: load_signer(args.signer, spec.width, spec.height))
    frames = timed("decode", lambda: [f for clip in input_chunks(spec, settings.chunk_frames) for f in clip.frames])
    poses = timed("pose_extraction", lambda: extract_poses(input_chunks(spec, settings.chunk_frames), progress=False))
    target, _ = timed("repair_retarget", lambda: prepare_poses(poses, signer.pose))
    fit = CanvasFit.of(spec.width, spec.height, runner.model.config.resolution)
    maps = timed("pose_maps", lambda: torch.cat(list(pose_map_chunks(target, fit, settings.chunk_frames, runner.model.config.pose_map))))
    outputs = timed("sampling", lambda: np.concatenate(list(sample_video(
        runner.model, source_tensor(signer.image, fit), maps, settings.sampling, output_fit=fit, progress=False))))  # fmt: skip

    def encode() -> None:
        with tempfile.TemporaryDirectory() as tmp, VideoWriter(Path(tmp) / "out.mp4", fps=spec.fps) as writer:
            writer.write(outputs)

    timed("encode", encode)
    n = len(frames)
    total = sum(seconds.values())
    return {
        "input": str(args.input), "frames": n, "size": [spec.width, spec.height],
        "checkpoint": runner.model.config.name, "steps": settings.sampling.steps, "scheduler": settings.sampling.scheduler,
        "guidance": settings.sampling.guidance, "batch_size": settings.sampling.batch_size, "settings": asdict(settings.sampling),
        "device": device_name(runner.device), "device_type": runner.device.type, "dtype": str(runner.dtype).replace("torch.", ""),
        "torch_threads": torch.get_num_threads(),
        "stages": {k: {"seconds": round(v, 3), "frames_per_s": round(n / v, 3) if v > 0 else None,
                       "share": round(v / total, 4)} for k, v in seconds.items()},  # fmt: skip
        "total_seconds": round(total, 3), "frames_per_s_overall": round(n / total, 4),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "peak_gpu_mb": round(torch.cuda.max_memory_allocated() / 2**20, 1) if runner.device.type == "cuda" else None,
        "git_commit": git_commit(), "versions": package_versions(),
        "note": "sampling and encoding run on all frames at once here to time them apart; the transfer streams them in chunks",
    }  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("input", type=Path)
    p.add_argument("--signer", type=Path, required=True)
    p.add_argument("--checkpoint", type=Path, help="default: the embedded demo model")
    p.add_argument("--device", default="auto")
    p.add_argument("--dtype", default="auto")
    p.add_argument("--steps", type=int, help="denoising steps (default: the checkpoint's, 20)")
    p.add_argument("--scheduler", choices=tuple(SAMPLERS), help="sampler (default: the paper's, ddpm)")
    p.add_argument("--batch-size", type=int, default=4)
    p.add_argument("--max-frames", type=int)
    p.add_argument("--name", default="demo", help="result file name part (default demo)")
    p.add_argument("--out", type=Path, help="result JSON (default benchmarks/results/pipeline_<name>_<device>.json)")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    if args.out:
        check_result(args.out, {"input": args.input, "--signer": args.signer, "--checkpoint": args.checkpoint})
    result = run(args)
    out = args.out or RESULTS_DIR / f"pipeline_{args.name}_{result['device_type']}.json"
    write_result(out, result)
    print(json.dumps({k: result[k] for k in ("frames", "total_seconds", "frames_per_s_overall", "peak_rss_mb")}))
    for name, s in result["stages"].items():
        print(f"{name:16s} {s['seconds']:8.2f} s  {s['share'] * 100:5.1f} %  {s['frames_per_s'] or 0:8.2f} frames/s")
    return 0


if __name__ == "__main__":
    from fpdm_video.cli import run_guarded

    raise SystemExit(run_guarded(main))
