"""--temporal-attention through the transfer CLI, the settings and the flows' signatures: recorded, and bad values refused in one line."""

from __future__ import annotations

import inspect
import json
import re

import pytest

from fpdm_video.errors import InputError
from fpdm_video.transfer import main
from pipelines.settings import SamplingRequest, SamplingSettings
from pipelines.transfer import TransferRequest, TransferSettings, resolve_settings

from factories_transfer import example_inputs, tiny_checkpoint  # noqa: F401 (fixtures)

# argparse's own choices error; the choices' quoting differs between Python versions ('off', ... or off, ...)
INVALID_CHOICE = (r"python -m fpdm_video\.transfer: error: argument --temporal-attention: invalid choice: {value} "
                  r"\(choose from '?off'?, '?first'?, '?previous'?, '?both'?\)")  # fmt: skip


def test_the_mode_is_recorded_and_reaches_the_sampler(example_inputs, tiny_checkpoint, tmp_path, monkeypatch):  # noqa: F811
    import pipelines.transfer.stages as stages

    seen = []

    class Spy(stages.VideoSampler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            seen.append((self.settings.temporal_attention, self.hooks.names))

    monkeypatch.setattr(stages, "VideoSampler", Spy)
    for mode in ("off", "previous"):
        out = tmp_path / f"{mode}.mp4"
        assert main([str(example_inputs.video), "--signer", str(example_inputs.signer_image), "--checkpoint", str(tiny_checkpoint),
                     "-o", str(out), "--max-frames", "3", "--steps", "2", "--temporal-attention", mode, "--quiet"]) == 0  # fmt: skip
        record = json.loads(out.with_suffix(".json").read_text())
        assert record["settings"]["sampling"]["temporal_attention"] == mode
        assert record["request"]["sampling"]["temporal_attention"] == mode
    # one sampler per video, with the cross-frame hook installed exactly when a mode is on
    assert [mode for mode, _ in seen] == ["off", "previous"]
    assert ["cross_frame" in names for _, names in seen] == [False, True]


@pytest.mark.parametrize("value", ["sideways", "OFF", ""])
def test_a_bad_mode_is_refused_in_one_line_before_any_work(example_inputs, tiny_checkpoint, tmp_path, capsys, value):  # noqa: F811
    # a choices option now: argparse refuses it (exit 2, its usage and one error line) before anything is loaded or written
    with pytest.raises(SystemExit) as exit_info:
        main([str(example_inputs.video), "--signer", str(example_inputs.signer_image), "--checkpoint", str(tiny_checkpoint),
              "-o", str(tmp_path / "x.mp4"), "--temporal-attention", value])  # fmt: skip
    err = capsys.readouterr().err.strip().splitlines()
    errors = [line for line in err if "error:" in line]
    assert exit_info.value.code == 2 and len(errors) == 1 and errors[0] == err[-1], err
    assert re.fullmatch(INVALID_CHOICE.format(value=re.escape(repr(value))), errors[0]), err
    assert not any(tmp_path.iterdir())


def test_the_settings_pass_it_to_the_sampler_and_check_it(tiny_checkpoint):  # noqa: F811
    from fpdm_video.models.checkpoint import load_config

    assert SamplingSettings().temporal_attention == "off"
    assert TransferSettings(SamplingSettings(temporal_attention="both")).sampling.temporal_attention == "both"
    config = load_config(tiny_checkpoint)
    default = resolve_settings(TransferRequest(), config).sampling  # not given: --speed paper's, first at the late steps
    assert (default.speed, default.temporal_attention, default.temporal_scope) == ("paper", "first", "late")
    for speed in ("balanced", "fast"):  # not measured with the other presets: off there
        resolved = resolve_settings(TransferRequest(SamplingRequest(speed=speed)), config).sampling
        assert (resolved.temporal_attention, resolved.temporal_scope) == ("off", "all")
    for given, expected in [({"temporal_attention": "first"}, ("first", "all")),  # anchors given alone act at every step
                            ({"temporal_attention": "off"}, ("off", "all")),  # the paper's sampler exactly
                            ({"temporal_scope": "low-late"}, ("first", "low-late")),  # the preset's anchors, the given scope
                            ({"temporal_attention": "both", "temporal_scope": "early"}, ("both", "early"))]:  # fmt: skip
        resolved = resolve_settings(TransferRequest(SamplingRequest(**given)), config).sampling
        assert (resolved.temporal_attention, resolved.temporal_scope) == expected, given
    with pytest.raises(InputError, match="temporal-attention must be one of off, first, previous, both"):
        SamplingSettings(temporal_attention="last")
    with pytest.raises(InputError, match="temporal-attention must be one of off, first, previous, both"):
        resolve_settings(TransferRequest(SamplingRequest(temporal_attention="last")), config)


def test_the_flows_take_it_in_their_sampling_parameter(tiny_checkpoint):  # noqa: F811
    pytest.importorskip("prefect")
    from flows.augment_dataset import augment_clip_flow, augment_dataset
    from flows.steps import flow_settings
    from flows.transfer_video import transfer_video

    for flow in (transfer_video, augment_dataset, augment_clip_flow):
        parameters = inspect.signature(flow.fn).parameters
        assert "temporal_attention" not in parameters and parameters["sampling"].default is None
    # the flows resolve it as the CLI does: the preset's unless given, checked before any work
    assert flow_settings(None, str(tiny_checkpoint))[1].sampling.temporal_attention == "first"
    assert flow_settings({"speed": "fast"}, str(tiny_checkpoint))[1].sampling.temporal_attention == "off"
    request, settings = flow_settings({"temporal_attention": "both"}, str(tiny_checkpoint))
    assert request.sampling.temporal_attention == settings.sampling.temporal_attention == "both"
    with pytest.raises(InputError, match="temporal-attention must be one of"):
        flow_settings({"temporal_attention": "sideways"}, str(tiny_checkpoint))
