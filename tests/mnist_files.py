"""Skip markers for tests that need the (Fashion-)MNIST IDX files, which cannot be downloaded
here: Fashion-MNIST comes from Debian's dataset-fashion-mnist (CI installs it), MNIST only
from --data or the cache."""

import pytest

from scratchnn.data import DataError, find_mnist


def available(dataset: str) -> bool:
    """True when both the training and the test pair of ``dataset`` are on disk."""
    try:
        for train in (True, False):
            find_mnist(dataset, train=train, download=False)
    except DataError:
        return False
    return True


needs_fashion = pytest.mark.skipif(not available("fashion-mnist"), reason=(
    "Fashion-MNIST files not found (apt-get install dataset-fashion-mnist)"))
needs_mnist = pytest.mark.skipif(not available("mnist"), reason=(
    "MNIST files not found (put the IDX files in ~/.cache/scratchnn/mnist)"))
