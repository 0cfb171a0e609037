"""Stochastic gradient descent, with optional momentum, Nesterov momentum and weight decay."""

from __future__ import annotations

from typing import Any

import numpy as np

from scratchnn.optim.optimizer import (
    Optimizer,
    ParamsArg,
    check_nonnegative,
    effective_grad,
    grad_array,
)


class SGD(Optimizer):
    r"""Stochastic gradient descent (``torch.optim.SGD``'s rule and defaults).

    With learning rate γ, momentum μ, dampening τ and weight decay λ, one step for a parameter
    θ with gradient ∇ is::

        g ← ∇ + λ·θ                  (g ← -∇ + λ·θ if maximize)
        if μ ≠ 0:
            b ← g                    on the first step
            b ← μ·b + (1 - τ)·g      afterwards
            g ← g + μ·b              if nesterov
            g ← b                    otherwise
        θ ← θ - γ·g

    The momentum buffer ``b`` is kept in ``state[p]['momentum_buffer']``. Note that momentum
    is applied *before* the learning rate (PyTorch's form, unlike Sutskever et al.'s).

    Args:
        params: parameters or parameter groups.
        lr: learning rate γ.
        momentum: momentum factor μ (0 = plain SGD).
        dampening: dampening τ for momentum.
        weight_decay: L2 penalty λ, added to the gradient.
        nesterov: use Nesterov momentum (needs μ > 0 and τ = 0).
        maximize: ascend the objective instead of descending.
    """

    def __init__(
        self,
        params: ParamsArg,
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _check_hyperparameters(self, group: dict[str, Any]) -> None:
        check_nonnegative(group, "lr", "momentum", "weight_decay")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")

    def _update_group(self, group: dict[str, Any]) -> None:
        lr = group["lr"]
        momentum = group["momentum"]
        dampening = group["dampening"]
        nesterov = group["nesterov"]
        weight_decay, maximize = group["weight_decay"], group["maximize"]
        for p in group["params"]:
            raw_grad = grad_array(p)
            if raw_grad is None:
                continue
            param = p.data
            grad = effective_grad(raw_grad, param, weight_decay, maximize)

            step = self._work_array(param)  # θ moves by this: γ·g, γ·b or γ·(g + μ·b)
            if momentum == 0:
                param -= np.multiply(grad, lr, out=step)
                continue

            state = self.state[p]
            buffer = state.get("momentum_buffer")
            if buffer is None:
                buffer = state["momentum_buffer"] = np.array(grad, dtype=param.dtype, copy=True)
            else:
                buffer *= momentum
                if dampening == 0:
                    buffer += grad
                else:
                    buffer += (1 - dampening) * grad

            if nesterov:
                np.multiply(buffer, momentum, out=step)  # g + μ·b, scaled by γ below
                step += grad
                step *= lr
            else:
                np.multiply(buffer, lr, out=step)
            param -= step
