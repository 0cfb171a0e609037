"""Per-sample image transforms (torchvision's names): ``ToTensor``, ``Normalize``,
``Compose``, ``Lambda``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from scratchnn.tensor import Tensor


class ToTensor:
    """An image as a float32 tensor in [0, 1]: uint8 (H, W) -> (1, H, W), (H, W, C) -> (C, H, W);
    a float image keeps its values."""

    def __call__(self, image: Any) -> Tensor:
        array = np.asarray(image)
        if array.ndim == 2:
            array = array[None]
        elif array.ndim == 3:
            array = np.moveaxis(array, -1, 0)
        else:
            raise ValueError(f"ToTensor: expected an image of shape (H, W) or (H, W, C), got "
                             f"{array.shape}")
        if array.dtype == np.uint8:
            return Tensor._make(array.astype(np.float32) / np.float32(255))
        return Tensor._make(np.ascontiguousarray(array, dtype=np.float32))

    def __repr__(self) -> str:
        return "ToTensor()"


class Normalize:
    """(image - mean) / std per channel, for a (C, H, W) tensor."""

    def __init__(self, mean: Sequence[float], std: Sequence[float]) -> None:
        self.mean = np.asarray(mean, dtype=np.float32).reshape(-1, 1, 1)
        self.std = np.asarray(std, dtype=np.float32).reshape(-1, 1, 1)
        if np.any(self.std == 0):
            raise ValueError("Normalize: std must not be 0")

    def __call__(self, image: Tensor) -> Tensor:
        array = image.data if isinstance(image, Tensor) else np.asarray(image, np.float32)
        return Tensor._make((array - self.mean) / self.std)

    def __repr__(self) -> str:
        return f"Normalize(mean={self.mean.ravel().tolist()}, std={self.std.ravel().tolist()})"


class Lambda:
    """Any function of one sample as a transform."""

    def __init__(self, function: Callable[[Any], Any]) -> None:
        self.function = function

    def __call__(self, value: Any) -> Any:
        return self.function(value)


class Compose:
    """Apply transforms one after another."""

    def __init__(self, transforms: Sequence[Callable[[Any], Any]]) -> None:
        self.transforms = list(transforms)

    def __call__(self, value: Any) -> Any:
        for transform in self.transforms:
            value = transform(value)
        return value

    def __repr__(self) -> str:
        return "Compose(" + ", ".join(repr(t) for t in self.transforms) + ")"
