"""Adam and AdamW: adaptive moment estimation, with L2 or decoupled weight decay."""

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


class Adam(Optimizer):
    r"""Adam (Kingma & Ba, 2015), with ``torch.optim.Adam``'s rule and defaults.

    With learning rate γ, betas (β₁, β₂), epsilon ε and weight decay λ, step t = 1, 2, ... for a
    parameter θ with gradient ∇ is::

        g ← ∇ + λ·θ                          (g ← -∇ + λ·θ if maximize)
        m ← β₁·m + (1 - β₁)·g                first moment,  state 'exp_avg'
        v ← β₂·v + (1 - β₂)·g²               second moment, state 'exp_avg_sq'
        v_max ← max(v_max, v); use v_max      instead of v below if amsgrad
        θ ← θ - γ/(1 - β₁ᵗ) · m / (√v / √(1 - β₂ᵗ) + ε)

    m and v start at 0; the factors 1 - βᵗ correct their bias towards 0 in early steps.
    ``t`` is ``state[p]['step']``, a Python int.

    With ``decoupled_weight_decay=True`` (which is :class:`AdamW`) the decay is not added to the
    gradient; instead each step first shrinks the parameter: θ ← θ·(1 - γλ), g ← ±∇.

    Args:
        params: parameters or parameter groups.
        lr: learning rate γ.
        betas: (β₁, β₂), decay rates of the moment estimates, each in [0, 1).
        eps: ε, added to the denominator for numerical stability.
        weight_decay: λ.
        amsgrad: normalise by the running maximum of v (Reddi et al., 2018).
        maximize: ascend the objective instead of descending.
        decoupled_weight_decay: AdamW-style decay (see above).
    """

    def __init__(
        self,
        params: ParamsArg,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        decoupled_weight_decay: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "betas": tuple(betas),
            "eps": eps,
            "weight_decay": weight_decay,
            "amsgrad": amsgrad,
            "maximize": maximize,
            "decoupled_weight_decay": decoupled_weight_decay,
        }
        super().__init__(params, defaults)

    def _check_hyperparameters(self, group: dict[str, Any]) -> None:
        check_nonnegative(group, "lr", "eps")
        betas = group["betas"]
        if len(betas) != 2:
            raise ValueError(f"betas must be a pair (beta1, beta2), got {betas}")
        for i, beta in enumerate(betas):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"Invalid beta parameter at index {i}: {beta}")
        check_nonnegative(group, "weight_decay")

    def _update_group(self, group: dict[str, Any]) -> None:
        lr = group["lr"]
        beta1, beta2 = group["betas"]
        eps = group["eps"]
        weight_decay = group["weight_decay"]
        amsgrad = group["amsgrad"]
        decoupled = group["decoupled_weight_decay"]

        for p in group["params"]:
            raw_grad = grad_array(p)
            if raw_grad is None:
                continue
            param = p.data
            state = self.state[p]
            if not state:
                state["step"] = 0
                state["exp_avg"] = np.zeros_like(param)
                state["exp_avg_sq"] = np.zeros_like(param)
                if amsgrad:
                    state["max_exp_avg_sq"] = np.zeros_like(param)
            state["step"] += 1
            step = state["step"]

            if decoupled:
                if weight_decay != 0:
                    param *= 1 - lr * weight_decay
                grad = effective_grad(raw_grad, param, 0.0, group["maximize"])
            else:
                grad = effective_grad(raw_grad, param, weight_decay, group["maximize"])

            exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
            scratch = self._work_array(param)  # the one temporary array of this step

            # m ← β₁·m + (1 - β₁)·g
            np.multiply(grad, 1 - beta1, out=scratch)
            exp_avg *= beta1
            exp_avg += scratch
            # v ← β₂·v + (1 - β₂)·g²
            np.multiply(grad, grad, out=scratch)
            scratch *= 1 - beta2
            exp_avg_sq *= beta2
            exp_avg_sq += scratch

            if amsgrad:
                second_moment = state["max_exp_avg_sq"]
                np.maximum(second_moment, exp_avg_sq, out=second_moment)
            else:
                second_moment = exp_avg_sq

            bias_correction1 = 1 - beta1**step
            bias_correction2 = 1 - beta2**step
            step_size = lr / bias_correction1

            # denominator √v / √(1 - β₂ᵗ) + ε, then θ ← θ - step_size · m / denominator
            denominator = np.sqrt(second_moment, out=scratch)
            denominator /= bias_correction2**0.5
            denominator += eps
            update = np.divide(exp_avg, denominator, out=scratch)
            update *= step_size
            param -= update


class AdamW(Adam):
    r"""Adam with decoupled weight decay (Loshchilov & Hutter, 2019), as ``torch.optim.AdamW``.

    Each step first shrinks the parameter, θ ← θ·(1 - γλ), then applies the :class:`Adam`
    update with the plain gradient g = ∇ (or -∇ if maximize), so the decay is not rescaled
    by the adaptive denominator. Default ``weight_decay`` λ = 1e-2.
    """

    def __init__(
        self,
        params: ParamsArg,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(
            params,
            lr=lr,
            betas=betas,
            eps=eps,
            weight_decay=weight_decay,
            amsgrad=amsgrad,
            maximize=maximize,
            decoupled_weight_decay=True,
        )
