"""Measure this project's FPDM against the official implementation (dhlee-work/FPDM), at full size, with random weights.

Nothing of the official code is in this project: this script takes a checkout of it as an argument
and runs it in a virtual environment of its own pins. Three steps, each a subcommand:

    python scripts/official_equality.py make-venv --venv V           # the official pins (its requirements.txt), once
    V/bin/python scripts/official_equality.py official --official OFFICIAL --work W
    .venv/bin/python scripts/official_equality.py ours --work W --out benchmarks/results/official_equality_cpu.json
    .venv/bin/python scripts/official_equality.py manifest --work W --out tests/data/official_manifest_full.json

``official`` (in the official environment) writes parts of the published shapes with random weights
and no downloads: a diffusers SD 2.1 folder (UNet, VAE, the 768 model's v-prediction DDPM scheduler),
a transformers CLIP ViT-L/14 folder and a DINOv2-L folder, with their image processors. It builds the
official FusionModel and FPDM on them (from its DeepFashion configs, with local paths), gives every
parameter that starts at zero a small random value (the ControlNet embedding's last conv, so the
pose path is exercised), saves both as the official code does (Lightning checkpoints), and records,
on one source photo and one pose image of the official repository's samples: the processed encoder
inputs, the fused embedding, the three-branch guided prediction at two timesteps, and a whole
20-step DDPM sample from seed 7, exactly as its pipeline runs them.

``ours`` converts the checkpoints with ``python -m fpdm_video.models import-official`` and computes
the same quantities with this project's model, guidance and sampler on the same inputs, then
writes the differences as JSON. ``--scale reduced`` uses small parts of the same layout, for a quick
run of the plumbing.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OFFICIAL_PINS = ["diffusers==0.27.2", "transformers==4.40.1", "pytorch-lightning==2.2.1", "omegaconf==2.3.0",
                 "huggingface-hub==0.22.2", "numpy==1.26.4", "accelerate==0.30.1", "pillow==10.3.0",
                 "opencv-python==4.9.0.80", "scikit-image==0.22.0", "scipy==1.13.0", "matplotlib", "scikit-learn==1.4.1.post1",
                 "torchmetrics==1.3.2", "lpips==0.1.4", "setuptools<81"]  # fmt: skip
# The official requirements pin torch 2.3.0, xformers and wandb: this machine's torch 2.14.1 is used instead
# (the CPU file on disk), xformers is not needed on CPU, wandb only logs.
TORCH = ["torch==2.14.1", "torchvision==0.29.1"]
SOURCE_IMAGE = "dataset/deepfashion_samples/img/WOMEN/Blouses_Shirts/id_00001530/01_4_full.jpg"
POSE_IMAGE = "dataset/deepfashion_samples/pose_img/WOMEN/Blouses_Shirts/id_00001530/01_3_back.jpg"
TIMESTEPS = (951, 451)
# the official configs' paths, which the official run replaces with local folders
PUBLISHED_PATHS = {"pretrained_model_name_or_path": "stabilityai/stable-diffusion-2-1", "src_encoder_path": "facebook/dinov2-large",
                   "fusion_encoder_path": "openai/clip-vit-large-patch14", "img_encoder_path": "openai/clip-vit-large-patch14",
                   "fusion_model_path": "./logs/deepfashion-fusion-CLIP-b48-p005-r10-epoch5-lr1e-5-wd1e-4/model0/last.ckpt",
                   "data_root_path": "./dataset/deepfashion_samples", "train_json_path": "./dataset/deepfashion_samples/train_pairs_data.json",
                   "test_json_path": "./dataset/deepfashion_samples/test_pairs_data.json"}  # fmt: skip
SEED = 7


# ---- the official side ------------------------------------------------------------------------
def _scales(scale: str) -> dict:
    """Shapes of the parts: the published ones, or small ones of the same layout (the official code fixes some widths)."""
    if scale == "full":
        return {
            "unet": dict(sample_size=96, in_channels=4, out_channels=4, layers_per_block=2, block_out_channels=(320, 640, 1280, 1280),
                         down_block_types=("CrossAttnDownBlock2D",) * 3 + ("DownBlock2D",),
                         up_block_types=("UpBlock2D",) + ("CrossAttnUpBlock2D",) * 3, cross_attention_dim=1024,
                         attention_head_dim=(5, 10, 20, 20), use_linear_projection=True, norm_num_groups=32, flip_sin_to_cos=True,
                         freq_shift=0, upcast_attention=True),
            "vae": dict(in_channels=3, out_channels=3, latent_channels=4, layers_per_block=2, norm_num_groups=32,
                        block_out_channels=(128, 256, 512, 512), down_block_types=("DownEncoderBlock2D",) * 4,
                        up_block_types=("UpDecoderBlock2D",) * 4, sample_size=768, scaling_factor=0.18215),
            "clip": dict(hidden_size=1024, intermediate_size=4096, projection_dim=768, num_hidden_layers=24, num_attention_heads=16,
                         image_size=224, patch_size=14, hidden_act="quick_gelu", layer_norm_eps=1e-5),
            "dino": dict(hidden_size=1024, num_hidden_layers=24, num_attention_heads=16, mlp_ratio=4, patch_size=14, image_size=518,
                         layerscale_value=1.0, hidden_act="gelu", layer_norm_eps=1e-6, qkv_bias=True, use_swiglu_ffn=False),
            "source_size": 512,
        }  # fmt: skip
    return {
        "unet": dict(sample_size=32, in_channels=4, out_channels=4, layers_per_block=1, block_out_channels=(320, 640),
                     down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"), up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
                     cross_attention_dim=1024, attention_head_dim=(5, 10), use_linear_projection=True, norm_num_groups=32,
                     flip_sin_to_cos=True, freq_shift=0, upcast_attention=True),
        "vae": dict(in_channels=3, out_channels=3, latent_channels=4, layers_per_block=1, norm_num_groups=8,
                    block_out_channels=(16, 16, 32, 32), down_block_types=("DownEncoderBlock2D",) * 4,
                    up_block_types=("UpDecoderBlock2D",) * 4, sample_size=256, scaling_factor=0.18215),
        "clip": dict(hidden_size=64, intermediate_size=128, projection_dim=768, num_hidden_layers=2, num_attention_heads=4,
                     image_size=224, patch_size=14, hidden_act="quick_gelu", layer_norm_eps=1e-5),
        "dino": dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=4, mlp_ratio=4, patch_size=14, image_size=518,
                     layerscale_value=1.0, hidden_act="gelu", layer_norm_eps=1e-6, qkv_bias=True, use_swiglu_ffn=False),
        "source_size": 224,
    }  # fmt: skip


def write_parts(work: Path, scale: str) -> dict[str, Path]:
    """SD 2.1 (768, v-prediction), CLIP and DINOv2 folders with random weights, in their libraries' own formats."""
    import torch
    from diffusers import AutoencoderKL, DDPMScheduler, UNet2DConditionModel
    from transformers import BitImageProcessor, CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModelWithProjection
    from transformers import Dinov2Config, Dinov2Model

    shapes = _scales(scale)
    torch.manual_seed(0)
    sd, clip, dino = work / "sd21", work / "clip-vit-large-patch14", work / "dinov2-large"
    UNet2DConditionModel(**shapes["unet"]).save_pretrained(sd / "unet")
    AutoencoderKL(**shapes["vae"]).save_pretrained(sd / "vae")
    # stabilityai/stable-diffusion-2-1's scheduler_config.json, as DDPMScheduler reads it
    DDPMScheduler(num_train_timesteps=1000, beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                  prediction_type="v_prediction", steps_offset=1, clip_sample=False).save_pretrained(sd / "scheduler")  # fmt: skip
    (sd / "model_index.json").write_text(json.dumps({
        "_class_name": "StableDiffusionPipeline", "_diffusers_version": "0.27.2",
        "scheduler": ["diffusers", "DDPMScheduler"], "unet": ["diffusers", "UNet2DConditionModel"], "vae": ["diffusers", "AutoencoderKL"],
    }))  # fmt: skip
    CLIPVisionModelWithProjection(CLIPVisionConfig(**shapes["clip"])).save_pretrained(clip)
    CLIPImageProcessor().save_pretrained(clip)  # openai/clip-vit-large-patch14's: shortest edge 224, CLIP mean/std
    Dinov2Model(Dinov2Config(**shapes["dino"])).save_pretrained(dino)
    BitImageProcessor(size={"shortest_edge": 256}, crop_size={"height": 224, "width": 224}, do_center_crop=True,
                      image_mean=[0.485, 0.456, 0.406], image_std=[0.229, 0.224, 0.225],
                      resample=3).save_pretrained(dino)  # facebook/dinov2-large's: bicubic, ImageNet mean/std  # fmt: skip
    return {"sd": sd, "clip": clip, "dino": dino, "source_size": shapes["source_size"], "dino_hidden": shapes["dino"]["hidden_size"]}


