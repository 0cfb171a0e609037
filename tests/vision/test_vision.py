"""scratchnn.vision: torchvision-style MNIST/FashionMNIST datasets and transforms feed the
DataLoader the way a PyTorch quickstart expects."""

import numpy as np
import pytest

import scratchnn as sn
from scratchnn.data import write_idx
from scratchnn.utils.data import DataLoader
from scratchnn.vision import datasets, transforms


@pytest.fixture
def idx_root(tmp_path):
    rng = np.random.default_rng(0)
    for split, count in (("train", 50), ("t10k", 20)):
        write_idx(tmp_path / f"{split}-images-idx3-ubyte",
                  rng.integers(0, 256, (count, 28, 28), dtype=np.uint8))
        write_idx(tmp_path / f"{split}-labels-idx1-ubyte",
                  rng.integers(0, 10, count, dtype=np.uint8))
    return tmp_path


def test_fashion_mnist_items_and_batches(idx_root):
    train = datasets.FashionMNIST(root=idx_root, train=True, download=False,
                                  transform=transforms.ToTensor())
    test = datasets.FashionMNIST(root=idx_root, train=False, transform=transforms.ToTensor())
    assert len(train) == 50 and len(test) == 20 and len(train.classes) == 10
    image, label = train[3]
    assert image.shape == (1, 28, 28) and image.dtype == np.float32 and isinstance(label, int)
    np.testing.assert_allclose(image.data[0], train.data[3] / 255.0, rtol=1e-6)
    batches = list(DataLoader(train, batch_size=16))
    assert [len(y) for _, y in batches] == [16, 16, 16, 2]
    x, y = batches[0]
    assert x.shape == (16, 1, 28, 28) and y.dtype == np.int64
    np.testing.assert_array_equal(y.data, train.targets[:16])


def test_compose_normalize_lambda_and_target_transform(idx_root):
    pipeline = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.25,)),
                                   transforms.Lambda(lambda t: t.reshape(-1))])
    data = datasets.MNIST(root=idx_root, transform=pipeline,
                          target_transform=lambda y: sn.nn.functional.one_hot(
                              sn.tensor(y), 10) if hasattr(sn.nn.functional, "one_hot") else y)
    image, _ = data[0]
    assert image.shape == (784,)
    np.testing.assert_allclose(image.data, (data.data[0].ravel() / 255.0 - 0.5) / 0.25,
                               rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="std"):
        transforms.Normalize((0.0,), (0.0,))
    with pytest.raises(ValueError, match="image of shape"):
        transforms.ToTensor()(np.zeros((1, 2, 3, 4)))


def test_missing_files_name_the_places_searched(tmp_path, monkeypatch):
    import scratchnn.data.mnist as mnist

    monkeypatch.setattr(mnist, "SYSTEM_DIRS", {})
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    with pytest.raises(sn.data.DataError, match="not found"):
        datasets.MNIST(root=tmp_path / "empty", download=False)
