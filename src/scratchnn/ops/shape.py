"""Ops that move elements around without changing them: their backward moves the gradient
back to where each element came from."""

from __future__ import annotations

import numpy as np

from scratchnn.tensor import Function


class Reshape(Function):
    """out = a with a new shape;  da = g reshaped back."""

    saves_inputs = False
    is_view = True

    def forward(self, a, shape=None):
        self.saved = a.shape
        return a.reshape(shape)

    def backward(self, grad_output):
        return grad_output.reshape(self.saved)


class Permute(Function):
    """out = a with its axes reordered (``transpose``, ``.T``);  da = g with the inverse order."""

    saves_inputs = False
    is_view = True

    def forward(self, a, axes=None):
        self.saved = np.argsort(axes)
        return np.transpose(a, axes)

    def backward(self, grad_output):
        return np.transpose(grad_output, self.saved)


class GetItem(Function):
    """out = a[index];  da = zeros with g added at the indexed positions.

    Integer-array indices may repeat a position; ``np.add.at`` then adds every copy's
    gradient (a plain ``grad[index] = g`` would keep only the last).
    """

    saves_inputs = False
    is_view = True

    def forward(self, a, index=None):
        self.saved = (a.shape, index)
        return a[index]

    def backward(self, grad_output):
        shape, index = self.saved
        grad = np.zeros(shape, dtype=grad_output.dtype)
        parts = index if isinstance(index, tuple) else (index,)
        if any(isinstance(part, np.ndarray | list) for part in parts):
            np.add.at(grad, index, grad_output)
        else:
            grad[index] = grad_output
        return grad


class Cat(Function):
    """out = the inputs joined along ``axis``;  d(input k) = the slice of g it came from."""

    saves_inputs = False

    def forward(self, *arrays, axis=0):
        self.saved = (np.cumsum([array.shape[axis] for array in arrays])[:-1], axis)
        return np.concatenate(arrays, axis=axis)

    def backward(self, grad_output):
        offsets, axis = self.saved
        return tuple(np.split(grad_output, offsets, axis=axis))


class Stack(Function):
    """out = the inputs stacked along a new ``axis``;  d(input k) = g[..., k, ...]."""

    saves_inputs = False

    def forward(self, *arrays, axis=0):
        self.saved = axis
        return np.stack(arrays, axis=axis)

    def backward(self, grad_output):
        return tuple(np.moveaxis(grad_output, self.saved, 0))


class Expand(Function):
    """out = a broadcast to ``shape`` (a read-only view, no copy);  da = g summed over the
    broadcast dims (the engine's ``unbroadcast``)."""

    saves_inputs = False
    is_view = True

    def forward(self, a, shape=None):
        return np.broadcast_to(a, shape)

    def backward(self, grad_output):
        return grad_output


class Repeat(Function):
    """out = a tiled ``repeats[i]`` times along dim i (torch.repeat, np.tile; a gets leading
    1-dims first when ``repeats`` is longer);  da = g summed over the copies."""

    saves_inputs = False

    def forward(self, a, repeats=None):
        shape = (1,) * (len(repeats) - a.ndim) + a.shape
        self.saved = (a.shape, shape, repeats)
        return np.tile(a.reshape(shape), repeats)

    def backward(self, grad_output):
        original, shape, repeats = self.saved
        # (r0 * s0, r1 * s1, ...) -> (r0, s0, r1, s1, ...), then sum over every r
        split = [size for pair in zip(repeats, shape, strict=True) for size in pair]
        summed = grad_output.reshape(split).sum(axis=tuple(range(0, len(split), 2)))
        return summed.reshape(original)


class Flip(Function):
    """out = a reversed along ``axes`` (a copy, as torch.flip);  da = g reversed likewise."""

    saves_inputs = False

    def forward(self, a, axes=None):
        self.saved = axes
        return np.flip(a, axes).copy()

    def backward(self, grad_output):
        return np.flip(grad_output, self.saved)
