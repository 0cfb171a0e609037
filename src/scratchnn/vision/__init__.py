"""``scratchnn.vision``: image datasets and transforms under torchvision's names, so that
``from torchvision import datasets, transforms`` becomes
``from scratchnn.vision import datasets, transforms``."""

from scratchnn.vision import datasets, transforms

__all__ = ["datasets", "transforms"]
