"""Samplers: the order in which a DataLoader visits a dataset's indices.

:class:`DistributedSampler` gives each process of a data-parallel job its own shard of the
dataset, as ``torch.utils.data.distributed.DistributedSampler`` does::

    sampler = DistributedSampler(dataset)            # world size and rank from the job
    loader = DataLoader(dataset, batch_size=64, sampler=sampler)
    for epoch in range(epochs):
        sampler.set_epoch(epoch)                     # a new shuffle each epoch
        for x, y in loader: ...
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sized

import numpy as np

__all__ = ["DistributedSampler", "Sampler"]


class Sampler:
    """Base class: iterating yields dataset indices; ``len()`` counts them."""

    def __iter__(self) -> Iterator[int]:
        raise NotImplementedError

    def __len__(self) -> int:
        raise NotImplementedError


def _count(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"DistributedSampler: {name} must be an int, got {value!r}")
    return int(value)


class DistributedSampler(Sampler):
    """The indices of rank ``rank``'s shard of ``dataset`` among ``num_replicas`` processes.

    Each epoch the indices ``0 .. N-1`` are put in order (or, with ``shuffle``, permuted by a
    NumPy generator seeded with ``seed + epoch``, the same on every rank), then

    * without ``drop_last``, padded by repeating indices from the start until the total is a
      multiple of ``num_replicas``: every rank gets ``ceil(N / num_replicas)`` indices and a
      few samples are seen twice per epoch;
    * with ``drop_last``, cut to the largest multiple of ``num_replicas``: every rank gets
      ``floor(N / num_replicas)`` indices and a few samples are skipped this epoch.

    Rank ``r`` takes every ``num_replicas``-th index from position ``r``, so the shards are
    disjoint (up to the padding) and together cover the dataset. ``num_replicas`` and
    ``rank`` default to :func:`scratchnn.distributed.get_world_size` / ``get_rank``. Call
    :meth:`set_epoch` before each epoch for a new shuffle; every rank must use the same
    ``seed``. (The permutation is NumPy's, so it differs from torch's for the same seed.)
    """

    def __init__(
        self,
        dataset: Sized,
        num_replicas: int | None = None,
        rank: int | None = None,
        shuffle: bool = True,
        seed: int = 0,
        drop_last: bool = False,
    ) -> None:
        if num_replicas is None or rank is None:
            from scratchnn import distributed

            if not distributed.is_initialized():
                raise RuntimeError(
                    "DistributedSampler: pass num_replicas and rank, or call "
                    "scratchnn.distributed.init_process_group() first"
                )
            if num_replicas is None:
                num_replicas = distributed.get_world_size()
            if rank is None:
                rank = distributed.get_rank()
        num_replicas = _count(num_replicas, "num_replicas")
        rank = _count(rank, "rank")
        if num_replicas < 1:
            raise ValueError(f"DistributedSampler: num_replicas must be >= 1, got {num_replicas}")
        if not 0 <= rank < num_replicas:
            raise ValueError(
                f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]"
            )
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.shuffle = bool(shuffle)
        self.seed = _count(seed, "seed")
        self.drop_last = bool(drop_last)
        self.epoch = 0
        n = len(dataset)
        if self.drop_last:
            self.num_samples = n // num_replicas
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas

    def set_epoch(self, epoch: int) -> None:
        """Use the shuffle of ``epoch`` (``seed + epoch``) the next time this is iterated."""
        self.epoch = _count(epoch, "epoch")

    def indices(self) -> np.ndarray:
        """This rank's indices for the current epoch, as an int64 array of ``len(self)``."""
        n = len(self.dataset)
        if self.shuffle:
            order = np.random.default_rng(self.seed + self.epoch).permutation(n)
        else:
            order = np.arange(n)
        if self.total_size > n:  # pad by repeating from the start (n may be < num_replicas)
            order = np.resize(order, self.total_size) if n else order
        else:
            order = order[: self.total_size]
        return order[self.rank : self.total_size : self.num_replicas].astype(np.int64)

    def __iter__(self) -> Iterator[int]:
        return iter(self.indices().tolist())

    def __len__(self) -> int:
        return self.num_samples

    def __repr__(self) -> str:
        return (
            f"DistributedSampler(num_replicas={self.num_replicas}, rank={self.rank}, "
            f"shuffle={self.shuffle}, seed={self.seed}, drop_last={self.drop_last})"
        )
