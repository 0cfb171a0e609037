"""Reductions over dims: sum, mean, amax/amin, max/min with indices, argmax/argmin, gather."""

from __future__ import annotations

from collections import namedtuple
from typing import Any

import numpy as np

from scratchnn import ops
from scratchnn.functional.args import Dim, array_of, axes, dim_aliases, single_axis
from scratchnn.functional.shapes import squeeze
from scratchnn.tensor import ArrayLike, Tensor

ValuesIndices = namedtuple("ValuesIndices", ["values", "indices"])


@dim_aliases
def sum(x: Tensor, dim: Dim = None, keepdim: bool = False) -> Tensor:  # noqa: A001
    """Sum over ``dim`` (all dims when None)."""
    return ops.Sum.apply(x, axis=axes("sum", x.ndim, dim), keepdims=keepdim)


@dim_aliases
def mean(x: Tensor, dim: Dim = None, keepdim: bool = False) -> Tensor:
    """Mean over ``dim`` (all dims when None); needs a float tensor."""
    if x.dtype.kind != "f":
        raise TypeError(f"mean: needs a floating-point tensor, got dtype {x.dtype}")
    return ops.Mean.apply(x, axis=axes("mean", x.ndim, dim), keepdims=keepdim)


@dim_aliases
def amax(x: Tensor, dim: Dim = None, keepdim: bool = False) -> Tensor:
    """Maximum over ``dim``; ties share the gradient evenly."""
    return ops.Amax.apply(x, axis=axes("amax", x.ndim, dim), keepdims=keepdim)


@dim_aliases
def amin(x: Tensor, dim: Dim = None, keepdim: bool = False) -> Tensor:
    """Minimum over ``dim``; ties share the gradient evenly."""
    return ops.Amin.apply(x, axis=axes("amin", x.ndim, dim), keepdims=keepdim)


def extreme_along(name: str, pick: Any, x: Tensor, dim: int | None,
                  keepdim: bool) -> Tensor | ValuesIndices:
    """``max``/``min``: over everything -> a Tensor; along one dim -> (values, indices) as
    PyTorch, the values' gradient going to the returned index."""
    if dim is None:
        return (amax if name == "max" else amin)(x)
    chosen = single_axis(name, x.ndim, dim)
    if x.ndim == 0:  # PyTorch: the element itself and index 0
        return ValuesIndices(ops.Reshape.apply(x, shape=()), Tensor._make(np.int64(0)))
    indices = np.expand_dims(pick(x.data, axis=chosen), chosen)
    values = ops.Gather.apply(x, axis=chosen, index=indices)
    if not keepdim:
        values = squeeze(values, chosen)
        indices = np.squeeze(indices, chosen)
    return ValuesIndices(values, Tensor._make(indices))


@dim_aliases
def max(x: Tensor, dim: int | None = None, keepdim: bool = False,  # noqa: A001
        ) -> Tensor | ValuesIndices:
    """The maximum (no dim), or (values, indices) of the maximum along ``dim``."""
    return extreme_along("max", np.argmax, x, dim, keepdim)


@dim_aliases
def min(x: Tensor, dim: int | None = None, keepdim: bool = False,  # noqa: A001
        ) -> Tensor | ValuesIndices:
    """The minimum (no dim), or (values, indices) of the minimum along ``dim``."""
    return extreme_along("min", np.argmin, x, dim, keepdim)


@dim_aliases
def argmax(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """Index of the maximum (over the flattened tensor when no dim is given); no gradient."""
    if dim is None:
        return Tensor._make(np.argmax(x.data))
    return Tensor._make(np.argmax(x.data, axis=dim, keepdims=keepdim))


@dim_aliases
def argmin(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """Index of the minimum (over the flattened tensor when no dim is given); no gradient."""
    if dim is None:
        return Tensor._make(np.argmin(x.data))
    return Tensor._make(np.argmin(x.data, axis=dim, keepdims=keepdim))


@dim_aliases
def gather(x: Tensor, dim: int, index: ArrayLike) -> Tensor:
    """out[i][j] = x[i][index[i][j]] for dim=1 (torch.gather)."""
    return ops.Gather.apply(x, axis=single_axis("gather", x.ndim, dim), index=array_of(index))
