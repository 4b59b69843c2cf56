"""Smoke tests of the three training stages on the tiny size: they run, chain, and learn."""

from __future__ import annotations

import pytest
import torch

from fpdm_video.models.checkpoint import load_model
from fpdm_video.train.__main__ import main
from fpdm_video.train.csv_log import read_log
from fpdm_video.train.loop import train

from factories_train import TINY_YAML, tiny_config, tiny_dataset  # noqa: F401 (fixture)


def test_stages_chain_through_the_cli(tiny_dataset, tmp_path):  # noqa: F811
    run = tmp_path / "run"
    common = ["--config", str(TINY_YAML), "--quiet", "--set", f"data.root={tiny_dataset}", "--set", f"run_dir={run}"]
    assert main(["vae", *common, "--set", "init=null"]) == 0
    assert main(["fusion", *common, "--set", f"init={run / 'vae' / 'model'}", "--set", f"eval_root={tiny_dataset}"]) == 0
    assert main(["diffusion", *common, "--set", f"init={run / 'fusion' / 'model'}"]) == 0
    for stage in ("vae", "fusion", "diffusion"):
        rows = read_log(run / stage / "log.csv")
        assert [r["step"] for r in rows] == [1, 2, 3, 4]
        assert all(torch.isfinite(torch.tensor(r["loss"])) for r in rows)
    vae = load_model(run / "vae" / "model")
    assert vae.scaling_factor != 1.0  # set from the trained latents' std
    final = load_model(run / "diffusion" / "model")
    assert final.scaling_factor == pytest.approx(vae.scaling_factor)
    # each stage changed only its own parts
    fusion = load_model(run / "fusion" / "model")
    same = lambda a, b: all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values(), strict=True))  # noqa: E731
    assert same(vae.vae, fusion.vae) and not same(vae.fusion, fusion.fusion)
    assert same(fusion.fusion, final.fusion) and not same(fusion.denoiser, final.denoiser)


def test_bad_config_exits_2(tiny_dataset, tmp_path, capsys):  # noqa: F811
    code = main(["vae", "--config", str(TINY_YAML), "--set", "optim.warmup=3"])
    assert code == 2
    assert "unknown key" in capsys.readouterr().err


def test_missing_dataset_exits_2(tmp_path, capsys):
    code = main(["vae", "--config", str(TINY_YAML), "--quiet", "--set", f"data.root={tmp_path / 'none'}", "--set", f"run_dir={tmp_path}"])
    assert code == 2
    assert "error:" in capsys.readouterr().err


def _first_last(rows, n=3):
    losses = [r["loss"] for r in rows]
    return sum(losses[:n]) / n, sum(losses[-n:]) / n


@pytest.mark.parametrize(
    "stage, steps, factor",
    [("vae", 40, 0.75), ("fusion", 30, 0.5), ("diffusion", 60, 0.7)],
)
def test_loss_falls_when_overfitting_8_triples(tiny_dataset, tmp_path, stage, steps, factor):  # noqa: F811
    config = tiny_config(
        stage, tiny_dataset, tmp_path, f"steps={steps}", "batch_size=8", "data.pairs=8", "checkpoint_every=1000",
        "optim.warmup_steps=0", "optim.lr=3e-3", "fusion.encoder_lr=null", "diffusion.condition_dropout=0.0",
    )  # fmt: skip
    train(config, progress=False)
    first, last = _first_last(read_log(tmp_path / stage / "log.csv"))
    assert last < factor * first, (first, last)


def test_diffusion_stage_sets_the_noise_schedule_it_trains_with(tiny_dataset, tmp_path, capsys):  # noqa: F811
    zero_snr = "diffusion.noise_schedule={prediction_type: v_prediction, zero_terminal_snr: true, timestep_spacing: trailing}"
    config = tiny_config("diffusion", tiny_dataset, tmp_path, "steps=2", "diffusion.noise_offset=0.0", zero_snr)
    train(config, progress=False)
    schedule = load_model(tmp_path / "diffusion" / "model").noise_schedule
    assert (schedule.prediction_type, schedule.zero_terminal_snr, schedule.timestep_spacing) == ("v_prediction", True, "trailing")
    assert all(torch.isfinite(torch.tensor(r["loss"])) for r in read_log(tmp_path / "diffusion" / "log.csv"))
    # a zero-SNR epsilon model cannot be trained: a clear error, exit code 2
    common = ["--config", str(TINY_YAML), "--quiet", "--set", f"data.root={tiny_dataset}", "--set", f"run_dir={tmp_path / 'bad'}"]
    assert main(["diffusion", *common, "--set", "init=null", "--set", "diffusion.noise_schedule={zero_terminal_snr: true}"]) == 2
    assert "needs prediction_type v_prediction" in capsys.readouterr().err
