"""``python -m fpdm_video.models init`` at full size, on parts with random weights: it runs, and what it costs.

    python benchmarks/init_full_size.py --work /tmp/fpdm-init [--size sd21-256] [--out benchmarks/results/init_sd21-256_cpu.json]

These machines cannot download SD 2.1, CLIP ViT-L/14 or DINOv2-L, so the script saves parts of their
exact shapes with random weights, in their own formats (a diffusers SD folder, transformers CLIP and
DINOv2 folders, from the public hyper-parameters in ``fpdm_video.models.registry``), then runs
``init`` on them as a user would on the real downloads, and checks that the checkpoint loads. It
records the seconds, peak memory and parameters per part. The random weights prove the plumbing
only.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import torch
from result_file import check_result, write_result

REPO = Path(__file__).resolve().parents[1]


def save_random_parts(work: Path, size: str) -> dict[str, Path]:
    """A diffusers SD folder (unet/, vae/, scheduler/) and transformers CLIP and DINOv2 folders, random weights."""
    from diffusers import AutoencoderKL, DDPMScheduler, UNet2DConditionModel
    from transformers import BitImageProcessor, CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModelWithProjection
    from transformers import Dinov2Config, Dinov2Model

    from fpdm_video.models.registry import CLIP_VIT_L14, CONFIG_REGISTRY, DINOV2_L

    config = CONFIG_REGISTRY[size]()
    torch.manual_seed(0)
    sd = work / "sd"
    UNet2DConditionModel(**config.unet.kwargs).save_pretrained(sd / "unet")
    AutoencoderKL(**config.vae.kwargs, scaling_factor=0.18215).save_pretrained(sd / "vae")
    DDPMScheduler(beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012, prediction_type="epsilon",
                  steps_offset=1, timestep_spacing="leading").save_pretrained(sd / "scheduler")  # fmt: skip
    clip = work / "clip-vit-large-patch14"
    CLIPVisionModelWithProjection(CLIPVisionConfig.from_dict(dict(CLIP_VIT_L14))).save_pretrained(clip)
    CLIPImageProcessor().save_pretrained(clip)
    dino = work / "dinov2-large"
    Dinov2Model(Dinov2Config.from_dict(dict(DINOV2_L))).save_pretrained(dino)
    BitImageProcessor(image_mean=[0.485, 0.456, 0.406], image_std=[0.229, 0.224, 0.225]).save_pretrained(dino)
    return {"sd": sd, "clip": clip, "dino": dino}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, required=True, help="scratch folder for the parts and the checkpoint (about 13 GB)")
    parser.add_argument("--size", default="sd21-256")
    parser.add_argument("--out", type=Path, help="result JSON")
    args = parser.parse_args()
    if args.out:
        check_result(args.out, {"--work": args.work})
    args.work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    parts = save_random_parts(args.work, args.size)
    saved = time.perf_counter() - started
    out = args.work / "start"
    shutil.rmtree(out, ignore_errors=True)
    cmd = [sys.executable, "-m", "fpdm_video.models", "init", "--size", args.size, "--sd", str(parts["sd"]),
           "--fusion-encoder", str(parts["clip"]), "--source-encoder", str(parts["dino"]), "-o", str(out)]  # fmt: skip
    t0 = time.perf_counter()
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, check=True)
    init_seconds = time.perf_counter() - t0
    child_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # MB (Linux reports KB)
    counts = {}
    for line in done.stdout.splitlines():
        name, _, value = line.rpartition(" ")
        counts[name.strip()] = int(value.replace(",", ""))
    from fpdm_video.models import load_model

    t0 = time.perf_counter()
    model = load_model(out)
    load_seconds = time.perf_counter() - t0
    result = {
        "what": "python -m fpdm_video.models init on random-weight parts of the real shapes",
        "size": args.size, "device": "cpu", "cpu": platform.processor() or platform.machine(), "torch": torch.__version__,
        "seconds": {"save_random_parts": round(saved, 1), "init": round(init_seconds, 1), "load_checkpoint": round(load_seconds, 1)},
        "init_peak_rss_mb": round(child_rss), "checkpoint_bytes": sum(p.stat().st_size for p in out.iterdir()),
        "parameters": counts, "loaded_prediction_type": model.noise_schedule.prediction_type,
    }  # fmt: skip
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        write_result(args.out, result)


if __name__ == "__main__":
    from fpdm_video.cli import run_guarded

    raise SystemExit(run_guarded(main))
