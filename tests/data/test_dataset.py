"""TensorDataset, Subset, random_split."""

import numpy as np
import pytest

import scratchnn.random as snr
from scratchnn.data import Dataset, Subset, TensorDataset, random_split
from scratchnn.tensor import Tensor


def test_dataset_is_abstract():
    with pytest.raises(TypeError):
        Dataset()


def test_tensor_dataset_len_and_indexing():
    x = np.arange(15, dtype=np.float64).reshape(5, 3)
    y = np.arange(5, dtype=np.int64) * 10
    ds = TensorDataset(x, y)
    assert len(ds) == 5
    xi, yi = ds[2]
    assert isinstance(xi, Tensor) and isinstance(yi, Tensor)
    np.testing.assert_array_equal(xi.data, [6.0, 7.0, 8.0])
    assert int(yi.data) == 20
    # float64 arrays get the Tensor default dtype, ints stay ints.
    assert ds.arrays[0].dtype == np.float32
    assert ds.arrays[1].dtype == np.int64


def test_tensor_dataset_accepts_tensors_and_keeps_their_dtype():
    x = Tensor(np.ones((4, 2)), dtype=np.float64)
    y = Tensor(np.arange(4))
    ds = TensorDataset(x, y)
    assert ds.arrays[0].dtype == np.float64
    assert ds[3][0].data.dtype == np.float64
    assert ds.arrays[1].dtype == y.data.dtype


def test_tensor_dataset_stores_contiguous_arrays():
    x = np.arange(12, dtype=np.float32).reshape(3, 4).T  # (4, 3), not C-contiguous
    ds = TensorDataset(x)
    assert ds.arrays[0].flags.c_contiguous
    np.testing.assert_array_equal(ds.arrays[0], x)


def test_tensor_dataset_mismatched_sizes():
    with pytest.raises(ValueError, match=r"5.*4"):
        TensorDataset(np.zeros((5, 2)), np.zeros(4))


def test_tensor_dataset_needs_tensors():
    with pytest.raises(ValueError):
        TensorDataset()
    with pytest.raises(ValueError):
        TensorDataset(np.float32(3.0))


def test_subset():
    ds = TensorDataset(np.arange(10) * 2)
    sub = Subset(ds, [7, 0, 3])
    assert len(sub) == 3
    assert int(sub[0][0].data) == 14
    assert int(sub[2][0].data) == 6
    with pytest.raises(IndexError):
        Subset(ds, [10])


def _indices(subset):
    return [int(i) for i in subset.indices]


def test_random_split_ints_disjoint_and_complete():
    ds = TensorDataset(np.arange(100))
    parts = random_split(ds, [60, 30, 10])
    assert [len(p) for p in parts] == [60, 30, 10]
    all_idx = sum((_indices(p) for p in parts), [])
    assert sorted(all_idx) == list(range(100))  # complete, and no index twice
    assert all_idx != list(range(100))  # actually shuffled


def test_random_split_fractions_like_torch():
    ds = TensorDataset(np.arange(10))
    assert [len(p) for p in random_split(ds, [0.7, 0.3])] == [7, 3]
    # floor(2.5) = 2 each, leftover 1 goes to the first split.
    parts = random_split(TensorDataset(np.arange(5)), [0.5, 0.5])
    assert [len(p) for p in parts] == [3, 2]
    assert sorted(_indices(parts[0]) + _indices(parts[1])) == list(range(5))


def test_random_split_bad_lengths():
    ds = TensorDataset(np.arange(10))
    with pytest.raises(ValueError):
        random_split(ds, [5, 4])
    with pytest.raises(ValueError):
        random_split(ds, [0.5, 0.4])
    with pytest.raises(ValueError):
        random_split(ds, [11, -1])


def test_random_split_reproducible_under_manual_seed():
    ds = TensorDataset(np.arange(50))
    snr.manual_seed(3)
    a = [_indices(p) for p in random_split(ds, [25, 25])]
    snr.manual_seed(3)
    b = [_indices(p) for p in random_split(ds, [25, 25])]
    c = [_indices(p) for p in random_split(ds, [25, 25])]
    assert a == b
    assert a != c
