"""The training record (loss curves, facts, fp16 export) and the held-out synthetic evaluation, on tiny."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from fpdm_video.metrics.image import psnr
from fpdm_video.models.checkpoint import load_model
from fpdm_video.train.loop import train
from fpdm_video.train.record import main as record_main
from pipelines.settings import SamplingRequest
from pipelines.synthetic_eval import HeldOutConfig, evaluate_heldout, grid_image

from factories_train import tiny_config, tiny_dataset  # noqa: F401 (fixture)


@pytest.fixture(scope="module")
def tiny_run(tiny_dataset, tmp_path_factory):  # noqa: F811
    run = tmp_path_factory.mktemp("run")
    train(tiny_config("vae", tiny_dataset, run), progress=False)
    train(tiny_config("fusion", tiny_dataset, run, f"init={run / 'vae' / 'model'}"), progress=False)
    return run


def test_record_and_fp16_export(tiny_run, tmp_path):
    out = tmp_path / "weights"
    assert record_main(["--run", str(tiny_run), "--out", str(out), "--export"]) == 0
    record = json.loads((out / "training_record.json").read_text())
    assert record["runs"] == [tiny_run.name]
    assert [(s["run"], s["stage"]) for s in record["stages"]] == [(tiny_run.name, "vae"), (tiny_run.name, "fusion")]
    assert record["stages"][1]["steps"] == 4 and record["stages"][1]["config"]["stage"] == "fusion"
    assert Image.open(out / "loss_curves.png").size[0] > 400
    exported = load_model(out)  # the last stage's model, stored in fp16, loaded as fp32
    full = load_model(tiny_run / "fusion" / "model")
    for (name, a), b in zip(exported.state_dict().items(), full.state_dict().values(), strict=True):
        assert torch.allclose(a, b.half().float()), name


def test_export_into_a_documented_folder_keeps_its_other_files(tiny_run, tmp_path):
    out = tmp_path / "weights"
    out.mkdir()
    (out / "README.md").write_text("how this model was made\n")
    (out / "model.safetensors").write_bytes(b"an older model")
    assert record_main(["--run", str(tiny_run), "--out", str(out), "--export"]) == 0
    assert (out / "README.md").read_text() == "how this model was made\n"
    assert load_model(out).config.name == load_model(tiny_run / "fusion" / "model").config.name  # the new weights
    assert sorted(p.name for p in tmp_path.iterdir()) == ["weights"]  # no staging folder left behind


def test_a_later_phase_in_its_own_run_is_recorded_and_exported(tiny_run, tiny_dataset, tmp_path):  # noqa: F811
    later = tmp_path / "later"  # fusion trained on from the first run's fusion model, as a second phase
    train(tiny_config("fusion", tiny_dataset, later, f"init={tiny_run / 'fusion' / 'model'}", "steps=2"), progress=False)
    out = tmp_path / "weights"
    assert record_main(["--run", str(tiny_run), "--run", str(later), "--out", str(out), "--export"]) == 0
    record = json.loads((out / "training_record.json").read_text())
    assert record["runs"] == [tiny_run.name, "later"]
    assert [(s["run"], s["stage"], s["steps"]) for s in record["stages"]] == [
        (tiny_run.name, "vae", 4), (tiny_run.name, "fusion", 4), ("later", "fusion", 2)]  # fmt: skip
    assert Image.open(out / "loss_curves.png").size[0] > Image.open(out / "loss_curves.png").size[1] * 3  # 3 panels
    exported, final = load_model(out).state_dict(), load_model(later / "fusion" / "model").state_dict()
    assert all(torch.allclose(exported[k], v.half().float()) for k, v in final.items())


def test_a_run_folder_without_stages_is_a_clear_error(tiny_run, tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert record_main(["--run", str(tiny_run), "--run", str(tmp_path / "empty"), "--out", str(tmp_path / "w")]) == 2
    assert "no trained stage" in capsys.readouterr().err and not (tmp_path / "w").exists()


def test_heldout_evaluation_and_baselines(tiny_run):
    config = HeldOutConfig(cases=2, frames=4, stride=2, sampling=SamplingRequest(steps=2, batch_size=2))
    report, outputs, cases = evaluate_heldout(tiny_run / "fusion" / "model", config)
    assert report["frames"] == 4
    assert (report["settings"]["steps"], report["settings"]["batch_size"]) == (2, 2)  # resolved on the checkpoint
    assert set(report["methods"]) == {"model", "vae_ceiling", "copy_reference", "random_weights"}
    copy = report["methods"]["copy_reference"]
    expected = np.mean([psnr(c.reference, t) for c in cases for t in c.truth])
    assert copy["psnr"] == pytest.approx(expected)
    assert 0 < copy["moving_fraction"] < 1
    per_case = report["per_case"]["copy_reference"]
    assert [c["psnr"] for c in per_case] == pytest.approx([np.mean([psnr(c.reference, t) for t in c.truth]) for c in cases])
    assert outputs["model"][0].shape == cases[0].truth.shape  # un-letterboxed to the generator's frame size
    grid = grid_image(cases, outputs["model"], 32, per_case=2)
    h, w = cases[0].truth.shape[1:3]
    assert grid.shape == (4 * h, 4 * w, 3)
