"""Unit tests of the training pieces: config loading, warmup, the resumable sampler, EMA, the CSV log."""

from __future__ import annotations

import pytest
import torch

from fpdm_video.errors import InputError
from fpdm_video.train.config import OptimConfig, load_train_config
from fpdm_video.train.csv_log import CSVLog, read_log
from fpdm_video.train.ema import EMA
from fpdm_video.train.optim import lr_factor
from fpdm_video.train.sampler import ResumableSampler

from factories_train import TINY_YAML, tiny_dataset  # noqa: F401 (fixture)


def test_stage_section_overrides_top_level():
    config = load_train_config(TINY_YAML, "fusion", ["optim.lr=0.5", "batch_size=2"])
    assert config.stage == "fusion" and config.optim.lr == 0.5 and config.batch_size == 2
    assert config.optim.weight_decay == 1e-4  # from the fusion section, merged with the override
    assert config.stage_dir.name == "fusion"


@pytest.mark.parametrize(
    "override, message",
    [("optim.lrr=1", "unknown key"), ("steps=0", "steps must be a positive integer"), ("precision=fp8", "precision")],
)
def test_bad_config_values_are_input_errors(override, message):
    with pytest.raises(InputError, match=message):
        load_train_config(TINY_YAML, "vae", [override])


def test_missing_config_file(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        load_train_config(tmp_path / "nope.yaml", "vae")


def test_warmup_then_cosine():
    config = OptimConfig(lr=1.0, warmup_steps=4, schedule="cosine")
    factors = [lr_factor(s, 14, config) for s in range(14)]
    assert factors[:4] == [0.25, 0.5, 0.75, 1.0]
    assert factors[4] == pytest.approx(1.0) and factors[-1] == pytest.approx(0.1 + 0.9 * 0.5 * (1 + torch.cos(torch.tensor(0.9 * torch.pi)).item()))
    assert all(a >= b for a, b in zip(factors[4:], factors[5:], strict=False))


def test_sampler_shards_are_disjoint_and_resume_mid_epoch():
    shards = [list(ResumableSampler(20, 3, seed=5, rank=r, world_size=2)) for r in range(2)]
    assert len(shards[0]) == len(shards[1]) == 9  # 20 // (3 * 2) = 3 batches each
    assert not set(shards[0]) & set(shards[1])
    resumed = ResumableSampler(20, 3, seed=5, rank=1, world_size=2)
    resumed.set_position(0, 2)
    assert list(resumed) == shards[1][6:]
    other_epoch = ResumableSampler(20, 3, seed=5, rank=1, world_size=2)
    other_epoch.set_position(1, 0)
    assert list(other_epoch) != shards[1]


def test_sampler_refuses_a_dataset_smaller_than_a_batch():
    with pytest.raises(ValueError, match="cannot fill one batch"):
        ResumableSampler(5, 3, seed=0, world_size=2)


def test_ema_tracks_the_parameters():
    p = torch.nn.Parameter(torch.zeros(3))
    ema = EMA([("p", p)], decay=0.5)
    with torch.no_grad():
        p.fill_(1.0)
    ema.update()
    ema.update()
    assert torch.allclose(ema.shadow["p"], torch.full((3,), 0.75))
    ema.copy_to_params()
    assert torch.allclose(p, torch.full((3,), 0.75))


def test_csv_log_truncates_rows_after_the_resumed_step(tmp_path):
    log = CSVLog(tmp_path / "log.csv")
    for step in range(1, 6):
        log.write({"step": step, "loss": 1.0 / step})
    CSVLog(tmp_path / "log.csv").truncate_after(3)
    assert [r["step"] for r in read_log(tmp_path / "log.csv")] == [1, 2, 3]


def test_diffusion_evaluation_ignores_the_training_posterior_cache(tiny_dataset):  # noqa: F811
    """Held-out batches reuse the training set's (clip, frame) indices; their targets must not come from the cache."""
    from fpdm_video.models.registry import build_model
    from fpdm_video.train.loop import STAGES, _fixed_batches, make_dataset

    torch.manual_seed(0)
    config = load_train_config(TINY_YAML, "diffusion", [f"data.root={tiny_dataset}", "init=null"])
    assert config.data.cache
    model = build_model("tiny")
    stage = STAGES["diffusion"](model, config)
    train_batch = _fixed_batches(make_dataset(config, model.config, pairs=4, seed=0), 4, 1, torch.device("cpu"))[0]
    stage.train()
    stage.forward(train_batch, torch.Generator().manual_seed(0))  # fills the cache with these frames' posteriors
    held_out = {**train_batch, "target": train_batch["target"].flip(-1)}  # same indices, other frames
    fresh = STAGES["diffusion"](stage.model, config)
    got = stage.evaluate([held_out], torch.Generator().manual_seed(1))
    assert got == fresh.evaluate([held_out], torch.Generator().manual_seed(1))
    assert got != stage.evaluate([train_batch], torch.Generator().manual_seed(1))
