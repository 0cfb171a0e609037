"""Callbacks: code that :func:`scratchnn.train.fit` runs at fixed points of training.

Subclass :class:`Callback` and override the hooks you need::

    class PrintLoss(Callback):
        def on_epoch_end(self, epoch, logs):
            print(epoch, logs["loss"])

    fit(model, loss_fn, optimizer, loader, epochs=5, callbacks=[PrintLoss()])

Provided: :class:`EarlyStopping`, :class:`ModelCheckpoint`, :class:`LearningRateLogger`.
"""

from __future__ import annotations

import math
import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from scratchnn.nn.module import Module
    from scratchnn.train import Trainer

__all__ = ["Callback", "EarlyStopping", "LearningRateLogger", "ModelCheckpoint"]


class Callback:
    """Base class of callbacks; every hook does nothing by default.

    Order of calls in ``fit``::

        on_train_begin(logs)
        for each epoch:
            on_epoch_begin(epoch, logs)
            for each batch:  [forward, backward, optimizer step]  on_batch_end(step, logs)
            [validation, scheduler.step()]
            on_epoch_end(epoch, logs)
        on_train_end(logs)

    ``epoch`` is 0-based; ``step`` is the global 0-based index of the optimizer step just
    taken. Batch ``logs``: ``{'loss', 'batch', 'size'}``. Epoch ``logs``: ``'loss'``, the
    metrics, ``'val_*'``, ``'lr'``, ``'time'``; keys a callback adds to them in
    ``on_epoch_end`` are recorded in the history. ``on_train_end`` gets the last epoch's logs
    (it is not called when training raises, e.g. ``TrainingDiverged``).

    Set by ``fit`` before ``on_train_begin``: ``self.model``, ``self.optimizer`` and
    ``self.trainer`` (a :class:`scratchnn.train.Trainer`: ``history``, ``scheduler``,
    ``epoch``, ``global_step``, ...). Set ``self.stop_training = True`` in any hook to stop
    training after the current batch (the epoch is then finished as usual: validation,
    ``on_epoch_end``).
    """

    model: Module | None = None
    optimizer: Any = None
    trainer: Trainer | None = None
    stop_training: bool = False

    def set_trainer(self, trainer: Trainer) -> None:
        """Called by ``fit`` first: attach the run and clear ``stop_training``."""
        self.trainer = trainer
        self.model = trainer.model
        self.optimizer = trainer.optimizer
        self.stop_training = False

    def on_train_begin(self, logs: dict[str, Any]) -> None:
        """Before the first epoch."""

    def on_train_end(self, logs: dict[str, Any]) -> None:
        """After the last epoch (or after an early stop)."""

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any]) -> None:
        """Before the first batch of ``epoch``."""

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        """After validation and the scheduler step of ``epoch``; ``logs`` may be extended."""

    def on_batch_end(self, step: int, logs: dict[str, Any]) -> None:
        """After the optimizer step ``step``."""


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
    names, min otherwise). Training stops at the end of the epoch where the number of
    consecutive epochs without improvement exceeds ``patience`` (``patience=0``: the first
    epoch that does not improve). With ``restore_best=True`` the model's weights of the best
    epoch are loaded back when training ends (the optimizer state is not).

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
        if self.wait > self.patience:
            self.stop_training = True
            self.stopped_epoch = epoch

    def on_train_end(self, logs: dict[str, Any]) -> None:
        if self.restore_best and self.best_weights is not None and self.model is not None:
            self.model.load_state_dict(self.best_weights)


class ModelCheckpoint(Callback):
    """Save a full training checkpoint (:func:`scratchnn.serialization.save_checkpoint`:
    model, optimizer, scheduler, RNG state, epoch) at the end of every epoch, or only when
    ``monitor`` improved on the best value so far (``save_best_only=True``).

    ``path`` may contain ``str.format`` fields: ``{epoch}`` (the number of completed
    epochs, 1-based, which is also the ``initial_epoch`` to resume from) and any log name,
    e.g. ``"ckpt/epoch{epoch:03d}-{val_loss:.3f}.npz"``. Missing parent directories are
    created. The checkpoint's ``extra`` holds ``{'history': history.to_dict(), 'logs': logs,
    'monitor': monitor, 'best': best}``.

    ``initial_value_threshold`` (Keras' name) is the best value to beat from the start. Pass
    the ``extra['best']`` of the checkpoint you resume from, so that with ``save_best_only``
    the first resumed epoch does not overwrite a better checkpoint just because this callback
    has not seen a value yet::

        info = load_checkpoint("best.npz", model, optimizer)
        ModelCheckpoint("best.npz", save_best_only=True,
                        initial_value_threshold=info["extra"]["best"])

    ``saved``: the paths written, in order; ``best``: the best monitored value (kept across
    ``fit`` calls with the same callback).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        monitor: str = "val_loss",
        save_best_only: bool = False,
        mode: str = "auto",
        initial_value_threshold: float | None = None,
    ) -> None:
        self.path = os.fspath(path)
        self.monitor = monitor
        self.save_best_only = save_best_only
        self.mode = _resolve_mode(mode, monitor)
        self.best: float | None = (
            None if initial_value_threshold is None else float(initial_value_threshold)
        )
        self.saved: list[str] = []

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        from scratchnn.serialization import save_checkpoint

        if self.save_best_only:
            value = _monitored(logs, self.monitor, "ModelCheckpoint")
            if value is None or not _improved(value, self.best, self.mode):
                return
            self.best = value
        elif self.monitor in logs and _improved(float(logs[self.monitor]), self.best, self.mode):
            self.best = float(logs[self.monitor])
        path = Path(self.path.format(**{**logs, "epoch": epoch + 1}))
        path.parent.mkdir(parents=True, exist_ok=True)
        trainer = self.trainer
        extra = {
            "history": trainer.history.to_dict() if trainer is not None else None,
            "logs": {k: v for k, v in logs.items() if isinstance(v, int | float | str)},
            "monitor": self.monitor,
            "best": self.best,
        }
        save_checkpoint(
            path,
            self.model,
            self.optimizer,
            trainer.scheduler if trainer is not None else None,
            epoch=epoch + 1,
            extra=extra,
        )
        self.saved.append(str(path))


class LearningRateLogger(Callback):
    """Record the learning rate of every parameter group.

    ``lrs``: one list of rates (one per group) per epoch -- the rates used during the epoch --
    or per optimizer step with ``per_step=True``; ``steps``: the matching epoch or step
    indices. At each epoch end it also adds ``'lr_group{i}'`` for every group to the logs
    (hence to the history; ``'lr'``, group 0, is always logged by ``fit``).
    """

    def __init__(self, per_step: bool = False) -> None:
        self.per_step = per_step
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
        for i, lr in enumerate(self._epoch_lrs):
            logs[f"lr_group{i}"] = lr
