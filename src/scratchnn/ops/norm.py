"""Normalization layers' ops (BatchNorm, LayerNorm, GroupNorm) and Embedding, each with its
backward in closed form.

All three norms standardise ``x`` over some axes R (m = the number of elements in R),
``xhat = (x - mean_R x) / sqrt(var_R x + eps)`` (biased variance), then scale and shift.
With ``d = dL/dxhat`` (the upstream gradient times the scale), the chain rule through the
mean and the variance collapses to

    dx = (1 / sqrt(var + eps)) * (d - mean_R d - xhat * mean_R(d * xhat))

(one pass for the two means, no m-by-m Jacobian). The affine parameters get
``dweight = sum(g * xhat)``, ``dbias = sum(g)`` over every axis they are broadcast along.
"""

from __future__ import annotations

import numpy as np

from scratchnn.tensor import Function


def _standardise(x: np.ndarray, axes: tuple[int, ...], eps: float) -> tuple[np.ndarray, ...]:
    """(xhat, inv_std, mean, biased var) over ``axes`` (kept as size-1 dims)."""
    mean = x.mean(axis=axes, keepdims=True)
    centred = x - mean
    var = np.mean(np.square(centred), axis=axes, keepdims=True)
    inv_std = 1.0 / np.sqrt(var + eps)
    centred *= inv_std
    return centred, inv_std.astype(x.dtype, copy=False), mean, var


def _standardise_backward(d: np.ndarray, xhat: np.ndarray, inv_std: np.ndarray,
                          axes: tuple[int, ...]) -> np.ndarray:
    """dx from d = dL/dxhat: inv_std * (d - mean(d) - xhat * mean(d * xhat)) over ``axes``."""
    mean_d = d.mean(axis=axes, keepdims=True)
    mean_dx = np.mean(d * xhat, axis=axes, keepdims=True)
    grad = d - mean_d
    grad -= xhat * mean_dx
    grad *= inv_std
    return grad


def _channel_shape(x: np.ndarray) -> tuple[int, ...]:
    """(1, C, 1, ..., 1): how a per-channel vector broadcasts against x (N, C, *)."""
    return (1, x.shape[1]) + (1,) * (x.ndim - 2)


class BatchNorm(Function):
    """Batch normalization over every axis but the channel axis 1: x (N, C, *) ->
    y = xhat * weight[c] + bias[c].

    Training (``training=True``): batch statistics; the running buffers (given as
    ``running_mean``/``running_var`` arrays) are updated in place,
    ``r = (1 - momentum) r + momentum * stat`` with the *unbiased* batch variance, as in
    PyTorch. dx by the closed form of the module docstring.
    Evaluation: ``xhat = (x - running_mean) / sqrt(running_var + eps)``, a fixed per-channel
    affine map, so dx = g * weight / sqrt(running_var + eps).
    Inputs: x, then weight and bias when affine (both or neither).
    """

    saves_inputs = False  # keeps xhat (a new array), not x

    def forward(self, x, weight=None, bias=None, running_mean=None, running_var=None,
                training=True, momentum=0.1, eps=1e-5):
        axes = (0,) + tuple(range(2, x.ndim))
        shape = _channel_shape(x)
        if training:
            xhat, inv_std, mean, var = _standardise(x, axes, eps)
            count = x.size // x.shape[1]
            if running_mean is not None:
                running_mean *= 1 - momentum
                running_mean += momentum * mean.reshape(-1)
            if running_var is not None:
                unbiased = var.reshape(-1) * (count / max(count - 1, 1))
                running_var *= 1 - momentum
                running_var += momentum * unbiased
        else:
            inv_std = (1.0 / np.sqrt(running_var + eps)).astype(x.dtype).reshape(shape)
            xhat = (x - running_mean.astype(x.dtype).reshape(shape)) * inv_std
        self.saved = (xhat, inv_std, weight, axes, training)
        if weight is None:
            return xhat
        out = xhat * weight.reshape(shape)
        out += bias.reshape(shape)
        return out

    def backward(self, grad_output):
        xhat, inv_std, weight, axes, training = self.saved
        needs = self.needs_input_grad
        shape = _channel_shape(xhat)
        grad_x = grad_w = grad_b = None
        if needs[0]:
            d = grad_output if weight is None else grad_output * weight.reshape(shape)
            grad_x = _standardise_backward(d, xhat, inv_std, axes) if training else d * inv_std
        if len(needs) > 1 and needs[1]:
            grad_w = np.sum(grad_output * xhat, axis=axes)
        if len(needs) > 2 and needs[2]:
            grad_b = np.sum(grad_output, axis=axes)
        return grad_x, grad_w, grad_b


