"""RMSprop: divide the gradient by a running root-mean-square of recent gradients."""

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


class RMSprop(Optimizer):
    r"""RMSprop (Hinton's lecture notes; centered variant from Graves, 2013), as torch's.

    With learning rate γ, smoothing constant α, epsilon ε, weight decay λ and momentum μ, one
    step for a parameter θ with gradient ∇ is::

        g ← ∇ + λ·θ                        (g ← -∇ + λ·θ if maximize)
        v ← α·v + (1 - α)·g²               state 'square_avg'
        if centered:
            ḡ ← α·ḡ + (1 - α)·g            state 'grad_avg'
            d ← √(v - ḡ²) + ε
        else:
            d ← √v + ε
        if μ > 0:
            b ← μ·b + g / d                state 'momentum_buffer'
            θ ← θ - γ·b
        else:
            θ ← θ - γ·g / d

    v, ḡ and b start at 0 (no bias correction). ``state[p]['step']`` counts steps (an int).

    Args:
        params: parameters or parameter groups.
        lr: learning rate γ.
        alpha: smoothing constant α of the running averages.
        eps: ε, added to the denominator for numerical stability.
        weight_decay: L2 penalty λ, added to the gradient.
        momentum: momentum factor μ.
        centered: normalise by an estimate of the gradient's variance instead of its
            uncentered second moment.
        maximize: ascend the objective instead of descending.
    """

    def __init__(
        self,
        params: ParamsArg,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "alpha": alpha,
            "eps": eps,
            "weight_decay": weight_decay,
            "momentum": momentum,
            "centered": centered,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _check_hyperparameters(self, group: dict[str, Any]) -> None:
        check_nonnegative(group, "lr", "eps", "momentum", "weight_decay", "alpha")

    def _update_group(self, group: dict[str, Any]) -> None:
        lr = group["lr"]
        alpha = group["alpha"]
        eps = group["eps"]
        momentum = group["momentum"]
        centered = group["centered"]

        for p in group["params"]:
            raw_grad = grad_array(p)
            if raw_grad is None:
                continue
            param = p.data
            state = self.state[p]
            if not state:
                state["step"] = 0
                state["square_avg"] = np.zeros_like(param)
                if momentum > 0:
                    state["momentum_buffer"] = np.zeros_like(param)
                if centered:
                    state["grad_avg"] = np.zeros_like(param)
            state["step"] += 1

            grad = effective_grad(raw_grad, param, group["weight_decay"], group["maximize"])
            scratch = self._work_array(param)  # the one temporary array of this step

            # v ← α·v + (1 - α)·g²
            square_avg = state["square_avg"]
            np.multiply(grad, grad, out=scratch)
            scratch *= 1 - alpha
            square_avg *= alpha
            square_avg += scratch

            if centered:
                # ḡ ← α·ḡ + (1 - α)·g;  d ← √(v - ḡ²) + ε
                grad_avg = state["grad_avg"]
                np.multiply(grad, 1 - alpha, out=scratch)
                grad_avg *= alpha
                grad_avg += scratch
                np.multiply(grad_avg, grad_avg, out=scratch)
                np.subtract(square_avg, scratch, out=scratch)
                denominator = np.sqrt(scratch, out=scratch)
            else:
                denominator = np.sqrt(square_avg, out=scratch)
            denominator += eps

            normalized_grad = np.divide(grad, denominator, out=scratch)  # g / d
            if momentum > 0:
                buffer = state["momentum_buffer"]
                buffer *= momentum
                buffer += normalized_grad
                update = np.multiply(buffer, lr, out=scratch)
            else:
                update = np.multiply(normalized_grad, lr, out=scratch)
            param -= update
