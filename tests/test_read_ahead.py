"""The transfer's inputs read ahead in a thread while the model loads: the same inputs, stopped on demand, errors told."""

from __future__ import annotations

import json
import logging
import shutil
import threading
import time

import numpy as np
import pytest

import pipelines.transfer.inputs as inputs_module
from fpdm_video.transfer import main
from fpdm_video.video import read_video
from fpdm_video.video.types import Clip
from pipelines.settings import SamplingRequest
from pipelines.transfer import SignerTransfer, TransferRequest, TransferSettings
from pipelines.transfer.inputs import ReadAhead, Stopped, one_by_one, read_inputs

from factories_transfer import decoded, example_inputs, tiny_checkpoint  # noqa: F401 (fixtures)


def alive_read_aheads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "fpdm-read-ahead" and t.is_alive()]


def test_read_ahead_reads_what_reading_in_order_reads(example_inputs):  # noqa: F811
    settings = TransferSettings(chunk_frames=3)  # clips of 3 frames, split into frames by the read ahead
    direct = read_inputs(example_inputs.video, example_inputs.signer_image, settings, progress=False)
    with ReadAhead(example_inputs.video, example_inputs.signer_image, settings, progress=False) as ahead:
        ahead_read = ahead.result()
    assert ahead_read.spec == direct.spec and ahead_read.signer.crop == direct.signer.crop
    assert np.array_equal(ahead_read.signer.image, direct.signer.image)
    assert np.array_equal(ahead_read.raw.points, direct.raw.points) and np.array_equal(ahead_read.raw.confidence, direct.raw.confidence)
    assert np.array_equal(ahead_read.raw.timestamps, direct.raw.timestamps)
    assert set(ahead_read.seconds) == {"reference", "poses"} and not alive_read_aheads()


def test_one_by_one_splits_clips_into_frames_and_stops_before_a_frame():
    frames = np.arange(5 * 2 * 2 * 3, dtype=np.uint8).reshape(5, 2, 2, 3)
    clips = [Clip(frames[:3], 25.0, np.arange(3) / 25, 10), Clip(frames[3:], 25.0, np.arange(3, 5) / 25, 13)]
    stop = threading.Event()
    got = []
    with pytest.raises(Stopped):
        for clip in one_by_one(iter(clips), stop):
            got.append(clip)
            if len(got) == 4:
                stop.set()
    assert [c.start_index for c in got] == [10, 11, 12, 13] and all(len(c) == 1 for c in got)
    assert np.array_equal(np.concatenate([c.frames for c in got]), frames[:4])
    assert np.allclose(np.concatenate([c.timestamps for c in got]), np.arange(4) / 25)


def test_closing_stops_the_reading_before_its_first_frame(example_inputs, monkeypatch):  # noqa: F811
    release = threading.Event()
    real = inputs_module.load_signer

    def slow_signer(*args):
        release.wait(30)  # held until the test has asked the read ahead to close
        return real(*args)

    monkeypatch.setattr(inputs_module, "load_signer", slow_signer)
    ahead = ReadAhead(example_inputs.video, example_inputs.signer_image, TransferSettings(), progress=False)
    closer = threading.Thread(target=ahead.close)
    closer.start()
    deadline = time.monotonic() + 30
    while not ahead.closing and time.monotonic() < deadline:
        time.sleep(0.01)
    release.set()
    closer.join(30)
    assert ahead.closing and not closer.is_alive() and not alive_read_aheads()
    with pytest.raises(Stopped):
        ahead.result()


def test_a_read_ahead_of_other_inputs_is_refused(example_inputs, tiny_checkpoint, tmp_path):  # noqa: F811
    runner = SignerTransfer.from_pretrained(tiny_checkpoint)
    settings = runner.settings()
    with ReadAhead(example_inputs.video, example_inputs.signer_image, TransferSettings(sampling=settings.sampling, max_frames=2),
                   progress=False) as ahead:  # fmt: skip
        with pytest.raises(ValueError, match="read ahead"):
            runner.transfer(example_inputs.video, example_inputs.signer_image, tmp_path / "out.mp4", inputs=ahead, progress=False)
    assert not (tmp_path / "out.mp4").exists()


def test_cli_output_is_the_api_output_frame_for_frame(example_inputs, tiny_checkpoint, tmp_path):  # noqa: F811
    # the CLI reads ahead (its record has a model_load stage); the API reads in order
    cli = tmp_path / "cli.mp4"
    assert main([str(example_inputs.video), "--signer", str(example_inputs.signer_image), "--checkpoint", str(tiny_checkpoint),
                 "-o", str(cli), "--steps", "2", "--quiet"]) == 0  # fmt: skip
    api = SignerTransfer.from_pretrained(tiny_checkpoint).transfer(
        example_inputs.video, example_inputs.signer_image, tmp_path / "api.mp4",
        request=TransferRequest(SamplingRequest(steps=2)), progress=False)  # fmt: skip
    assert "model_load" in read_json(cli.with_suffix(".json"))["stage_seconds"] and "model_load" not in api.record["stage_seconds"]
    assert np.array_equal(decoded(cli), decoded(api.output))
    assert np.allclose(read_video(cli).timestamps, read_video(api.output).timestamps)


def read_json(path):
    return json.loads(path.read_text())


def test_a_model_that_fails_to_load_stops_the_reading(example_inputs, tiny_checkpoint, tmp_path, capsys):  # noqa: F811
    broken = shutil.copytree(tiny_checkpoint, tmp_path / "broken")
    (broken / "model.safetensors").write_bytes(b"not a safetensors file")
    out = tmp_path / "out.mp4"
    code = main([str(example_inputs.video), "--signer", str(example_inputs.signer_image), "--checkpoint", str(broken),
                 "-o", str(out), "--quiet"])  # fmt: skip
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "model.safetensors" in err[0] and "Traceback" not in err[0]
    assert not alive_read_aheads() and not out.exists() and not out.with_suffix(".json").exists()


def test_what_the_reading_logs_waits_for_its_result(example_inputs, caplog):  # noqa: F811
    # MediaPipe finds no hand on the generated signer photo: the reading warns about it
    caplog.set_level(logging.WARNING)
    with ReadAhead(example_inputs.video, example_inputs.signer_image, TransferSettings(), progress=False) as dropped:
        dropped._thread.join()  # the reading is done, its warnings held
        assert "shows no" not in caplog.text
    assert "shows no" not in caplog.text  # closed without its result: dropped
    with ReadAhead(example_inputs.video, example_inputs.signer_image, TransferSettings(), progress=False) as taken:
        taken.result()
    assert "shows no" in caplog.text and caplog.text.count("shows no") == 1
