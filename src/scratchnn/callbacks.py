"""Callbacks: code that :func:`scratchnn.train.fit` runs at fixed points of training.

Everything ``fit`` does besides the forward/backward/step of each batch is a callback, run
through one :class:`CallbackList`: :class:`History` records the epochs, :class:`ProgressBar`
prints them, :class:`LearningRateLogger` logs the learning rate. Also here:
:class:`EarlyStopping`, :class:`ModelCheckpoint` and :class:`LivePlot` (learning curves
redrawn during training, in place in Jupyter; it draws through :mod:`scratchnn.plot`).
Subclass :class:`Callback` and override the hooks you need::

    class StopAtAccuracy(Callback):
        def on_epoch_end(self, epoch, logs):
            if logs["val_accuracy"] >= 0.97:
                self.model.stop_training = True     # the one stop flag, as in Keras

    fit(model, loss_fn, optimizer, loader, epochs=50, val_loader=val,
        callbacks=[StopAtAccuracy()])

A callback knows the model, the optimizer and the run's ``params``; nothing else. Whatever
else it needs (a scheduler, a history to save) it gets as constructor arguments, as
:class:`ModelCheckpoint` does. This module never imports :mod:`scratchnn.train`.
"""

from __future__ import annotations

import math
import os
import shutil
import sys
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from scratchnn.nn.module import Module

__all__ = [
    "Callback",
    "CallbackList",
    "EarlyStopping",
    "History",
    "LearningRateLogger",
    "LivePlot",
    "ModelCheckpoint",
    "ProgressBar",
]

HOOKS = (
    "on_train_begin",
    "on_train_end",
    "on_epoch_begin",
    "on_epoch_end",
    "on_batch_begin",
    "on_batch_end",
)


class Callback:
    """Base class of callbacks; every hook does nothing by default.

    Order of calls in ``fit``::

        on_train_begin(logs)
        for each epoch:
            on_epoch_begin(epoch, logs)
            for each batch:
                on_batch_begin(step, logs)      # logs: batch, size
                [zero_grad, forward, loss, backward, optimizer step]
                on_batch_end(step, logs)        # logs: loss, batch, size
            [validation, scheduler.step()]
            on_epoch_end(epoch, logs)
        on_train_end(logs)

    ``epoch`` is 0-based; ``step`` is the global 0-based index of the optimizer step (it
    counts the epochs before ``initial_epoch`` when the loader has a length). Epoch ``logs``:
    ``'loss'``, the metrics, ``'val_*'``, ``'time'``, ``'lr'``; keys a callback adds in
    ``on_epoch_end`` are seen by the callbacks after it and recorded by :class:`History`
    (which runs after the callbacks given to ``fit``). ``on_train_end`` gets the last epoch's
    logs; it is not called when training raises (e.g. ``TrainingDiverged``).

    Attributes, set by ``fit`` before ``on_train_begin`` (:meth:`set_run`): ``model``,
    ``optimizer`` and ``params`` (``epochs``, ``initial_epoch``, ``steps_per_epoch`` (None
    for a loader without length), ``metrics``, ``verbose``).

    Stopping: set ``self.model.stop_training = True`` in any hook. ``fit`` sets it to False
    before ``on_train_begin`` and checks it after every batch and every epoch: training stops
    after the current batch, and that epoch is finished as usual (validation,
    ``on_epoch_end``).
    """

    model: Module | None = None
    optimizer: Any = None
    params: dict[str, Any] = {}  # noqa: RUF012 (replaced per run by set_run)

    def set_run(self, model: Module, optimizer: Any, params: dict[str, Any]) -> None:
        """Attach the run: called by :class:`CallbackList` before ``on_train_begin``."""
        self.model = model
        self.optimizer = optimizer
        self.params = params

    def on_train_begin(self, logs: dict[str, Any]) -> None:
        """Before the first epoch."""

    def on_train_end(self, logs: dict[str, Any]) -> None:
        """After the last epoch (or after a stop)."""

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any]) -> None:
        """Before the first batch of ``epoch``."""

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        """After validation and the scheduler step of ``epoch``; ``logs`` may be extended."""

    def on_batch_begin(self, step: int, logs: dict[str, Any]) -> None:
        """Before optimizer step ``step`` (the batch is loaded)."""

    def on_batch_end(self, step: int, logs: dict[str, Any]) -> None:
        """After optimizer step ``step``."""


