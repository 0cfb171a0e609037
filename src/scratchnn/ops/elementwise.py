"""Elementwise ops: each output element depends on the same-position input elements.

Binary ops broadcast their operands (NumPy rules); their backward returns gradients in the
broadcast shape and the engine sums them back to each operand's shape (``unbroadcast``).
"""

from __future__ import annotations

import numpy as np

from scratchnn.tensor import Function


class Add(Function):
    """out = a + b;  da = g,  db = g."""

    def forward(self, a, b):
        return a + b

    def backward(self, grad_output):
        return grad_output, grad_output


class Sub(Function):
    """out = a - b;  da = g,  db = -g."""

    def forward(self, a, b):
        return a - b

    def backward(self, grad_output):
        grad_b = -grad_output if self.needs_input_grad[1] else None
        return grad_output, grad_b


class Mul(Function):
    """out = a * b;  da = g * b,  db = g * a."""

    def forward(self, a, b):
        self.saved = (a, b)
        return a * b

    def backward(self, grad_output):
        a, b = self.saved
        grad_a = grad_output * b if self.needs_input_grad[0] else None
        grad_b = grad_output * a if self.needs_input_grad[1] else None
        return grad_a, grad_b


class Div(Function):
    """out = a / b;  da = g / b,  db = -g * a / b**2 = -g * out / b."""

    saves_output = True

    def forward(self, a, b):
        out = a / b
        self.saved = (b, out)
        return out

    def backward(self, grad_output):
        b, out = self.saved
        grad_a = grad_output / b if self.needs_input_grad[0] else None
        grad_b = -grad_output * out / b if self.needs_input_grad[1] else None
        return grad_a, grad_b


class Pow(Function):
    """out = a ** b;  da = g * b * a**(b-1),  db = g * out * log(a).

    At a = 0, PyTorch's conventions: da = 0 where b = 0 (d/da a**0 = 0, not 0 * 0**-1 = nan),
    and db = 0 where b >= 0 (a**b log a -> 0); b < 0 keeps the infinities."""

    saves_output = True

    def forward(self, a, b):
        with np.errstate(divide="ignore", invalid="ignore"):  # 0 ** -1 = inf, as PyTorch
            out = a**b
        self.saved = (a, b, out)
        return out

    def backward(self, grad_output):
        a, b, out = self.saved
        grad_a = grad_b = None
        if self.needs_input_grad[0]:
            with np.errstate(divide="ignore", invalid="ignore"):
                grad_a = grad_output * b * a ** (b - 1)
            if (b == 0).any():
                grad_a = np.where(b == 0, 0, grad_a)
        if self.needs_input_grad[1]:
            with np.errstate(divide="ignore", invalid="ignore"):
                grad_b = grad_output * out * np.log(a)
            at_zero = (a == 0) & (b >= 0)
            if at_zero.any():
                grad_b = np.where(at_zero, 0, grad_b)
        return grad_a, grad_b


class Neg(Function):
    """out = -a;  da = -g."""

    def forward(self, a):
        return -a

    def backward(self, grad_output):
        return -grad_output


class Exp(Function):
    """out = e**a;  da = g * out."""

    saves_inputs = False
    saves_output = True

    def forward(self, a):
        out = np.exp(a)
        self.saved = out
        return out

    def backward(self, grad_output):
        return grad_output * self.saved


class Log(Function):
    """out = ln a;  da = g / a."""

    def forward(self, a):
        self.saved = a
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(a)

    def backward(self, grad_output):
        return grad_output / self.saved


class Sqrt(Function):
    """out = sqrt(a);  da = g / (2 out)."""

    saves_inputs = False
    saves_output = True

    def forward(self, a):
        out = np.sqrt(a)
        self.saved = out
        return out

    def backward(self, grad_output):
        return grad_output / (2 * self.saved)


class Abs(Function):
    """out = |a|;  da = g * sign(a)  (0 at a = 0, as PyTorch)."""

    def forward(self, a):
        self.saved = a
        return np.abs(a)

    def backward(self, grad_output):
        return grad_output * np.sign(self.saved)


class Clip(Function):
    """out = min(max(a, low), high);  da = g where low <= a <= high, else 0."""

    def forward(self, a, low=None, high=None):
        self.saved = a
        self.low, self.high = low, high
        return np.clip(a, low, high)

    def backward(self, grad_output):
        a = self.saved
        inside = np.ones(a.shape, dtype=bool)
        if self.low is not None:
            inside &= a >= self.low
        if self.high is not None:
            inside &= a <= self.high
        return grad_output * inside


class Maximum(Function):
    """out = max(a, b) elementwise; the gradient goes to the larger (split evenly on ties)."""

    def forward(self, a, b):
        self.saved = (a, b)
        return np.maximum(a, b)

    def backward(self, grad_output):
        a, b = self.saved
        return _split_by_winner(grad_output, a > b, a == b)


