"""Arithmetic and elementwise math: each function converts its arguments and calls one op."""

from __future__ import annotations

from typing import Any

import numpy as np

from scratchnn import ops
from scratchnn.functional.args import array_of, floating, operands
from scratchnn.ops import math as math_ops
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


# ------------------------------------------------ trigonometric, hyperbolic, special
def sin(x: Tensor) -> Tensor:
    """sin x (radians); integers give float32."""
    return math_ops.Sin.apply(floating(x))


def cos(x: Tensor) -> Tensor:
    """cos x (radians)."""
    return math_ops.Cos.apply(floating(x))


def tan(x: Tensor) -> Tensor:
    """tan x (radians)."""
    return math_ops.Tan.apply(floating(x))


def asin(x: Tensor) -> Tensor:
    """arcsin x, in [-pi/2, pi/2] (NaN outside [-1, 1])."""
    return math_ops.Asin.apply(floating(x))


def acos(x: Tensor) -> Tensor:
    """arccos x, in [0, pi] (NaN outside [-1, 1])."""
    return math_ops.Acos.apply(floating(x))


def atan(x: Tensor) -> Tensor:
    """arctan x, in (-pi/2, pi/2)."""
    return math_ops.Atan.apply(floating(x))


def atan2(input: ArrayLike, other: ArrayLike) -> Tensor:  # noqa: A002
    """The angle of the point (other, input), in (-pi, pi]; broadcast."""
    a, b = operands(input, other)
    return math_ops.Atan2.apply(floating(a), floating(b))


arctan2, arcsin, arccos, arctan = atan2, asin, acos, atan


def sinh(x: Tensor) -> Tensor:
    """Hyperbolic sine."""
    return math_ops.Sinh.apply(floating(x))


def cosh(x: Tensor) -> Tensor:
    """Hyperbolic cosine."""
    return math_ops.Cosh.apply(floating(x))


def log1p(x: Tensor) -> Tensor:
    """ln(1 + x), accurate for tiny x."""
    return math_ops.Log1p.apply(floating(x))


def expm1(x: Tensor) -> Tensor:
    """e**x - 1, accurate for tiny x."""
    return math_ops.Expm1.apply(floating(x))


def erf(x: Tensor) -> Tensor:
    """The error function 2/sqrt(pi) * integral_0^x e**(-t**2) dt."""
    return math_ops.Erf.apply(floating(x))


def reciprocal(x: Tensor) -> Tensor:
    """1 / x (integers give float32)."""
    return div(1.0, x)


def rsqrt(x: Tensor) -> Tensor:
    """1 / sqrt(x), as x ** -0.5."""
    x = floating(x)
    return ops.Pow.apply(x, Tensor._make(np.asarray(-0.5, dtype=x.dtype)))


def square(x: Tensor) -> Tensor:
    """x * x."""
    return ops.Mul.apply(x, x)


# ------------------------------------------------------- rounding: zero gradient
def _piecewise(x: Tensor, function: Any) -> Tensor:
    if x.data.dtype.kind != "f":  # integers are already whole: an unchanged copy
        return Tensor._make(x.data.copy())
    return math_ops.Piecewise.apply(x, function=function)


def floor(x: Tensor) -> Tensor:
    """The largest integer <= x (same dtype); the gradient is 0."""
    return _piecewise(x, np.floor)


def ceil(x: Tensor) -> Tensor:
    """The smallest integer >= x (same dtype); the gradient is 0."""
    return _piecewise(x, np.ceil)


def round(x: Tensor, decimals: int = 0) -> Tensor:  # noqa: A001 (PyTorch's name)
    """x rounded to ``decimals`` places, halves to even (0.5 -> 0, 1.5 -> 2, as PyTorch);
    the gradient is 0."""
    if decimals == 0:
        return _piecewise(x, np.round)
    return _piecewise(x, lambda a: np.round(a, decimals))


def trunc(x: Tensor) -> Tensor:
    """x rounded towards 0; the gradient is 0."""
    return _piecewise(x, np.trunc)


