"""Reductions over dims: sum, mean, amax/amin, max/min with indices, argmax/argmin, gather."""

from __future__ import annotations

import warnings
from collections import namedtuple
from typing import Any

import numpy as np

from scratchnn import ops
from scratchnn.functional.args import Dim, array_of, dim_aliases, reduce_axes, single_axis
from scratchnn.functional.arithmetic import maximum, minimum
from scratchnn.functional.shapes import squeeze
from scratchnn.ops.reduce import Cumsum, Norm, Prod, Std, Var
from scratchnn.tensor import ArrayLike, Tensor

ValuesIndices = namedtuple("ValuesIndices", ["values", "indices"])


@dim_aliases
def sum(x: Tensor, dim: Dim = None, keepdim: bool = False) -> Tensor:  # noqa: A001
    """Sum over ``dim`` (all dims when None)."""
    return ops.Sum.apply(x, axis=reduce_axes("sum", x.ndim, dim), keepdims=keepdim)


@dim_aliases
def mean(x: Tensor, dim: Dim = None, keepdim: bool = False) -> Tensor:
    """Mean over ``dim`` (all dims when None); needs a float tensor."""
    if x.dtype.kind != "f":
        raise TypeError(f"mean: needs a floating-point tensor, got dtype {x.dtype}")
    return ops.Mean.apply(x, axis=reduce_axes("mean", x.ndim, dim), keepdims=keepdim)


@dim_aliases
def amax(x: Tensor, dim: Dim = None, keepdim: bool = False) -> Tensor:
    """Maximum over ``dim``; ties share the gradient evenly."""
    return ops.Amax.apply(x, axis=reduce_axes("amax", x.ndim, dim), keepdims=keepdim)


@dim_aliases
def amin(x: Tensor, dim: Dim = None, keepdim: bool = False) -> Tensor:
    """Minimum over ``dim``; ties share the gradient evenly."""
    return ops.Amin.apply(x, axis=reduce_axes("amin", x.ndim, dim), keepdims=keepdim)


def extreme_along(name: str, pick: Any, x: Tensor, dim: int | None,
                  keepdim: bool) -> Tensor | ValuesIndices:
    """``max``/``min``: over everything -> a Tensor; along one dim -> (values, indices) as
    PyTorch, the values' gradient going to the returned index; given a tensor instead of a
    dim (``torch.max(a, b)``): the elementwise maximum/minimum. A NumPy array is taken as a
    constant tensor, for the classic ``_, predicted = torch.max(outputs.data, 1)``
    (``.data`` is the array here)."""
    if not isinstance(x, Tensor):
        x = Tensor._make(np.asarray(x))
    if dim is None:
        return (amax if name == "max" else amin)(x)
    if isinstance(dim, Tensor):
        return (maximum if name == "max" else minimum)(x, dim)
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


def arg_extreme(pick: Any, name: str, x: Tensor, dim: int | None, keepdim: bool) -> Tensor:
    """``argmax``/``argmin``: the flat index (no dim) or the indices along ``dim``."""
    if dim is None:
        return Tensor._make(np.int64(pick(x.data)))
    axis = single_axis(name, x.ndim, dim)
    if x.ndim == 0:
        return Tensor._make(np.int64(0))
    return Tensor._make(pick(x.data, axis=axis, keepdims=keepdim).astype(np.int64, copy=False))