class Minimum(Function):
    """out = min(a, b) elementwise; the gradient goes to the smaller (split evenly on ties)."""

    def forward(self, a, b):
        self.saved = (a, b)
        return np.minimum(a, b)

    def backward(self, grad_output):
        a, b = self.saved
        return _split_by_winner(grad_output, a < b, a == b)


def _split_by_winner(grad_output, a_wins, tie):
    """Route ``grad_output`` to a where it won, to b where it lost, half each on a tie."""
    half = grad_output * 0.5
    grad_a = np.where(a_wins, grad_output, np.where(tie, half, 0))
    grad_b = np.where(a_wins, 0, np.where(tie, half, grad_output))
    return grad_a, grad_b


class Where(Function):
    """out = a where condition else b;  da = g where condition,  db = g elsewhere.

    ``condition`` is a constant boolean array (no gradient), passed as an option.
    """

    saves_inputs = False

    def forward(self, a, b, condition=None):
        self.saved = condition
        return np.where(condition, a, b)

    def backward(self, grad_output):
        condition = self.saved
        zero = np.zeros((), dtype=grad_output.dtype)
        grad_a = np.where(condition, grad_output, zero) if self.needs_input_grad[0] else None
        grad_b = np.where(condition, zero, grad_output) if self.needs_input_grad[1] else None
        return grad_a, grad_b


class Cast(Function):
    """out = a converted to ``dtype``;  da = g converted back to a's dtype."""

    saves_inputs = False

    def forward(self, a, dtype=None):
        self.saved = a.dtype
        return a.astype(dtype, copy=True)

    def backward(self, grad_output):
        return grad_output.astype(self.saved)


# ----------------------------------------------------------------- activations


class ReLU(Function):
    """out = max(a, 0);  da = g where a > 0, else 0."""

    saves_inputs = False
    saves_output = True

    def forward(self, a):
        out = np.maximum(a, 0)
        self.saved = out
        return out

    def backward(self, grad_output):
        return grad_output * (self.saved > 0)


class LeakyReLU(Function):
    """out = a if a > 0 else slope * a;  da = g if a > 0 else slope * g."""

    saves_inputs = False

    def forward(self, a, negative_slope=0.01):
        positive = a > 0
        self.saved = positive
        self.negative_slope = negative_slope
        return np.where(positive, a, a * negative_slope)

    def backward(self, grad_output):
        return np.where(self.saved, grad_output, grad_output * self.negative_slope)


def stable_sigmoid(a):
    """1 / (1 + e**-a) from e**-|a|, which never overflows (|a| up to 1e4 gives exact 0s, 1s)."""
    exp_neg_abs = np.exp(-np.abs(a))
    return np.where(a >= 0, 1, exp_neg_abs) / (1 + exp_neg_abs)


class Sigmoid(Function):
    """out = 1 / (1 + e**-a)  (seed 003, eq 1);  da = g * out * (1 - out)."""

    saves_inputs = False
    saves_output = True

    def forward(self, a):
        out = stable_sigmoid(a)
        self.saved = out
        return out

    def backward(self, grad_output):
        out = self.saved
        return grad_output * out * (1 - out)


class Tanh(Function):
    """out = tanh a;  da = g * (1 - out**2)."""

    saves_inputs = False
    saves_output = True

    def forward(self, a):
        out = np.tanh(a)
        self.saved = out
        return out

    def backward(self, grad_output):
        return grad_output * (1 - self.saved * self.saved)


class Dropout(Function):
    """out = a * mask / (1 - p), mask ~ Bernoulli(1 - p);  da = g * mask / (1 - p).

    The scaled mask is drawn by the caller (``F.dropout``) and passed in as an option.
    """

    saves_inputs = False

    def forward(self, a, scaled_mask=None):
        self.saved = scaled_mask
        return a * scaled_mask

    def backward(self, grad_output):
        return grad_output * self.saved


class Softplus(Function):
    """out = log(1 + e**(beta a)) / beta, computed as max(beta a, 0) + log1p(e**-|beta a|) (no
    overflow), and out = a where beta a > threshold (PyTorch's linear region);
    da = g * sigmoid(beta a)  (g where beta a > threshold)."""

    def forward(self, a, beta=1.0, threshold=20.0):
        scaled = a * a.dtype.type(beta)
        self.saved = a
        self.beta, self.threshold = beta, threshold
        smooth = (np.maximum(scaled, 0) + np.log1p(np.exp(-np.abs(scaled)))) / a.dtype.type(beta)
        return np.where(scaled > threshold, a, smooth)

    def backward(self, grad_output):
        scaled = self.saved * self.saved.dtype.type(self.beta)
        return grad_output * np.where(scaled > self.threshold, 1, stable_sigmoid(scaled))
