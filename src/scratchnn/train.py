"""A Keras-style training loop for scratchnn models: :func:`fit` and :func:`evaluate`.

::

    history = fit(model, nn.CrossEntropyLoss(), optimizer, train_loader, epochs=10,
                  val_loader=val_loader, metrics=("accuracy",),
                  callbacks=[EarlyStopping(patience=2, restore_best=True)])
    history.history["val_loss"]        # one value per epoch (also: history.val_loss)

One training step is the usual ``zero_grad -> forward -> loss -> backward -> step``; every
other thing ``fit`` does (recording the history, the progress display, logging the learning
rate, stopping early, saving checkpoints) is a callback (:mod:`scratchnn.callbacks`), run
through one :class:`~scratchnn.callbacks.CallbackList`. Epoch values are means over the
samples of the epoch (each batch weighted by its size), which assumes the loss and metrics
average over their batch (``reduction='mean'``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from scratchnn import allocator
from scratchnn.callbacks import (
    Callback,
    CallbackList,
    History,
    LearningRateLogger,
    ProgressBar,
)
from scratchnn.metrics import MetricFn, resolve_metrics
from scratchnn.nn.module import Module
from scratchnn.tensor import Tensor, no_grad

__all__ = ["History", "TrainingDiverged", "evaluate", "fit"]


class TrainingDiverged(RuntimeError):
    """The loss (or a gradient) became NaN or infinite. Raised before the optimizer step, so
    the model keeps the weights of the last good step.

    Attributes: ``step`` (global 0-based step index), ``epoch`` (0-based), ``batch`` (index in
    the epoch), ``loss`` (the bad value) and ``reason``.
    """

    def __init__(
        self,
        step: int,
        epoch: int,
        batch: int | None = None,
        loss: float | None = None,
        reason: str | None = None,
    ) -> None:
        self.step = step
        self.epoch = epoch
        self.batch = batch
        self.loss = loss
        self.reason = reason if reason is not None else f"the loss is {loss}"
        where = f"epoch {epoch}" + ("" if batch is None else f", batch {batch}")
        super().__init__(
            f"training diverged at step {step} ({where}): {self.reason}; the optimizer step "
            "was not taken, so the model keeps the weights from before this step"
        )


# ------------------------------------------------------------------------------- helpers
def _split_batch(batch: Any) -> tuple[Tensor, Tensor]:
    if not isinstance(batch, tuple | list) or len(batch) != 2:
        raise ValueError(
            "each batch must be an (inputs, targets) pair, e.g. from "
            f"DataLoader(TensorDataset(x, y)); got {type(batch).__name__}"
            + (f" of length {len(batch)}" if isinstance(batch, tuple | list) else "")
        )
    inputs, targets = batch
    if not isinstance(inputs, Tensor):
        inputs = Tensor(np.asarray(inputs))
    if not isinstance(targets, Tensor):
        targets = Tensor(np.asarray(targets))
    return inputs, targets


def _batch_size(inputs: Tensor) -> int:
    return int(inputs.shape[0]) if inputs.ndim else 1


def _scalar(loss: Any) -> float:
    return float(loss.item() if hasattr(loss, "item") else loss)


def _nonfinite_gradient(model: Module, optimizer: Any) -> str | None:
    """The name of the first parameter with a NaN/inf gradient, or None.

    A sum is NaN/inf when an entry is; a float32 sum of finite entries can also overflow,
    so a non-finite sum is confirmed entry by entry before it counts."""
    for group in optimizer.param_groups:
        for param in group["params"]:
            grad = param.grad
            if grad is None:
                continue
            grad = np.asarray(grad)
            if not math.isfinite(grad.sum()) and not np.isfinite(grad).all():
                names = {id(p): name for name, p in model.named_parameters()}
                return names.get(id(param), f"parameter of shape {param.data.shape}")
    return None


# ----------------------------------------------------------------------------- evaluate
def _evaluate(
    model: Module, loader: Iterable[Any], metrics: list[tuple[str, MetricFn]], loss_fn: Any
) -> dict[str, float]:
    """Sample-weighted means of the loss and metrics over ``loader``, under no_grad in eval
    mode; every module's previous training flag is restored afterwards."""
    modes = [(module, module.training) for module in model.modules()]
    totals = dict.fromkeys(["loss"] if loss_fn is not None else [], 0.0)
    totals.update(dict.fromkeys([name for name, _ in metrics], 0.0))
    seen = 0
    model.eval()
    try:
        with no_grad():
            for batch in loader:
                inputs, targets = _split_batch(batch)
                n = _batch_size(inputs)
                output = model(inputs)
                if loss_fn is not None:
                    totals["loss"] += _scalar(loss_fn(output, targets)) * n
                for name, fn in metrics:
                    totals[name] += float(fn(output, targets)) * n
                seen += n
    finally:
        for module, training in modes:
            module.training = training
    if seen == 0:
        raise ValueError("evaluate: the loader produced no samples")
    return {name: total / seen for name, total in totals.items()}


