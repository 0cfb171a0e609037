"""Losses, with the checks that turn a misuse into one clear error (shapes, dtypes, ranges)."""

from __future__ import annotations

import numpy as np

from scratchnn import ops
from scratchnn.functional.activations import log_softmax
from scratchnn.functional.args import array_of, operands
from scratchnn.functional.arithmetic import abs, add, mul, neg, sub
from scratchnn.functional.reductions import mean, sum
from scratchnn.functional.shapes import flatten, reshape, transpose, unsqueeze
from scratchnn.tensor import ArrayLike, Tensor

REDUCTIONS = ("mean", "sum", "none")


def check_reduction(name: str, reduction: str) -> None:
    if reduction not in REDUCTIONS:
        raise ValueError(f"{name}: reduction must be one of {REDUCTIONS}, got {reduction!r}")


def apply_reduction(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return mean(loss)
    if reduction == "sum":
        return sum(loss)
    return loss


def check_same_shape(name: str, input: Tensor, target: Tensor) -> None:
    if input.shape != target.shape:
        raise ValueError(
            f"{name}: input shape {input.shape} and target shape {target.shape} differ "
            "(reshape one of them; broadcasting them silently is a common bug)"
        )


def mse_loss(input: Tensor, target: ArrayLike, reduction: str = "mean") -> Tensor:
    """mean((input - target)**2)."""
    check_reduction("mse_loss", reduction)
    input, target = operands(input, target)
    check_same_shape("mse_loss", input, target)
    difference = sub(input, target)
    return apply_reduction(mul(difference, difference), reduction)


def l1_loss(input: Tensor, target: ArrayLike, reduction: str = "mean") -> Tensor:
    """mean(|input - target|)."""
    check_reduction("l1_loss", reduction)
    input, target = operands(input, target)
    check_same_shape("l1_loss", input, target)
    return apply_reduction(abs(sub(input, target)), reduction)


def binary_cross_entropy(input: Tensor, target: ArrayLike, weight: ArrayLike | None = None,
                         reduction: str = "mean") -> Tensor:
    """-[y log p + (1 - y) log(1 - p)] for probabilities p (logs clamped at -100)."""
    check_reduction("binary_cross_entropy", reduction)
    input, target = operands(input, target)
    check_same_shape("binary_cross_entropy", input, target)
    if input.numel() and (input.data.min() < 0 or input.data.max() > 1):
        raise ValueError("binary_cross_entropy: input must be probabilities in [0, 1] "
                         "(for raw scores use binary_cross_entropy_with_logits)")
    loss = ops.BinaryCrossEntropy.apply(input, target)
    if weight is not None:
        loss = mul(loss, weight)
    return apply_reduction(loss, reduction)


def binary_cross_entropy_with_logits(
    input: Tensor, target: ArrayLike, weight: ArrayLike | None = None, reduction: str = "mean",
    pos_weight: ArrayLike | None = None,
) -> Tensor:
    """sigmoid + binary cross-entropy in one stable op (see ops.loss)."""
    check_reduction("binary_cross_entropy_with_logits", reduction)
    input, target = operands(input, target)
    check_same_shape("binary_cross_entropy_with_logits", input, target)
    if pos_weight is not None:
        pos_weight = np.asarray(pos_weight.data if isinstance(pos_weight, Tensor) else pos_weight,
                                dtype=input.dtype)
    loss = ops.BinaryCrossEntropyWithLogits.apply(input, target, pos_weight=pos_weight)
    if weight is not None:
        loss = mul(loss, weight)
    return apply_reduction(loss, reduction)


def class_targets(name: str, input: Tensor, target: ArrayLike, weight: ArrayLike | None,
                   ) -> tuple[Tensor, np.ndarray, np.ndarray | None, tuple[int, ...]]:
    """Bring (N, C, d1, ...) scores and (N, d1, ...) class indices to (M, C) and (M,)."""
    target = np.asarray(target.data if isinstance(target, Tensor) else target)
    if target.dtype.kind not in "iu":
        soft = (" or class probabilities of the input's shape " + str(input.shape)
                if name == "cross_entropy" else "")
        raise TypeError(f"{name}: target must hold integer class indices{soft}, got dtype "
                        f"{target.dtype} and shape {target.shape} (use .long() for indices)")
    batch_shape = target.shape  # () for one unbatched sample, as in PyTorch
    if input.ndim == 1:
        input, target = unsqueeze(input, 0), target.reshape(1)
    if input.ndim < 2 or target.shape != (input.shape[0],) + input.shape[2:]:
        raise ValueError(f"{name}: input of shape {input.shape} needs class-index targets of "
                         f"shape {(input.shape[0],) + input.shape[2:]}, got {target.shape}")
    if input.ndim > 2:
        input = reshape(transpose(flatten(input, 2), 1, 2), -1, input.shape[1])
        target = target.reshape(-1)
    n_classes = input.shape[1]
    if weight is not None:
        weight = np.asarray(weight.data if isinstance(weight, Tensor) else weight,
                            dtype=input.dtype)
        if weight.shape != (n_classes,):
            raise ValueError(f"{name}: weight must have shape ({n_classes},), got {weight.shape}")
    return input, target, weight, batch_shape


def check_class_range(name: str, target: np.ndarray, n_classes: int,
                       ignore_index: int) -> int | None:
    """Raise for a target outside [0, n_classes) that is not ``ignore_index``. Returns
    ``ignore_index`` if some target equals it, else None (the loss op then skips the mask)."""
    if target.size == 0:
        return None
    lowest, highest = target.min(), target.max()
    if lowest >= 0 and highest < n_classes:
        if lowest <= ignore_index <= highest and (target == ignore_index).any():
            return ignore_index
        return None
    bad = (target != ignore_index) & ((target < 0) | (target >= n_classes))
    if bad.any():
        position = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{name}: target {int(target[position])} at position {position} is "
                         f"out of range for {n_classes} classes")
    return ignore_index


