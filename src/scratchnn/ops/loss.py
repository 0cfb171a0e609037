"""Loss ops fused for numerical stability and speed.

Composing ``log(softmax(x))`` or ``log(sigmoid(x))`` from smaller ops overflows or loses
precision for large |x|; these ops use log-sum-exp and softplus forms instead, and their
backward is the short closed form (``softmax - onehot``, ``sigmoid - target``).
"""

from __future__ import annotations

import numpy as np

from scratchnn.ops.elementwise import stable_sigmoid
from scratchnn.tensor import Function


def _target_weights(target, weight, ignore_index, dtype):
    """Per-sample weights w[target_i] (0 where target_i == ignore_index), or None when every
    one is 1; the targets with ignored entries replaced by class 0 so they can index safely;
    and the mask of samples that count (None: all do). ``ignore_index=None`` says that no
    target equals it (``scratchnn.functional`` checks this while range-checking targets)."""
    if ignore_index is None:
        return (None if weight is None else weight[target]), target, None
    valid = target != ignore_index
    safe_target = np.where(valid, target, 0)
    per_sample = valid.astype(dtype) if weight is None else weight[safe_target] * valid
    return per_sample, safe_target, valid


def _reduce(per_sample_loss, sample_weights, reduction):
    """Apply the reduction; returns (loss, d loss / d per_sample_loss: a number, or None for
    'none', where the upstream gradient already has one value per sample)."""
    if reduction == "none":
        return per_sample_loss, None
    if reduction == "sum":
        return per_sample_loss.sum(), 1.0
    denominator = len(per_sample_loss) if sample_weights is None else sample_weights.sum()
    return per_sample_loss.sum() / denominator, 1.0 / denominator


def _upstream(grad_output, scale):
    """d(output)/d(per-sample loss) as a factor for (N, C) rows: a number, or (N, 1)."""
    return grad_output[:, np.newaxis] if scale is None else grad_output * scale


class CrossEntropy(Function):
    """Softmax + negative log-likelihood of class indices, as one op.

    logits: (N, C) floats, target: (N,) ints in [0, C).
    loss_i = -(1 - eps) w_{t_i} log p_{i,t_i} - (eps / C) sum_c w_c log p_{i,c},
    p = softmax(logits); 'mean' divides by sum_i w_{t_i} (PyTorch's convention).
    d loss_i / d logits_i = p_i * sum_c q_ic - q_i, where q_i = the target distribution
    (one-hot scaled by (1 - eps) w_t, plus eps w / C); without weights or smoothing: p - onehot.
    """

    saves_inputs = False

    def forward(self, logits, target=None, weight=None, ignore_index=-100,
                reduction="mean", label_smoothing=0.0):
        shifted = logits - logits.max(axis=1, keepdims=True)
        exps = np.exp(shifted)
        sums = exps.sum(axis=1, keepdims=True)
        log_sums = np.log(sums)  # log p = shifted - log_sums: log-sum-exp, finite for any logits
        sample_weights, safe_target, valid = _target_weights(
            target, weight, ignore_index, logits.dtype
        )
        rows = np.arange(len(target))
        per_sample = log_sums[:, 0] - shifted[rows, safe_target]
        if sample_weights is not None:
            per_sample *= sample_weights
        if label_smoothing:
            class_weights = 1 if weight is None else weight
            smooth = -((shifted - log_sums) * class_weights).sum(axis=1) / logits.shape[1]
            counted = 1 if valid is None else valid
            per_sample = (1 - label_smoothing) * per_sample + label_smoothing * smooth * counted
        loss, scale = _reduce(per_sample, sample_weights, reduction)
        self.saved = (exps / sums, rows, safe_target, sample_weights, weight, valid,
                      label_smoothing, scale)
        return loss

    def backward(self, grad_output):
        probs, rows, target, sample_weights, weight, valid, smoothing, scale = self.saved
        row_weights = 1 if sample_weights is None else sample_weights
        onehot_weight = (1 - smoothing) * row_weights
        if smoothing:
            n_classes = probs.shape[1]
            class_weights = np.ones(n_classes, probs.dtype) if weight is None else weight
            counted = np.ones(len(target), bool) if valid is None else valid
            spread = (smoothing / n_classes) * counted
            target_mass = onehot_weight + spread * class_weights.sum()
            grad = probs * target_mass[:, np.newaxis] - spread[:, np.newaxis] * class_weights
        elif sample_weights is None:
            grad = probs.copy()  # probs stays saved for a retain_graph=True second backward
        else:
            grad = probs * sample_weights[:, np.newaxis]
        grad[rows, target] -= onehot_weight
        grad *= _upstream(grad_output, scale)
        return grad