def evaluate(
    model: Module,
    loader: Iterable[Any],
    metrics: Iterable[str | MetricFn] | None = ("accuracy",),
    loss_fn: Any = None,
) -> dict[str, float]:
    """Loss (when ``loss_fn`` is given) and metrics of ``model`` over ``loader``.

    Runs under ``no_grad()`` with ``model.eval()`` and puts every module back in the mode it
    was in. Returns ``{'loss': ..., 'accuracy': ..., ...}``: means over all samples (each
    batch weighted by its size). ``metrics``: names (see :func:`scratchnn.metrics.get_metric`)
    or callables ``fn(output, target) -> float``.
    """
    return _evaluate(model, loader, resolve_metrics(metrics, loss_fn), loss_fn)


# ---------------------------------------------------------------------------------- fit
def fit(
    model: Module,
    loss_fn: Any,
    optimizer: Any,
    train_loader: Iterable[Any],
    *,
    epochs: int,
    val_loader: Iterable[Any] | None = None,
    metrics: Iterable[str | MetricFn] | None = ("accuracy",),
    callbacks: Sequence[Callback] = (),
    scheduler: Any = None,
    verbose: int = 1,
    initial_epoch: int = 0,
) -> History:
    """Train ``model`` on ``train_loader`` (batches of ``(inputs, targets)``) and return the
    :class:`~scratchnn.callbacks.History`.

    As in Keras, ``epochs`` is the index of the final epoch (exclusive): epochs
    ``initial_epoch, ..., epochs - 1`` run, so to resume from a checkpoint saved after
    ``k`` epochs, restore it with :func:`scratchnn.serialization.load_checkpoint` and call
    ``fit(..., epochs=total, initial_epoch=k)``.

    Each epoch: ``model.train()``, one optimizer step per batch, then validation on
    ``val_loader`` (``evaluate``, logged as ``val_*``), then ``scheduler.step()`` (once per
    epoch), then the callbacks' ``on_epoch_end``. A NaN/inf loss or gradient raises
    :class:`TrainingDiverged` before the optimizer step. ``metrics`` are computed on the
    training outputs of each batch (in train mode) and averaged over the epoch.

    The callbacks run in this order: a ``LearningRateLogger(per_group=False)`` (unless
    ``callbacks`` has a LearningRateLogger), ``callbacks``, the :class:`History` (the one in
    ``callbacks`` if there is one, else a new one), then a ``ProgressBar(verbose)`` when
    ``verbose`` is 1 or 2. A callback stops training with ``self.model.stop_training = True``.

    ``verbose``: 0 silent; 1 a progress bar per epoch on a terminal or in a notebook (tqdm),
    else one line per epoch on stdout (on a terminal without tqdm, with a warning saying to
    install ``scratchnn[progress]``); 2 one line per epoch.

    ``fit`` applies :func:`scratchnn.allocator.keep_freed_memory` (once per process; the
    environment variable ``SCRATCHNN_KEEP_FREED_MEMORY=0`` switches it off).
    """
    if not isinstance(epochs, int | np.integer) or not isinstance(initial_epoch, int | np.integer):
        raise TypeError("epochs and initial_epoch must be ints")
    if initial_epoch < 0 or epochs < initial_epoch:
        raise ValueError(
            f"need 0 <= initial_epoch <= epochs, got initial_epoch={initial_epoch}, "
            f"epochs={epochs} (epochs is the final epoch, not a count, as in Keras)"
        )
    if verbose not in (0, 1, 2):
        raise ValueError(f"verbose must be 0, 1 or 2, got {verbose!r}")
    allocator.keep_freed_memory()
    metric_fns = resolve_metrics(metrics, loss_fn)
    steps = len(train_loader) if hasattr(train_loader, "__len__") else None  # type: ignore[arg-type]
    params = {
        "epochs": int(epochs),
        "initial_epoch": int(initial_epoch),
        "steps_per_epoch": steps,
        "metrics": [name for name, _ in metric_fns],
        "verbose": verbose,
    }
    given = list(callbacks)
    history = next((cb for cb in given if isinstance(cb, History)), History())
    ordered = [cb for cb in given if not isinstance(cb, History)] + [history]
    if not any(isinstance(cb, LearningRateLogger) for cb in given):
        ordered.insert(0, LearningRateLogger(per_group=False))
    if verbose:
        ordered.append(ProgressBar(verbose))
    callback_list = CallbackList(ordered, model, optimizer, params)

    model.stop_training = False  # the one stop flag (Keras' name); callbacks set it
    step = int(initial_epoch) * steps if steps is not None else 0
    logs: dict[str, Any] = {}
    callback_list.on_train_begin(logs)
    for epoch in range(int(initial_epoch), int(epochs)):
        callback_list.on_epoch_begin(epoch, {})
        started = time.perf_counter()
        logs, step = _train_epoch(model, loss_fn, optimizer, train_loader, metric_fns,
                                  callback_list, epoch, step)
        if val_loader is not None:
            val_logs = _evaluate(model, val_loader, metric_fns, loss_fn)
            logs.update({f"val_{name}": value for name, value in val_logs.items()})
        logs["time"] = time.perf_counter() - started
        if scheduler is not None:
            scheduler.step()
        callback_list.on_epoch_end(epoch, logs)
        if model.stop_training:
            break
    callback_list.on_train_end(dict(logs))
    return history


