"""Data loading: datasets, the mini-batch DataLoader, the IDX file format, (Fashion-)MNIST.

Typical use::

    from scratchnn.data import DataLoader, TensorDataset, load_mnist

    images, labels = load_mnist("fashion-mnist")          # uint8 (N, 28, 28), int64 (N,)
    loader = DataLoader(TensorDataset(images, labels), batch_size=64, shuffle=True)
    for x, y in loader:                                   # x (64, 28, 28), y (64,)
        ...
"""

from scratchnn.data.csv import CsvTable, read_csv
from scratchnn.data.dataloader import DataLoader
from scratchnn.data.dataset import DataError, Dataset, Subset, TensorDataset, random_split
from scratchnn.data.idx import read_idx, write_idx
from scratchnn.data.mnist import find_mnist, load_mnist, load_mnist_normalized
from scratchnn.data.sampler import DistributedSampler, Sampler
from scratchnn.data.samples import Samples, load_samples

__all__ = [
    "CsvTable",
    "Samples",
    "load_samples",
    "read_csv",
    "DataError",
    "DataLoader",
    "Dataset",
    "DistributedSampler",
    "Sampler",
    "Subset",
    "TensorDataset",
    "find_mnist",
    "load_mnist",
    "load_mnist_normalized",
    "random_split",
    "read_idx",
    "write_idx",
]