class CallbackList:
    """Runs a list of callbacks in order: ``callbacks.on_epoch_end(epoch, logs)`` calls each
    one's hook. ``CallbackList(callbacks, model, optimizer, params)`` attaches the run to
    every callback (:meth:`Callback.set_run`).

    Each hook is dispatched only to the callbacks that override it, so a hook nobody uses
    costs one loop over an empty list per batch.
    """

    def __init__(
        self,
        callbacks: Iterable[Callback],
        model: Module,
        optimizer: Any,
        params: dict[str, Any],
    ) -> None:
        self.callbacks = list(callbacks)
        for callback in self.callbacks:
            if not isinstance(callback, Callback):
                raise TypeError(
                    f"callbacks must be Callback instances, got {type(callback).__name__}"
                )
            callback.set_run(model, optimizer, params)
        self.model = model
        self.params = params
        self._hooks: dict[str, list[Callable[..., None]]] = {
            hook: [
                getattr(cb, hook)
                for cb in self.callbacks
                if getattr(type(cb), hook) is not getattr(Callback, hook)
            ]
            for hook in HOOKS
        }

    def __iter__(self) -> Any:
        return iter(self.callbacks)

    def __len__(self) -> int:
        return len(self.callbacks)

    def on_train_begin(self, logs: dict[str, Any]) -> None:
        for hook in self._hooks["on_train_begin"]:
            hook(logs)

    def on_train_end(self, logs: dict[str, Any]) -> None:
        for hook in self._hooks["on_train_end"]:
            hook(logs)

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any]) -> None:
        for hook in self._hooks["on_epoch_begin"]:
            hook(epoch, logs)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        for hook in self._hooks["on_epoch_end"]:
            hook(epoch, logs)

    def on_batch_begin(self, step: int, logs: dict[str, Any]) -> None:
        for hook in self._hooks["on_batch_begin"]:
            hook(step, logs)

    def on_batch_end(self, step: int, logs: dict[str, Any]) -> None:
        for hook in self._hooks["on_batch_end"]:
            hook(step, logs)


# ------------------------------------------------------------------------------ History
def plain(value: Any) -> Any:
    """``value`` as what ``json.dumps`` takes: NumPy scalars, 0-d arrays and 1-element
    Tensors as Python numbers, arrays and Tensors as (nested) lists, tuples as lists, paths
    as strings, dicts with string keys (recursively)."""
    data = getattr(value, "data", None)
    if isinstance(data, np.ndarray) and not isinstance(value, np.ndarray):
        value = data  # a Tensor
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return value


