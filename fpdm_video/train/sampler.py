"""A seeded, shardable, resumable order over a dataset."""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch.utils.data import Sampler


def epoch_order(length: int, seed: int, epoch: int) -> list[int]:
    """The permutation of ``range(length)`` for ``epoch`` (the same on every process)."""
    generator = torch.Generator().manual_seed(seed * 100_003 + epoch)
    return torch.randperm(length, generator=generator).tolist()


class ResumableSampler(Sampler[int]):
    """Indices of one epoch for this rank, starting at micro-batch ``start_batch``.

    Every rank takes the same number of whole micro-batches (the tail that does not fill a batch on
    every rank is dropped), so all ranks step together, as DistributedSampler with drop_last does.
    """

    def __init__(self, length: int, batch_size: int, *, seed: int, rank: int = 0, world_size: int = 1) -> None:
        self.length = length
        self.batch_size = batch_size
        self.seed = seed
        self.rank = rank
        self.world_size = world_size
        self.epoch = 0
        self.start_batch = 0
        if self.batches_per_epoch == 0:
            raise ValueError(
                f"{length} items cannot fill one batch of {batch_size} on each of {world_size} process(es)"
            )

    @property
    def batches_per_epoch(self) -> int:
        return self.length // (self.batch_size * self.world_size)

    def set_position(self, epoch: int, start_batch: int) -> None:
        self.epoch = epoch
        self.start_batch = start_batch

    def __len__(self) -> int:
        return (self.batches_per_epoch - self.start_batch) * self.batch_size

    def __iter__(self) -> Iterator[int]:
        order = epoch_order(self.length, self.seed, self.epoch)
        mine = order[self.rank :: self.world_size][: self.batches_per_epoch * self.batch_size]
        return iter(mine[self.start_batch * self.batch_size :])
