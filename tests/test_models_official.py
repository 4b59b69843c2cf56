"""The official FPDM checkpoints: read without running code, every key mapped or dropped, converted and loaded strictly.

The checkpoints here are made from manifests that scripts/official_equality.py wrote from the official
code's own checkpoints (names, shapes, hyper-parameters: facts), with random tensors.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from fpdm_video.errors import CheckpointError
from fpdm_video.models import load_model
from fpdm_video.models.__main__ import main
from fpdm_video.models.official.keys import convert_state
from fpdm_video.models.official.reader import read_checkpoint

from factories_official import load_manifest, tensors_from, write_ckpt, write_parts
from factories_paths import tree_state
from factories_transfer import example_inputs  # noqa: F401 (fixture)


@pytest.fixture(scope="module")
def official(tmp_path_factory) -> dict:
    """Official-format stage-1 and stage-2 checkpoints of the reduced manifest, and the parts' config folders."""
    manifest = load_manifest("official_manifest_reduced.json")
    root = tmp_path_factory.mktemp("official")
    stage1 = tensors_from(manifest["stage1"]["tensors"], seed=1)
    stage2 = tensors_from(manifest["stage2"]["tensors"], seed=2)
    stage2.update({"fusion_model." + k: v for k, v in stage1.items()})  # stage 2 holds the stage-1 model it was trained with
    return {"manifest": manifest, "parts": write_parts(manifest, root / "parts"), "stage1_state": stage1, "stage2_state": stage2,
            "stage1": write_ckpt(root / "stage1.ckpt", stage1, manifest["stage1"]["hyper_parameters"]),
            "stage2": write_ckpt(root / "stage2.ckpt", stage2, manifest["stage2"]["hyper_parameters"])}  # fmt: skip


def import_args(official, out: Path) -> list[str]:
    parts = official["parts"]
    return ["import-official", "--diffusion", str(official["stage2"]), "--fusion", str(official["stage1"]), "--sd", str(parts["sd"]),
            "--fusion-encoder", str(parts["clip"]), "--source-encoder", str(parts["dino"]), "-o", str(out)]  # fmt: skip


def test_the_reader_gives_tensors_and_plain_hyper_parameters(official):
    ckpt = read_checkpoint(official["stage2"])
    assert set(ckpt.state_dict) == set(official["manifest"]["stage2"]["tensors"])
    hp = ckpt.hyper_parameters
    assert hp["class_embed_type"] == "mlp" and hp["model_img_size"] == [256, 256] and hp["guidance_scale"] == 2.0
    assert hp == official["manifest"]["stage2"]["hyper_parameters"]


def test_import_official_converts_and_loads_strictly(official, tmp_path, capsys):
    out = tmp_path / "converted"
    assert main(import_args(official, out)) == 0
    printed = capsys.readouterr().out
    assert "stage 1: equal to stage 2's fusion model" in printed and "prediction v_prediction" in printed
    model = load_model(out)  # strict: every tensor of the config is there, none more
    state, src = model.state_dict(), official["stage2_state"]
    assert torch.equal(state["denoiser.unet.conv_in.conv.weight"], src["unet.conv_in.weight"])
    assert torch.equal(state["denoiser.unet.class_embedding.net.3.weight"], src["unet.class_embedding.net.3.weight"])
    assert torch.equal(state["fusion.combiner.pose_projection.weight"], src["fusion_model.combiner.kpt_projection_layer.weight"])
    assert torch.equal(state["denoiser.source_projection.layers.3.weight"], src["sd_model.srcimage_proj_model.net.3.weight"])
    assert torch.equal(state["denoiser.pose_embedding.conv_out.weight"], src["sd_model.pose_t_proj.conv_out.weight"])
    # transformers 5 renamed DINOv2's attention weights; the conversion goes through its own renaming
    assert torch.equal(state["source_encoder.encoder.model.encoder.layer.1.attention.q_proj.weight"],
                       src["src_image_encoder.encoder.layer.1.attention.attention.query.weight"])  # fmt: skip
    config = model.config
    assert config.unet.class_embedding == "mlp" and config.noise_schedule.prediction_type == "v_prediction"
    assert (config.sampling.steps, config.sampling.guidance) == (20, 2.0)
    assert config.source_encoder.hf.position_interpolation == "offset"
    assert (config.pose_map.style, tuple(config.pose_map.draw_size), config.pose_map.stick_width) == ("openpose18", (375, 550), 4)


def test_every_official_key_is_mapped_or_dropped_on_purpose(official):
    converted, dropped = convert_state(official["stage2_state"])
    assert len(converted) + len(dropped["copies"]) == len(official["stage2_state"])
    assert all(k.startswith(("sd_model.unet.", "fusion_model.pose_encoder.")) for k in dropped["copies"])
    damaged = dict(official["stage2_state"])
    damaged["some_new_module.weight"] = torch.zeros(2)
    with pytest.raises(CheckpointError, match="have no place in this project's model: some_new_module.weight"):
        convert_state(damaged)
    differing = dict(official["stage2_state"])
    key = next(k for k in differing if k.startswith("sd_model.unet."))
    differing[key] = differing[key] + 1
    with pytest.raises(CheckpointError, match="should be a copy of"):
        convert_state(differing)


