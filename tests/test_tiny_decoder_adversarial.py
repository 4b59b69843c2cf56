"""The tiny decoder's adversarial term (a patch discriminator with the training frames as positives), at tiny sizes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from fpdm_video.errors import InputError
from fpdm_video.models.checkpoint import load_model, save_model
from fpdm_video.models.registry import build_model
from fpdm_video.train.config import load_train_config
from fpdm_video.train.csv_log import read_log
from fpdm_video.train.loop import train
from fpdm_video.train.patch_discriminator import PatchDiscriminator, adaptive_weight, hinge_loss
from fpdm_video.train.stage_tiny_decoder import Adversary

from factories_train import TINY_YAML, tiny_config, tiny_dataset  # noqa: F401 (fixture)

torch.set_num_threads(1)
ADVERSARIAL = ("tiny_decoder.adversarial_weight=0.1", "tiny_decoder.adversarial_warmup=2")


@pytest.fixture(scope="module")
def teacher(tmp_path_factory):
    torch.manual_seed(0)
    return save_model(build_model("tiny"), tmp_path_factory.mktemp("teacher") / "tiny")


def test_the_hinge_loss_is_2_when_nothing_is_told_apart_and_0_when_all_is():
    zeros = torch.zeros(2, 1, 4, 4)
    assert hinge_loss(zeros, zeros).item() == 2
    assert hinge_loss(zeros + 1, zeros - 1).item() == 0
    assert PatchDiscriminator()(torch.rand(2, 3, 32, 24) * 2 - 1).shape == (2, 1, 4, 3)


def test_the_adaptive_weight_matches_the_gradient_norms_at_the_last_layer():
    last = torch.nn.Parameter(torch.randn(3, 4))
    x = torch.randn(5, 4)
    out = x @ last.T
    rec, adv = out.pow(2).mean(), 10 * out.sum()  # gradients of known, different sizes
    g_rec = torch.autograd.grad(rec, last, retain_graph=True)[0].norm()
    g_adv = torch.autograd.grad(adv, last, retain_graph=True)[0].norm()
    weight = adaptive_weight(rec, adv, last, 0.1)
    assert not weight.requires_grad
    torch.testing.assert_close(weight, 0.1 * g_rec / g_adv)


def test_the_term_waits_for_its_warm_up_and_is_added_at_its_weight(teacher, tiny_dataset, tmp_path):  # noqa: F811
    config = tiny_config("tiny_decoder", tiny_dataset, tmp_path, "steps=4", "log_every=1", f"init={teacher}", *ADVERSARIAL)
    train(config, progress=False)
    rows = read_log(tmp_path / "tiny_decoder" / "log.csv")
    assert [r["adversarial_weight"] > 0 for r in rows] == [False, False, True, True]  # 2 steps of the discriminator alone
    for r in rows:
        reconstruction = r["l1"] + r["mse"]
        assert abs(r["loss"] - (reconstruction + r["adversarial_weight"] * r["adversarial"])) < 1e-5 * max(1.0, abs(r["loss"]))
    model = load_model(tmp_path / "tiny_decoder" / "model")
    assert not any(k.startswith(("critic", "adversary")) for k in model.state_dict())  # the discriminator is not shipped


def test_a_resumed_adversarial_run_ends_where_an_uninterrupted_one_does(teacher, tiny_dataset, tmp_path):  # noqa: F811
    extra = ("steps=5", "data.pairs=16", "checkpoint_every=2", "log_every=1", f"init={teacher}", *ADVERSARIAL)
    straight = tiny_config("tiny_decoder", tiny_dataset, tmp_path / "straight", *extra)
    train(straight, progress=False)
    paused = tiny_config("tiny_decoder", tiny_dataset, tmp_path / "paused", *extra)
    train(paused, progress=False, stop_after=3)
    train(paused, progress=False)
    a = read_log(tmp_path / "straight" / "tiny_decoder" / "log.csv")
    b = read_log(tmp_path / "paused" / "tiny_decoder" / "log.csv")
    assert [r["step"] for r in b] == [1, 2, 3, 4, 5]
    for key in ("loss", "critic", "adversarial", "adversarial_weight"):  # the discriminator and its Adam came back too
        assert [r[key] for r in a] == [r[key] for r in b], key
    sa = load_model(tmp_path / "straight" / "tiny_decoder" / "model").state_dict()
    sb = load_model(tmp_path / "paused" / "tiny_decoder" / "model").state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)


@pytest.mark.parametrize("setting", ["adversarial_weight=-0.1", "adversarial_weight=nan", "adversarial_weight=true",
                                     "adversarial_warmup=-1", "adversarial_warmup=1.5", "discriminator_lr=0.0"])  # fmt: skip
def test_a_bad_adversarial_setting_is_refused_by_name(tiny_dataset, tmp_path, setting):  # noqa: F811
    with pytest.raises(InputError, match=f"tiny_decoder.{setting.split('=')[0]}"):
        tiny_config("tiny_decoder", tiny_dataset, tmp_path, "init=x", f"tiny_decoder.{setting}")


def test_the_adversarial_term_runs_under_torchrun_with_two_processes(teacher, tiny_dataset, tmp_path):  # noqa: F811
    run = tmp_path / "run"
    command = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
        "-m", "fpdm_video.train", "tiny-decoder", "--config", str(TINY_YAML), "--quiet", "--teacher", str(teacher),
        "--set", f"data.root={tiny_dataset}", "--set", f"run_dir={run}", "--set", "steps=3", "--set", "batch_size=2",
        "--set", "data.pairs=16", "--set", "log_every=1", *(x for s in ADVERSARIAL for x in ("--set", s)),
    ]  # fmt: skip
    done = subprocess.run(command, env=dict(os.environ, OMP_NUM_THREADS="1"), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    rows = read_log(run / "tiny_decoder" / "log.csv")
    assert [r["step"] for r in rows] == [1, 2, 3] and rows[-1]["adversarial_weight"] > 0


def test_the_processes_discriminators_stay_in_step_under_torchrun(teacher, tiny_dataset, tmp_path):  # noqa: F811
    """DDP averages the decoder's gradients; the discriminator's, outside it, are averaged by the stage.

    The two processes see different frames and draw different latents, so without that averaging
    their discriminators part after the first step (checked by taking it out).
    """
    overrides = [f"data.root={tiny_dataset}", f"run_dir={tmp_path / 'run'}", f"init={teacher}", "steps=3", "batch_size=2",
                 "data.pairs=16", *ADVERSARIAL]  # fmt: skip
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
               str(Path(__file__).with_name("ddp_rank_weights.py")), str(tmp_path), str(TINY_YAML), "tiny_decoder", *overrides]  # fmt: skip
    done = subprocess.run(command, env=dict(os.environ, OMP_NUM_THREADS="1"), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    ranks = [torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in (0, 1)]
    config = load_train_config(TINY_YAML, "tiny_decoder", overrides)
    start = Adversary.build(config.seed, config.tiny_decoder.discriminator_lr, torch.device("cpu")).critic.state_dict()
    for part in ("critic", "trained.0"):
        a, b = ranks[0][part], ranks[1][part]
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a), part
    assert not all(torch.equal(v, start[k]) for k, v in ranks[0]["critic"].items())  # it did train