class History(Callback):
    """The record of training, and what :func:`fit` returns.

    ``history``: dict ``name -> list`` with one value per epoch: ``'loss'``, each metric,
    ``'val_loss'`` and ``'val_<metric>'`` (with a ``val_loader``), ``'time'`` (wall seconds,
    validation included), ``'lr'`` (learning rate of the first parameter group during the
    epoch), plus anything callbacks put into the epoch logs. Each name is also an attribute:
    ``history.loss``, ``history.val_accuracy``, ...

    ``epoch``: the 0-based epoch indices; ``step_loss``: the training loss of every step;
    ``params``: the last run's ``params``.

    ``fit`` creates one unless a History is among its callbacks; then it records into (and
    returns) that one. That is how a history is continued: ``History.from_dict(saved)``,
    passed to the resumed ``fit``, gets the new epochs appended after the saved ones.
    """

    def __init__(self, params: dict[str, Any] | None = None) -> None:
        self.history: dict[str, list[Any]] = {}
        self.epoch: list[int] = []
        self.step_loss: list[float] = []
        self.params = dict(params or {})

    def set_run(self, model: Module, optimizer: Any, params: dict[str, Any]) -> None:
        super().set_run(model, optimizer, dict(params))

    def __len__(self) -> int:
        return len(self.epoch)

    def __getitem__(self, name: str) -> list[Any]:
        return self.history[name]

    def __getattr__(self, name: str) -> list[Any]:
        history = self.__dict__.get("history", {})
        if name in history:
            return history[name]
        raise AttributeError(f"'History' object has no attribute {name!r}")

    # hooks
    def on_batch_end(self, step: int, logs: dict[str, Any]) -> None:
        self.step_loss.append(logs["loss"])

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        self.append_epoch(epoch, logs)

    def append_epoch(self, epoch: int, logs: dict[str, Any]) -> None:
        """Record the logs of one epoch (keys seen for the first time are back-filled with
        None for earlier epochs; known keys missing from ``logs`` get None)."""
        self.epoch.append(int(epoch))
        index = len(self.epoch) - 1
        for name, value in logs.items():
            column = self.history.setdefault(name, [])
            column.extend([None] * (index + 1 - len(column)))
            column[index] = plain(value)
        for column in self.history.values():
            column.extend([None] * (index + 1 - len(column)))

    def to_dict(self) -> dict[str, Any]:
        """Plain lists and numbers (``json.dumps``-able; NaN stays a float NaN)."""
        return {
            "epoch": list(self.epoch),
            "history": {name: list(values) for name, values in self.history.items()},
            "step_loss": list(self.step_loss),
            "params": {name: plain(value) for name, value in self.params.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> History:
        """Inverse of :meth:`to_dict`: the history to pass to a resumed ``fit``."""
        history = cls(data.get("params"))
        history.epoch = [int(e) for e in data.get("epoch", [])]
        history.history = {name: list(values) for name, values in data["history"].items()}
        history.step_loss = [float(v) for v in data.get("step_loss", [])]
        return history

    def __repr__(self) -> str:
        return f"History(epochs={len(self)}, keys={list(self.history)})"


# ------------------------------------------------------------------------ progress display
PROGRESS_HINT = (
    "a progress bar needs tqdm: install scratchnn[progress] (pip install "
    "'scratchnn[progress]'); printing one line per epoch instead"
)


def _in_notebook() -> bool:
    """True inside a Jupyter kernel (where tqdm.auto draws a widget)."""
    shell = sys.modules.get("IPython")
    get_ipython = getattr(shell, "get_ipython", None)
    try:
        return get_ipython is not None and type(get_ipython()).__name__ == "ZMQInteractiveShell"
    except Exception:  # noqa: BLE001 (any failure means: not a notebook)
        return False


def _load_tqdm() -> Any:
    """tqdm.auto's class when stderr is a terminal or we run in a notebook and tqdm is
    installed, else None (on a terminal without tqdm, warn once saying what to install)."""
    isatty = getattr(sys.stderr, "isatty", None)
    if not (isatty is not None and isatty()) and not _in_notebook():
        return None
    try:
        import tqdm as _  # noqa: F401 (fails first when tqdm is absent)
        from tqdm.auto import tqdm
    except ImportError:
        warnings.warn(PROGRESS_HINT, UserWarning, stacklevel=5)
        return None
    return tqdm


def format_logs(logs: dict[str, Any], skip: Iterable[str] = ()) -> str:
    """``"loss: 0.1234 - accuracy: 0.9500 - lr: 0.01"``: the numbers and strings of ``logs``
    (learning rates with 4 significant digits, other floats with 4 decimals)."""
    parts = []
    for name, value in logs.items():
        if name in skip:
            continue
        if isinstance(value, float):
            text = f"{value:.4g}" if name.startswith("lr") else f"{value:.4f}"
        elif isinstance(value, int | str):
            text = str(value)
        else:
            continue
        parts.append(f"{name}: {text}")
    return " - ".join(parts)


def _wrap(parts: list[str], width: int) -> str:
    """Join ``parts`` with ``" - "``, breaking lines (indented) before ``width`` columns."""
    lines, line = [], ""
    for part in parts:
        candidate = f"{line} - {part}" if line else part
        if line and len(candidate) > width:
            lines.append(line)
            candidate = "    " + part
        line = candidate
    lines.append(line)
    return "\n".join(lines)


class ProgressBar(Callback):
    """The progress display ``fit`` adds for ``verbose`` 1 and 2.

    ``verbose=1``: on a terminal or in a notebook, a tqdm bar per epoch (``tqdm.auto``: a
    widget in Jupyter) showing the mean loss so far; when the epoch ends the bar is replaced
    by the epoch's line. Elsewhere (a log file, CI), or without tqdm, just that line, on
    stdout. ``verbose=2``: only the line. The line holds the epoch, its seconds, every log
    and the samples per second, wrapped to the terminal's width so no value is cut off::

        Epoch 3/10 - 1.52s - loss: 0.4012 - accuracy: 0.8561 - val_loss: 0.4432
            - val_accuracy: 0.8413 - lr: 0.01 - 39,410 samples/s
    """

    def __init__(self, verbose: int = 1) -> None:
        if verbose not in (1, 2):
            raise ValueError(f"ProgressBar verbose must be 1 or 2, got {verbose!r}")
        self.verbose = verbose
        self.tqdm: Any = None
        self.bar: Any = None
        self._seen = 0
        self._loss = 0.0
        self._started = 0.0

    def on_train_begin(self, logs: dict[str, Any]) -> None:
        self._close()
        self.tqdm = _load_tqdm() if self.verbose == 1 else None

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any]) -> None:
        self._close()
        self._seen, self._loss = 0, 0.0
        self._started = time.perf_counter()
        if self.tqdm is not None:
            self.bar = self.tqdm(
                total=self.params.get("steps_per_epoch"),
                desc=f"Epoch {epoch + 1}/{self.params.get('epochs')}",
                unit="batch",
                file=sys.stderr,
                leave=False,
                dynamic_ncols=True,
            )

    def on_batch_end(self, step: int, logs: dict[str, Any]) -> None:
        size = logs["size"]
        self._seen += size
        self._loss += logs["loss"] * size
        if self.bar is not None:
            self.bar.set_postfix_str(f"loss={self._loss / self._seen:.4f}", refresh=False)
            self.bar.update(1)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        seconds = time.perf_counter() - self._started
        rate = self._seen / max(seconds, 1e-12)
        parts = [f"Epoch {epoch + 1}/{self.params.get('epochs')}",
                 f"{logs.get('time', seconds):.2f}s"]
        text = format_logs(logs, skip=("time",))
        parts += [*(text.split(" - ") if text else []), f"{rate:,.0f} samples/s"]
        if self.bar is not None:
            width = shutil.get_terminal_size((80, 24)).columns
            self._close()
            self.tqdm.write(_wrap(parts, width), file=sys.stderr)
        else:
            print(" - ".join(parts), flush=True)

    def on_train_end(self, logs: dict[str, Any]) -> None:
        self._close()

    def _close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


