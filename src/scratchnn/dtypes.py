"""Data types with PyTorch's names. They are NumPy's scalar types, so ``x.dtype ==
scratchnn.float32`` and ``np.zeros(3, dtype=scratchnn.int64)`` both work."""

import numpy as np

float16, float32, float64 = np.float16, np.float32, np.float64
int8, int16, int32, int64, uint8 = np.int8, np.int16, np.int32, np.int64, np.uint8
bool_ = np.bool_
# PyTorch's aliases (they shadow Python's builtins inside this module only)
half, float, double = np.float16, np.float32, np.float64  # noqa: A001
short, int, long = np.int16, np.int32, np.int64  # noqa: A001
bool = np.bool_  # noqa: A001

__all__ = ["bool", "bool_", "double", "float", "float16", "float32", "float64", "half", "int",
           "int8", "int16", "int32", "int64", "long", "short", "uint8"]
