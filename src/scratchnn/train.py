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
import warnings
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from scratchnn import allocator, distributed
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

    The sum of squares (one BLAS dot product, the cheapest full pass) is NaN/inf when an
    entry is; it can also overflow for huge finite entries, so a non-finite result is
    confirmed entry by entry before it counts."""
    for group in optimizer.param_groups:
        for param in group["params"]:
            grad = param.grad
            if grad is None:
                continue
            flat = np.asarray(grad.data).reshape(-1)
            if not math.isfinite(np.dot(flat, flat)) and not np.isfinite(flat).all():
                names = {id(p): name for name, p in model.named_parameters()}
                return names.get(id(param), f"parameter of shape {param.data.shape}")
    return None


# ------------------------------------------------------------- data-parallel (DDP) helpers
def _world_size() -> int:
    """The number of processes training together (1 without a process group)."""
    return distributed.get_world_size() if distributed.is_initialized() else 1


def _sum_over_ranks(values: list[float]) -> list[float]:
    """Element-wise sums over all ranks (one small allreduce; float64)."""
    array = np.array(values, dtype=np.float64)
    distributed.all_reduce(array)
    return array.tolist()


def _stop_requested(model: Module, world: int) -> bool:
    """``model.stop_training``; with several ranks, True on every rank if any rank set it
    (so all ranks leave the loop at the same step)."""
    if world > 1:
        model.stop_training = _sum_over_ranks([float(bool(model.stop_training))])[0] > 0
    return bool(model.stop_training)


def _check_ranks(model: Module, steps: int | None, world: int) -> None:
    """Under a process group: every rank must take the same number of steps per epoch (each
    step is a collective), and the model should be wrapped in DistributedDataParallel."""
    from scratchnn.nn.parallel import DistributedDataParallel

    mine = np.array([-1 if steps is None else steps], dtype=np.int64)  # -1: no len()
    everyone = [np.empty_like(mine) for _ in range(world)]
    distributed.all_gather(everyone, mine)
    counts = [int(count[0]) for count in everyone]
    if len(set(counts)) > 1:
        raise ValueError(
            f"fit: the ranks have different numbers of batches per epoch ({counts}); "
            "give every rank the same count, e.g. DataLoader(dataset, batch_size, "
            "sampler=DistributedSampler(dataset))"
        )
    if not isinstance(model, DistributedDataParallel):
        warnings.warn(
            f"fit: {world} processes train together but the model is not wrapped in "
            "DistributedDataParallel, so their gradients are not averaged",
            RuntimeWarning,
            stacklevel=3,
        )


# ----------------------------------------------------------------------------- evaluate
def _evaluate(
    model: Module,
    loader: Iterable[Any],
    metrics: list[tuple[str, MetricFn]],
    loss_fn: Any,
    over_ranks: bool = False,
) -> dict[str, float]:
    """Sample-weighted means of the loss and metrics over ``loader``, under no_grad in eval
    mode; every module's previous training flag is restored afterwards. ``over_ranks``: the
    means over the samples of every rank of the process group (every rank must call it)."""
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
    if over_ranks:
        *sums, seen = _sum_over_ranks([*totals.values(), seen])
        totals = dict(zip(totals, sums, strict=True))
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

    Data-parallel (every rank of a :mod:`scratchnn.distributed` process group calls ``fit``
    with a :class:`~scratchnn.nn.parallel.DistributedDataParallel` model and its own shard of
    the data, e.g. a ``DataLoader`` with a ``DistributedSampler``): the epoch's loss, metrics
    and ``val_*`` are means over the samples of all ranks, and so is each step's ``loss`` in
    the batch logs (``size`` is then the global batch); a NaN/inf loss stops every rank;
    ``model.stop_training`` set on any rank stops all of them at the same step; only rank 0
    shows progress (the callbacks given run on every rank; ``ModelCheckpoint`` writes on rank
    0 only). A loader whose ``sampler`` has ``set_epoch`` gets ``set_epoch(epoch)`` before each
    epoch, so the shuffle depends on the epoch alone (resuming reproduces it).
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
    world = _world_size()
    if world > 1:
        _check_ranks(model, steps, world)
    params = {
        "epochs": int(epochs),
        "initial_epoch": int(initial_epoch),
        "steps_per_epoch": steps,
        "metrics": [name for name, _ in metric_fns],
        "verbose": verbose,
    }
    history, ordered = _with_default_callbacks(callbacks, verbose, show=world == 1 or
                                               distributed.get_rank() == 0)
    callback_list = CallbackList(ordered, model, optimizer, params)

    model.stop_training = False  # the one stop flag (Keras' name); callbacks set it
    step = int(initial_epoch) * steps if steps is not None else 0
    logs: dict[str, Any] = {}
    callback_list.on_train_begin(logs)
    for epoch in range(int(initial_epoch), int(epochs)):
        sampler = getattr(train_loader, "sampler", None)
        if hasattr(sampler, "set_epoch"):
            sampler.set_epoch(epoch)
        callback_list.on_epoch_begin(epoch, {})
        started = time.perf_counter()
        logs, step = _train_epoch(model, loss_fn, optimizer, train_loader, metric_fns,
                                  callback_list, epoch, step, world)
        if val_loader is not None:
            val_logs = _evaluate(model, val_loader, metric_fns, loss_fn, over_ranks=world > 1)
            logs.update({f"val_{name}": value for name, value in val_logs.items()})
        logs["time"] = time.perf_counter() - started
        if scheduler is not None:
            scheduler.step()
        callback_list.on_epoch_end(epoch, logs)
        if _stop_requested(model, world):
            break
    callback_list.on_train_end(dict(logs))
    return history


def _with_default_callbacks(
    callbacks: Sequence[Callback], verbose: int, show: bool
) -> tuple[History, list[Callback]]:
    """The History to record into and every callback in the order they run: the lr logging
    (unless ``callbacks`` has one), ``callbacks``, the History, the progress display."""
    given = list(callbacks)
    history = next((cb for cb in given if isinstance(cb, History)), History())
    ordered = [cb for cb in given if not isinstance(cb, History)] + [history]
    if not any(isinstance(cb, LearningRateLogger) for cb in given):
        ordered.insert(0, LearningRateLogger(per_group=False))
    if verbose and show:
        ordered.append(ProgressBar(verbose))
    return history, ordered


def _train_epoch(
    model: Module,
    loss_fn: Any,
    optimizer: Any,
    loader: Iterable[Any],
    metrics: list[tuple[str, MetricFn]],
    callbacks: CallbackList,
    epoch: int,
    step: int,
    world: int = 1,
) -> tuple[dict[str, Any], int]:
    """One pass over ``loader``; returns the epoch's mean loss/metrics and the next step
    (means over all ``world`` ranks' samples when ``world > 1``)."""
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
        value = shown = _scalar(loss)
        size = n
        if world > 1:  # the global batch's mean loss: every rank sees (and checks) the same
            total, count = _sum_over_ranks([value * n, n])
            shown, size = total / count, int(count)
        if not math.isfinite(shown):
            raise TrainingDiverged(step, epoch, batch_index, shown)
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
        callbacks.on_batch_end(step, {"loss": shown, "batch": batch_index, "size": size})
        step += 1
        if _stop_requested(model, world):
            break
    if world > 1:
        *sums, seen = _sum_over_ranks([*totals.values(), seen])
        totals = dict(zip(totals, sums, strict=True))
    if seen == 0:
        raise ValueError("fit: the training loader produced no batches")
    return {name: total / seen for name, total in totals.items()}, step
