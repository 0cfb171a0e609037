"""Datasets: things you can index (``dataset[i]``) and measure (``len(dataset)``).

``TensorDataset`` holds whole arrays in memory (e.g. all 60000 MNIST images) and is what
the ``DataLoader`` batches fastest. ``Subset`` and ``random_split`` carve a dataset into
pieces (e.g. train / validation) without copying any data.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

import numpy as np

from scratchnn.random import generator
from scratchnn.tensor import Tensor


class DataError(ValueError):
    """A data file is missing, unreadable or corrupt, or a download failed.

    The message always names the file (or directory) and says what is wrong.
    """


class Dataset(ABC):
    """Abstract dataset: ``dataset[i]`` returns sample ``i``; ``len(dataset)`` counts them."""

    @abstractmethod
    def __getitem__(self, index: int) -> Any: ...

    @abstractmethod
    def __len__(self) -> int: ...


def _as_array(x: Any) -> np.ndarray:
    """A C-contiguous ndarray holding ``x`` (a Tensor, an ndarray or a nested list).

    Plain arrays go through ``Tensor`` first so they get the same dtype a Tensor would give
    them (float64 becomes float32); a Tensor keeps the dtype it already has.
    """
    if not isinstance(x, Tensor):
        x = Tensor(x)
    if x.data.ndim == 0:
        raise ValueError("TensorDataset tensors need a first (sample) dimension; got a scalar")
    return np.ascontiguousarray(x.data)


class TensorDataset(Dataset):
    """Samples are rows of same-length arrays: ``dataset[i] == (t[i] for t in tensors)``.

    ``TensorDataset(images, labels)`` with images of shape (N, 28, 28) and labels of
    shape (N,) gives N samples, each a tuple ``(image (28, 28), label ())`` of Tensors.
    The arrays are kept as contiguous NumPy arrays in ``self.arrays`` so the DataLoader
    can slice whole batches out of them at once.
    """

    def __init__(self, *tensors: Tensor | np.ndarray) -> None:
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        arrays = tuple(_as_array(t) for t in tensors)
        sizes = [a.shape[0] for a in arrays]
        if len(set(sizes)) != 1:
            raise ValueError(
                f"TensorDataset tensors must have the same first dimension, got sizes {sizes}"
            )
        self.arrays: tuple[np.ndarray, ...] = arrays

    def __getitem__(self, index: int) -> tuple[Tensor, ...]:
        return tuple(Tensor(a[index], dtype=a.dtype) for a in self.arrays)

    def __len__(self) -> int:
        return self.arrays[0].shape[0]


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``: ``subset[i] == dataset[indices[i]]``."""

    def __init__(self, dataset: Dataset, indices: Sequence[int] | np.ndarray) -> None:
        idx = np.asarray(indices, dtype=np.int64).reshape(-1)
        n = len(dataset)
        if idx.size and (idx.min() < -n or idx.max() >= n):
            raise IndexError(f"Subset indices out of range for a dataset of length {n}")
        self.dataset = dataset
        self.indices: np.ndarray = idx % n if n else idx  # negative indices -> positive

    def __getitem__(self, index: int) -> Any:
        return self.dataset[int(self.indices[index])]

    def __len__(self) -> int:
        return int(self.indices.shape[0])


def random_split(dataset: Dataset, lengths: Sequence[int | float]) -> list[Subset]:
    """Split ``dataset`` into non-overlapping random ``Subset``s of the given lengths.

    ``lengths`` are either all ints summing to ``len(dataset)``, e.g. ``[50000, 10000]``,
    or fractions summing to 1, e.g. ``[0.8, 0.2]``; like torch, fractional lengths are
    floored and the leftover samples are handed out one each, round-robin from the first
    split. The shuffle is drawn from ``scratchnn.random.generator()``.
    """
    n = len(dataset)
    lengths = list(lengths)
    if not lengths:
        raise ValueError("random_split needs at least one length")
    if any(x < 0 for x in lengths):
        raise ValueError(f"random_split lengths must be non-negative, got {lengths}")
    if all(isinstance(x, int | np.integer) for x in lengths):
        counts = [int(x) for x in lengths]
        if sum(counts) != n:
            raise ValueError(
                f"random_split lengths sum to {sum(counts)} but the dataset has {n} samples"
            )
    else:  # fractions
        if not math.isclose(sum(lengths), 1.0, abs_tol=1e-9):
            raise ValueError(f"random_split fractions must sum to 1, got {lengths}")
        counts = [math.floor(n * f) for f in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
    perm = generator().permutation(n)
    bounds = np.cumsum([0, *counts])
    return [Subset(dataset, perm[a:b]) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