class NLLLoss(Function):
    """Negative log-likelihood of class indices, given log-probabilities.

    log_probs: (N, C), target: (N,);  loss_i = -w_{t_i} log_probs[i, t_i];
    d loss_i / d log_probs[i, c] = -w_{t_i} where c = t_i, else 0.
    """

    saves_inputs = False

    def forward(self, log_probs, target=None, weight=None, ignore_index=-100, reduction="mean"):
        sample_weights, safe_target, _ = _target_weights(
            target, weight, ignore_index, log_probs.dtype
        )
        per_sample = -log_probs[np.arange(len(target)), safe_target]
        if sample_weights is not None:
            per_sample *= sample_weights
        loss, scale = _reduce(per_sample, sample_weights, reduction)
        self.saved = (log_probs.shape, log_probs.dtype, safe_target, sample_weights, scale)
        return loss

    def backward(self, grad_output):
        shape, dtype, target, sample_weights, scale = self.saved
        grad = np.zeros(shape, dtype=dtype)
        grad[np.arange(len(target)), target] = -1 if sample_weights is None else -sample_weights
        grad *= _upstream(grad_output, scale)
        return grad


class BinaryCrossEntropyWithLogits(Function):
    """Elementwise  -[p y log s(x) + (1 - y) log(1 - s(x))],  s = sigmoid, p = pos_weight,
    written as  (1 - y) x + (1 + (p - 1) y) softplus(-x)  with
    softplus(-x) = log(1 + e**-|x|) + max(-x, 0), finite for any x.

    dx = g ((1 - y) - (1 + (p - 1) y) s(-x))   (= g (s(x) - y) when p = 1),
    dy = g (-x + (p - 1) softplus(-x)).
    """

    def forward(self, logits, target, pos_weight=None):
        softplus_neg = np.log1p(np.exp(-np.abs(logits))) + np.maximum(-logits, 0)
        log_weight = 1 if pos_weight is None else 1 + (pos_weight - 1) * target
        self.saved = (logits, target, pos_weight, softplus_neg, log_weight)
        return (1 - target) * logits + log_weight * softplus_neg

    def backward(self, grad_output):
        logits, target, pos_weight, softplus_neg, log_weight = self.saved
        grad_logits = grad_target = None
        if self.needs_input_grad[0]:
            grad_logits = grad_output * ((1 - target) - log_weight * stable_sigmoid(-logits))
        if self.needs_input_grad[1]:
            slope = -logits
            if pos_weight is not None:
                slope = slope + (pos_weight - 1) * softplus_neg
            grad_target = grad_output * slope
        return grad_logits, grad_target


class BinaryCrossEntropy(Function):
    """Elementwise  -[y log p + (1 - y) log(1 - p)]  for probabilities p, each log clamped at
    -100 as PyTorch does (so p = 0 or 1 gives a finite loss).

    dp = g (p - y) / max(p (1 - p), 1e-12),   dy = g (log(1 - p) - log p)  (clamped logs).
    """

    def forward(self, probs, target):
        with np.errstate(divide="ignore"):
            log_p = np.maximum(np.log(probs), -100)
            log_not_p = np.maximum(np.log1p(-probs), -100)
        self.saved = (probs, target, log_p, log_not_p)
        return -(target * log_p + (1 - target) * log_not_p)

    def backward(self, grad_output):
        probs, target, log_p, log_not_p = self.saved
        grad_probs = grad_target = None
        if self.needs_input_grad[0]:
            grad_probs = grad_output * (probs - target) / np.maximum(probs * (1 - probs), 1e-12)
        if self.needs_input_grad[1]:
            grad_target = grad_output * (log_not_p - log_p)
        return grad_probs, grad_target
