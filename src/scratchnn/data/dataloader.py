"""DataLoader: cut a dataset into mini-batches, optionally in a fresh random order each epoch.

For a ``TensorDataset`` (or a ``Subset`` of one) each batch is gathered with one NumPy
index per array -- ``array[start:stop]`` in order, ``array[batch_indices]`` when shuffled --
so there is no Python loop over samples. Any other ``Dataset`` falls back to calling
``dataset[i]`` for each sample and stacking the results.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from scratchnn.data.dataset import Dataset, Subset, TensorDataset
from scratchnn.random import generator
from scratchnn.tensor import Tensor


def _wrap(array: np.ndarray) -> Tensor:
    """A Tensor around ``array`` that keeps its dtype (no float64 -> float32 copy)."""
    return Tensor._make(array)


def _resolve(dataset: Dataset) -> tuple[tuple[np.ndarray, ...], np.ndarray | None] | None:
    """For a TensorDataset or a (nested) Subset of one: its arrays and the sample indices
    into them (None = all rows, in order). For any other dataset: None."""
    indices: np.ndarray | None = None
    while isinstance(dataset, Subset):
        # Compose index maps: subset[i] == dataset[sub.indices[i]].
        indices = dataset.indices if indices is None else dataset.indices[indices]
        dataset = dataset.dataset
    if isinstance(dataset, TensorDataset):
        return dataset.arrays, indices
    return None


def _collate(samples: list[Any]) -> tuple[Tensor, ...]:
    """Stack a list of samples into a batch: B samples of (x (d...), y ()) -> (x (B, d...),
    y (B,)). A sample that is not a tuple/list counts as a 1-tuple."""

    def as_array(v: Any) -> np.ndarray:
        return v.data if isinstance(v, Tensor) else np.asarray(v)

    if not isinstance(samples[0], tuple | list):
        samples = [(s,) for s in samples]
    fields = zip(*samples, strict=True)
    return tuple(Tensor(np.stack([as_array(v) for v in field])) for field in fields)


class DataLoader:
    """Iterate over ``dataset`` in batches; each batch is a tuple of Tensors.

    With ``TensorDataset(x (N, ...), y (N,))`` and ``batch_size=B``, every batch is
    ``(x (B, ...), y (B,))``; the last one is smaller when B does not divide N, unless
    ``drop_last=True`` drops it. ``shuffle=True`` draws a new permutation from
    ``scratchnn.random.generator()`` each time iteration starts (once per epoch), so a run
    is reproducible after ``scratchnn.random.manual_seed``. ``sampler`` (an iterable of
    dataset indices with a length, e.g. a
    :class:`~scratchnn.data.sampler.DistributedSampler`) sets the order instead; it excludes
    ``shuffle``.
    """

    def __init__(
        self,
        dataset: Dataset,
        batch_size: int = 1,
        shuffle: bool = False,
        drop_last: bool = False,
        sampler: Any = None,
    ) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, int | np.integer):
            raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be a positive int, got {batch_size}")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        if sampler is not None and self.shuffle:
            raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle")
        if sampler is not None and not hasattr(sampler, "__len__"):
            raise TypeError("DataLoader: the sampler must have a length (len(sampler))")
        self.sampler = sampler

    def __len__(self) -> int:
        """Number of batches per epoch."""
        n = len(self.dataset) if self.sampler is None else len(self.sampler)
        if self.drop_last:
            return n // self.batch_size
        return -(-n // self.batch_size)  # ceil(n / batch_size)

    def __iter__(self) -> Iterator[tuple[Tensor, ...]]:
        n = len(self.dataset)
        # Draw the epoch's order now, when iteration starts, from the current generator.
        order = generator().permutation(n) if self.shuffle else None
        if self.sampler is not None:
            order = np.fromiter(self.sampler, dtype=np.int64)
            n = len(order)
        n_batches = len(self)
        bs = self.batch_size
        fast = _resolve(self.dataset)
        if fast is None:
            return self._iter_generic(order, n, n_batches)
        arrays, base = fast
        if base is not None:
            order = base if order is None else base[order]
        return self._iter_arrays(arrays, order, n, n_batches, bs)

    @staticmethod
    def _iter_arrays(
        arrays: tuple[np.ndarray, ...],
        order: np.ndarray | None,
        n: int,
        n_batches: int,
        bs: int,
    ) -> Iterator[tuple[Tensor, ...]]:
        for b in range(n_batches):
            start, stop = b * bs, min((b + 1) * bs, n)
            if order is None:  # in order: a slice is a view, no copy at all
                yield tuple(_wrap(a[start:stop]) for a in arrays)
            else:  # one fancy index per array gathers the whole batch
                idx = order[start:stop]
                yield tuple(_wrap(a[idx]) for a in arrays)

    def _iter_generic(
        self, order: np.ndarray | None, n: int, n_batches: int
    ) -> Iterator[tuple[Tensor, ...]]:
        bs = self.batch_size
        for b in range(n_batches):
            start, stop = b * bs, min((b + 1) * bs, n)
            idx = range(start, stop) if order is None else order[start:stop]
            yield _collate([self.dataset[int(i)] for i in idx])
