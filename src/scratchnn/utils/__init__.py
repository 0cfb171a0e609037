"""``scratchnn.utils``: PyTorch's import paths (``scratchnn.utils.data``)."""

from scratchnn.utils import data

__all__ = ["data"]