def sign(x: Tensor) -> Tensor:
    """-1, 0 or 1 by the sign of x; the gradient is 0."""
    if x.data.dtype.kind != "f":
        return Tensor._make(np.sign(x.data))
    return math_ops.Piecewise.apply(x, function=np.sign)


def nan_to_num(x: Tensor, nan: float = 0.0, posinf: float | None = None,
               neginf: float | None = None) -> Tensor:
    """x with NaN -> ``nan``, +inf -> ``posinf``, -inf -> ``neginf`` (default: the dtype's
    largest and smallest finite values); the gradient is 0 at the replaced elements."""
    if x.data.dtype.kind != "f":
        return Tensor._make(x.data.copy())
    return math_ops.NanToNum.apply(x, nan=nan, posinf=posinf, neginf=neginf)


# ------------------------------------------------------------- masking, copies
def masked_fill(x: Tensor, mask: ArrayLike, value: ArrayLike) -> Tensor:
    """x with ``value`` wherever the boolean ``mask`` (broadcast to x's shape) is True; the
    gradient flows to x elsewhere (and to a 0-d tensor ``value`` from the masked places)."""
    mask = array_of(mask)
    if mask.dtype != np.bool_:
        raise TypeError(f"masked_fill: the mask must be a boolean tensor, got dtype {mask.dtype}")
    if isinstance(value, Tensor) and value.ndim != 0:
        raise ValueError(f"masked_fill: value must be a number or a 0-d tensor, got shape "
                         f"{value.shape}")
    try:
        np.broadcast_to(mask, x.shape)
    except ValueError:
        raise ValueError(f"masked_fill: mask of shape {mask.shape} does not broadcast to the "
                         f"tensor's shape {x.shape}") from None
    if isinstance(value, Tensor):
        fill = value if value.dtype == x.dtype else to(value, x.dtype)
    else:
        fill = Tensor._make(np.asarray(value, dtype=x.dtype))
    return ops.Where.apply(fill, x, condition=mask)


def clone(x: Tensor) -> Tensor:
    """A copy of x with its own memory; the gradient passes through."""
    return math_ops.Clone.apply(x)


def contiguous(x: Tensor) -> Tensor:
    """x itself when its memory is row-major contiguous, else a contiguous copy."""
    if x.data.flags.c_contiguous:
        return x
    return math_ops.Clone.apply(x)


def tanh_of(x: Tensor) -> Tensor:
    """tanh x (the activation's op; ``activations.tanh`` is the public name)."""
    return ops.Tanh.apply(x)


def mm(input: Tensor, mat2: Tensor) -> Tensor:  # noqa: A002
    """Matrix product of two 2-D tensors: (n, k) @ (k, m) -> (n, m) (no broadcasting)."""
    if input.ndim != 2 or mat2.ndim != 2:
        raise ValueError(f"mm: expects two 2-D tensors, got shapes {input.shape} and "
                         f"{mat2.shape} (matmul broadcasts)")
    return matmul(input, mat2)


def bmm(input: Tensor, mat2: Tensor) -> Tensor:  # noqa: A002
    """Batched matrix product: (b, n, k) @ (b, k, m) -> (b, n, m) (no broadcasting)."""
    if input.ndim != 3 or mat2.ndim != 3 or input.shape[0] != mat2.shape[0]:
        raise ValueError(f"bmm: expects two 3-D tensors with the same batch size, got shapes "
                         f"{input.shape} and {mat2.shape}")
    return matmul(input, mat2)


def outer(input: Tensor, vec2: Tensor) -> Tensor:  # noqa: A002
    """Outer product of two 1-D tensors: out[i, j] = input[i] * vec2[j]."""
    if input.ndim != 1 or vec2.ndim != 1:
        raise ValueError(f"outer: expects two 1-D tensors, got shapes {input.shape} and "
                         f"{vec2.shape}")
    a, b = operands(input, vec2)
    return ops.Mul.apply(ops.Reshape.apply(a, shape=(a.shape[0], 1)),
                         ops.Reshape.apply(b, shape=(1, b.shape[0])))
