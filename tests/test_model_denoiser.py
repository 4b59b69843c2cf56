"""Stage 2 and the whole model: conditions switch independently, checkpoints round-trip, configs."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
import torch

from factories_model import tiny_inputs, tiny_model
from fpdm_video.config import FPDMConfig, from_dict, load_yaml, to_dict
from fpdm_video.errors import CheckpointError, InputError
from fpdm_video.models import FPDM, checkpoint_hash, load_model, save_model
from fpdm_video.models.denoiser import RowConditions
from fpdm_video.models.registry import CONFIG_REGISTRY

CONFIGS = Path(__file__).resolve().parents[1] / "configs" / "model"


@pytest.fixture(scope="module")
def model():
    return tiny_model()


def _denoise(model, x, **flags):
    with torch.no_grad():
        enc = model.encode_source(x["source"])
        fused = model.fuse(enc.image_embedding, x["pose"])
        keep = {name.replace("use_", "keep_"): value for name, value in flags.items()}
        return model.denoise(x["latents"], x["timesteps"], RowConditions(enc.context, fused, pose_map=x["pose"], **keep))


def test_shapes_and_ranges(model):
    x = tiny_inputs(model)
    with torch.no_grad():
        enc = model.encode_source(x["source"])
        fused = model.fuse(enc.image_embedding, x["pose"])
        latents = model.encode_images(x["source"])
        images = model.decode_latents(latents)
    assert enc.context.shape[0] == 2 and enc.context.shape[2] == model.denoiser.unet.config.cross_attention_dim
    assert enc.image_embedding.shape == fused.shape == (2, model.fusion.dim)
    torch.testing.assert_close(fused.norm(dim=-1), torch.ones(2))
    assert latents.shape == (2, model.latent_channels, *model.latent_hw)
    assert images.shape == x["source"].shape and 0 <= images.min() and images.max() <= 1
    assert sum(p.numel() for p in model.parameters()) < 2_000_000


@pytest.mark.parametrize("flag", ["use_pose", "use_source", "use_fused"])
def test_each_condition_changes_the_output(model, flag):
    x = tiny_inputs(model)
    full = _denoise(model, x)
    off = _denoise(model, x, **{flag: False})
    assert (full - off).abs().max() > 1e-4


def test_flags_all_on_equal_the_full_branch_and_work_per_row(model):
    x = tiny_inputs(model)
    full = _denoise(model, x)
    torch.testing.assert_close(_denoise(model, x, use_pose=True, use_source=True, use_fused=True), full)
    on = torch.tensor([True, True])
    torch.testing.assert_close(_denoise(model, x, use_pose=on, use_source=on, use_fused=on), full)
    mixed = _denoise(model, x, use_pose=torch.tensor([True, False]))
    off = _denoise(model, x, use_pose=False)
    torch.testing.assert_close(mixed[0], full[0])
    torch.testing.assert_close(mixed[1], off[1])


def test_unconditional_branch_ignores_the_conditions(model):
    x = tiny_inputs(model)
    y = dict(x, source=torch.rand_like(x["source"]), pose=torch.rand_like(x["pose"]))
    flags = dict(use_pose=False, use_source=False, use_fused=False)
    torch.testing.assert_close(_denoise(model, x, **flags), _denoise(model, y, **flags))


def test_save_load_round_trip_gives_identical_outputs(model, tmp_path):
    x = tiny_inputs(model)
    path = save_model(model, tmp_path / "ckpt")
    loaded = load_model(path)
    assert to_dict(loaded.config) == to_dict(model.config)
    torch.testing.assert_close(_denoise(loaded, x), _denoise(model, x), rtol=0, atol=0)
    assert len(checkpoint_hash(path)) == 64
    umask = os.umask(0)
    os.umask(umask)
    assert {f.name: stat.S_IMODE(f.stat().st_mode) for f in path.iterdir()} == {  # readable as any file the user writes
        "config.yaml": 0o666 & ~umask, "model.safetensors": 0o666 & ~umask}


def test_missing_checkpoint_files_name_the_file(model, tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        load_model(tmp_path / "nowhere")
    path = save_model(model, tmp_path / "ckpt")
    (path / "model.safetensors").unlink()
    with pytest.raises(CheckpointError, match="model.safetensors is missing"):
        load_model(path)


def test_mismatched_checkpoint_names_the_shapes(model, tmp_path):
    path = save_model(model, tmp_path / "ckpt")
    config = to_dict(model.config)
    config["combiner"]["hidden_dim"] = 48  # the weights were saved with 32
    (path / "config.yaml").write_text(__import__("yaml").safe_dump(config))
    with pytest.raises(CheckpointError, match=r"shape mismatch.*\(set by combiner\): the config gives \(48, 32\), the weights hold \(32, 32\)"):
        load_model(path)


def test_corrupt_weights_file_is_a_checkpoint_error(model, tmp_path):
    path = save_model(model, tmp_path / "ckpt")
    (path / "model.safetensors").write_bytes(b"not safetensors")
    with pytest.raises(CheckpointError, match="cannot read"):
        load_model(path)


@pytest.mark.parametrize("name", sorted(CONFIG_REGISTRY))
def test_yaml_configs_equal_the_registry(name):
    assert to_dict(load_yaml(FPDMConfig, CONFIGS / f"{name}.yaml")) == to_dict(CONFIG_REGISTRY[name]())


def test_unknown_config_keys_are_refused():
    data = to_dict(CONFIG_REGISTRY["tiny"]())
    data["combiner"]["hiden_dim"] = 3
    with pytest.raises(InputError, match="unknown key"):
        from_dict(FPDMConfig, data)
