"""A Keras-style training loop for scratchnn models: :func:`fit` and :func:`evaluate`.

::

    history = fit(model, nn.CrossEntropyLoss(), optimizer, train_loader, epochs=10,
                  val_loader=val_loader, metrics=("accuracy",),
                  callbacks=[EarlyStopping(patience=2, restore_best=True)])
    history.history["val_loss"]        # one value per epoch (also: history.val_loss)

One training step is the usual ``zero_grad -> forward -> loss -> backward -> step``. Epoch
values are means over the samples of the epoch (each batch weighted by its size), which
assumes the loss and metrics average over their batch (``reduction='mean'``).
"""

from __future__ import annotations

import math
import sys
import time
import warnings
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from scratchnn.callbacks import Callback
from scratchnn.metrics import MetricFn, resolve_metrics
from scratchnn.nn.module import Module
from scratchnn.tensor import Tensor, no_grad

__all__ = ["History", "Trainer", "TrainingDiverged", "evaluate", "fit"]


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


class History:
    """What :func:`fit` returns (also ``trainer.history`` while training).

    ``history``: dict ``name -> list`` with one value per epoch: ``'loss'``, each metric,
    ``'val_loss'`` and ``'val_<metric>'`` (with a ``val_loader``), ``'lr'`` (learning rate
    of the first parameter group during the epoch), ``'time'`` (wall seconds, validation
    included), plus anything callbacks put into the epoch logs. Each name is also an
    attribute: ``history.loss``, ``history.val_accuracy``, ...

    ``epoch``: the 0-based epoch indices; ``step_loss``: the training loss of every step;
    ``params``: ``epochs``, ``initial_epoch``, ``steps_per_epoch``, ``metrics``.
    """

    def __init__(self, params: dict[str, Any] | None = None) -> None:
        self.history: dict[str, list[Any]] = {}
        self.epoch: list[int] = []
        self.step_loss: list[float] = []
        self.params: dict[str, Any] = dict(params or {})

    def __len__(self) -> int:
        return len(self.epoch)

    def __getitem__(self, name: str) -> list[Any]:
        return self.history[name]

    def __getattr__(self, name: str) -> list[Any]:
        history = self.__dict__.get("history", {})
        if name in history:
            return history[name]
        raise AttributeError(f"'History' object has no attribute {name!r}")

    def append_epoch(self, epoch: int, logs: dict[str, Any]) -> None:
        """Record the logs of one epoch (keys seen for the first time are back-filled with
        None for earlier epochs; known keys missing from ``logs`` get None)."""
        self.epoch.append(int(epoch))
        self._fill(logs, len(self.epoch) - 1)

    def update_last(self, logs: dict[str, Any]) -> None:
        """Overwrite the last epoch's entries with ``logs`` (callbacks may add keys)."""
        if self.epoch:
            self._fill(logs, len(self.epoch) - 1)

    def _fill(self, logs: dict[str, Any], index: int) -> None:
        for name, value in logs.items():
            column = self.history.setdefault(name, [])
            column.extend([None] * (index + 1 - len(column)))
            column[index] = _plain(value)
        for column in self.history.values():
            column.extend([None] * (index + 1 - len(column)))

    def to_dict(self) -> dict[str, Any]:
        """Plain lists and numbers (``json.dumps``-able; NaN stays a float NaN)."""
        return {
            "epoch": list(self.epoch),
            "history": {name: list(values) for name, values in self.history.items()},
            "step_loss": list(self.step_loss),
            "params": {name: _plain(value) for name, value in self.params.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> History:
        """Inverse of :meth:`to_dict`."""
        history = cls(data.get("params"))
        history.epoch = [int(e) for e in data.get("epoch", [])]
        history.history = {name: list(values) for name, values in data["history"].items()}
        history.step_loss = [float(v) for v in data.get("step_loss", [])]
        return history

    def __repr__(self) -> str:
        return f"History(epochs={len(self)}, keys={list(self.history)})"


def _plain(value: Any) -> Any:
    """NumPy scalars/0-d arrays and 1-element Tensors as Python numbers; lists kept."""
    if isinstance(value, Tensor):
        value = value.data
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


class Trainer:
    """The state of one :func:`fit` call, shared with callbacks as ``callback.trainer``.

    Attributes: ``model``, ``loss_fn``, ``optimizer``, ``scheduler``, ``callbacks``,
    ``history``, ``epochs`` (the final epoch, exclusive), ``initial_epoch``, ``epoch`` (the
    current one, 0-based), ``global_step`` (optimizer steps taken, counting the epochs before
    ``initial_epoch`` when the loader has a length) and ``stop_training`` (set it to True to
    stop after the current batch).
    """

    def __init__(
        self,
        model: Module,
        loss_fn: Any,
        optimizer: Any,
        *,
        scheduler: Any = None,
        callbacks: Sequence[Callback] = (),
        history: History | None = None,
        epochs: int = 0,
        initial_epoch: int = 0,
    ) -> None:
        self.model = model
        self.loss_fn = loss_fn
        self.optimizer = optimizer
        self.scheduler = scheduler
        self.callbacks = list(callbacks)
        self.history = history if history is not None else History()
        self.epochs = epochs
        self.initial_epoch = initial_epoch
        self.epoch = initial_epoch
        self.global_step = 0
        self.stop_training = False

    def should_stop(self) -> bool:
        return self.stop_training or any(cb.stop_training for cb in self.callbacks)


# ------------------------------------------------------------------------------- helpers
def _split_batch(batch: Any) -> tuple[Any, Any]:
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
    """The name of the first parameter with a NaN/inf gradient, or None. Sums in float64,
    which cannot overflow for float32 gradients, so a non-finite sum means a non-finite entry."""
    for group in optimizer.param_groups:
        for param in group["params"]:
            grad = param.grad
            if grad is not None and not math.isfinite(np.sum(grad, dtype=np.float64)):
                names = {id(p): name for name, p in model.named_parameters()}
                return names.get(id(param), f"parameter of shape {param.data.shape}")
    return None


PROGRESS_HINT = (
    "a progress bar needs tqdm: install scratchnn[progress] (pip install "
    "'scratchnn[progress]'); printing one line per epoch instead"
)


def _load_tqdm() -> Any:
    """tqdm's class when it is installed and stderr is a terminal, else None. On a terminal
    without tqdm, warn once (per call site, Python's default) saying what to install."""
    isatty = getattr(sys.stderr, "isatty", None)
    if isatty is None or not isatty():
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        warnings.warn(PROGRESS_HINT, UserWarning, stacklevel=4)
        return None
    return tqdm


def _format_logs(logs: dict[str, Any], skip: Iterable[str] = (), compact: bool = False) -> str:
    """``"loss: 0.1234 - accuracy: 0.9500 - ..."`` (``compact``: ``"loss=0.123, ..."``)."""
    parts = []
    for name, value in logs.items():
        if name in skip or (compact and name.startswith("lr")):
            continue
        if isinstance(value, float):
            spec = ".4g" if name.startswith("lr") or compact else ".4f"
            text = f"{value:{spec}}"
        elif isinstance(value, int | str):
            text = str(value)
        else:
            continue
        parts.append(f"{name}={text}" if compact else f"{name}: {text}")
    return ", ".join(parts) if compact else " - ".join(parts)


class _Progress:
    """Per-epoch display: a tqdm bar on a terminal (``verbose=1``), else one summary line
    per epoch on stdout (``verbose=1`` off a terminal or without tqdm, and ``verbose=2``);
    nothing with ``verbose=0``."""

    def __init__(self, verbose: int, epochs: int, steps: int | None) -> None:
        if verbose not in (0, 1, 2):
            raise ValueError(f"verbose must be 0, 1 or 2, got {verbose!r}")
        self.verbose = verbose
        self.epochs = epochs
        self.steps = steps
        self.tqdm = _load_tqdm() if verbose == 1 else None
        self.bar: Any = None

    def start_epoch(self, epoch: int) -> None:
        if self.tqdm is not None:
            self.bar = self.tqdm(
                total=self.steps,
                desc=f"Epoch {epoch + 1}/{self.epochs}",
                unit="batch",
                file=sys.stderr,
                leave=True,
                dynamic_ncols=True,
            )

    def update(self, mean_loss: float, samples_per_second: float) -> None:
        if self.bar is not None:
            self.bar.set_postfix_str(
                f"loss={mean_loss:.4f}, {samples_per_second:,.0f} samples/s", refresh=False
            )
            self.bar.update(1)

    def end_epoch(self, epoch: int, logs: dict[str, Any], samples_per_second: float) -> None:
        summary = _format_logs(logs, skip=("time",))
        rate = f"{samples_per_second:,.0f} samples/s"
        if self.bar is not None:
            compact = _format_logs(logs, skip=("time", "lr"), compact=True)
            self.bar.set_postfix_str(f"{rate}, {compact}")
            self.close()
        elif self.verbose:
            seconds = logs.get("time", 0.0)
            print(
                f"Epoch {epoch + 1}/{self.epochs} - {seconds:.2f}s - {summary} - {rate}",
                flush=True,
            )

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


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
    :class:`History`.

    As in Keras, ``epochs`` is the index of the final epoch (exclusive): epochs
    ``initial_epoch, ..., epochs - 1`` run, so to resume from a checkpoint saved after
    ``k`` epochs, restore it with :func:`scratchnn.serialization.load_checkpoint` and call
    ``fit(..., epochs=total, initial_epoch=k)``.

    Each epoch: ``model.train()``, one optimizer step per batch, then validation on
    ``val_loader`` (``evaluate``, logged as ``val_*``), then ``scheduler.step()`` (once per
    epoch), then the callbacks' ``on_epoch_end``. A NaN/inf loss or gradient raises
    :class:`TrainingDiverged` before the optimizer step. ``metrics`` are computed on the
    training outputs of each batch (in train mode) and averaged over the epoch.

    ``verbose``: 0 silent; 1 a tqdm progress bar per epoch (mean loss so far and samples per
    second) when stderr is a terminal, else one line per epoch on stdout (on a terminal
    without tqdm, with a warning saying to install ``scratchnn[progress]``); 2 one line per
    epoch.
    """
    if not isinstance(epochs, int | np.integer) or not isinstance(initial_epoch, int | np.integer):
        raise TypeError("epochs and initial_epoch must be ints")
    if initial_epoch < 0 or epochs < initial_epoch:
        raise ValueError(
            f"need 0 <= initial_epoch <= epochs, got initial_epoch={initial_epoch}, "
            f"epochs={epochs} (epochs is the final epoch, not a count, as in Keras)"
        )
    metric_fns = resolve_metrics(metrics, loss_fn)
    steps = len(train_loader) if hasattr(train_loader, "__len__") else None  # type: ignore[arg-type]
    history = History(
        {
            "epochs": int(epochs),
            "initial_epoch": int(initial_epoch),
            "steps_per_epoch": steps,
            "metrics": [name for name, _ in metric_fns],
        }
    )
    trainer = Trainer(
        model,
        loss_fn,
        optimizer,
        scheduler=scheduler,
        callbacks=callbacks,
        history=history,
        epochs=int(epochs),
        initial_epoch=int(initial_epoch),
    )
    trainer.global_step = int(initial_epoch) * steps if steps is not None else 0
    for callback in trainer.callbacks:
        callback.set_trainer(trainer)
    progress = _Progress(verbose, int(epochs), steps)

    for callback in trainer.callbacks:
        callback.on_train_begin({})
    last_logs: dict[str, Any] = {}
    try:
        for epoch in range(int(initial_epoch), int(epochs)):
            trainer.epoch = epoch
            for callback in trainer.callbacks:
                callback.on_epoch_begin(epoch, {})
            lr = float(optimizer.param_groups[0]["lr"])
            started = time.perf_counter()
            progress.start_epoch(epoch)
            logs, samples_per_second = _train_epoch(trainer, train_loader, metric_fns, progress)
            if val_loader is not None:
                val_logs = _evaluate(model, val_loader, metric_fns, loss_fn)
                logs.update({f"val_{name}": value for name, value in val_logs.items()})
            logs["lr"] = lr
            logs["time"] = time.perf_counter() - started
            if scheduler is not None:
                scheduler.step()
            history.append_epoch(epoch, logs)
            for callback in trainer.callbacks:
                callback.on_epoch_end(epoch, logs)
            history.update_last(logs)  # keys the callbacks added
            progress.end_epoch(epoch, logs, samples_per_second)
            last_logs = logs
            if trainer.should_stop():
                break
    finally:
        progress.close()
    for callback in trainer.callbacks:
        callback.on_train_end(dict(last_logs))
    return history


def _train_epoch(
    trainer: Trainer,
    loader: Iterable[Any],
    metrics: list[tuple[str, MetricFn]],
    progress: _Progress,
) -> tuple[dict[str, Any], float]:
    """One pass over ``loader``; returns the epoch's mean loss/metrics and samples per second."""
    model, loss_fn, optimizer = trainer.model, trainer.loss_fn, trainer.optimizer
    model.train()
    totals = dict.fromkeys(["loss"] + [name for name, _ in metrics], 0.0)
    seen = 0
    started = time.perf_counter()
    rate = 0.0
    for batch_index, batch in enumerate(loader):
        step = trainer.global_step
        inputs, targets = _split_batch(batch)
        optimizer.zero_grad()
        output = model(inputs)
        loss = loss_fn(output, targets)
        value = _scalar(loss)
        if not math.isfinite(value):
            raise TrainingDiverged(step, trainer.epoch, batch_index, value)
        loss.backward()
        bad = _nonfinite_gradient(model, optimizer)
        if bad is not None:
            optimizer.zero_grad()
            reason = f"the gradient of {bad} is not finite"
            raise TrainingDiverged(step, trainer.epoch, batch_index, value, reason=reason)
        optimizer.step()

        n = _batch_size(inputs)
        seen += n
        totals["loss"] += value * n
        for name, fn in metrics:
            totals[name] += float(fn(output.data, targets.data)) * n
        trainer.history.step_loss.append(value)
        trainer.global_step = step + 1
        for callback in trainer.callbacks:
            callback.on_batch_end(step, {"loss": value, "batch": batch_index, "size": n})
        rate = seen / max(time.perf_counter() - started, 1e-12)
        progress.update(totals["loss"] / seen, rate)
        if trainer.should_stop():
            break
    if seen == 0:
        raise ValueError("fit: the training loader produced no batches")
    return {name: total / seen for name, total in totals.items()}, rate