class LayerNorm(Function):
    """Layer normalization over the last ``n_dims`` axes: y = xhat * weight + bias, weight and
    bias of the normalized shape (optional: the inputs are x, [weight, [bias]]).
    dx by the closed form; dweight = sum(g * xhat), dbias = sum(g) over the leading axes."""

    saves_inputs = False

    def forward(self, x, weight=None, bias=None, n_dims=1, eps=1e-5):
        axes = tuple(range(x.ndim - n_dims, x.ndim))
        xhat, inv_std, _, _ = _standardise(x, axes, eps)
        self.saved = (xhat, inv_std, weight, axes)
        if weight is None:
            return xhat
        out = xhat * weight
        if bias is not None:
            out += bias
        return out

    def backward(self, grad_output):
        xhat, inv_std, weight, axes = self.saved
        needs = self.needs_input_grad
        leading = tuple(range(xhat.ndim - len(axes)))
        grad_x = grad_w = grad_b = None
        if needs[0]:
            d = grad_output if weight is None else grad_output * weight
            grad_x = _standardise_backward(d, xhat, inv_std, axes)
        if len(needs) > 1 and needs[1]:
            grad_w = np.sum(grad_output * xhat, axis=leading)
        if len(needs) > 2 and needs[2]:
            grad_b = np.sum(grad_output, axis=leading)
        return grad_x, grad_w, grad_b


class GroupNorm(Function):
    """Group normalization: x (N, C, *) split into G groups of C/G channels, each (sample,
    group) standardised over its channels and positions, then y = xhat * weight[c] + bias[c].
    dx by the closed form on the (N, G, rest) view."""

    saves_inputs = False

    def forward(self, x, weight=None, bias=None, num_groups=1, eps=1e-5):
        grouped = x.reshape(x.shape[0], num_groups, -1)
        xhat, inv_std, _, _ = _standardise(grouped, (2,), eps)
        xhat = xhat.reshape(x.shape)
        self.saved = (xhat, inv_std, weight, num_groups)
        if weight is None:
            return xhat
        shape = _channel_shape(x)
        out = xhat * weight.reshape(shape)
        if bias is not None:
            out += bias.reshape(shape)
        return out

    def backward(self, grad_output):
        xhat, inv_std, weight, num_groups = self.saved
        needs = self.needs_input_grad
        shape = _channel_shape(xhat)
        axes = (0,) + tuple(range(2, xhat.ndim))
        grad_x = grad_w = grad_b = None
        if needs[0]:
            d = grad_output if weight is None else grad_output * weight.reshape(shape)
            n = xhat.shape[0]
            grad_x = _standardise_backward(
                d.reshape(n, num_groups, -1), xhat.reshape(n, num_groups, -1), inv_std, (2,)
            ).reshape(xhat.shape)
        if len(needs) > 1 and needs[1]:
            grad_w = np.sum(grad_output * xhat, axis=axes)
        if len(needs) > 2 and needs[2]:
            grad_b = np.sum(grad_output, axis=axes)
        return grad_x, grad_w, grad_b


class Embedding(Function):
    """out = weight[indices]: rows of the table, shape indices.shape + (embedding_dim,).
    dweight: each row's gradients summed over every place it was looked up
    (``np.add.at``), except the ``padding_idx`` row, which gets none."""

    saves_inputs = False

    def forward(self, weight, indices=None, padding_idx=None):
        self.saved = (indices, weight.shape, padding_idx)
        return weight[indices]

    def backward(self, grad_output):
        indices, shape, padding_idx = self.saved
        grad = np.zeros(shape, dtype=grad_output.dtype)
        np.add.at(grad, indices.reshape(-1), grad_output.reshape(-1, shape[1]))
        if padding_idx is not None:
            grad[padding_idx] = 0
        return grad
