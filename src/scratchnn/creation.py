"""Ways to make tensors, with PyTorch's names. Random ones draw from ``scratchnn.random``."""

from __future__ import annotations

from typing import Any

import numpy as np

from scratchnn.functional.args import shape_arg
from scratchnn.random import generator
from scratchnn.tensor import ArrayLike, Tensor

float32, float64, int32, int64, bool_ = np.float32, np.float64, np.int32, np.int64, np.bool_
float, double, long = np.float32, np.float64, np.int64  # noqa: A001 (PyTorch's aliases)


def tensor(data: ArrayLike, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data``."""
    if isinstance(data, Tensor):
        data = data.data
    return Tensor(np.array(data, dtype=dtype), requires_grad=requires_grad, dtype=dtype)


def _filled(fill: Any, shape: tuple, dtype: Any, requires_grad: bool) -> Tensor:
    array = np.full(shape_arg(shape), fill, dtype=dtype or np.float32)
    return Tensor(array, requires_grad=requires_grad, dtype=array.dtype)


def zeros(*shape: int, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _filled(0, shape, dtype, requires_grad)


def ones(*shape: int, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _filled(1, shape, dtype, requires_grad)


def full(shape: tuple[int, ...], fill_value: float, dtype: Any = None,
         requires_grad: bool = False) -> Tensor:
    return _filled(fill_value, (tuple(shape),), dtype, requires_grad)


def zeros_like(other: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _filled(0, (other.shape,), dtype or other.dtype, requires_grad)


def ones_like(other: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _filled(1, (other.shape,), dtype or other.dtype, requires_grad)


def randn(*shape: int, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Standard normal samples."""
    array = generator().standard_normal(shape_arg(shape), dtype=np.dtype(dtype or np.float32))
    return Tensor(array, requires_grad=requires_grad, dtype=array.dtype)


def rand(*shape: int, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Uniform samples in [0, 1)."""
    array = generator().random(shape_arg(shape), dtype=np.dtype(dtype or np.float32))
    return Tensor(array, requires_grad=requires_grad, dtype=array.dtype)


def randint(low: int, high: int, size: tuple[int, ...], dtype: Any = np.int64) -> Tensor:
    return Tensor(generator().integers(low, high, size=size, dtype=dtype))


def randperm(n: int) -> Tensor:
    return Tensor(generator().permutation(n))


def arange(start: float, end: float | None = None, step: float = 1, dtype: Any = None,
           requires_grad: bool = False) -> Tensor:
    """Like torch.arange: integers stay int64, a float bound gives float32."""
    if end is None:
        start, end = 0, start
    array = np.arange(start, end, step, dtype=dtype)
    return Tensor(array, requires_grad=requires_grad, dtype=dtype)


def eye(n: int, m: int | None = None, dtype: Any = None) -> Tensor:
    return Tensor(np.eye(n, m, dtype=dtype or np.float32), dtype=dtype or np.float32)
