"""The :class:`Optimizer` base class: parameter groups, per-parameter state, checkpoints.

An optimizer only ever touches two attributes of a parameter ``p``:

* ``p.data``: the values, a writable ``np.ndarray`` that is updated **in place**;
* ``p.grad``: the gradient: a Tensor (its ``.data`` array) or an array of the same shape, or
  ``None`` (the parameter is skipped). :func:`grad_array` reads either.

``p.grad.data`` is treated as read-only: it may be a view shared with other code, so every update
that needs a modified gradient (weight decay, ``maximize``) writes into a new array instead.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any, Protocol

import numpy as np


class ParameterLike(Protocol):
    """Anything with ``data`` and ``grad`` arrays, e.g. ``scratchnn.nn.Parameter``."""

    data: np.ndarray
    grad: Any  # a Tensor (an object with a .data array), an array, or None


ParamsArg = Iterable[ParameterLike] | Iterable[dict[str, Any]]


class Optimizer:
    """Base class of all optimizers (same structure as ``torch.optim.Optimizer``).

    ``params`` is either an iterable of parameters or a list of *parameter groups*, dicts like
    ``{'params': [...], 'lr': 0.1}``. Each group carries its own copy of every hyperparameter;
    the ones a group does not set are taken from ``defaults``.

    Attributes:
        defaults: hyperparameter values used for keys a group does not set.
        param_groups: list of dicts, each with ``'params'`` (a list) and every hyperparameter.
            Changing ``group['lr']`` between steps is how learning-rate schedules work.
        state: per-parameter dict (keyed by the parameter object) holding the optimizer's
            buffers, e.g. Adam's moment estimates. Arrays have the parameter's dtype.

    Subclasses implement :meth:`_update_group` and may override :meth:`_check_hyperparameters`.
    """

    def __init__(self, params: ParamsArg, defaults: dict[str, Any]) -> None:
        if _is_parameter(params) or isinstance(params, np.ndarray):
            raise TypeError(
                "params must be an iterable of parameters or of parameter-group dicts, "
                f"got a single {type(params).__name__}"
            )
        if isinstance(params, set | frozenset):
            raise TypeError(_SET_MESSAGE)
        self._check_hyperparameters(defaults)
        self.defaults: dict[str, Any] = dict(defaults)
        self.state: defaultdict[Any, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        self._work_arrays: dict[tuple[tuple[int, ...], np.dtype], np.ndarray] = {}

        groups = list(params)
        if len(groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    # ------------------------------------------------------------------ groups
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Append a parameter group; missing hyperparameters are filled in from ``defaults``."""
        if not isinstance(param_group, dict):
            raise TypeError(f"a parameter group must be a dict, got {type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError("a parameter group must have a 'params' entry")
        group = dict(param_group)

        params = group["params"]
        if _is_parameter(params):
            params = [params]
        elif isinstance(params, set | frozenset):
            raise TypeError(_SET_MESSAGE)
        else:
            params = list(params)
        for param in params:
            if not _is_parameter(param):
                raise TypeError(
                    "an optimizer can only optimize objects with .data and .grad, "
                    f"got {type(param).__name__}"
                )
        group["params"] = params

        for name, default in self.defaults.items():
            group.setdefault(name, default)
        self._check_hyperparameters(group)

        ids = [id(p) for p in params]
        if len(set(ids)) != len(ids):
            raise ValueError("a parameter group contains the same parameter more than once")
        ids_in_other_groups = {id(p) for other in self.param_groups for p in other["params"]}
        if ids_in_other_groups.intersection(ids):
            raise ValueError("some parameters appear in more than one parameter group")

        self.param_groups.append(group)

    def _check_hyperparameters(self, group: dict[str, Any]) -> None:
        """Raise ``ValueError`` if a group's hyperparameters are invalid (override per optimizer).

        Called for ``defaults`` and for every group, so per-group overrides are checked too.
        """

    # ------------------------------------------------------------------ stepping
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient, in place (the others are untouched).

        ``closure``, if given, is called first (it should recompute the loss and gradients);
        its return value is returned.
        """
        loss = closure() if closure is not None else None
        for group in self.param_groups:
            self._update_group(group)
            for param in group["params"]:
                changed = getattr(param, "_changed_in_place", None)
                if changed is not None and param.grad is not None:  # updated in place:
                    changed()  # graphs that saved its values refuse to backward (as in PyTorch)
        return loss

    def _update_group(self, group: dict[str, Any]) -> None:
        """Apply one update to the parameters of ``group`` (implemented by each optimizer)."""
        raise NotImplementedError

    def _work_array(self, like: np.ndarray) -> np.ndarray:
        """An array of ``like``'s shape and dtype to compute a temporary into (``out=``),
        reused across parameters and steps: an update allocates nothing and touches less
        memory. Its contents never matter, so it is not part of the state."""
        key = (like.shape, like.dtype)
        array = self._work_arrays.get(key)
        if array is None:
            array = self._work_arrays[key] = np.empty_like(like)
        return array

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset gradients: ``p.grad = None`` (default), or fill them with zeros in place.

        With ``set_to_none=False`` a read-only gradient array is replaced by a new zero array
        (it cannot be zeroed in place).
        """
        for group in self.param_groups:
            for param in group["params"]:
                grad = grad_array(param)
                if grad is None:
                    continue
                if set_to_none:
                    param.grad = None
                elif grad.flags.writeable:
                    grad.fill(0)
                else:
                    param.grad = np.zeros_like(grad)

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state as plain data (copies), in ``torch.optim`` layout.

        ``{'state': {index: {name: array or number}}, 'param_groups': [{...hyperparameters...,
        'params': [index, ...]}]}``, where parameters are numbered 0, 1, 2, ... in group order.
        """
        packed_groups = []
        packed_state: dict[int, dict[str, Any]] = {}
        index = 0
        for group in self.param_groups:
            packed = {name: _copy_value(value) for name, value in group.items() if name != "params"}
            packed["params"] = list(range(index, index + len(group["params"])))
            packed_groups.append(packed)
            for param in group["params"]:
                param_state = self.state.get(param)
                if param_state:
                    packed_state[index] = {
                        name: _copy_value(value) for name, value in param_state.items()
                    }
                index += 1
        return {"state": packed_state, "param_groups": packed_groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a :meth:`state_dict` (copies it). Raises ``ValueError`` if it does not fit.

        Checked: same number of groups, same number of parameters per group, every
        hyperparameter present, every state index valid, every state array shaped like its
        parameter. Nothing is changed unless all checks pass. Arrays are cast to the
        parameter's dtype; NumPy scalars become Python numbers.
        """
        for key in ("state", "param_groups"):
            if key not in state_dict:
                raise ValueError(f"optimizer state_dict has no {key!r} entry")
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"loaded state_dict has {len(saved_groups)} parameter groups, "
                f"but the optimizer has {len(self.param_groups)}"
            )

        param_at_index: dict[int, ParameterLike] = {}
        for group_index, (saved, current) in enumerate(
            zip(saved_groups, self.param_groups, strict=True)
        ):
            if len(saved["params"]) != len(current["params"]):
                raise ValueError(
                    f"parameter group {group_index} has {len(saved['params'])} parameters in the "
                    f"loaded state_dict, but {len(current['params'])} in the optimizer"
                )
            missing = [name for name in self.defaults if name not in saved]
            if missing:
                raise ValueError(
                    f"parameter group {group_index} of the loaded state_dict lacks "
                    f"hyperparameters {missing}"
                )
            for index, param in zip(saved["params"], current["params"], strict=True):
                param_at_index[int(index)] = param

        new_state: defaultdict[Any, dict[str, Any]] = defaultdict(dict)
        for key, saved_state in state_dict["state"].items():
            try:
                index = int(key)
            except (TypeError, ValueError):
                raise ValueError(f"state key {key!r} is not a parameter index") from None
            if index not in param_at_index:
                raise ValueError(f"state entry {index} does not refer to any parameter")
            param = param_at_index[index]
            restored = {}
            for name, value in saved_state.items():
                if isinstance(value, np.ndarray):
                    if value.shape != param.data.shape:
                        raise ValueError(
                            f"state[{index}][{name!r}] has shape {value.shape}, but parameter "
                            f"{index} has shape {param.data.shape}"
                        )
                    restored[name] = np.array(value, dtype=param.data.dtype, copy=True)
                elif isinstance(value, np.generic):
                    restored[name] = value.item()
                else:
                    restored[name] = copy.deepcopy(value)
            new_state[param] = restored

        # Every check passed: commit.
        self.state = new_state
        self.param_groups = [
            {
                **{name: copy.deepcopy(value) for name, value in saved.items() if name != "params"},
                "params": current["params"],
            }
            for saved, current in zip(saved_groups, self.param_groups, strict=True)
        ]

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for name in sorted(group):
                if name != "params":
                    lines.append(f"    {name}: {group[name]}")
        lines.append(")")
        return "\n".join(lines)


