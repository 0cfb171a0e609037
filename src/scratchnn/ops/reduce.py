"""Reductions and the ops that normalise along an axis (softmax, log-softmax).

``axis`` is ``None`` (all axes) or a tuple of non-negative axes; ``F`` normalises ``dim``.
A reduction's backward spreads the output gradient back over the axes it removed.
"""

from __future__ import annotations

import numpy as np

from scratchnn.tensor import Function


def kept_shape(shape, axis):
    """The reduction's output shape with keepdims=True: 1 along each reduced axis."""
    if axis is None:
        return (1,) * len(shape)
    return tuple(1 if i in axis else size for i, size in enumerate(shape))


def spread(grad_output, shape, axis):
    """A new ``shape`` array holding the reduction's output gradient at every position that
    was reduced over (the backward of a sum)."""
    grad = np.empty(shape, dtype=grad_output.dtype)
    grad[...] = np.reshape(grad_output, kept_shape(shape, axis))
    return grad


class Sum(Function):
    """out = sum of a over ``axis``;  da = g copied to every summed position."""

    saves_inputs = False

    def forward(self, a, axis=None, keepdims=False):
        self.saved = (a.shape, axis)
        return a.sum(axis=axis, keepdims=keepdims)

    def backward(self, grad_output):
        shape, axis = self.saved
        return spread(grad_output, shape, axis)


class Mean(Function):
    """out = sum of a over ``axis`` / n;  da = g / n at every averaged position."""

    saves_inputs = False

    def forward(self, a, axis=None, keepdims=False):
        out = a.mean(axis=axis, keepdims=keepdims)
        self.saved = (a.shape, axis, a.size // max(np.size(out), 1))
        return out

    def backward(self, grad_output):
        shape, axis, count = self.saved
        return spread(grad_output / count, shape, axis)


class Amax(Function):
    """out = max of a over ``axis``;  da = g at the maximal positions (shared evenly by ties)."""

    saves_output = True

    reduce = staticmethod(np.max)

    def forward(self, a, axis=None, keepdims=False):
        extreme = self.reduce(a, axis=axis, keepdims=True)
        self.saved = (a, extreme, axis)
        return extreme if keepdims else np.squeeze(extreme, axis=axis)

    def backward(self, grad_output):
        a, extreme, axis = self.saved
        is_extreme = a == extreme
        ties = is_extreme.sum(axis=axis, keepdims=True)
        return is_extreme * (np.reshape(grad_output, extreme.shape) / ties)


class Amin(Amax):
    """out = min of a over ``axis``;  da = g at the minimal positions (shared evenly by ties)."""

    reduce = staticmethod(np.min)


class Softmax(Function):
    """out_i = e**a_i / sum_j e**a_j along ``axis``;  da = out * (g - sum(g * out)).

    Shifting a by its maximum first changes nothing mathematically and keeps e**a finite.
    """

    saves_inputs = False
    saves_output = True

    def forward(self, a, axis=-1):
        exps = np.exp(a - a.max(axis=axis, keepdims=True))
        out = exps / exps.sum(axis=axis, keepdims=True)
        self.saved = (out, axis)
        return out

    def backward(self, grad_output):
        out, axis = self.saved
        return out * (grad_output - (grad_output * out).sum(axis=axis, keepdims=True))


class LogSoftmax(Function):
    """out = a - logsumexp(a) along ``axis``;  da = g - softmax(a) * sum(g).

    logsumexp(a) = max(a) + log(sum e**(a - max(a))) never overflows.
    """

    saves_inputs = False
    saves_output = True

    def forward(self, a, axis=-1):
        shifted = a - a.max(axis=axis, keepdims=True)
        out = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
        self.saved = (out, axis)
        return out

    def backward(self, grad_output):
        out, axis = self.saved
        return grad_output - np.exp(out) * grad_output.sum(axis=axis, keepdims=True)


class Gather(Function):
    """out[..., i, ...] = a[..., index[..., i, ...], ...] along ``axis`` (torch.gather);
    da = g scatter-added to the gathered positions."""

    saves_inputs = False

    def forward(self, a, axis=0, index=None):
        # index[..., i, ...] along ``axis``, the element's own position along the others: the
        # output has index's shape, which may be smaller than a's off ``axis`` (as in PyTorch;
        # np.take_along_axis would broadcast instead)
        positions = list(np.ix_(*[np.arange(size) for size in index.shape]))
        positions[axis] = index
        self.saved = (a.shape, tuple(positions))
        return a[tuple(positions)]

    def backward(self, grad_output):
        shape, positions = self.saved
        grad = np.zeros(shape, dtype=grad_output.dtype)
        np.add.at(grad, positions, grad_output)
        return grad
