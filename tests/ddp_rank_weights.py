"""Run under torchrun by the DDP tests: train one stage in every process, then save each process's weights.

    python -m torch.distributed.run --nproc-per-node 2 tests/ddp_rank_weights.py OUT CONFIG STAGE KEY=VALUE ...

Each process writes ``OUT/rank<R>.pt``: the state_dicts of the modules the stage trains and, when
the stage has an adversarial term, of its discriminator (which DDP does not wrap), as they are in
that process when training ends, so that a test can tell whether the processes stayed in step.
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import torch

from fpdm_video.train import loop
from fpdm_video.train.config import load_train_config


def main(out: str, config_path: str, stage: str, *overrides: str) -> None:
    built = []

    class Recorded(loop.STAGES[stage]):  # the stage object the loop builds, kept for reading afterwards
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            built.append(self)

    loop.STAGES[stage] = Recorded
    config = load_train_config(config_path, stage, list(overrides))
    info = loop.init_distributed("cpu")
    try:
        with contextlib.ExitStack() as held:
            loop._train(config, info, held, resume=False, progress=False, stop_after=None)
        (trained,) = built
        weights = {f"trained.{i}": m.state_dict() for i, m in enumerate(trained.trained_modules())}
        adversary = getattr(trained, "adversary", None)
        if adversary is not None:
            weights["critic"] = adversary.critic.state_dict()
        torch.save(weights, Path(out) / f"rank{info.rank}.pt")
    finally:
        loop.shutdown_distributed()


if __name__ == "__main__":
    main(*sys.argv[1:])
