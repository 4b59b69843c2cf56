"""--temporal-attention through the transfer CLI, the settings and the flows' signatures: recorded, and bad values refused in one line."""

from __future__ import annotations

import inspect
import json

import pytest

from fpdm_video.errors import InputError
from fpdm_video.transfer import main
from pipelines.transfer import TransferSettings

from factories_transfer import example_inputs, tiny_checkpoint  # noqa: F401 (fixtures)


def test_the_mode_is_recorded_and_reaches_the_sampler(example_inputs, tiny_checkpoint, tmp_path, monkeypatch):  # noqa: F811
    import pipelines.transfer.api as api

    seen = []

    def spy(*args, **kwargs):
        seen.append(kwargs["temporal_attention"])
        return api_sample_video(*args, **kwargs)

    api_sample_video = api.sample_video
    monkeypatch.setattr(api, "sample_video", spy)
    for mode in ("off", "previous"):
        out = tmp_path / f"{mode}.mp4"
        assert main([str(example_inputs.video), "--signer", str(example_inputs.signer_image), "--checkpoint", str(tiny_checkpoint),
                     "-o", str(out), "--max-frames", "3", "--steps", "2", "--temporal-attention", mode, "--quiet"]) == 0  # fmt: skip
        assert json.loads(out.with_suffix(".json").read_text())["settings"]["temporal_attention"] == mode
    assert seen == ["off", "previous"]


@pytest.mark.parametrize("value", ["sideways", "OFF", ""])
def test_a_bad_mode_is_refused_in_one_line_before_any_work(example_inputs, tiny_checkpoint, tmp_path, capsys, value):  # noqa: F811
    code = main([str(example_inputs.video), "--signer", str(example_inputs.signer_image), "--checkpoint", str(tiny_checkpoint),
                 "-o", str(tmp_path / "x.mp4"), "--temporal-attention", value])  # fmt: skip
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("error: temporal-attention must be one of off, first, previous, both"), err
    assert not any(tmp_path.iterdir())


def test_the_settings_pass_it_to_the_sampler_and_check_it():
    assert TransferSettings().sampling()["temporal_attention"] == "off"
    assert TransferSettings(temporal_attention="both").sampling()["temporal_attention"] == "both"
    with pytest.raises(InputError, match="temporal-attention must be one of"):
        TransferSettings(temporal_attention="last").check()


def test_the_flows_take_it_as_a_parameter():
    pytest.importorskip("prefect")
    from flows.augment_dataset import augment_clip_flow, augment_dataset
    from flows.transfer_video import transfer_video

    for flow in (transfer_video, augment_dataset, augment_clip_flow):
        assert inspect.signature(flow.fn).parameters["temporal_attention"].default == "off"
