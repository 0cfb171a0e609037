"""``scratchnn.utils.data``: the data-loading classes under PyTorch's import path (they live
in :mod:`scratchnn.data`)."""

from scratchnn.data import (
    DataLoader,
    Dataset,
    DistributedSampler,
    Sampler,
    Subset,
    TensorDataset,
    random_split,
)
from scratchnn.utils.data import distributed

__all__ = [
    "DataLoader", "Dataset", "DistributedSampler", "Sampler", "Subset", "TensorDataset",
    "distributed", "random_split",
]
