"""``python -m fpdm_video.models init``: a checkpoint from pretrained SD, CLIP and DINOv2 folders, then every stage trains."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from fpdm_video.models import load_model
from fpdm_video.models.__main__ import main
from fpdm_video.models.registry import tiny_config
from fpdm_video.train.loop import train

from factories_hf import hf_parts  # noqa: F401 (fixture)
from factories_paths import tree_state
from factories_train import tiny_config as tiny_train_config, tiny_dataset  # noqa: F401 (fixture)


@pytest.fixture(scope="module")
def sd_folder(tmp_path_factory) -> Path:
    """A tiny Stable Diffusion folder: unet/, vae/ (scaling factor 0.5) and a v-prediction scheduler/."""
    from diffusers import AutoencoderKL, DDPMScheduler, UNet2DConditionModel

    root = tmp_path_factory.mktemp("sd")
    config = tiny_config()
    torch.manual_seed(3)
    AutoencoderKL(**config.vae.kwargs, scaling_factor=0.5).save_pretrained(root / "vae")
    UNet2DConditionModel(**config.unet.kwargs).save_pretrained(root / "unet")
    DDPMScheduler(beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012, prediction_type="v_prediction",
                  timestep_spacing="leading").save_pretrained(root / "scheduler")  # fmt: skip
    return root


def init_args(sd, parts, out) -> list[str]:
    return ["init", "--size", "tiny", "--sd", str(sd), "--fusion-encoder", str(parts["clip"]), "--source-encoder",
            str(parts["dinov2"]), "--source-size", "48", "-o", str(out)]  # fmt: skip


def test_init_from_pretrained_parts_then_two_steps_of_every_stage(sd_folder, hf_parts, tiny_dataset, tmp_path, capsys):  # noqa: F811
    from diffusers import UNet2DConditionModel
    from transformers import CLIPVisionModelWithProjection, Dinov2Model

    out = tmp_path / "start"
    assert main(init_args(sd_folder, hf_parts, out) + ["--pose-style", "wholebody133"]) == 0  # PHOENIX as the official code draws it
    printed = capsys.readouterr().out
    for part in ("fusion_encoder", "source_encoder", "unet_without_class_embedding", "vae", "total"):
        assert part in printed
    model = load_model(out)  # from the checkpoint alone
    assert model.noise_schedule.prediction_type == "v_prediction" and model.scaling_factor == 0.5
    assert model.config.source_encoder.hf.architecture == "dinov2" and model.config.source_encoder.hf.image_size == 48
    clip = CLIPVisionModelWithProjection.from_pretrained(hf_parts["clip"]).state_dict()
    ours = model.fusion.encoder.model.state_dict()
    assert all(torch.equal(ours[k], v) for k, v in clip.items())
    dino = Dinov2Model.from_pretrained(hf_parts["dinov2"]).state_dict()
    assert all(torch.equal(model.source_encoder.encoder.model.state_dict()[k], v) for k, v in dino.items())
    sd_unet = UNet2DConditionModel.from_pretrained(sd_folder, subfolder="unet").state_dict()
    unet = model.denoiser.unet.state_dict()
    assert all(torch.equal(unet[k.replace("conv_in.", "conv_in.conv.")], v) for k, v in sd_unet.items())

    run = tmp_path / "run"
    previous = out
    for stage in ("vae", "fusion", "diffusion"):
        config = tiny_train_config(stage, tiny_dataset, run, "steps=2", f"init={previous}", "eval_pairs=0")
        previous = train(config, progress=False) / "model"
        assert load_model(previous).config.fusion_encoder.kind == "hf"
    trained = load_model(previous)
    assert trained.config.pose_map.style == "wholebody133" and trained.config.pose_map.stick_width == 2  # trained on those maps
    assert not torch.equal(trained.denoiser.pose_embedding.conv_in.weight, model.denoiser.pose_embedding.conv_in.weight)


def test_init_refuses_a_folder_holding_other_files(sd_folder, hf_parts, tmp_path, capsys):  # noqa: F811
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    before = tree_state(tmp_path)
    assert main(init_args(sd_folder, hf_parts, out)) == 2
    assert "holds other files (notes.txt)" in capsys.readouterr().err
    assert tree_state(tmp_path) == before


def test_init_with_a_folder_that_is_not_stable_diffusion(hf_parts, tmp_path, capsys):  # noqa: F811
    (tmp_path / "not-sd").mkdir()
    assert main(init_args(tmp_path / "not-sd", hf_parts, tmp_path / "out")) == 2
    assert "a Stable Diffusion folder needs unet/, vae/ and scheduler/" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