def _train_epoch(
    model: Module,
    loss_fn: Any,
    optimizer: Any,
    loader: Iterable[Any],
    metrics: list[tuple[str, MetricFn]],
    callbacks: CallbackList,
    epoch: int,
    step: int,
) -> tuple[dict[str, Any], int]:
    """One pass over ``loader``; returns the epoch's mean loss/metrics and the next step."""
    model.train()
    totals = dict.fromkeys(["loss"] + [name for name, _ in metrics], 0.0)
    seen = 0
    for batch_index, batch in enumerate(loader):
        inputs, targets = _split_batch(batch)
        n = _batch_size(inputs)
        callbacks.on_batch_begin(step, {"batch": batch_index, "size": n})
        optimizer.zero_grad()
        output = model(inputs)
        loss = loss_fn(output, targets)
        value = _scalar(loss)
        if not math.isfinite(value):
            raise TrainingDiverged(step, epoch, batch_index, value)
        loss.backward()
        bad = _nonfinite_gradient(model, optimizer)
        if bad is not None:
            optimizer.zero_grad()
            reason = f"the gradient of {bad} is not finite"
            raise TrainingDiverged(step, epoch, batch_index, value, reason=reason)
        optimizer.step()

        seen += n
        totals["loss"] += value * n
        for name, fn in metrics:
            totals[name] += float(fn(output.data, targets.data)) * n
        callbacks.on_batch_end(step, {"loss": value, "batch": batch_index, "size": n})
        step += 1
        if model.stop_training:
            break
    if seen == 0:
        raise ValueError("fit: the training loader produced no batches")
    return {name: total / seen for name, total in totals.items()}, step