# ------------------------------------------------------------------------- monitoring
def _resolve_mode(mode: str, monitor: str) -> str:
    """``'min'`` or ``'max'``; ``'auto'`` means max for accuracy/F1/precision/recall/AUC."""
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
    if mode != "auto":
        return mode
    higher_is_better = ("acc", "f1", "precision", "recall", "auc")
    return "max" if any(word in monitor.lower() for word in higher_is_better) else "min"


def _monitored(logs: dict[str, Any], monitor: str, who: str) -> float | None:
    """``logs[monitor]`` as a float, or None (with a warning listing the keys) if absent."""
    value = logs.get(monitor)
    if value is None:
        warnings.warn(
            f"{who}: monitored value {monitor!r} is not in the logs (available: "
            f"{', '.join(sorted(logs))}); did you forget val_loader?",
            RuntimeWarning,
            stacklevel=3,
        )
        return None
    return float(value)


def _improved(value: float, best: float | None, mode: str, min_delta: float = 0.0) -> bool:
    """``value < best - min_delta`` (min) or ``value > best + min_delta`` (max); NaN never
    improves, anything finite improves on "no best yet"."""
    if math.isnan(value):
        return False
    if best is None:
        return True
    if mode == "min":
        return value < best - min_delta
    return value > best + min_delta