@dim_aliases
def argmax(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """Index of the maximum (over the flattened tensor when no dim is given); no gradient."""
    return arg_extreme(np.argmax, "argmax", x, dim, keepdim)


@dim_aliases
def argmin(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """Index of the minimum (over the flattened tensor when no dim is given); no gradient."""
    return arg_extreme(np.argmin, "argmin", x, dim, keepdim)


@dim_aliases
def gather(x: Tensor, dim: int, index: ArrayLike) -> Tensor:
    """out[i][j] = x[i][index[i][j]] for dim=1 (torch.gather)."""
    return ops.Gather.apply(x, axis=single_axis("gather", x.ndim, dim), index=array_of(index))


@dim_aliases
def prod(x: Tensor, dim: int | None = None, keepdim: bool = False, *,
         dtype: Any = None) -> Tensor:
    """Product over ``dim`` (all elements when None); integer and bool tensors give int64."""
    axis = None if dim is None else single_axis("prod", x.ndim, dim)
    if x.ndim == 0:
        axis = None
    if dtype is None and x.dtype.kind in "biu":
        dtype = np.int64
    return Prod.apply(x, axis=axis, keepdims=keepdim and x.ndim > 0, dtype=dtype)


@dim_aliases
def cumsum(x: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """Running sum along ``dim``: out_i = x_0 + ... + x_i (integers and bools give int64)."""
    axis = single_axis("cumsum", x.ndim, dim)
    if dtype is None and x.dtype.kind in "biu":
        dtype = np.int64
    if x.ndim == 0:
        return Cumsum.apply(x, axis=None, dtype=dtype).reshape(())
    return Cumsum.apply(x, axis=axis, dtype=dtype)


def _correction(name: str, unbiased: bool | None, correction: float | None) -> float:
    if unbiased is not None and correction is not None:
        raise TypeError(f"{name}: pass either unbiased or correction, not both")
    if correction is not None:
        return correction
    return 1 if unbiased is None or unbiased else 0


def _variance_op(op: Any, name: str, x: Tensor, dim: Dim, unbiased: bool | None,
                 keepdim: bool, correction: float | None) -> Tensor:
    if isinstance(dim, bool):  # the old positional form var(x, unbiased)
        dim, unbiased = None, dim
    if x.dtype.kind != "f":
        raise TypeError(f"{name}: needs a floating-point tensor, got dtype {x.dtype}")
    axis = reduce_axes(name, x.ndim, dim)
    correction = _correction(name, unbiased, correction)
    count = x.numel() if axis is None else int(np.prod([x.shape[i] for i in axis]))
    if count - correction <= 0:
        warnings.warn(f"{name}: {count} elements with correction {correction} leave no degrees "
                      "of freedom; the result is inf or nan", RuntimeWarning, stacklevel=4)
    return op.apply(x, axis=axis, correction=correction, keepdims=keepdim)


@dim_aliases
def var(x: Tensor, dim: Dim = None, unbiased: bool | None = None, keepdim: bool = False, *,
        correction: float | None = None) -> Tensor:
    """Variance over ``dim``: sum((x - mean)**2) / (n - correction); correction = 1 (Bessel's,
    PyTorch's default) unless ``unbiased=False`` or ``correction=`` says otherwise."""
    return _variance_op(Var, "var", x, dim, unbiased, keepdim, correction)


@dim_aliases
def std(x: Tensor, dim: Dim = None, unbiased: bool | None = None, keepdim: bool = False, *,
        correction: float | None = None) -> Tensor:
    """Standard deviation over ``dim``: sqrt(var(x, dim, correction)) (see ``var``); its
    gradient is 0 where it is 0, as in PyTorch."""
    return _variance_op(Std, "std", x, dim, unbiased, keepdim, correction)


@dim_aliases
def norm(x: Tensor, p: float | str | None = "fro", dim: Dim = None, keepdim: bool = False,
         dtype: Any = None) -> Tensor:
    """The p-norm over ``dim`` (all elements when None): (sum |x|**p)**(1/p); p = 'fro' (the
    default) is p = 2, inf/-inf the largest/smallest |x|, 0 the number of non-zeros. Its
    gradient at 0 is 0 (PyTorch's subgradient)."""
    if p is None or p == "fro":
        p = 2.0
    elif isinstance(p, str):
        raise ValueError(f"norm: p={p!r} is not supported (numbers, inf, -inf or 'fro')")
    if dtype is not None:
        x = x.to(dtype)
    if x.dtype.kind != "f":
        raise TypeError(f"norm: needs a floating-point tensor, got dtype {x.dtype} "
                        "(use .float() or dtype=)")
    return Norm.apply(x, p=float(p), axis=reduce_axes("norm", x.ndim, dim), keepdims=keepdim)


@dim_aliases
def logsumexp(x: Tensor, dim: Dim, keepdim: bool = False) -> Tensor:
    """log(sum(e**x)) over ``dim``, computed as m + log(sum(e**(x - m))) with m the maximum
    (a constant, so no overflow); its gradient is softmax(x) along ``dim``."""
    if x.dtype.kind != "f":
        x = Tensor._make(x.data.astype(np.float32))
    axis = reduce_axes("logsumexp", x.ndim, dim)
    shift = np.asarray(np.max(x.data, axis=axis, keepdims=True, initial=-np.inf))
    shift = np.where(np.isfinite(shift), shift, 0)  # all -inf (or empty): e**(x - 0) is exact
    constant = Tensor._make(shift)
    if x.numel() == 0:  # log of an empty sum: -inf, still connected to x (whose grad is empty)
        nothing = ops.Sum.apply(x, axis=axis, keepdims=True)
        out = ops.Add.apply(nothing, Tensor._make(np.full(shift.shape, -np.inf, x.dtype)))
    else:
        total = ops.Sum.apply(ops.Exp.apply(ops.Sub.apply(x, constant)), axis=axis,
                              keepdims=True)
        out = ops.Add.apply(ops.Log.apply(total), constant)
    if keepdim or x.ndim == 0:
        return out
    return ops.Reshape.apply(out, shape=tuple(size for i, size in enumerate(x.shape)
                                              if axis is not None and i not in axis))
