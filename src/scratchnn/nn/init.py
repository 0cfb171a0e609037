"""Weight initialisation, as ``torch.nn.init``: each function fills a tensor in place (its
``.data``; a plain ndarray works too) and returns it.

Why the scale matters: a layer ``y = W x`` with ``fan_in`` inputs of unit variance gives
``Var(y) = fan_in * Var(W)``. Keeping activations at unit variance through many layers
therefore needs ``Var(W) ~ 1 / fan_in``, times a *gain* that undoes the shrinking done by
the nonlinearity (ReLU zeroes half its inputs, so ``gain**2 = 2``):

* Xavier/Glorot (tanh, sigmoid nets):  ``std = gain * sqrt(2 / (fan_in + fan_out))``
* Kaiming/He (ReLU nets):              ``std = gain / sqrt(fan)``, ``gain = sqrt(2)`` for ReLU

A uniform ``U(-b, b)`` has ``std = b / sqrt(3)``, so the uniform variants use ``b = sqrt(3) *
std``. All draws use ``scratchnn.random.generator()`` (seeded by ``manual_seed``), in the
tensor's dtype.
"""

from __future__ import annotations

import math
import numbers
import warnings
from typing import Any, TypeVar

import numpy as np

from scratchnn.random import generator
from scratchnn.tensor import Tensor, no_grad

T = TypeVar("T", Tensor, np.ndarray)

_LINEAR_FNS = (
    "linear",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
)


def _array(tensor: Any) -> np.ndarray:
    if isinstance(tensor, Tensor):
        return tensor.data
    if isinstance(tensor, np.ndarray):
        return tensor
    raise TypeError(f"expected a Tensor or ndarray, got {type(tensor).__name__}")


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for a nonlinearity (PyTorch's table)::

        linear, conv*, sigmoid   1
        tanh                     5/3
        relu                     sqrt(2)
        leaky_relu               sqrt(2 / (1 + slope**2)), slope = param (default 0.01)
        selu                     3/4
    """
    if nonlinearity in _LINEAR_FNS or nonlinearity == "sigmoid":
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            negative_slope = 0.01
        elif not isinstance(param, bool) and isinstance(param, numbers.Real):
            negative_slope = float(param)
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + negative_slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _calculate_fan_in_and_fan_out(tensor: Any) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight of shape ``(out, in, *kernel)``.

    Linear ``(out, in)``: ``fan_in = in``, ``fan_out = out``. Conv ``(out, in, kh, kw)``: each
    output sees ``in * kh * kw`` inputs, so both fans are multiplied by ``kh * kw``.
    """
    shape = _array(tensor).shape
    if len(shape) < 2:
        raise ValueError(
            "Fan in and fan out can not be computed for tensor with fewer than 2 dimensions"
        )
    receptive_field = math.prod(shape[2:])
    return shape[1] * receptive_field, shape[0] * receptive_field


def _calculate_correct_fan(tensor: Any, mode: str) -> int:
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of fan_in, fan_out")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _fill(tensor: T, values: np.ndarray) -> T:
    """Write ``values`` into ``tensor`` in place (as PyTorch's initialisers do, under
    ``no_grad``: a graph that saved the old values then refuses to backward)."""
    if isinstance(tensor, Tensor):
        with no_grad():
            tensor.copy_(values)
    else:
        _array(tensor)[...] = values
    return tensor


def _float_dtype(array: np.ndarray) -> Any:
    """The dtype to draw in: the array's own if NumPy can draw it directly, else float64."""
    return array.dtype if array.dtype in (np.float32, np.float64) else np.float64


def uniform_(tensor: T, a: float = 0.0, b: float = 1.0) -> T:
    """Fill with ``U(a, b)``."""
    array = _array(tensor)
    u = generator().random(array.shape, dtype=_float_dtype(array))
    return _fill(tensor, a + (b - a) * u)


def normal_(tensor: T, mean: float = 0.0, std: float = 1.0) -> T:
    """Fill with ``N(mean, std**2)``."""
    array = _array(tensor)
    z = generator().standard_normal(array.shape, dtype=_float_dtype(array))
    return _fill(tensor, mean + std * z)


def constant_(tensor: T, val: float) -> T:
    """Fill with ``val``."""
    _array(tensor)[...] = val
    return tensor


def zeros_(tensor: T) -> T:
    return constant_(tensor, 0.0)


def ones_(tensor: T) -> T:
    return constant_(tensor, 1.0)


def xavier_uniform_(tensor: T, gain: float = 1.0) -> T:
    """Glorot uniform: ``U(-b, b)``, ``b = gain * sqrt(6 / (fan_in + fan_out))``."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound)


def xavier_normal_(tensor: T, gain: float = 1.0) -> T:
    """Glorot normal: ``N(0, std**2)``, ``std = gain * sqrt(2 / (fan_in + fan_out))``."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(tensor, 0.0, std)


def _kaiming_std(tensor: Any, a: float, mode: str, nonlinearity: str) -> float | None:
    if 0 in _array(tensor).shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
        return None
    fan = _calculate_correct_fan(tensor, mode)
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(
    tensor: T, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu"
) -> T:
    """He uniform: ``U(-b, b)``, ``b = gain * sqrt(3 / fan)``, ``gain = calculate_gain(
    nonlinearity, a)`` (``a`` is the leaky-ReLU slope; ``a=0`` gives ReLU's sqrt(2)).

    ``mode='fan_in'`` keeps the forward activations' variance, ``'fan_out'`` the backward
    gradients'. ``Linear``'s default init is ``kaiming_uniform_(w, a=sqrt(5))``, which works
    out to ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``.
    """
    std = _kaiming_std(tensor, a, mode, nonlinearity)
    if std is None:
        return tensor
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound)


def kaiming_normal_(
    tensor: T, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu"
) -> T:
    """He normal: ``N(0, std**2)``, ``std = gain / sqrt(fan)``, gain as in ``kaiming_uniform_``.

    Notes on the course seeds: seed 001's ``randn(fan_out, fan_in) * gain / sqrt(fan_in)`` is
    exactly this with that gain (``nonlinearity='linear'`` for gain 1, ``'relu'`` for
    sqrt(2), ``'tanh'`` for 5/3). Seed 004's ``(2/n)**1/2`` is a typo for ``sqrt(2/n)``
    (as written, Python computes ``(2/n) / 2``): it means He init, i.e.
    ``kaiming_normal_(w, nonlinearity='relu')``.
    """
    std = _kaiming_std(tensor, a, mode, nonlinearity)
    if std is None:
        return tensor
    return normal_(tensor, 0.0, std)
