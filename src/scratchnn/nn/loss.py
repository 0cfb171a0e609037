"""Loss modules: thin wrappers that store the options and call ``scratchnn.functional``.

``reduction`` says how the per-element losses ``l_i`` become the output: ``'mean'`` (average,
the default), ``'sum'``, or ``'none'`` (the unreduced losses, one per element / sample).
Options after ``weight`` are keyword-only (PyTorch's legacy ``size_average`` / ``reduce``
positional arguments do not exist here).
"""

from __future__ import annotations

from typing import Any

from scratchnn import functional as F
from scratchnn.nn.module import Module
from scratchnn.tensor import Tensor

REDUCTIONS = ("mean", "sum", "none")


def _as_tensor_or_none(value: Any) -> Tensor | None:
    if value is None or isinstance(value, Tensor):
        return value
    return Tensor(value)


class _Loss(Module):
    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        if reduction not in REDUCTIONS:
            raise ValueError(
                f"{type(self).__name__}: reduction must be one of 'mean', 'sum', 'none'; "
                f"got {reduction!r}"
            )
        self.reduction = reduction


class _WeightedLoss(_Loss):
    """A loss with an optional per-class ``weight``, kept as a buffer (as in PyTorch)."""

    weight: Tensor | None

    def __init__(self, weight: Any = None, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.register_buffer("weight", _as_tensor_or_none(weight))


class MSELoss(_Loss):
    """Mean squared error: ``l_i = (input_i - target_i)**2``; same shapes in."""

    def __init__(self, *, reduction: str = "mean") -> None:
        super().__init__(reduction)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """Mean absolute error: ``l_i = |input_i - target_i|``; same shapes in."""

    def __init__(self, *, reduction: str = "mean") -> None:
        super().__init__(reduction)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.l1_loss(input, target, reduction=self.reduction)


class BCELoss(_WeightedLoss):
    """Binary cross-entropy on probabilities ``p`` in (0, 1) (e.g. after ``Sigmoid``):
    ``l_i = -w_i [y_i log p_i + (1 - y_i) log(1 - p_i)]``; input and target have the same
    shape, ``weight`` broadcasts to it."""

    def __init__(self, weight: Any = None, *, reduction: str = "mean") -> None:
        super().__init__(weight, reduction)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.binary_cross_entropy(input, target, weight=self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_WeightedLoss):
    """``BCELoss(sigmoid(x))`` computed stably from the logits ``x``:
    ``l_i = -w_i [pos_weight * y_i log s(x_i) + (1 - y_i) log(1 - s(x_i))]``. ``pos_weight``
    (one per class, last dim) trades recall for precision on imbalanced data."""

    pos_weight: Tensor | None

    def __init__(
        self, weight: Any = None, *, reduction: str = "mean", pos_weight: Any = None
    ) -> None:
        super().__init__(weight, reduction)
        self.register_buffer("pos_weight", _as_tensor_or_none(pos_weight))

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.binary_cross_entropy_with_logits(
            input,
            target,
            weight=self.weight,
            reduction=self.reduction,
            pos_weight=self.pos_weight,
        )


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood: input ``(N, C)`` log-probabilities (``LogSoftmax`` output),
    target ``(N,)`` class indices; ``l_n = -w[y_n] * input[n, y_n]``. ``'mean'`` divides by
    ``sum_n w[y_n]``; targets equal to ``ignore_index`` count for nothing."""

    def __init__(
        self, weight: Any = None, *, ignore_index: int = -100, reduction: str = "mean"
    ) -> None:
        super().__init__(weight, reduction)
        self.ignore_index = ignore_index

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.nll_loss(
            input,
            target,
            weight=self.weight,
            reduction=self.reduction,
            ignore_index=self.ignore_index,
        )


class CrossEntropyLoss(_WeightedLoss):
    """``NLLLoss(LogSoftmax(dim=1)(input))`` in one stable step: input ``(N, C)`` raw scores
    (logits), target ``(N,)`` class indices. ``label_smoothing`` ``e`` mixes the one-hot target
    with the uniform distribution: ``(1 - e) * onehot + e / C``."""

    def __init__(
        self,
        weight: Any = None,
        *,
        ignore_index: int = -100,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
    ) -> None:
        super().__init__(weight, reduction)
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.cross_entropy(
            input,
            target,
            weight=self.weight,
            reduction=self.reduction,
            ignore_index=self.ignore_index,
            label_smoothing=self.label_smoothing,
        )
