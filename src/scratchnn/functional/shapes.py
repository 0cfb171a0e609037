"""Shapes and indexing: reshape, squeeze, permute, getitem, cat, stack, ..."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from scratchnn import ops
from scratchnn.functional.args import axes, dim_aliases, shape_arg, single_axis
from scratchnn.ops.shape import Expand, Flip, Repeat
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


def _is_integer(part: Any) -> bool:
    return isinstance(part, int | np.integer) and not isinstance(part, bool | np.bool_)


def split_integers(index: Any, ndim: int) -> tuple[tuple, tuple] | None:
    """For an index mixing integers with index arrays (``x[0, :, [1, 2]]``): the integers
    alone (slices elsewhere) and the rest. PyTorch applies the integers first, so the array
    dims stay where the arrays are; NumPy would move them to the front. None otherwise."""
    if not isinstance(index, tuple) or not any(_is_integer(part) for part in index):
        return None
    arrays = [np.ndim(part) for part in index if isinstance(part, np.ndarray | list)]
    if not any(arrays):
        return None

    def consumed(part: Any) -> int:  # how many of x's dims an index part uses
        if part is None or part is Ellipsis:
            return 0
        if isinstance(part, np.ndarray | list) and np.asarray(part).dtype == np.bool_:
            return np.ndim(part)
        return 1

    rest_dims = ndim - sum(consumed(part) for part in index)
    select: list[Any] = []
    for part in index:
        if _is_integer(part):
            select.append(part)
        elif part is Ellipsis:
            select.extend([slice(None)] * rest_dims)
        else:
            select.extend([slice(None)] * consumed(part))
    rest = tuple(part for part in index if not _is_integer(part))
    return tuple(select), rest


def getitem(x: Tensor, index: Any) -> Tensor:
    """x[index]: slices, integers, None, Ellipsis, boolean masks and integer arrays."""
    if isinstance(index, Tensor):
        index = index.data
    elif isinstance(index, tuple):
        index = tuple(part.data if isinstance(part, Tensor) else part for part in index)
    elif isinstance(index, list):
        index = np.asarray(index)
    try:
        split = split_integers(index, x.ndim)
        if split is not None:  # PyTorch: the integers select first, then the arrays index
            return ops.GetItem.apply(ops.GetItem.apply(x, index=split[0]), index=split[1])
        return ops.GetItem.apply(x, index=index)
    except (IndexError, ValueError) as error:
        raise IndexError(f"index {index!r} is invalid for a tensor of shape {x.shape}: "
                         f"{error}") from None


def torch_index_target(array: np.ndarray, index: Any) -> tuple[np.ndarray, Any]:
    """Where ``array[index] = value`` writes, PyTorch's way: for an index that mixes integers
    with index arrays, the view the integers select and the rest of the index (so the arrays'
    dims stay in place); otherwise ``array`` and ``index`` unchanged."""
    split = split_integers(index, array.ndim)
    if split is None:
        return array, index
    select, rest = split
    return array[select], rest


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
    split = split_integers(index, x.ndim)
    select, index = (None, index) if split is None else split
    try:
        return ops.IndexPut.apply(x, value, index=index, select=select)
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


def view_as(x: Tensor, other: Tensor) -> Tensor:
    """x reshaped to ``other``'s shape."""
    return reshape(x, other.shape)


def expand(x: Tensor, *sizes: int | Sequence[int]) -> Tensor:
    """x broadcast to ``sizes`` without copying (-1 keeps a dim's size; new dims go in
    front); the gradient sums over the copies."""
    requested = shape_arg(sizes)
    extra = len(requested) - x.ndim
    if extra < 0:
        raise ValueError(f"expand: the number of sizes ({len(requested)}) must be at least the "
                         f"tensor's number of dims ({x.ndim})")
    target = []
    for position, size in enumerate(requested):
        own = x.shape[position - extra] if position >= extra else None
        if size == -1:
            if own is None:
                raise ValueError(f"expand: -1 is not allowed for the new leading dim {position}")
            size = own
        if own is not None and own != 1 and own != size:
            raise ValueError(f"expand: the size of dim {position - extra} ({own}) must match "
                             f"the expanded size {size} unless it is 1 (shape {x.shape} to "
                             f"{requested})")
        target.append(size)
    if tuple(target) == x.shape:
        return x
    return Expand.apply(x, shape=tuple(target))