class RunsCode:
    """An object whose unpickling would run a command (the attack a restricted reader must stop)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_a_checkpoint_that_would_run_code_is_refused_and_nothing_runs(official, tmp_path, capsys):
    marker = tmp_path / "ran"
    evil = write_ckpt(tmp_path / "evil.ckpt", dict(official["stage2_state"]), official["manifest"]["stage2"]["hyper_parameters"],
                      extra={"callbacks": {"ModelCheckpoint": RunsCode(marker)}})  # fmt: skip
    with pytest.raises(CheckpointError, match=r"is refused and nothing in it was run: it names (posix|os)\.system"):
        read_checkpoint(evil)
    assert not marker.exists()
    out = tmp_path / "out"
    before = tree_state(tmp_path)
    args = import_args(official, out)
    args[args.index("--diffusion") + 1] = str(evil)
    assert main(args) == 2
    assert "nothing in it was run" in capsys.readouterr().err
    assert not marker.exists() and tree_state(tmp_path) == before


def test_files_that_are_not_checkpoints(tmp_path):
    text = tmp_path / "notes.ckpt"
    text.write_text("not a checkpoint")
    with pytest.raises(CheckpointError, match="is not a PyTorch checkpoint"):
        read_checkpoint(text)
    with pytest.raises(CheckpointError, match="does not exist"):
        read_checkpoint(tmp_path / "missing.ckpt")
    plain = tmp_path / "plain.ckpt"
    torch.save({"weights": torch.zeros(1)}, plain)
    with pytest.raises(CheckpointError, match="not a Lightning checkpoint"):
        read_checkpoint(plain)


def test_the_full_size_official_checkpoint_maps_onto_the_paper_model():
    """Every tensor of the official stage-2 checkpoint at full size (2885 names) has its place, with its shape.

    Shapes only, on the meta device: the manifest was written from a checkpoint the official code saved at
    full size; its hyper-parameters name the published SD 2.1, CLIP ViT-L/14 and DINOv2-L, whose configs the
    conversion knows without folders.
    """
    from collections import Counter

    from fpdm_video.models.fpdm import FPDM
    from fpdm_video.models.official.config import converted_config

    manifest = load_manifest("official_manifest_full.json")
    entries = manifest["stage2"]["tensors"]
    assert len(entries) == 2885
    with torch.device("meta"):
        model = FPDM(converted_config(manifest["stage2"]["hyper_parameters"]), load_pretrained=False)
        converted, dropped = convert_state({k: torch.empty(shape) for k, (shape, _) in entries.items()}, verify_copies=False)
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    got = {k: tuple(v.shape) for k, v in converted.items()}
    encoders = ("fusion.encoder.model.", "source_encoder.encoder.model.")  # transformers renames some of their weights

    def split(shapes: dict) -> tuple[dict, Counter]:
        plain = {k: v for k, v in shapes.items() if not k.startswith(encoders)}
        return plain, Counter((k.split(".")[0], v) for k, v in shapes.items() if k.startswith(encoders))

    assert split(got) == split(expected)
    assert len(dropped["copies"]) == len(entries) - len(converted)
    total = sum(v.numel() for v in model.parameters())
    assert total == 1_566_270_396  # SD 2.1 UNet and VAE, CLIP ViT-L/14, DINOv2-L and FPDM's own parts


@pytest.mark.slow
def test_a_converted_checkpoint_drives_the_transfer(official, example_inputs, tmp_path):  # noqa: F811
    import json

    from fpdm_video.transfer import main as transfer_main

    converted = tmp_path / "converted"
    assert main(import_args(official, converted)) == 0
    out = tmp_path / "out.mp4"
    code = transfer_main([str(example_inputs.poses), "--signer", str(example_inputs.signer_image), "--checkpoint", str(converted),
                          "-o", str(out), "--max-frames", "2", "--steps", "1", "--quiet"])  # fmt: skip
    assert code == 0
    record = json.loads(out.with_suffix(".json").read_text())
    assert record["frames"] == 2 and record["sizes"]["model"] == 256
    assert record["request"]["sampling"]["guidance"] is None  # not given, so...
    assert record["settings"]["sampling"]["guidance"] == 2.0  # ...the official default (guidance_scale, config.sampling)
    assert record["settings"]["sampling"]["steps"] == 1 == record["request"]["sampling"]["steps"]


@pytest.mark.slow
def test_a_non_square_official_canvas_converts_and_renders(official, example_inputs, tmp_path):  # noqa: F811
    """The official DeepFashion model works on 352 x 512 (W x H): converted, its frames letterbox onto that canvas."""
    import json

    from fpdm_video.transfer import main as transfer_main

    hp = {**official["manifest"]["stage2"]["hyper_parameters"], "model_img_size": [352, 512]}
    stage2 = write_ckpt(tmp_path / "stage2-352x512.ckpt", official["stage2_state"], hp)
    converted = tmp_path / "converted"
    args = import_args(official, converted)
    args[args.index("--diffusion") + 1] = str(stage2)
    assert main(args) == 0
    model = load_model(converted)
    assert model.canvas == (352, 512) and model.latent_hw == (64, 44) and model.config.resolution == [352, 512]
    out = tmp_path / "out.mp4"
    assert transfer_main([str(example_inputs.poses), "--signer", str(example_inputs.signer_image), "--checkpoint", str(converted),
                          "-o", str(out), "--max-frames", "1", "--steps", "1", "--quiet"]) == 0  # fmt: skip
    record = json.loads(out.with_suffix(".json").read_text())
    assert record["sizes"] == {"input": [64, 64], "output": [64, 64], "model": [352, 512]}
