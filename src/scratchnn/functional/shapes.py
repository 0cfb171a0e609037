"""Shapes and indexing: reshape, squeeze, permute, getitem, cat, stack, ..."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from scratchnn import ops
from scratchnn.functional.args import axes, dim_aliases, shape_arg, single_axis
from scratchnn.tensor import Tensor, as_tensor


def reshape(x: Tensor, *shape: int | Sequence[int]) -> Tensor:
    """The same elements in a new shape; one dim may be -1 (inferred)."""
    requested = shape_arg(shape)
    known = int(np.prod([size for size in requested if size != -1]))
    inferred = [(x.numel() // known if known else 0) if size == -1 else size for size in requested]
    if requested.count(-1) > 1 or int(np.prod(inferred)) != x.numel():
        raise ValueError(f"reshape: cannot reshape a tensor of shape {x.shape} "
                         f"({x.numel()} elements) into {requested}")
    target = tuple(inferred)
    if target == x.shape:
        return x
    return ops.Reshape.apply(x, shape=target)


view = reshape


def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dims start_dim..end_dim into one."""
    if x.ndim == 0:
        return reshape(x, 1)
    start, end = axes("flatten", x.ndim, (start_dim, end_dim))
    merged = int(np.prod(x.shape[start:end + 1]))
    return reshape(x, x.shape[:start] + (merged,) + x.shape[end + 1:])


@dim_aliases
def squeeze(x: Tensor, dim: int | None = None) -> Tensor:
    """Drop size-1 dims (all of them, or ``dim`` if it has size 1)."""
    if dim is None:
        return reshape(x, tuple(size for size in x.shape if size != 1))
    axis = single_axis("squeeze", x.ndim, dim)
    if x.ndim == 0 or x.shape[axis] != 1:
        return x
    return reshape(x, x.shape[:axis] + x.shape[axis + 1:])


@dim_aliases
def unsqueeze(x: Tensor, dim: int) -> Tensor:
    """Insert a size-1 dim at ``dim`` (counted in the result's dims)."""
    axis = single_axis("unsqueeze", x.ndim + 1, dim)
    return reshape(x, x.shape[:axis] + (1,) + x.shape[axis:])


def permute(x: Tensor, *dims: int | Sequence[int]) -> Tensor:
    """The dims reordered: result dim i is input dim ``dims[i]``."""
    order = shape_arg(dims)
    chosen = axes("permute", x.ndim, order)
    if sorted(chosen) != list(range(x.ndim)):
        raise ValueError(f"permute: {order} is not a permutation of the {x.ndim} dims")
    return ops.Permute.apply(x, axes=chosen)


def transpose(x: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swap two dims."""
    order = list(range(x.ndim))
    first, second = axes("transpose", x.ndim, (dim0, dim1))
    if x.ndim < 2:
        return x
    order[first], order[second] = order[second], order[first]
    return ops.Permute.apply(x, axes=tuple(order))


def reversed_dims(x: Tensor) -> Tensor:
    """All dims in reverse order (``x.T``)."""
    return ops.Permute.apply(x, axes=tuple(reversed(range(x.ndim))))


def getitem(x: Tensor, index: Any) -> Tensor:
    """x[index]: slices, integers, None, Ellipsis, boolean masks and integer arrays."""
    if isinstance(index, Tensor):
        index = index.data
    elif isinstance(index, tuple):
        index = tuple(part.data if isinstance(part, Tensor) else part for part in index)
    elif isinstance(index, list):
        index = np.asarray(index)
    try:
        return ops.GetItem.apply(x, index=index)
    except (IndexError, ValueError) as error:
        raise IndexError(f"index {index!r} is invalid for a tensor of shape {x.shape}: "
                         f"{error}") from None


def index_put(x: Tensor, index: Any, value: Any) -> Tensor:
    """A copy of x with ``x[index] = value`` (value broadcast to ``x[index]``'s shape); what
    ``x[index] = value`` records when gradients flow."""
    if isinstance(index, Tensor):
        index = index.data
    elif isinstance(index, tuple):
        index = tuple(part.data if isinstance(part, Tensor) else part for part in index)
    value = as_tensor(value, like=x)
    if value.dtype != x.dtype:
        value = Tensor._make(value.data.astype(x.dtype)) if not value.requires_grad else (
            ops.Cast.apply(value, dtype=x.dtype))
    try:
        return ops.IndexPut.apply(x, value, index=index)
    except (IndexError, ValueError) as error:
        raise IndexError(f"index {index!r} is invalid for a tensor of shape {x.shape}: "
                         f"{error}") from None


@dim_aliases
def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join tensors along an existing dim."""
    tensors = [as_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("cat: expected a non-empty sequence of tensors")
    chosen = single_axis("cat", tensors[0].ndim, dim)
    return ops.Cat.apply(*tensors, axis=chosen)


concatenate = cat


@dim_aliases
def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join same-shaped tensors along a new dim."""
    tensors = [as_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("stack: expected a non-empty sequence of tensors")
    # the new dim is one of the result's ndim + 1 (a negative dim counts from its end)
    chosen = single_axis("stack", tensors[0].ndim + 1, dim)
    return ops.Stack.apply(*tensors, axis=chosen)
