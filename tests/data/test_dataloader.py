"""DataLoader: batching, coverage, shuffling, dtypes, the fast path and the generic path."""

import numpy as np
import pytest

import scratchnn.random as snr
from scratchnn.data import DataLoader, Dataset, Subset, TensorDataset, random_split
from scratchnn.tensor import Tensor


def make_ds(n=10):
    x = np.arange(n * 2, dtype=np.float64).reshape(n, 2)  # row i is (2i, 2i+1)
    y = np.arange(n, dtype=np.int64)
    return TensorDataset(x, y)


def labels_per_batch(loader):
    return [b[-1].data.tolist() for b in loader]


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("batch_size", [1, 3, 7, 10, 13])
def test_every_index_exactly_once_per_epoch(shuffle, batch_size):
    loader = DataLoader(make_ds(10), batch_size=batch_size, shuffle=shuffle)
    for _epoch in range(2):
        seen = [i for batch in labels_per_batch(loader) for i in batch]
        assert sorted(seen) == list(range(10))


def test_batch_sizes_and_len():
    loader = DataLoader(make_ds(10), batch_size=3)
    assert [len(b) for b in labels_per_batch(loader)] == [3, 3, 3, 1]
    assert len(loader) == 4
    loader = DataLoader(make_ds(10), batch_size=3, drop_last=True)
    assert [len(b) for b in labels_per_batch(loader)] == [3, 3, 3]
    assert len(loader) == 3
    loader = DataLoader(make_ds(10), batch_size=5, drop_last=True)
    assert len(loader) == 2 and len(list(loader)) == 2
    loader = DataLoader(make_ds(10), batch_size=11, drop_last=True)
    assert len(loader) == 0 and list(loader) == []


def test_no_shuffle_is_in_order_and_rows_stay_together():
    loader = DataLoader(make_ds(10), batch_size=4)
    assert labels_per_batch(loader) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    snr.manual_seed(0)
    for x, y in DataLoader(make_ds(10), batch_size=4, shuffle=True):
        np.testing.assert_array_equal(x.data[:, 0], 2 * y.data)


def test_yields_tensors_with_dtypes():
    x, y = next(iter(DataLoader(make_ds(10), batch_size=4, shuffle=True)))
    assert isinstance(x, Tensor) and isinstance(y, Tensor)
    assert x.data.dtype == np.float32 and x.data.shape == (4, 2)
    assert y.data.dtype == np.int64 and y.data.shape == (4,)
    ds64 = TensorDataset(Tensor(np.zeros((6, 2)), dtype=np.float64), np.arange(6, dtype=np.int32))
    x, y = next(iter(DataLoader(ds64, batch_size=4)))
    assert x.data.dtype == np.float64 and y.data.dtype == np.int32


def test_unshuffled_batches_are_views_not_copies():
    ds = make_ds(10)
    x, y = next(iter(DataLoader(ds, batch_size=4)))
    assert np.shares_memory(x.data, ds.arrays[0])
    assert np.shares_memory(y.data, ds.arrays[1])


def test_shuffle_reproducible_under_manual_seed_and_new_each_epoch():
    loader = DataLoader(make_ds(50), batch_size=8, shuffle=True)
    snr.manual_seed(123)
    epoch1 = labels_per_batch(loader)
    epoch2 = labels_per_batch(loader)
    snr.manual_seed(123)
    assert labels_per_batch(loader) == epoch1
    assert labels_per_batch(loader) == epoch2
    assert epoch1 != epoch2
    assert sum(epoch1, []) != list(range(50))


def test_shuffle_uses_generator_at_iter_time():
    loader = DataLoader(make_ds(50), batch_size=50, shuffle=True)
    snr.manual_seed(7)
    expected = labels_per_batch(loader)
    snr.manual_seed(7)  # replaces the generator: the loader must not have cached the old one
    it = iter(loader)  # permutation drawn here ...
    snr.manual_seed(99)  # ... so reseeding afterwards does not change this epoch
    assert [b[1].data.tolist() for b in it] == expected


def test_fast_path_does_not_call_getitem():
    class NoItems(TensorDataset):
        def __getitem__(self, index):
            raise AssertionError("per-sample __getitem__ called on the fast path")

    ds = NoItems(np.arange(10.0), np.arange(10))
    for shuffle in (False, True):
        loader = DataLoader(Subset(ds, [9, 2, 5, 0]), batch_size=3, shuffle=shuffle)
        assert sorted(i for b in labels_per_batch(loader) for i in b) == [0, 2, 5, 9]
        assert len(list(DataLoader(ds, batch_size=4, shuffle=shuffle))) == 3


def test_subset_of_tensor_dataset():
    ds = make_ds(10)
    loader = DataLoader(Subset(ds, [5, 1, 3]), batch_size=2)
    batches = list(loader)
    np.testing.assert_array_equal(batches[0][0].data, ds.arrays[0][[5, 1]])
    assert labels_per_batch(loader) == [[5, 1], [3]]
    # A Subset of a Subset (random_split then a Subset) composes the index maps.
    snr.manual_seed(0)
    train, _ = random_split(ds, [6, 4])
    nested = Subset(train, [0, 2])
    expected = [int(train.indices[0]), int(train.indices[2])]
    assert labels_per_batch(DataLoader(nested, batch_size=5)) == [expected]


class Squares(Dataset):
    """A generic dataset: sample i is (array [i, i*i] as float64, label i as int)."""

    def __init__(self, n):
        self.n = n

    def __getitem__(self, i):
        return np.array([i, i * i], dtype=np.float64), i

    def __len__(self):
        return self.n


def test_generic_dataset_falls_back_to_getitem_and_stacks():
    loader = DataLoader(Squares(7), batch_size=3)
    batches = list(loader)
    assert len(batches) == len(loader) == 3
    x, y = batches[0]
    assert isinstance(x, Tensor) and x.data.shape == (3, 2) and x.data.dtype == np.float32
    np.testing.assert_array_equal(x.data, [[0, 0], [1, 1], [2, 4]])
    np.testing.assert_array_equal(y.data, [0, 1, 2])
    snr.manual_seed(1)
    shuffled = DataLoader(Squares(7), batch_size=3, shuffle=True, drop_last=True)
    seen = [i for b in labels_per_batch(shuffled) for i in b]
    assert len(seen) == 6 and len(set(seen)) == 6


def test_generic_dataset_with_single_values():
    class Plain(Dataset):
        def __getitem__(self, i):
            return Tensor(np.full(2, i, dtype=np.float32))

        def __len__(self):
            return 3

    (x,) = next(iter(DataLoader(Plain(), batch_size=3)))
    np.testing.assert_array_equal(x.data, [[0, 0], [1, 1], [2, 2]])


@pytest.mark.parametrize("bad", [0, -1, 2.5, True, "4", None])
def test_bad_batch_size(bad):
    with pytest.raises(ValueError):
        DataLoader(make_ds(4), batch_size=bad)


def test_shuffled_subset_is_shuffled_within_the_subset():
    ds = make_ds(100)
    chosen = list(range(0, 100, 5))  # 20 samples
    loader = DataLoader(Subset(ds, chosen), batch_size=6, shuffle=True)
    snr.manual_seed(5)
    seen = [i for b in labels_per_batch(loader) for i in b]
    assert sorted(seen) == chosen
    assert seen != chosen
    snr.manual_seed(5)
    assert [i for b in labels_per_batch(loader) for i in b] == seen
