"""Activations, softmax, dropout and the linear layer's function."""

from __future__ import annotations

import numpy as np

from scratchnn import ops
from scratchnn.functional.args import dim_aliases, single_axis
from scratchnn.functional.arithmetic import add, erf, expm1, mul, tanh_of, where
from scratchnn.random import generator
from scratchnn.tensor import Tensor


def relu(x: Tensor) -> Tensor:
    """max(x, 0)."""
    return ops.ReLU.apply(x)


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    """x if x > 0 else negative_slope * x."""
    return ops.LeakyReLU.apply(x, negative_slope=negative_slope)


def sigmoid(x: Tensor) -> Tensor:
    """1 / (1 + e**-x)."""
    return ops.Sigmoid.apply(x)


def tanh(x: Tensor) -> Tensor:
    """Hyperbolic tangent."""
    return ops.Tanh.apply(x)


@dim_aliases
def softmax(x: Tensor, dim: int | None = None) -> Tensor:
    """e**x / sum(e**x) along ``dim`` (default: the last)."""
    return ops.Softmax.apply(x, axis=single_axis("softmax", x.ndim, dim, -1))


@dim_aliases
def log_softmax(x: Tensor, dim: int | None = None) -> Tensor:
    """x - logsumexp(x) along ``dim`` (default: the last)."""
    return ops.LogSoftmax.apply(x, axis=single_axis("log_softmax", x.ndim, dim, -1))


def dropout(x: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """Zero each element with probability p and scale the rest by 1/(1-p) (training only)."""
    if not 0 <= p <= 1:
        raise ValueError(f"dropout: p must be in [0, 1], got {p}")
    if not training or p == 0:
        return x
    if p == 1:
        return mul(x, 0.0)
    keep = generator().random(x.shape, dtype=np.float64) >= p
    return ops.Dropout.apply(x, scaled_mask=keep.astype(x.dtype) / x.dtype.type(1 - p))


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """x @ weight.T + bias;  x: (..., in), weight: (out, in), bias: (out,) -> (..., out)."""
    if weight.ndim != 2 or x.ndim == 0 or x.shape[-1] != weight.shape[1]:
        raise ValueError(
            f"linear: input of shape {x.shape} does not fit weight of shape {weight.shape} "
            f"(expected input (..., {weight.shape[-1]}))"
        )
    if bias is None:
        return ops.Linear.apply(x, weight)
    if bias.shape != (weight.shape[0],):
        raise ValueError(f"linear: bias has shape {bias.shape}, expected ({weight.shape[0]},)")
    return ops.Linear.apply(x, weight, bias)


def softplus(x: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + e**(beta x)) / beta, smooth relu; x itself where beta x > threshold."""
    return ops.Softplus.apply(x, beta=beta, threshold=threshold)


def silu(x: Tensor) -> Tensor:
    """x * sigmoid(x) (a.k.a. swish)."""
    return mul(x, sigmoid(x))


def elu(x: Tensor, alpha: float = 1.0) -> Tensor:
    """x if x > 0 else alpha * (e**x - 1)."""
    return where(x.data > 0, x, mul(expm1(x), alpha))


def gelu(x: Tensor, approximate: str = "none") -> Tensor:
    """x * Phi(x) = x/2 (1 + erf(x / sqrt 2)); ``approximate='tanh'``:
    x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x**3)))."""
    if approximate == "none":
        return mul(mul(x, 0.5), add(erf(mul(x, 2 ** -0.5)), 1.0))
    if approximate == "tanh":
        inner = mul(add(x, mul(mul(mul(x, x), x), 0.044715)), float(np.sqrt(2 / np.pi)))
        return mul(mul(x, 0.5), add(tanh_of(inner), 1.0))
    raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
