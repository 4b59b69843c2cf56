"""``python -m fpdm_video.models``: make checkpoints of this project's format from pretrained parts.

    python -m fpdm_video.models init --size sd21-256 --sd SD --fusion-encoder CLIP --source-encoder DINO -o DIR
    python -m fpdm_video.models import-official --diffusion STAGE2.ckpt [--fusion STAGE1.ckpt] [--sd SD] -o DIR

``init`` builds the size with the Stable Diffusion folder's UNet, VAE and noise schedule, a
transformers CLIP as the stage-1 encoder and a transformers DINOv2 (or CLIP) as the source encoder,
each a local folder or a hub name (a hub name needs the files in the Hugging Face cache, or a
network). It writes DIR (config.yaml + model.safetensors) and prints the parameters of each part.

``import-official`` converts the official release's Lightning checkpoints (dhlee-work/FPDM) into
DIR, reading them without running any of their code (fpdm_video.models.official.reader). The
config comes from their hyper-parameters; ``--sd``, ``--fusion-encoder`` and ``--source-encoder``
give the folders whose configs (scheduler, UNet, VAE, encoders) the official model was built from,
needed only when its hyper-parameters name models other than the published SD 2.1, CLIP ViT-L/14
and DINOv2-L. Bad input ends with one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from fpdm_video.cli import run_guarded
from fpdm_video.config import POSE_STYLES
from fpdm_video.errors import InputError


def build_parser() -> argparse.ArgumentParser:
    from fpdm_video.models.registry import CONFIG_REGISTRY

    parser = argparse.ArgumentParser(prog="python -m fpdm_video.models", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    init = sub.add_parser("init", help="a starting checkpoint from pretrained SD, CLIP and DINOv2 parts")
    init.add_argument("--size", required=True, choices=sorted(CONFIG_REGISTRY), help="model size (e.g. sd21-256)")
    init.add_argument("--sd", required=True, help="Stable Diffusion 2.x diffusers folder or hub name (unet/, vae/, scheduler/)")
    init.add_argument("--fusion-encoder", required=True, help="transformers CLIP folder or hub name (e.g. openai/clip-vit-large-patch14)")
    init.add_argument("--source-encoder", required=True, help="transformers DINOv2 or CLIP folder or hub name (e.g. facebook/dinov2-large)")
    init.add_argument("--source-size", type=int, help="input side of the source encoder (default: the size's; 512 for sd21-*)")
    init.add_argument("--pose-style", choices=POSE_STYLES, default="holistic",
                      help="the pose maps the model will be trained on (default: this project's holistic style)")
    init.add_argument("-o", "--output", required=True, type=Path, help="checkpoint folder to write")
    imp = sub.add_parser("import-official", help="convert the official FPDM checkpoints (Lightning .ckpt) to this project's format")
    imp.add_argument("--diffusion", required=True, type=Path, help="the official stage-2 checkpoint (.ckpt)")
    imp.add_argument("--fusion", type=Path, help="the official stage-1 checkpoint (.ckpt); checked against stage 2's fusion model")
    imp.add_argument("--sd", help="the Stable Diffusion folder the official model started from (default: the published SD 2.1 configs)")
    imp.add_argument("--fusion-encoder", help="the CLIP folder it used (default: the published openai/clip-vit-large-patch14 config)")
    imp.add_argument("--source-encoder", help="the DINOv2 folder it used (default: the published facebook/dinov2-large config)")
    imp.add_argument("--pose-style", choices=POSE_STYLES[1:], default="openpose18",
                     help="the pose maps the official model was trained on (default: OpenPose-18, as its DeepFashion code draws)")
    imp.add_argument("-o", "--output", required=True, type=Path, help="checkpoint folder to write")
    return parser


def format_counts(counts: dict[str, int]) -> str:
    width = max(len(k) for k in counts)
    return "\n".join(f"{name:<{width}}  {value:>15,}" for name, value in counts.items())


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

    def body() -> None:
        if args.command == "import-official":
            return import_official(args)
        from fpdm_video.models.pretrained_init import init_from_pretrained

        if args.source_size is not None and args.source_size < 1:
            raise InputError(f"--source-size must be a positive number of pixels, got {args.source_size}")
        check_output(args, {})
        model = init_from_pretrained(args.size, args.sd, args.fusion_encoder, args.source_encoder, args.source_size, args.pose_style)
        save_and_count(model, args.output)

    return run_guarded(body)


def check_output(args: argparse.Namespace, inputs: dict) -> None:
    """Before any work: the output folder against the inputs (those of the parts that are local folders too)."""
    from fpdm_video.run_paths import check_run_paths

    parts = {k: v for k, v in (("--sd", args.sd), ("--fusion-encoder", args.fusion_encoder), ("--source-encoder", args.source_encoder))
             if v is not None and Path(v).exists()}  # fmt: skip
    check_run_paths({**inputs, **parts}, {"-o": args.output}, folders={"-o"})
    check_replaceable(args.output)


def save_and_count(model, output: Path) -> None:
    from fpdm_video.models.checkpoint import save_model
    from fpdm_video.models.params import part_counts

    save_model(model, output)
    print(format_counts(part_counts(model)))
    logging.getLogger("fpdm_video.models").info("wrote %s", output)


def import_official(args: argparse.Namespace) -> None:
    from fpdm_video.models.official.convert import convert_official

    check_output(args, {"--diffusion": args.diffusion, "--fusion": args.fusion})
    model, report = convert_official(args.diffusion, args.fusion, sd=args.sd, fusion_encoder=args.fusion_encoder,
                                     source_encoder=args.source_encoder, pose_style=args.pose_style)  # fmt: skip
    config = model.config
    print(f"converted {report.mapped} tensors; dropped " + ", ".join(f"{len(v)} {k}" for k, v in report.dropped.items()))
    print(f"stage 1: {report.stage1}")
    print(f"canvas {model.canvas[0]}x{model.canvas[1]}, class embedding {config.unet.class_embedding}, "
          f"prediction {config.noise_schedule.prediction_type}, source tokens at {config.source_encoder.hf.image_size} px, "
          f"default steps {config.sampling.steps} and guidance {config.sampling.guidance}, pose maps {config.pose_map.style}")  # fmt: skip
    save_and_count(model, args.output)


def check_replaceable(folder: Path) -> None:
    """The checkpoint folder is written whole, replacing what is there: only a new, empty or checkpoint folder will do."""
    from fpdm_video.models.checkpoint import CONFIG_NAME, WEIGHTS_NAME

    if folder.is_dir():
        other = sorted(p.name for p in folder.iterdir() if p.name not in (CONFIG_NAME, WEIGHTS_NAME))
        if other:
            raise InputError(f"-o {folder} holds other files ({', '.join(other[:3])}{' ...' if len(other) > 3 else ''}), "
                             "which writing the checkpoint would delete; give a new folder")  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