class EarlyStopping(Callback):
    """Stop training when ``monitor`` stops improving.

    An epoch improves when the value beats the best so far by more than ``min_delta``
    (lower for ``mode='min'``, higher for ``'max'``; ``'auto'`` picks max for accuracy-like
    names, min otherwise). Training stops (``model.stop_training = True``) at the end of the
    epoch where the number of consecutive epochs without improvement exceeds ``patience``
    (``patience=0``: the first epoch that does not improve). With ``restore_best=True`` the
    model's weights of the best epoch are loaded back when training ends (the optimizer
    state is not).

    After training: ``best`` (value), ``best_epoch``, ``stopped_epoch`` (None if it never
    stopped), ``wait``. Positional arguments are ``(monitor, patience, restore_best)``;
    ``min_delta`` and ``mode`` are keyword-only, so ``EarlyStopping("val_loss", 3, True)``
    cannot silently become a ``min_delta`` of 1.
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        patience: int = 0,
        restore_best: bool = False,
        *,
        min_delta: float = 0.0,
        mode: str = "auto",
    ) -> None:
        if patience < 0:
            raise ValueError(f"patience must be >= 0, got {patience}")
        self.monitor = monitor
        self.patience = int(patience)
        self.min_delta = abs(float(min_delta))
        self.mode = _resolve_mode(mode, monitor)
        self.restore_best = restore_best
        self._reset()

    def _reset(self) -> None:
        self.best: float | None = None
        self.best_epoch: int | None = None
        self.best_weights: dict[str, np.ndarray] | None = None
        self.stopped_epoch: int | None = None
        self.wait = 0

    def on_train_begin(self, logs: dict[str, Any]) -> None:
        self._reset()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        value = _monitored(logs, self.monitor, "EarlyStopping")
        if value is None:
            return
        if _improved(value, self.best, self.mode, self.min_delta):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best and self.model is not None:
                self.best_weights = self.model.state_dict()  # copies
            return
        self.wait += 1
        if self.wait > self.patience and self.model is not None:
            self.model.stop_training = True
            self.stopped_epoch = epoch

    def on_train_end(self, logs: dict[str, Any]) -> None:
        if self.restore_best and self.best_weights is not None and self.model is not None:
            self.model.load_state_dict(self.best_weights)


ExtraFn = Callable[[int, dict[str, Any]], dict[str, Any]]


class ModelCheckpoint(Callback):
    """Save a full training checkpoint (:func:`scratchnn.serialization.save_checkpoint`:
    model, optimizer, ``scheduler``, RNG state, epoch) at the end of every epoch, or only
    when ``monitor`` improved on the best value so far (``save_best_only=True``).

    ``path`` may contain ``str.format`` fields: ``{epoch}`` (the number of completed
    epochs, 1-based, which is also the ``initial_epoch`` to resume from) and any log name,
    e.g. ``"ckpt/epoch{epoch:03d}-{val_loss:.3f}.npz"``. Missing parent directories are
    created.

    What is saved comes from the arguments, nothing else: the callback's model and
    optimizer, ``scheduler`` (to resume its position), and in the checkpoint's ``extra``:
    ``{'logs': the epoch's numbers, 'monitor': monitor, 'best': best}``, plus
    ``'history': history.to_dict()`` when a :class:`History` is given (pass the same one to
    ``fit``), plus ``extra`` (a dict, or a function ``extra(epoch, logs) -> dict`` called at
    each save).

    ``initial_value_threshold`` (Keras' name) is the best value to beat from the start. Pass
    the ``extra['best']`` of the checkpoint you resume from, so that with ``save_best_only``
    the first resumed epoch does not overwrite a better checkpoint just because this callback
    has not seen a value yet::

        info = load_checkpoint("best.npz", model, optimizer)
        ModelCheckpoint("best.npz", save_best_only=True,
                        initial_value_threshold=info["extra"]["best"])

    ``saved``: the paths written, in order; ``best``: the best monitored value (kept across
    ``fit`` calls with the same callback).

    Data-parallel: only rank 0 writes (every rank keeps ``best``), and it saves the model
    inside a :class:`~scratchnn.nn.parallel.DistributedDataParallel` (its ``module``), so the
    checkpoint loads into the plain model in one process, or on every rank into
    ``ddp.module`` to resume data-parallel.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        monitor: str = "val_loss",
        save_best_only: bool = False,
        mode: str = "auto",
        initial_value_threshold: float | None = None,
        *,
        scheduler: Any = None,
        history: History | None = None,
        extra: dict[str, Any] | ExtraFn | None = None,
    ) -> None:
        self.path = os.fspath(path)
        self.monitor = monitor
        self.save_best_only = save_best_only
        self.mode = _resolve_mode(mode, monitor)
        self.best: float | None = (
            None if initial_value_threshold is None else float(initial_value_threshold)
        )
        self.scheduler = scheduler
        self.history = history
        self.extra = extra
        self.saved: list[str] = []

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        from scratchnn import distributed
        from scratchnn.nn.parallel import unwrap_model
        from scratchnn.serialization import save_checkpoint

        if self.save_best_only:
            value = _monitored(logs, self.monitor, "ModelCheckpoint")
            if value is None or not _improved(value, self.best, self.mode):
                return
            self.best = value
        elif self.monitor in logs and _improved(float(logs[self.monitor]), self.best, self.mode):
            self.best = float(logs[self.monitor])
        if distributed.is_initialized() and distributed.get_rank() != 0:
            return  # one writer: rank 0 (the ranks' weights are the same)
        path = Path(self.path.format(**{**logs, "epoch": epoch + 1}))
        path.parent.mkdir(parents=True, exist_ok=True)
        record: dict[str, Any] = {
            "logs": {k: v for k, v in logs.items() if isinstance(v, int | float | str)},
            "monitor": self.monitor,
            "best": self.best,
        }
        if self.history is not None:
            # History runs after this callback, so add this epoch to the saved copy.
            saved = History.from_dict(self.history.to_dict())
            if not saved.epoch or saved.epoch[-1] != epoch:
                saved.append_epoch(epoch, logs)
            record["history"] = saved.to_dict()
        if self.extra is not None:
            record.update(self.extra(epoch, logs) if callable(self.extra) else self.extra)
        save_checkpoint(path, unwrap_model(self.model), self.optimizer, self.scheduler,
                        epoch=epoch + 1, extra=record)
        self.saved.append(str(path))


class LearningRateLogger(Callback):
    """Log the learning rate: ``'lr'`` (group 0) in every epoch's logs, and with
    ``per_group=True`` also ``'lr_group{i}'`` for every parameter group. The rates logged
    are those used during the epoch (read at its start, before the scheduler steps).

    ``fit`` adds ``LearningRateLogger(per_group=False)`` unless one is among its callbacks.
    ``lrs``: one list of rates (one per group) per epoch, or per optimizer step with
    ``per_step=True``; ``steps``: the matching epoch or step indices.
    """

    def __init__(self, per_step: bool = False, per_group: bool = True) -> None:
        self.per_step = per_step
        self.per_group = per_group
        self.lrs: list[list[float]] = []
        self.steps: list[int] = []
        self._epoch_lrs: list[float] = []

    def _current(self) -> list[float]:
        return [float(group["lr"]) for group in self.optimizer.param_groups]

    def on_train_begin(self, logs: dict[str, Any]) -> None:
        self.lrs, self.steps = [], []

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any]) -> None:
        self._epoch_lrs = self._current()
        if not self.per_step:
            self.lrs.append(list(self._epoch_lrs))
            self.steps.append(epoch)

    def on_batch_end(self, step: int, logs: dict[str, Any]) -> None:
        if self.per_step:
            # The rate of the step just taken (unless an earlier callback changed it).
            self.lrs.append(self._current())
            self.steps.append(step)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        logs["lr"] = self._epoch_lrs[0]
        if self.per_group:
            for i, lr in enumerate(self._epoch_lrs):
                logs[f"lr_group{i}"] = lr