def _lightning_save(model, path: Path) -> None:
    """Save as the official training does: a Lightning checkpoint (ModelCheckpoint calls trainer.save_checkpoint)."""
    import pytorch_lightning as pl

    trainer = pl.Trainer(accelerator="cpu", devices=1, logger=False, enable_checkpointing=False, enable_progress_bar=False)
    trainer.strategy.connect(model)
    trainer.save_checkpoint(str(path))


def _fill_zeros(module, seed: int) -> list[str]:
    """Give every parameter that is exactly zero a small random value (seeded); returns their names."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    filled = []
    with torch.no_grad():
        for name, p in module.named_parameters():
            if p.numel() and not p.any():
                p.copy_(torch.randn(p.shape, generator=gen) * 0.02)
                filled.append(name)
    return filled


def run_official(official: Path, work: Path, scale: str, canvas: tuple[int, int]) -> None:
    import numpy as np
    import torch
    from omegaconf import OmegaConf
    from PIL import Image
    from safetensors.torch import save_file

    # torch 2.6 made weights_only the default of torch.load; the official code, written for torch 2.3, loads its own
    # stage-1 checkpoint (omegaconf objects inside) with the old default. Only files this script has just written
    # are loaded so.
    os.environ["TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD"] = "1"
    sys.path.insert(0, str(official))
    import src.diffusion.model as official_model  # noqa: E402  (the official code, from the checkout given)
    from src.diffusion.pipelines.pipeline import FPDM_DiffusionPipeline  # noqa: E402
    from src.fusion.models import FusionModel  # noqa: E402

    class NoMetric:  # the metric networks download weights when built; they are not part of the model
        def __init__(self, *args, **kwargs):
            self.model = torch.nn.Identity()

    official_model.FID = official_model.LPIPS = official_model.Reconstruction_Metrics = NoMetric
    FPDM_DiffusionPipeline.enable_xformers_memory_efficient_attention = lambda self, *a, **k: None  # no xformers on CPU

    work.mkdir(parents=True, exist_ok=True)
    parts = write_parts(work, scale)
    stage1 = OmegaConf.load(official / "config" / "b1.fpdm-deepfashion.yaml")
    stage1.img_encoder_path = str(parts["clip"])
    torch.manual_seed(1)
    fusion = FusionModel(stage1)
    _lightning_save(fusion, work / "official_stage1.ckpt")

    stage2 = OmegaConf.load(official / "config" / "c1.fpdm-deepfashion-dsrvd-ab6.yaml")
    stage2.update({"pretrained_model_name_or_path": str(parts["sd"]), "fusion_model_path": str(work / "official_stage1.ckpt"),
                   "src_encoder_path": str(parts["dino"]), "fusion_encoder_path": str(parts["clip"]),
                   "train_json_path": str(work / "none.json"), "test_json_path": str(work / "none.json"),
                   "model_img_size": list(canvas), "input_t_img_size": list(canvas),
                   "src_encoder_size": [parts["source_size"]] * 2, "input_s_img_size": [parts["source_size"]] * 2,
                   "patch_proj_in_dim": parts["dino_hidden"], "data_root_path": str(official / "dataset" / "deepfashion_samples")})  # fmt: skip
    torch.manual_seed(2)
    model = official_model.FPDM(stage2).eval()
    filled = _fill_zeros(model.sd_model, seed=3)
    _lightning_save(model, work / "official_stage2.ckpt")

    # the inputs, as the official data_load prepares them
    s_img = Image.open(official / SOURCE_IMAGE).convert("RGB")
    t_pose = Image.open(official / POSE_IMAGE).convert("RGB")
    size = parts["source_size"]
    src_pixels = model.src_image_processor(images=s_img.resize((size, size), Image.BICUBIC), return_tensors="pt").pixel_values
    clip_src = model.fusion_image_processor(images=s_img.resize((224, 224), Image.BICUBIC), return_tensors="pt").pixel_values
    clip_pose = model.fusion_image_processor(images=t_pose.resize((224, 224), Image.BICUBIC), return_tensors="pt").pixel_values
    pose_map = torch.from_numpy(np.array(t_pose.resize(tuple(canvas), Image.BICUBIC))).permute(2, 0, 1)[None].float() / 255.0
    with torch.no_grad():
        tokens = model.src_image_encoder(src_pixels).last_hidden_state
        fused = model.fusion_model.combiner(model.fusion_model.img_encoder(clip_src).image_embeds,
                                            model.fusion_model.pose_encoder(clip_pose).image_embeds)  # fmt: skip
        context = model.sd_model.srcimage_proj_model(tokens)
        pose_feature = model.sd_model.pose_t_proj(pose_map)
        h, w = canvas[1] // 8, canvas[0] // 8
        latents = torch.randn((1, 4, h, w), generator=torch.Generator().manual_seed(11))
        predictions = {}
        for t in TIMESTEPS:  # the pipeline's three branches [uncond, src, global] and its guidance rule
            zeros = torch.zeros_like
            out = model.unet(torch.cat([latents] * 3), t, class_labels=torch.cat([zeros(fused), zeros(fused), fused])[:, None],
                             encoder_hidden_states=torch.cat([zeros(context), context, context]),
                             my_pose_cond=torch.cat([zeros(pose_feature), pose_feature, pose_feature])).sample  # fmt: skip
            u, s, f = out.chunk(3)
            predictions[f"guided_t{t}"] = u + 2.0 * (s - u) + 2.0 * (f - s)
        started = time.perf_counter()
        images = model.pipe(height=canvas[1], width=canvas[0], guidance_rescale=0.0, s_img_proj_f=context, t_pose_f=pose_feature,
                            fusion_img_embed=fused[:, None], num_images_per_prompt=1, guidance_scale=2.0,
                            generator=torch.Generator().manual_seed(SEED), num_inference_steps=20, output_type="np").images  # fmt: skip
        sample_seconds = time.perf_counter() - started
    image = (images[0] * 255).round().astype("uint8")  # what its pipeline's PIL output holds
    reference = {"source_image": torch.from_numpy(np.array(s_img)), "pose_image": torch.from_numpy(np.array(t_pose)), "src_pixels": src_pixels, "clip_src": clip_src, "clip_pose": clip_pose, "pose_map": pose_map, "tokens": tokens,
                 "fused": fused, "context": context, "pose_feature": pose_feature, "latents": latents, "image": torch.from_numpy(image),
                 **predictions}  # fmt: skip
    save_file({k: v.contiguous() for k, v in reference.items()}, str(work / "official_reference.safetensors"))
    facts = {"scale": scale, "canvas": list(canvas), "timesteps": list(TIMESTEPS), "seed": SEED, "filled_zero_parameters": filled,
             "official_sample_seconds": round(sample_seconds, 1), "source_image": SOURCE_IMAGE, "pose_image": POSE_IMAGE,
             "parts": {k: str(v) for k, v in parts.items()}, "official_commit": _commit(official),
             "versions": _versions(["torch", "diffusers", "transformers", "pytorch-lightning", "omegaconf"])}  # fmt: skip
    (work / "official_facts.json").write_text(json.dumps(facts, indent=2))
    print(json.dumps(facts, indent=2))


def _commit(repo: Path) -> str | None:
    try:
        return subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def _versions(names: list[str]) -> dict[str, str]:
    from importlib import metadata

    return {n: metadata.version(n) for n in names}


# ---- this project's side ----------------------------------------------------------------------
def run_ours(work: Path, out: Path | None) -> dict:
    import numpy as np
    import torch
    from safetensors.torch import load_file

    from fpdm_video.models import load_model
    from pipelines.fpdm_pipeline import FPDMPipeline
    from pipelines.guidance import ChunkConditions, GuidedDenoiser, Guidance
    from pipelines.loop import sample_latents
    from pipelines.samplers import Sampler

    facts = json.loads((work / "official_facts.json").read_text())
    converted = work / "converted"
    cmd = [sys.executable, "-m", "fpdm_video.models", "import-official", "--diffusion", str(work / "official_stage2.ckpt"),
           "--fusion", str(work / "official_stage1.ckpt"), "--sd", facts["parts"]["sd"], "--source-encoder", facts["parts"]["dino"],
           "--fusion-encoder", facts["parts"]["clip"], "-o", str(converted)]  # fmt: skip
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"import-official failed:\n{done.stderr[-3000:]}")
    ref = load_file(str(work / "official_reference.safetensors"))
    model = load_model(converted).eval()
    diff = lambda a, b: float((a.float() - b.float()).abs().max())  # noqa: E731
    with torch.no_grad():
        tokens = model.source_encoder.encoder.model(pixel_values=ref["src_pixels"]).last_hidden_state
        encoder = model.fusion.encoder.model
        fused = model.fusion.combiner(encoder(pixel_values=ref["clip_src"]).image_embeds, encoder(pixel_values=ref["clip_pose"]).image_embeds)
        context = model.denoiser.project_source(tokens)
        pose_feature = model.denoiser.pose_embedding(ref["pose_map"])
        result = {"source_tokens": diff(tokens, ref["tokens"]), "fused_embedding": diff(fused, ref["fused"]),
                  "context": diff(context, ref["context"]), "pose_feature": diff(pose_feature, ref["pose_feature"])}  # fmt: skip
        # the same, through this project's own preprocessing of the two images (antialiased bicubic in float)
        as_float = lambda key: ref[key].permute(2, 0, 1)[None].float() / 255.0  # noqa: E731
        source_image, pose_image = as_float("source_image"), as_float("pose_image")
        result["through_our_preprocessing"] = {
            "clip_pixels_8bit": diff(encoder_pixels(model.fusion.encoder, source_image), ref["clip_src"]) * 255 * 0.2686,
            "dino_pixels_8bit": diff(encoder_pixels(model.source_encoder.encoder, source_image), ref["src_pixels"]) * 255 * 0.229,
            "fused_embedding": diff(model.fusion.combiner(model.fusion.embed(source_image), model.fusion.embed(pose_image)), ref["fused"]),
            "context": diff(model.denoiser.project_source(model.source_encoder(source_image)), ref["context"]),
            "fused_embedding_norm": float(ref["fused"].norm()),
        }  # fmt: skip
        # the guided model output: this project's guidance rule (one scale: the u and f branches) over its UNet
        guidance = Guidance(2.0, num_train_timesteps=model.noise_schedule.num_train_timesteps)
        denoise = GuidedDenoiser(model, ChunkConditions(ref["context"], ref["fused"], ref["pose_map"]), guidance)
        for t in facts["timesteps"]:
            ours = denoise(ref["latents"], t, 0)
            scale = float(ref[f"guided_t{t}"].abs().max())
            result[f"guided_prediction_t{t}"] = {"max_abs": diff(ours, ref[f"guided_t{t}"]), "reference_max_abs": scale}
        pipeline = FPDMPipeline(model)
        generator = torch.Generator().manual_seed(facts["seed"])
        shape = ref["latents"].shape
        x_t = torch.randn(shape, generator=generator)
        started = time.perf_counter()
        latents = sample_latents(denoise, x_t, pipeline.schedule(20), Sampler("ddpm", eta=0.0),
                                 lambda i: torch.randn(shape, generator=generator), progress=False)  # fmt: skip
        seconds = time.perf_counter() - started
        image = (pipeline.decode(latents)[0].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
    steps = np.abs(image.astype(int) - ref["image"].numpy().astype(int))
    result["sample_20_steps"] = {"max_abs_8bit": int(steps.max()), "mean_abs_8bit": float(steps.mean()),
                                 "pixels_off_by_more_than_1": int((steps > 1).sum()), "pixels": int(steps.size),
                                 "ours_seconds": round(seconds, 1), "official_seconds": facts["official_sample_seconds"]}  # fmt: skip
    report = {"what": "this project's FPDM against the official implementation, same random weights and inputs, fp32, CPU",
              "device": "cpu", "official": facts, "differences": result}  # fmt: skip
    text = json.dumps(report, indent=2).replace(str(work), "<work>")  # no path of this machine in the record
    print(text)
    if out is not None:
        out.write_text(text + "\n")
    return report


def write_manifest(work: Path, out: Path) -> None:
    """The keys, shapes and hyper-parameters of the official checkpoints, read safely: facts for the tests."""
    from fpdm_video.models.official.reader import read_checkpoint

    facts = json.loads((work / "official_facts.json").read_text())
    manifest = {"what": "tensor names and shapes of the official FPDM checkpoints (dhlee-work/FPDM) as its code saves them, "
                        "and their hyper-parameters; written by scripts/official_equality.py manifest",
                "scale": facts["scale"], "canvas": facts["canvas"], "versions": facts["versions"]}  # fmt: skip
    parts = {name: json.loads((work / folder / "config.json").read_text()) for name, folder in
             (("unet", "sd21/unet"), ("vae", "sd21/vae"), ("clip", "clip-vit-large-patch14"), ("dino", "dinov2-large"))}
    parts["scheduler"] = json.loads((work / "sd21" / "scheduler" / "scheduler_config.json").read_text())
    manifest["parts"] = parts  # the configs of the parts the checkpoints were built on
    for stage in ("stage1", "stage2"):
        ckpt = read_checkpoint(work / f"official_{stage}.ckpt")
        hp = {k: PUBLISHED_PATHS.get(k, v) for k, v in ckpt.hyper_parameters.items()}  # local paths back to the official names
        manifest[stage] = {"lightning_version": ckpt.lightning_version, "hyper_parameters": hp,
                           "tensors": {k: [list(v.shape), str(v.dtype).replace("torch.", "")] for k, v in ckpt.state_dict.items()}}  # fmt: skip
    out.write_text(json.dumps(manifest, indent=1) + "\n")
    print(f"wrote {out}: {len(manifest['stage1']['tensors'])} + {len(manifest['stage2']['tensors'])} tensors")


def encoder_pixels(encoder, image):
    """What this project's transformers encoder feeds its model for ``image`` (B, 3, H, W) [0, 1]."""
    return encoder.preprocess(image)