def expand_as(x: Tensor, other: Tensor) -> Tensor:
    """x broadcast to ``other``'s shape."""
    return expand(x, other.shape)


def repeat(x: Tensor, *repeats: int | Sequence[int]) -> Tensor:
    """x tiled ``repeats[i]`` times along dim i (copies; like np.tile)."""
    counts = shape_arg(repeats)
    if len(counts) < x.ndim:
        raise ValueError(f"repeat: the number of repeats ({len(counts)}) must be at least the "
                         f"tensor's number of dims ({x.ndim})")
    if any(count < 0 for count in counts):
        raise ValueError(f"repeat: repeats must be non-negative, got {counts}")
    return Repeat.apply(x, repeats=counts)


def t(x: Tensor) -> Tensor:
    """The transpose of a matrix (a tensor with at most 2 dims; 0-d and 1-d stay as they are)."""
    if x.ndim > 2:
        raise ValueError(f"t: expects a tensor with at most 2 dims, got {x.ndim} (shape "
                         f"{x.shape}); use transpose(dim0, dim1) or permute")
    return reversed_dims(x)


def narrow(x: Tensor, dim: int, start: int, length: int) -> Tensor:
    """x[..., start:start + length, ...] along ``dim`` (a view); start may be negative."""
    axis = single_axis("narrow", x.ndim, dim)
    size = x.shape[axis]
    first = start + size if start < 0 else start
    if not 0 <= first <= size or length < 0 or first + length > size:
        raise IndexError(f"narrow: start {start} and length {length} are out of range for dim "
                         f"{dim} of size {size}")
    return ops.GetItem.apply(x, index=(slice(None),) * axis + (slice(first, first + length),))


@dim_aliases
def split(x: Tensor, split_size_or_sections: int | Sequence[int], dim: int = 0,
          ) -> tuple[Tensor, ...]:
    """x cut along ``dim`` into pieces of ``split_size`` (the last may be smaller), or of the
    listed sizes (which must add up to the dim's size). Each piece is a view."""
    axis = single_axis("split", x.ndim, dim)
    size = x.shape[axis]
    if isinstance(split_size_or_sections, int | np.integer):
        step = int(split_size_or_sections)
        if step <= 0 and size > 0:
            raise ValueError(f"split: split_size must be positive, got {step}")
        sizes = [min(step, size - begin) for begin in range(0, size, step)] if size else [0]
    else:
        sizes = [int(piece) for piece in split_size_or_sections]
        if sum(sizes) != size or any(piece < 0 for piece in sizes):
            raise ValueError(f"split: sizes {sizes} do not add up to the size {size} of dim "
                             f"{dim}")
    pieces, begin = [], 0
    for piece in sizes:
        pieces.append(narrow(x, axis, begin, piece))
        begin += piece
    return tuple(pieces)


@dim_aliases
def chunk(x: Tensor, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    """x cut along ``dim`` into ``chunks`` views of ceil(size / chunks) elements each (the
    last smaller; fewer chunks when the size does not allow more), as torch.chunk."""
    if chunks <= 0:
        raise ValueError(f"chunk: chunks must be positive, got {chunks}")
    axis = single_axis("chunk", x.ndim, dim)
    size = x.shape[axis]
    if size == 0:
        return tuple(narrow(x, axis, 0, 0) for _ in range(chunks))
    return split(x, -(-size // chunks), axis)


def flip(x: Tensor, *dims: int | Sequence[int]) -> Tensor:
    """x reversed along ``dims`` (a copy, as in PyTorch)."""
    chosen = axes("flip", x.ndim, shape_arg(dims))
    if x.ndim == 0:
        return Flip.apply(x, axes=())
    return Flip.apply(x, axes=chosen)
