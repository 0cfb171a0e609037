"""Matrix products: the ops where a network spends its time."""

from __future__ import annotations

import numpy as np

from scratchnn.tensor import Function


class MatMul(Function):
    """out = a @ b (NumPy/PyTorch rules: batched over leading axes, which broadcast; a 1-D
    operand is a row (a) or a column (b) vector whose extra axis is dropped).

    da = g @ b^T,  db = a^T @ g  (seed 003, eq 7), then summed over broadcast batch axes.
    """

    def forward(self, a, b):
        self.saved = (a, b)
        return np.matmul(a, b)

    def backward(self, grad_output):
        a, b = self.saved
        a_matrix = a[np.newaxis, :] if a.ndim == 1 else a
        b_matrix = b[:, np.newaxis] if b.ndim == 1 else b
        grad = grad_output
        if b.ndim == 1:  # first, so that 1-D @ 1-D (a 0-d output) becomes a (1, 1) matrix
            grad = np.expand_dims(grad, -1)
        if a.ndim == 1:
            grad = np.expand_dims(grad, -2)
        grad_a = grad_b = None
        if self.needs_input_grad[0]:
            grad_a = np.matmul(grad, np.swapaxes(b_matrix, -1, -2))
            if a.ndim == 1:
                grad_a = np.squeeze(grad_a, -2)
        if self.needs_input_grad[1]:
            grad_b = np.matmul(np.swapaxes(a_matrix, -1, -2), grad)
            if b.ndim == 1:
                grad_b = np.squeeze(grad_b, -1)
        return grad_a, grad_b


class Linear(Function):
    """out = x @ W^T + b, with W of shape (out_features, in_features) as in PyTorch.

    x: (..., in), W: (out, in), b: (out,) -> out: (..., out).
    dx = g @ W,  dW = g^T @ x,  db = sum of g over the batch (seed 003, eqs 7 and 8).
    One op instead of matmul + add: no broadcast bias gradient to unbroadcast, and dx is
    skipped when x needs no gradient (a network's input never does).
    """

    def forward(self, x, weight, bias=None):
        self.saved = (x, weight)
        out = np.matmul(x, weight.T)
        if bias is not None:
            out += bias
        return out

    def backward(self, grad_output):
        x, weight = self.saved
        needs = self.needs_input_grad
        grad_x = np.matmul(grad_output, weight) if needs[0] else None
        if x.ndim != 2:  # (..., in) batches: every leading position is one more row
            x, grad_output = x.reshape(-1, x.shape[-1]), grad_output.reshape(-1, weight.shape[0])
        grad_weight = np.matmul(grad_output.T, x) if needs[1] else None
        grad_bias = grad_output.sum(axis=0) if len(needs) > 2 and needs[2] else None
        return grad_x, grad_weight, grad_bias
