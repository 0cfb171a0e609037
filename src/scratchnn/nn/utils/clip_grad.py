"""Gradient clipping, applied between ``backward()`` and ``optimizer.step()``."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from scratchnn.tensor import Tensor


def _with_grads(parameters: Tensor | Iterable[Tensor]) -> list[Tensor]:
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p for p in parameters if p.grad is not None]


def clip_grad_norm_(parameters: Tensor | Iterable[Tensor], max_norm: float,
                    norm_type: float = 2.0, error_if_nonfinite: bool = False) -> Tensor:
    """Scale all gradients together so that their joint ``norm_type``-norm (the norm of all
    gradients concatenated) is at most ``max_norm``; returns the norm before clipping.

    scale = min(1, max_norm / (norm + 1e-6)), as in PyTorch.
    """
    params = _with_grads(parameters)
    if not params:
        return Tensor(0.0)
    norm_type = float(norm_type)
    grads = [p.grad.data for p in params]
    if math.isinf(norm_type):
        total = max(float(np.max(np.abs(g))) if g.size else 0.0 for g in grads)
    else:
        total = float(sum(float(np.sum(np.abs(g.astype(np.float64)) ** norm_type))
                          for g in grads) ** (1.0 / norm_type))
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is "
            f"{total}, so they cannot be clipped (error_if_nonfinite=True)"
        )
    scale = max_norm / (total + 1e-6)
    if scale < 1:
        for grad in grads:
            grad *= grad.dtype.type(scale)
    return Tensor(np.asarray(total, dtype=params[0].grad.dtype))


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float) -> None:
    """Clamp every gradient element to ``[-clip_value, clip_value]``, in place."""
    for p in _with_grads(parameters):
        np.clip(p.grad.data, -clip_value, clip_value, out=p.grad.data)