# ------------------------------------------------------------------------- live plot
class LivePlot(Callback):
    """Redraw the learning curves every ``every`` epochs::

        fit(model, loss_fn, optimizer, loader, epochs=20, val_loader=val,
            callbacks=[LivePlot()])

    In a notebook one figure (:func:`scratchnn.plot.plot_history`: a panel per metric,
    training and validation curves together) is shown under the cell and replaced after each
    epoch; with ``path`` the PNG is also rewritten each time, which is how to watch a run from
    a script.

    ``metrics``: the names to draw (``'loss'``, ``'accuracy'``, ...; their ``val_`` curves come
    along); default: every number in the epoch logs except ``lr`` and ``time``.
    ``path``: also save the figure there (PNG) at each redraw. ``figures`` counts the redraws.
    """

    def __init__(self, metrics: Sequence[str] | None = None, path: str | os.PathLike[str] | None
                 = None, every: int = 1) -> None:
        if every < 1:
            raise ValueError(f"every must be >= 1, got {every}")
        self.metrics = list(metrics) if metrics is not None else None
        self.path = path
        self.every = int(every)
        self.curves: dict[str, list[float]] = {}
        self.figures = 0
        self._handle: Any = None
        self.figure: Any = None

    def on_train_begin(self, logs: dict[str, Any]) -> None:
        self.curves = {}
        self._handle = None

    def _wanted(self, name: str) -> bool:
        if name in ("lr", "time") or name.startswith("lr_"):
            return False
        if self.metrics is None:
            return True
        return name.removeprefix("val_") in self.metrics

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        n = max((len(v) for v in self.curves.values()), default=0)
        for name, value in logs.items():
            if isinstance(value, int | float) and self._wanted(name):
                column = self.curves.setdefault(name, [math.nan] * n)
                column.append(float(value))
        for column in self.curves.values():
            column.extend([math.nan] * (n + 1 - len(column)))
        if (epoch + 1) % self.every == 0:
            self.draw()

    def on_train_end(self, logs: dict[str, Any]) -> None:
        lengths = {len(v) for v in self.curves.values()}
        if lengths and max(lengths) % self.every:
            self.draw()  # the last epochs since the last redraw

    def draw(self) -> Any:
        """Draw the curves so far (shown or replaced in a notebook, saved to ``path``)."""
        from scratchnn import plot

        if not self.curves:
            return None
        self.figure = plot.plot_history(self.curves)
        self.figures += 1
        if self.path is not None:
            self.figure.savefig(self.path, dpi=self.figure.dpi, format="png")
        if _in_notebook():
            from IPython.display import display

            if self._handle is None:
                self._handle = display(self.figure, display_id=True)
            else:
                self._handle.update(self.figure)
        return self.figure
