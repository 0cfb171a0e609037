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
    """Per-sample weight w[target_i] (0 where target_i == ignore_index), and the targets with
    ignored entries replaced by class 0 so they can index safely."""
    valid = target != ignore_index
    safe_target = np.where(valid, target, 0)
    per_sample = np.ones(target.shape, dtype) if weight is None else weight[safe_target]
    return per_sample * valid, safe_target


def _reduce(per_sample_loss, sample_weights, reduction):
    """Apply the reduction; returns (loss, d loss / d per_sample_loss as a scale)."""
    if reduction == "none":
        return per_sample_loss, None
    if reduction == "sum":
        return per_sample_loss.sum(), 1.0
    denominator = sample_weights.sum()
    return per_sample_loss.sum() / denominator, 1.0 / denominator


def _scale(grad_rows, grad_output, scale):
    """Multiply per-row gradients by the upstream gradient (per row for reduction='none')."""
    if scale is None:
        return grad_rows * grad_output[:, np.newaxis]
    return grad_rows * (grad_output * scale)


class CrossEntropy(Function):
    """Softmax + negative log-likelihood of class indices, as one op.

    logits: (N, C) floats, target: (N,) ints in [0, C).
    loss_i = -(1 - eps) w_{t_i} log p_{i,t_i} - (eps / C) sum_c w_c log p_{i,c},
    p = softmax(logits); 'mean' divides by sum_i w_{t_i} (PyTorch's convention).
    d loss_i / d logits_i = p_i * sum_c q_ic - q_i, where q_i = the target distribution
    (one-hot scaled by (1 - eps) w_t, plus eps w / C); without weights or smoothing: p - onehot.
    """

    def forward(self, logits, target=None, weight=None, ignore_index=-100,
                reduction="mean", label_smoothing=0.0):
        shifted = logits - logits.max(axis=1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        sample_weights, safe_target = _target_weights(target, weight, ignore_index, logits.dtype)
        rows = np.arange(len(target))
        per_sample = -log_probs[rows, safe_target] * sample_weights
        if label_smoothing:
            class_weights = 1 if weight is None else weight
            smooth = -(log_probs * class_weights).sum(axis=1) / logits.shape[1]
            valid = (target != ignore_index).astype(logits.dtype)
            per_sample = (1 - label_smoothing) * per_sample + label_smoothing * smooth * valid
        loss, scale = _reduce(per_sample, sample_weights, reduction)
        self.saved = (log_probs, safe_target, sample_weights, weight, target != ignore_index,
                      label_smoothing, scale)
        return loss

    def backward(self, grad_output):
        log_probs, target, sample_weights, weight, valid, smoothing, scale = self.saved
        probs = np.exp(log_probs)
        rows = np.arange(len(target))
        onehot_weight = (1 - smoothing) * sample_weights
        if smoothing:
            n_classes = log_probs.shape[1]
            class_weights = np.ones(n_classes, log_probs.dtype) if weight is None else weight
            spread = (smoothing / n_classes) * valid
            target_mass = onehot_weight + spread * class_weights.sum()
            grad = probs * target_mass[:, np.newaxis] - spread[:, np.newaxis] * class_weights
        else:
            grad = probs * sample_weights[:, np.newaxis]
        grad[rows, target] -= onehot_weight
        return _scale(grad, grad_output, scale)


class NLLLoss(Function):
    """Negative log-likelihood of class indices, given log-probabilities.

    log_probs: (N, C), target: (N,);  loss_i = -w_{t_i} log_probs[i, t_i];
    d loss_i / d log_probs[i, c] = -w_{t_i} where c = t_i, else 0.
    """

    def forward(self, log_probs, target=None, weight=None, ignore_index=-100, reduction="mean"):
        sample_weights, safe_target = _target_weights(
            target, weight, ignore_index, log_probs.dtype
        )
        per_sample = -log_probs[np.arange(len(target)), safe_target] * sample_weights
        loss, scale = _reduce(per_sample, sample_weights, reduction)
        self.saved = (log_probs.shape, safe_target, sample_weights, scale)
        return loss

    def backward(self, grad_output):
        shape, target, sample_weights, scale = self.saved
        grad = np.zeros(shape, dtype=sample_weights.dtype)
        grad[np.arange(len(target)), target] = -sample_weights
        return _scale(grad, grad_output, scale)


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