def cross_entropy(input: Tensor, target: ArrayLike, weight: ArrayLike | None = None,
                  ignore_index: int = -100, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """-log softmax(input)[target], from raw scores (N, C) or (N, C, d1, ...) and either class
    indices (N,) / (N, d1, ...) or class probabilities of the input's shape (soft labels:
    loss_n = -sum_c w_c y_nc log softmax(input)_nc, 'mean' divides by the number of samples)."""
    check_reduction("cross_entropy", reduction)
    if not 0 <= label_smoothing <= 1:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    target_array = array_of(target)
    if target_array.dtype.kind == "f" and target_array.shape == input.shape:
        return probability_cross_entropy(input, target, weight, reduction, label_smoothing)
    logits, target, weight, batch_shape = class_targets("cross_entropy", input, target, weight)
    ignore_index = check_class_range("cross_entropy", target, logits.shape[1], ignore_index)
    loss = ops.CrossEntropy.apply(logits, target=target, weight=weight, ignore_index=ignore_index,
                                  reduction=reduction, label_smoothing=label_smoothing)
    return reshape(loss, batch_shape) if reduction == "none" else loss


def probability_cross_entropy(input: Tensor, target: ArrayLike, weight: ArrayLike | None,
                              reduction: str, label_smoothing: float) -> Tensor:
    """``cross_entropy`` with class-probability targets of the input's shape (the class dim is
    1, or 0 for one unbatched (C,) sample); smoothing mixes the targets with 1/C."""
    input, target = operands(input, target)
    if target.shape != input.shape:
        raise ValueError(f"cross_entropy: class-probability (float) targets must have the "
                         f"input's shape {input.shape}, got {target.shape} (class indices "
                         "must be integers)")
    if input.ndim == 0:
        raise ValueError("cross_entropy: input needs a class dim, got a 0-d tensor")
    class_dim = 1 if input.ndim > 1 else 0
    n_classes = input.shape[class_dim]
    if label_smoothing:
        target = add(mul(target, 1 - label_smoothing), label_smoothing / n_classes)
    weighted = mul(log_softmax(input, class_dim), target)
    if weight is not None:
        weight = array_of(weight).astype(input.dtype, copy=False)
        if weight.shape != (n_classes,):
            raise ValueError(f"cross_entropy: weight must have shape ({n_classes},), got "
                             f"{weight.shape}")
        weighted = mul(weighted, weight.reshape((n_classes,) + (1,) * (input.ndim - 2)))
    return apply_reduction(neg(sum(weighted, class_dim)), reduction)


def nll_loss(input: Tensor, target: ArrayLike, weight: ArrayLike | None = None,
             ignore_index: int = -100, reduction: str = "mean") -> Tensor:
    """-input[target] for log-probabilities (N, C) and class indices (N,)."""
    check_reduction("nll_loss", reduction)
    log_probs, target, weight, batch_shape = class_targets("nll_loss", input, target, weight)
    ignore_index = check_class_range("nll_loss", target, log_probs.shape[1], ignore_index)
    loss = ops.NLLLoss.apply(log_probs, target=target, weight=weight, ignore_index=ignore_index,
                             reduction=reduction)
    return reshape(loss, batch_shape) if reduction == "none" else loss


def one_hot(tensor: ArrayLike, num_classes: int = -1) -> Tensor:
    """Class indices (any shape) -> int64 one-hot vectors (shape + (num_classes,));
    ``num_classes=-1`` means the largest index + 1."""
    indices = tensor.data if isinstance(tensor, Tensor) else np.asarray(tensor)
    if indices.dtype.kind not in "iu":
        raise TypeError(f"one_hot: needs integer class indices, got dtype {indices.dtype}")
    if num_classes == -1:
        if indices.size == 0:
            raise ValueError("one_hot: cannot infer num_classes from an empty tensor; pass it")
        num_classes = int(indices.max()) + 1
    if indices.size and (indices.min() < 0 or indices.max() >= num_classes):
        raise ValueError(f"one_hot: class values must be in [0, {num_classes}), got "
                         f"[{int(indices.min())}, {int(indices.max())}]")
    out = np.zeros(indices.shape + (num_classes,), dtype=np.int64)
    np.put_along_axis(out, indices[..., None].astype(np.int64), 1, axis=-1)
    return Tensor._make(out)
