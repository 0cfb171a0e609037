"""Learning-rate schedules, with ``torch.optim.lr_scheduler``'s names and semantics.

A scheduler rewrites ``group['lr']`` of its optimizer's parameter groups. Typical use::

    scheduler = StepLR(optimizer, step_size=30, gamma=0.1)
    for epoch in range(epochs):
        train_one_epoch(...)          # calls optimizer.step() many times
        scheduler.step()              # then advance the schedule once

``last_epoch`` counts the calls to :meth:`LRScheduler.step`. Construction records each
group's starting rate as ``group['initial_lr']`` (the *base* rate) and performs the first
step, so right after construction ``last_epoch == 0`` and the lr is the schedule's value at 0.

Like PyTorch's, most schedulers are *chainable*: they compute the new lr from the group's
current lr (e.g. ``lr * gamma``), so two schedulers on one optimizer compose multiplicatively.
"""

from __future__ import annotations

import math
import types
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from scratchnn.optim.optimizer import Optimizer


class LRScheduler:
    """Base class: subclasses implement :meth:`get_lr` for the epoch ``self.last_epoch``."""

    def __init__(self, optimizer: Optimizer) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        self.optimizer = optimizer
        for group in optimizer.param_groups:
            group.setdefault("initial_lr", group["lr"])
        self.base_lrs: list[float] = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = -1
        self._last_lr: list[float] = []
        self.step()  # last_epoch -1 -> 0

    def get_lr(self) -> list[float]:
        """The learning rate of each group for epoch ``self.last_epoch`` (used by :meth:`step`).

        To read the current rates, use :meth:`get_last_lr`.
        """
        raise NotImplementedError

    def step(self) -> None:
        """Advance one epoch and write the new learning rates into the optimizer."""
        self.last_epoch += 1
        new_lrs = self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, new_lrs, strict=True):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self) -> list[float]:
        """The learning rates set by the most recent :meth:`step` (one per group)."""
        return list(self._last_lr)

    def _current_lrs(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self) -> dict[str, Any]:
        """Every attribute except the optimizer (plain data; save the optimizer separately)."""
        return {
            name: _copy_plain(value) for name, value in self.__dict__.items() if name != "optimizer"
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore attributes saved by :meth:`state_dict`."""
        self.__dict__.update({name: _copy_plain(value) for name, value in state_dict.items()})


class LambdaLR(LRScheduler):
    """``lr = base_lr * lr_lambda(last_epoch)``; one function, or one per parameter group.

    :meth:`state_dict` does not save the functions: plain functions and lambdas are stored as
    ``None``; for callable *objects* their ``__dict__`` is stored and restored.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        lr_lambda: Callable[[int], float] | list[Callable[[int], float]],
    ) -> None:
        n_groups = len(optimizer.param_groups)
        if isinstance(lr_lambda, list | tuple):
            if len(lr_lambda) != n_groups:
                raise ValueError(f"Expected {n_groups} lr_lambdas, but got {len(lr_lambda)}")
            self.lr_lambdas = list(lr_lambda)
        else:
            self.lr_lambdas = [lr_lambda] * n_groups
        super().__init__(optimizer)

    def get_lr(self) -> list[float]:
        return [
            base_lr * lr_lambda(self.last_epoch)
            for lr_lambda, base_lr in zip(self.lr_lambdas, self.base_lrs, strict=True)
        ]

    def state_dict(self) -> dict[str, Any]:
        state = {
            name: _copy_plain(value)
            for name, value in self.__dict__.items()
            if name not in ("optimizer", "lr_lambdas")
        }
        state["lr_lambdas"] = [
            None if isinstance(fn, types.FunctionType) else dict(fn.__dict__)
            for fn in self.lr_lambdas
        ]
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        state = dict(state_dict)
        saved_lambdas = state.pop("lr_lambdas", [None] * len(self.lr_lambdas))
        super().load_state_dict(state)
        for fn, saved in zip(self.lr_lambdas, saved_lambdas, strict=True):
            if saved is not None:
                fn.__dict__.update(saved)


class StepLR(LRScheduler):
    """Multiply the lr by ``gamma`` every ``step_size`` epochs.

    Closed form: ``lr = base_lr * gamma ** (last_epoch // step_size)``.
    """

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1) -> None:
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._current_lrs()
        return [lr * self.gamma for lr in self._current_lrs()]


class MultiStepLR(LRScheduler):
    """Multiply the lr by ``gamma`` at each epoch listed in ``milestones``.

    A milestone listed n times multiplies by ``gamma ** n``. Closed form:
    ``lr = base_lr * gamma ** (number of milestones <= last_epoch)``.
    """

    def __init__(self, optimizer: Optimizer, milestones: Iterable[int], gamma: float = 0.1) -> None:
        self.milestones = Counter(milestones)
        self.gamma = gamma
        super().__init__(optimizer)

    def get_lr(self) -> list[float]:
        if self.last_epoch not in self.milestones:
            return self._current_lrs()
        factor = self.gamma ** self.milestones[self.last_epoch]
        return [lr * factor for lr in self._current_lrs()]

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        super().load_state_dict(state_dict)
        self.milestones = Counter({int(k): int(v) for k, v in dict(self.milestones).items()})


class ExponentialLR(LRScheduler):
    """Multiply the lr by ``gamma`` every epoch: ``lr = base_lr * gamma ** last_epoch``."""

    def __init__(self, optimizer: Optimizer, gamma: float) -> None:
        self.gamma = gamma
        super().__init__(optimizer)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0:
            return self._current_lrs()
        return [lr * self.gamma for lr in self._current_lrs()]


class CosineAnnealingLR(LRScheduler):
    r"""Anneal the lr along a cosine from ``base_lr`` down to ``eta_min`` over ``T_max`` epochs.

    Closed form (SGDR, Loshchilov & Hutter, 2017, without restarts), with t = ``last_epoch``::

        lr_t = eta_min + (base_lr - eta_min) · (1 + cos(π·t / T_max)) / 2

    After ``T_max`` the curve rises again (period ``2·T_max``). Like PyTorch, the lr is
    updated recursively from the current lr, which gives the same values when this scheduler
    alone changes the lr and lets it compose with other schedulers.
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0) -> None:  # noqa: N803
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer)

    def get_lr(self) -> list[float]:
        t, period, eta_min = self.last_epoch, self.T_max, self.eta_min
        if t == 0:
            return self._current_lrs()
        if (t - 1 - period) % (2 * period) == 0:
            # Restarting from the bottom of the curve: the ratio below would be 0/0.
            return [
                lr + (base_lr - eta_min) * (1 - math.cos(math.pi / period)) / 2
                for base_lr, lr in zip(self.base_lrs, self._current_lrs(), strict=True)
            ]
        ratio = (1 + math.cos(math.pi * t / period)) / (1 + math.cos(math.pi * (t - 1) / period))
        return [ratio * (lr - eta_min) + eta_min for lr in self._current_lrs()]


def _copy_plain(value: Any) -> Any:
    if isinstance(value, list):
        return [_copy_plain(item) for item in value]
    if isinstance(value, dict):
        return type(value)({key: _copy_plain(item) for key, item in value.items()})
    return value
