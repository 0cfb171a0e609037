"""Arithmetic and elementwise math: each function converts its arguments and calls one op."""

from __future__ import annotations

from typing import Any

import numpy as np

from scratchnn import ops
from scratchnn.functional.args import operands
from scratchnn.tensor import ArrayLike, Tensor


# ------------------------------------------------------------------ arithmetic
def add(a: ArrayLike, b: ArrayLike) -> Tensor:
    """a + b, broadcast."""
    return ops.Add.apply(*operands(a, b))


def sub(a: ArrayLike, b: ArrayLike) -> Tensor:
    """a - b, broadcast."""
    return ops.Sub.apply(*operands(a, b))


def mul(a: ArrayLike, b: ArrayLike) -> Tensor:
    """a * b, broadcast."""
    return ops.Mul.apply(*operands(a, b))


def div(a: ArrayLike, b: ArrayLike) -> Tensor:
    """True division; two integer operands give float32, as in PyTorch."""
    a, b = operands(a, b)
    if a.data.dtype.kind != "f" and b.data.dtype.kind != "f":
        a, b = Tensor._make(a.data.astype(np.float32)), Tensor._make(b.data.astype(np.float32))
    return ops.Div.apply(a, b)


def pow(a: ArrayLike, exponent: ArrayLike) -> Tensor:  # noqa: A001 (PyTorch's name)
    """a ** exponent, broadcast."""
    return ops.Pow.apply(*operands(a, exponent))


def neg(a: Tensor) -> Tensor:
    """-a."""
    return ops.Neg.apply(a)


def matmul(a: ArrayLike, b: ArrayLike) -> Tensor:
    """a @ b; shapes (..., n, k) @ (..., k, m) -> (..., m) with broadcast batch axes."""
    a, b = operands(a, b)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: both operands need at least 1 dim, got {a.shape} and {b.shape}")
    inner_a, inner_b = a.shape[-1], b.shape[-2] if b.ndim > 1 else b.shape[0]
    if inner_a != inner_b:
        raise ValueError(
            f"matmul: shapes {a.shape} and {b.shape} do not match: "
            f"{inner_a} columns in the first, {inner_b} rows in the second"
        )
    return ops.MatMul.apply(a, b)


# -------------------------------------------------------------- elementwise math
def exp(x: Tensor) -> Tensor:
    """e ** x."""
    return ops.Exp.apply(x)


def log(x: Tensor) -> Tensor:
    """Natural logarithm."""
    return ops.Log.apply(x)


def sqrt(x: Tensor) -> Tensor:
    """x ** 0.5."""
    return ops.Sqrt.apply(x)


def abs(x: Tensor) -> Tensor:  # noqa: A001 (PyTorch's name)
    """|x|."""
    return ops.Abs.apply(x)


def clip(x: Tensor, min: float | None = None, max: float | None = None) -> Tensor:  # noqa: A002
    """Clamp every element to [min, max]; the gradient is zero where clamping happened."""
    if min is None and max is None:
        raise ValueError("clip: at least one of min and max must be given")
    return ops.Clip.apply(x, low=min, high=max)


clamp = clip


def maximum(a: ArrayLike, b: ArrayLike) -> Tensor:
    """Elementwise maximum."""
    return ops.Maximum.apply(*operands(a, b))


def minimum(a: ArrayLike, b: ArrayLike) -> Tensor:
    """Elementwise minimum."""
    return ops.Minimum.apply(*operands(a, b))


def where(condition: ArrayLike, a: ArrayLike, b: ArrayLike) -> Tensor:
    """Elementwise ``a if condition else b``; the condition gets no gradient."""
    condition = np.asarray(condition.data if isinstance(condition, Tensor) else condition)
    a, b = operands(a, b)
    return ops.Where.apply(a, b, condition=condition.astype(bool, copy=False))


def to(x: Tensor, dtype: Any) -> Tensor:
    """x converted to ``dtype``; differentiable between float types."""
    dtype = np.dtype(dtype)
    if dtype == x.dtype:
        return x
    if x.requires_grad and dtype.kind != "f":
        return Tensor._make(x.data.astype(dtype))
    return ops.Cast.apply(x, dtype=dtype)
