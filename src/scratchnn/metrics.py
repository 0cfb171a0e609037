"""Evaluation metrics: accuracy, top-k accuracy, confusion matrix, per-class precision /
recall / F1, mean squared and mean absolute error.

Every function takes ``(output, target)`` -- the order of the loss functions -- as NumPy
arrays or Tensors, and returns NumPy values (no gradient).

How an ``output`` becomes class predictions (:func:`predicted_classes`):

* integer or bool array of shape ``(N,)``: already class indices;
* float array ``(N, C)`` with ``C >= 2``: ``argmax`` over the classes (logits and
  probabilities give the same answer);
* float array ``(N,)`` or ``(N, 1)``: one score per sample (binary classification): class 1
  when ``score > threshold``. The default ``threshold=0.0`` reads the scores as **logits**
  (a model trained with ``BCEWithLogitsLoss``); for **probabilities** (a final ``Sigmoid``,
  ``BCELoss``) pass ``threshold=0.5``. ``fit``/``evaluate`` do this for you: the name
  ``'accuracy'`` uses 0.5 when the loss function is ``nn.BCELoss`` and 0 otherwise.

Targets are class indices ``(N,)`` or ``(N, 1)`` (floats such as 0./1. are rounded), or
one-hot / probability rows ``(N, C)`` (their ``argmax`` is taken).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from scratchnn.tensor import Tensor

MetricFn = Callable[[Any, Any], float]

__all__ = [
    "accuracy",
    "confusion_matrix",
    "get_metric",
    "mae",
    "mse",
    "precision_recall_f1",
    "predicted_classes",
    "resolve_metrics",
    "top_k_accuracy",
]


def _array(value: Any) -> np.ndarray:
    return value.data if isinstance(value, Tensor) else np.asarray(value)


def predicted_classes(output: Any, threshold: float = 0.0) -> np.ndarray:
    """Class indices ``(N,)`` (int64) from ``output``: see the module docstring for the rules.

    >>> predicted_classes(np.array([[0.1, 2.0], [3.0, -1.0]]))
    array([1, 0])
    >>> predicted_classes(np.array([-0.3, 0.2]))            # logits, threshold 0
    array([0, 1])
    >>> predicted_classes(np.array([0.3, 0.7]), threshold=0.5)   # probabilities
    array([0, 1])
    """
    out = _array(output)
    if out.ndim == 2 and out.shape[1] >= 2:
        if not np.issubdtype(out.dtype, np.floating):
            raise ValueError(
                f"expected float scores of shape (N, C), got {out.dtype} of shape {out.shape}"
            )
        return out.argmax(axis=1).astype(np.int64)
    if out.ndim == 2 and out.shape[1] == 1:
        out = out[:, 0]
    if out.ndim != 1:
        raise ValueError(f"expected an output of shape (N,), (N, 1) or (N, C), got {out.shape}")
    if out.dtype == np.bool_ or np.issubdtype(out.dtype, np.integer):
        return out.astype(np.int64)
    return (out > threshold).astype(np.int64)


def _target_classes(target: Any, n: int) -> np.ndarray:
    """Class indices ``(N,)`` from a target: indices, rounded floats, or argmax of one-hot rows."""
    t = _array(target)
    if t.ndim == 2 and t.shape[1] >= 2:
        t = t.argmax(axis=1)
    elif t.ndim == 2 and t.shape[1] == 1:
        t = t[:, 0]
    if t.ndim != 1:
        raise ValueError(f"expected a target of shape (N,), (N, 1) or (N, C), got {t.shape}")
    if len(t) != n:
        raise ValueError(f"output has {n} samples but target has {len(t)}")
    if n == 0:
        raise ValueError("cannot compute a metric over 0 samples")
    if np.issubdtype(t.dtype, np.floating):
        t = np.rint(t)
    return t.astype(np.int64)


def _classes(output: Any, target: Any, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    pred = predicted_classes(output, threshold)
    return pred, _target_classes(target, len(pred))


def accuracy(output: Any, target: Any, threshold: float = 0.0) -> float:
    """Fraction of samples whose predicted class equals the target: ``mean(pred == target)``.

    ``output``: scores ``(N, C)`` (argmax), scores ``(N,)``/``(N, 1)`` thresholded at
    ``threshold`` (0: logits; pass 0.5 for probabilities), or class indices (ints).
    """
    pred, true = _classes(output, target, threshold)
    return float(np.mean(pred == true))


def top_k_accuracy(output: Any, target: Any, k: int = 5) -> float:
    """Fraction of samples whose target class is among the ``k`` highest scores of ``output``
    ``(N, C)``. The rank of the target is the number of classes scored strictly higher, so a
    tie at the k-th place counts as a hit. ``k >= C`` gives 1.0."""
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    out = _array(output)
    if out.ndim != 2:
        raise ValueError(f"top_k_accuracy needs scores of shape (N, C), got {out.shape}")
    true = _target_classes(target, len(out))
    _check_range(true, out.shape[1], "target")
    target_scores = out[np.arange(len(out)), true]
    rank = np.sum(out > target_scores[:, None], axis=1)
    return float(np.mean(rank < k))


def _check_range(labels: np.ndarray, num_classes: int, what: str) -> None:
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(
            f"{what} classes must lie in [0, {num_classes}), got values from "
            f"{labels.min()} to {labels.max()}"
        )


def confusion_matrix(
    output: Any, target: Any, num_classes: int | None = None, threshold: float = 0.0
) -> np.ndarray:
    """The ``(C, C)`` int64 matrix ``M`` with ``M[i, j]`` = number of samples of true class
    ``i`` predicted as class ``j`` (rows: truth, columns: prediction, as in scikit-learn).

    ``C`` is ``num_classes``, or ``1 + `` the largest class seen in target or prediction
    (the number of columns for ``(N, C)`` scores).
    """
    pred, true = _classes(output, target, threshold)
    if num_classes is None:
        out = _array(output)
        num_classes = int(max(pred.max(), true.max())) + 1
        if out.ndim == 2 and out.shape[1] >= 2:
            num_classes = max(num_classes, out.shape[1])
        if pred.min() < 0 or true.min() < 0:
            raise ValueError("class indices must be non-negative")
    _check_range(true, num_classes, "target")
    _check_range(pred, num_classes, "predicted")
    counts = np.bincount(true * num_classes + pred, minlength=num_classes * num_classes)
    return counts.reshape(num_classes, num_classes).astype(np.int64)


def precision_recall_f1(
    output: Any,
    target: Any,
    num_classes: int | None = None,
    threshold: float = 0.0,
    zero_division: float = 0.0,
) -> dict[str, Any]:
    """Per-class precision, recall and F1 (scikit-learn's definitions), and their macro means.

    For class c, with TP/FP/FN counted one-vs-rest from the confusion matrix::

        precision_c = TP / (TP + FP)     recall_c = TP / (TP + FN)
        f1_c        = 2·TP / (2·TP + FP + FN)   (= 2·P·R / (P + R))

    A 0/0 gives ``zero_division``. The macro averages are unweighted means over the classes
    that occur in the target or the prediction (scikit-learn's ``average='macro'``).

    Returns ``{'precision', 'recall', 'f1'}`` float arrays ``(C,)``, ``'support'`` (true
    samples per class, int ``(C,)``) and floats ``'macro_precision'``, ``'macro_recall'``,
    ``'macro_f1'``.
    """
    matrix = confusion_matrix(output, target, num_classes, threshold)
    tp = np.diag(matrix).astype(np.float64)
    predicted = matrix.sum(axis=0).astype(np.float64)  # TP + FP
    support = matrix.sum(axis=1)  # TP + FN

    def ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
        result = np.full(num.shape, float(zero_division))
        np.divide(num, den, out=result, where=den > 0)
        return result

    precision = ratio(tp, predicted)
    recall = ratio(tp, support.astype(np.float64))
    f1 = ratio(2 * tp, predicted + support)  # 2TP + FP + FN
    present = (predicted + support) > 0
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "support": support.astype(np.int64),
        "macro_precision": float(precision[present].mean()),
        "macro_recall": float(recall[present].mean()),
        "macro_f1": float(f1[present].mean()),
    }


def _same_shape(output: Any, target: Any) -> tuple[np.ndarray, np.ndarray]:
    out, t = _array(output), _array(target)
    if out.shape != t.shape:
        if out.size != t.size:
            raise ValueError(f"output has shape {out.shape} but target has shape {t.shape}")
        t = t.reshape(out.shape)  # (N,) vs (N, 1): compare element by element, no broadcasting
    if out.size == 0:
        raise ValueError("cannot compute a metric over 0 elements")
    return out.astype(np.float64), t.astype(np.float64)


def mse(output: Any, target: Any) -> float:
    """Mean squared error ``mean((output - target)²)`` over all elements (float64)."""
    out, t = _same_shape(output, target)
    return float(np.mean((out - t) ** 2))


def mae(output: Any, target: Any) -> float:
    """Mean absolute error ``mean(|output - target|)`` over all elements (float64)."""
    out, t = _same_shape(output, target)
    return float(np.mean(np.abs(out - t)))


# ------------------------------------------------------------------------ names for fit
_TOP_K = re.compile(r"top_?(\d+)(?:_accuracy|_acc)?$")


def get_metric(metric: str | MetricFn, loss_fn: Any = None) -> tuple[str, MetricFn]:
    """``(name, fn)`` for a metric name or callable ``fn(output, target) -> float``.

    Names: ``'accuracy'`` (alias ``'acc'``; threshold 0.5 when ``loss_fn`` is an
    ``nn.BCELoss``, else 0), ``'topK_accuracy'`` for any K (e.g. ``'top5_accuracy'``),
    ``'mse'``, ``'mae'``. A callable is named by its ``__name__``.
    """
    if callable(metric):
        return getattr(metric, "__name__", type(metric).__name__), metric
    if not isinstance(metric, str):
        raise TypeError(f"a metric is a name or a callable, got {type(metric).__name__}")
    name = metric.lower()
    if name in ("accuracy", "acc"):
        from scratchnn.nn.loss import BCELoss

        threshold = 0.5 if isinstance(loss_fn, BCELoss) else 0.0

        def accuracy_metric(output: Any, target: Any) -> float:
            return accuracy(output, target, threshold=threshold)

        return "accuracy", accuracy_metric
    match = _TOP_K.fullmatch(name)
    if match:
        k = int(match.group(1))

        def top_k_metric(output: Any, target: Any) -> float:
            return top_k_accuracy(output, target, k=k)

        return f"top{k}_accuracy", top_k_metric
    if name in ("mse", "mae"):
        return name, {"mse": mse, "mae": mae}[name]
    raise ValueError(
        f"unknown metric {metric!r}: use 'accuracy', 'topK_accuracy' (e.g. 'top5_accuracy'), "
        "'mse', 'mae' or a callable fn(output, target) -> float"
    )


def resolve_metrics(
    metrics: Iterable[str | MetricFn] | str | None, loss_fn: Any = None
) -> list[tuple[str, MetricFn]]:
    """:func:`get_metric` for each entry (a single name is allowed); names must be unique."""
    if metrics is None:
        return []
    if isinstance(metrics, str) or callable(metrics):
        metrics = [metrics]
    resolved = [get_metric(metric, loss_fn) for metric in metrics]
    names = [name for name, _ in resolved]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"metric names must be unique, got {duplicates} more than once")
    if "loss" in names:
        raise ValueError("a metric cannot be called 'loss' (that name is the loss's)")
    return resolved