# ---------------------------------------------------------------------- helpers
_SET_MESSAGE = (
    "parameters must be given in an ordered collection (a list), not a set: "
    "set order changes between runs, which would scramble saved optimizer state"
)


def _is_parameter(obj: object) -> bool:
    return hasattr(obj, "data") and hasattr(obj, "grad")


def _copy_value(value: Any) -> Any:
    return value.copy() if isinstance(value, np.ndarray) else copy.deepcopy(value)


def check_nonnegative(group: dict[str, Any], *names: str) -> None:
    """Raise ``ValueError`` naming the first of ``names`` whose value in ``group`` is < 0."""
    for name in names:
        if not group[name] >= 0.0:  # also rejects NaN
            what = {"lr": "learning rate", "eps": "epsilon value"}.get(name, f"{name} value")
            raise ValueError(f"Invalid {what}: {group[name]}")


def grad_array(param: ParameterLike) -> np.ndarray | None:
    """``param.grad`` as an array: a Tensor's ``.data``, an array as it is, or None."""
    grad = param.grad
    if grad is None or type(grad) is np.ndarray:
        return grad
    return grad.data


def effective_grad(
    grad: np.ndarray, param: np.ndarray, weight_decay: float, maximize: bool
) -> np.ndarray:
    """The gradient an update rule works with: ``g = ±grad + weight_decay * param``.

    The sign is ``-`` when ``maximize`` (gradient ascent). ``grad`` itself is returned when
    nothing changes; otherwise the result is a new array, so ``grad`` is never written to.
    """
    if weight_decay != 0:
        decayed = np.multiply(param, weight_decay)
        if maximize:
            decayed -= grad
        else:
            decayed += grad
        return decayed
    if maximize:
        return np.negative(grad)
    return grad