def make_venv(venv: Path) -> None:
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
    subprocess.run(pip + ["--upgrade", "pip"], check=True)
    subprocess.run(pip + TORCH + OFFICIAL_PINS + ["safetensors"], check=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    v = sub.add_parser("make-venv", help="a virtual environment with the official pins")
    v.add_argument("--venv", type=Path, required=True)
    o = sub.add_parser("official", help="run in the official environment: parts, official checkpoints, reference outputs")
    o.add_argument("--official", type=Path, required=True, help="a checkout of dhlee-work/FPDM")
    o.add_argument("--work", type=Path, required=True, help="scratch folder (about 20 GB at full scale)")
    o.add_argument("--scale", choices=("full", "reduced"), default="full")
    o.add_argument("--canvas", default="352x512", help="model canvas W x H (default: the official DeepFashion config's, 352x512)")
    m = sub.add_parser("manifest", help="run in this project's environment: the official checkpoints' keys and shapes as JSON")
    m.add_argument("--work", type=Path, required=True)
    m.add_argument("--out", type=Path, required=True)
    u = sub.add_parser("ours", help="run in this project's environment: convert, compute, compare")
    u.add_argument("--work", type=Path, required=True)
    u.add_argument("--out", type=Path, help="result JSON")
    args = p.parse_args()
    if args.command == "make-venv":
        make_venv(args.venv)
    elif args.command == "official":
        w, h = (int(x) for x in args.canvas.lower().split("x"))
        run_official(args.official.resolve(), args.work.resolve(), args.scale, (w, h))
    elif args.command == "manifest":
        write_manifest(args.work.resolve(), args.out)
    else:
        run_ours(args.work.resolve(), args.out)


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    main()
