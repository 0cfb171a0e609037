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
    # reduced over every axis, the output (shape () or all 1s) broadcasts as it is
    grad[...] = grad_output if axis is None else grad_output.reshape(kept_shape(shape, axis))
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
        if a.size == 0:  # the mean of nothing is nan, as in PyTorch (without NumPy's warning)
            with np.errstate(invalid="ignore"):
                out = a.sum(axis=axis, keepdims=keepdims) / a.dtype.type(0)
            self.saved = (a.shape, axis, 0)
            return out
        out = a.mean(axis=axis, keepdims=keepdims)
        self.saved = (a.shape, axis, a.size // max(np.size(out), 1))
        return out

    def backward(self, grad_output):
        shape, axis, count = self.saved
        if count == 0:  # a was empty: so is its gradient
            return np.zeros(shape, dtype=grad_output.dtype)
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
        if a.size == 0:  # nothing to normalise (and no maximum to shift by)
            self.saved = (a.copy(), axis)
            return self.saved[0]
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
        if a.size == 0:  # nothing to normalise (and no maximum to shift by)
            self.saved = (a.copy(), axis)
            return self.saved[0]
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


class Prod(Function):
    """out = product of a over ``axis`` (one axis, or all when None);
    da_i = g * product of the other elements (exact where some a_j = 0: no division)."""

    def forward(self, a, axis=None, keepdims=False, dtype=None):
        self.saved = (a, axis)
        return np.prod(a, axis=axis, keepdims=keepdims, dtype=dtype)

    def backward(self, grad_output):
        a, axis = self.saved
        values = a.reshape(-1) if axis is None else a
        along = 0 if axis is None else axis
        n = values.shape[along]
        ones = np.ones_like(np.take(values, [0], axis=along)) if n else values
        # product of the elements before i and of those after i, along the axis
        before = np.cumprod(np.concatenate([ones, np.take(values, range(n - 1), axis=along)],
                                           axis=along), axis=along) if n else values
        after = np.flip(np.cumprod(np.flip(np.concatenate(
            [np.take(values, range(1, n), axis=along), ones], axis=along), along), axis=along),
            along) if n else values
        others = (before * after).reshape(a.shape)
        return others * np.reshape(grad_output, kept_shape(a.shape, (along,) if axis is not None
                                                           else None))


class Cumsum(Function):
    """out_i = a_0 + ... + a_i along ``axis``;  da_i = g_i + ... + g_last (reversed cumsum)."""

    saves_inputs = False

    def forward(self, a, axis=0, dtype=None):
        self.saved = (axis, a.dtype)
        return np.cumsum(a, axis=axis, dtype=dtype)

    def backward(self, grad_output):
        axis, dtype = self.saved
        flipped = np.flip(grad_output, axis)
        return np.flip(np.cumsum(flipped, axis=axis), axis).astype(dtype, copy=False)


class Var(Function):
    """out = sum((a - mean a)**2) / (n - correction) over ``axis`` (n elements reduced);
    da = g * 2 (a - mean a) / (n - correction)."""

    saves_inputs = False

    def forward(self, a, axis=None, correction=1, keepdims=False):
        count = int(np.prod([a.shape[i] for i in axis])) if axis is not None else a.size
        divisor = max(count - correction, 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            centred = a - a.sum(axis=axis, keepdims=True) / a.dtype.type(count)
            out = (centred * centred).sum(axis=axis, keepdims=keepdims) / a.dtype.type(divisor)
        self.saved = (centred, axis, divisor)
        return out

    def backward(self, grad_output):
        centred, axis, divisor = self.saved
        kept = np.reshape(grad_output, kept_shape(centred.shape, axis))
        with np.errstate(divide="ignore", invalid="ignore"):
            return kept * (2 / centred.dtype.type(divisor)) * centred


class Std(Function):
    """out = sqrt(var a) over ``axis`` (see Var);  da = g (a - mean a) / ((n - correction) out),
    0 where out = 0 (PyTorch's choice; sqrt'(0) is infinite)."""

    saves_inputs = False
    saves_output = True

    def forward(self, a, axis=None, correction=1, keepdims=False):
        variance = Var()
        out = np.sqrt(variance.forward(a, axis=axis, correction=correction, keepdims=True))
        centred, _, divisor = variance.saved
        self.saved = (centred, out, divisor)
        return out if keepdims else np.squeeze(out, axis=axis)

    def backward(self, grad_output):
        centred, out, divisor = self.saved
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.reshape(grad_output, out.shape) / (centred.dtype.type(divisor) * out)
        return np.where(out == 0, 0, scale) * centred


class Norm(Function):
    """out = (sum |a|**p)**(1/p) over ``axis`` (p = inf: max |a|, -inf: min |a|, 0: count of
    non-zeros);  da = g * sign(a) |a|**(p-1) / out**(p-1)  (p = 2: g * a / out), 0 where
    out = 0 or a = 0; p = +-inf: g * sign(a) shared evenly by the elements reaching out;
    p = 0: 0."""

    saves_output = True

    def forward(self, a, p=2.0, axis=None, keepdims=False):
        magnitude = np.abs(a)
        if p == 2:
            out = np.sqrt((a * a).sum(axis=axis, keepdims=True))
        elif p == np.inf:
            out = magnitude.max(axis=axis, keepdims=True)
        elif p == -np.inf:
            out = magnitude.min(axis=axis, keepdims=True)
        elif p == 0:
            out = (a != 0).sum(axis=axis, keepdims=True).astype(a.dtype)
        elif p == 1:
            out = magnitude.sum(axis=axis, keepdims=True)
        else:
            with np.errstate(divide="ignore", over="ignore"):
                out = (magnitude**p).sum(axis=axis, keepdims=True) ** (1 / p)
        self.saved = (a, out, p, axis)
        return out if keepdims else np.squeeze(out, axis=axis)

    def backward(self, grad_output):
        a, out, p, axis = self.saved
        grad = np.reshape(grad_output, out.shape)
        if p == 0:
            return np.zeros_like(a)
        if p == 1:
            return grad * np.sign(a)
        if p in (np.inf, -np.inf):
            reaching = np.abs(a) == out
            return grad * np.sign(a) * reaching / reaching.sum(axis=axis, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            if p == 2:
                scaled = a / out
            else:
                scaled = np.sign(a) * np.abs(a) ** (p - 1) / out ** (p - 1)
        return grad * np.where((out == 0) | (a == 0), 0, scaled)
