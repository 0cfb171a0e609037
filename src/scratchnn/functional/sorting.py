"""Sorting and selecting by value: sort, argsort, topk, kthvalue, each returning the values
(differentiable: the gradient goes back to where each value came from) and int64 indices."""

from __future__ import annotations

import numpy as np

from scratchnn import ops
from scratchnn.functional.args import dim_aliases, single_axis
from scratchnn.functional.reductions import ValuesIndices
from scratchnn.functional.shapes import squeeze
from scratchnn.tensor import Tensor


def sorted_indices(data: np.ndarray, axis: int, descending: bool) -> np.ndarray:
    """Stable argsort along ``axis``: equal values keep their order, in both directions; NaN
    counts as larger than everything (first when descending), as in PyTorch."""
    if not descending:
        return np.argsort(data, axis=axis, kind="stable")
    # ascending-stable on the reversed array, reversed back: descending with ties in order
    last = data.shape[axis] - 1
    reversed_order = np.argsort(np.flip(data, axis), axis=axis, kind="stable")
    return last - np.flip(reversed_order, axis)


def _along(x: Tensor, name: str, dim: int) -> tuple[Tensor, int]:
    """x (a 0-d tensor as one element) and ``dim`` as a non-negative axis."""
    axis = single_axis(name, x.ndim, dim)
    return (ops.Reshape.apply(x, shape=(1,)) if x.ndim == 0 else x), axis


@dim_aliases
def sort(x: Tensor, dim: int = -1, descending: bool = False, stable: bool = False,
         ) -> ValuesIndices:
    """(values, indices) of x sorted along ``dim`` (ascending unless ``descending``); the sort
    is always stable, so ``stable=True`` changes nothing."""
    flat, axis = _along(x, "sort", dim)
    indices = sorted_indices(flat.data, axis, descending)
    values = ops.Gather.apply(flat, axis=axis, index=indices)
    if x.ndim == 0:
        return ValuesIndices(ops.Reshape.apply(values, shape=()), Tensor._make(np.int64(0)))
    return ValuesIndices(values, Tensor._make(indices.astype(np.int64, copy=False)))


@dim_aliases
def argsort(x: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
    """The indices that sort x along ``dim`` (int64, stable); no gradient."""
    flat, axis = _along(x, "argsort", dim)
    indices = sorted_indices(flat.data, axis, descending).astype(np.int64, copy=False)
    return Tensor._make(indices.reshape(x.shape))


@dim_aliases
def topk(x: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True,  # noqa: A002
         ) -> ValuesIndices:
    """(values, indices) of the k largest (or smallest) elements along ``dim``, in order."""
    flat, axis = _along(x, "topk", dim)
    size = flat.shape[axis]
    if not 0 <= k <= size:
        raise IndexError(f"topk: k={k} is out of range for dim {dim} of size {size}")
    indices = np.take(sorted_indices(flat.data, axis, largest), range(k), axis=axis)
    values = ops.Gather.apply(flat, axis=axis, index=indices)
    if x.ndim == 0:
        shape = () if k else (0,)
        return ValuesIndices(ops.Reshape.apply(values, shape=shape),
                             Tensor._make(indices.reshape(shape).astype(np.int64)))
    return ValuesIndices(values, Tensor._make(indices.astype(np.int64, copy=False)))


@dim_aliases
def kthvalue(x: Tensor, k: int, dim: int = -1, keepdim: bool = False) -> ValuesIndices:
    """(values, indices) of the k-th smallest element along ``dim`` (k counts from 1)."""
    flat, axis = _along(x, "kthvalue", dim)
    size = flat.shape[axis]
    if not 1 <= k <= size:
        raise IndexError(f"kthvalue: k={k} is out of range for dim {dim} of size {size}")
    indices = np.take(sorted_indices(flat.data, axis, False), [k - 1], axis=axis)
    values = ops.Gather.apply(flat, axis=axis, index=indices)
    if x.ndim == 0:
        return ValuesIndices(ops.Reshape.apply(values, shape=()), Tensor._make(np.int64(0)))
    if not keepdim:
        values, indices = squeeze(values, axis), np.squeeze(indices, axis)
    return ValuesIndices(values, Tensor._make(indices.astype(np.int64, copy=False)))
