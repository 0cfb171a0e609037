"""``MNIST`` and ``FashionMNIST`` as map-style datasets, torchvision's way: each item is
``(transform(image), target_transform(label))`` with the image a uint8 (28, 28) array.

Files are found as :func:`scratchnn.data.load_mnist` finds them (``root`` first when it holds
them, then Debian's ``dataset-fashion-mnist``, then the user cache); ``download=True`` may
fetch them into the cache when none of those has them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from scratchnn.data.dataset import DataError, Dataset
from scratchnn.data.idx import read_idx
from scratchnn.data.mnist import find_mnist


class MNIST(Dataset):
    """Handwritten digits 0-9: 60000 training and 10000 test images."""

    name = "mnist"
    classes = [f"{digit} - {word}" for digit, word in enumerate(
        ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"])]

    def __init__(self, root: str | Path | None = None, train: bool = True,
                 transform: Callable[[Any], Any] | None = None,
                 target_transform: Callable[[Any], Any] | None = None,
                 download: bool = False) -> None:
        self.root, self.train = root, train
        self.transform, self.target_transform = transform, target_transform
        images_path, labels_path = self._files(root, train, download)
        self.data: np.ndarray = read_idx(images_path)
        self.targets: np.ndarray = read_idx(labels_path).astype(np.int64)

    def _files(self, root: str | Path | None, train: bool, download: bool) -> tuple[Path, Path]:
        if root is not None:
            for place in (Path(root), Path(root) / type(self).__name__ / "raw"):
                try:
                    return find_mnist(self.name, place, train, download=False)
                except DataError:  # not there: look in the default places
                    continue
        return find_mnist(self.name, None, train, download=download)

    def __len__(self) -> int:
        return len(self.targets)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        image, target = self.data[index], int(self.targets[index])
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    def __repr__(self) -> str:
        split = "Train" if self.train else "Test"
        return f"Dataset {type(self).__name__}\n    Number of datapoints: {len(self)}\n" \
               f"    Split: {split}"


class FashionMNIST(MNIST):
    """Zalando's clothing images in 10 classes: 60000 training and 10000 test images."""

    name = "fashion-mnist"
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot"]
