"""The shipped demo model: present, small, loadable, and it renders a frame through the transfer API."""

from __future__ import annotations

import json

import pytest

from pipelines.transfer import default_checkpoint

WEIGHTS = default_checkpoint()
pytestmark = pytest.mark.skipif(not (WEIGHTS / "model.safetensors").is_file(), reason="the demo model is not in this checkout")


def test_demo_model_is_small_and_documented():
    size = sum(p.stat().st_size for p in WEIGHTS.iterdir() if p.is_file())
    assert size <= 25 * 2**20
    record = json.loads((WEIGHTS / "training_record.json").read_text())
    assert {s["stage"] for s in record["stages"]} == {"vae", "fusion", "diffusion"}
    assert record["stages"][-1]["stage"] == "diffusion"  # the shipped weights are the last stage's
    heldout = json.loads((WEIGHTS / "heldout_eval.json").read_text())["methods"]
    assert {"model", "copy_reference", "random_weights", "vae_ceiling"} <= set(heldout)
    assert (WEIGHTS / "loss_curves.png").is_file() and (WEIGHTS / "heldout_grid.png").is_file()


def test_demo_model_renders_through_the_api(tmp_path):
    from fpdm_video.data.examples import make_example_inputs
    from fpdm_video.video import probe
    from pipelines.settings import SamplingRequest
    from pipelines.transfer import SignerTransfer, TransferRequest

    inputs = make_example_inputs(tmp_path / "in", frames=2, size=(48, 64))
    runner = SignerTransfer.from_pretrained(device="cpu")
    assert runner.model.config.name == "demo" and runner.model.config.resolution == 128
    request = TransferRequest(sampling=SamplingRequest(steps=2))
    result = runner.transfer(inputs.poses, inputs.signer_image, tmp_path / "out.mp4", request=request, progress=False)
    assert probe(result.output).num_frames == 2
    assert result.record["settings"]["sampling"]["steps"] == 2 and result.record["runner"] == "api"
