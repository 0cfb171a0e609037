"""Normalization and embedding functions (``batch_norm layer_norm group_norm embedding``),
PyTorch's signatures; the math and the closed-form backward live in ``scratchnn/ops/norm.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from scratchnn.ops.norm import BatchNorm, Embedding, GroupNorm, LayerNorm
from scratchnn.tensor import Tensor


def _affine(function: str, weight: Tensor | None, bias: Tensor | None, shape: tuple[int, ...],
            like: Tensor) -> tuple[Tensor, ...]:
    """The (weight, bias) inputs of a norm op: none, or both (a missing one becomes a
    constant 1 or 0 that needs no gradient). Checks shapes and dtypes."""
    if weight is None and bias is None:
        return ()
    for name, value in (("weight", weight), ("bias", bias)):
        if value is None:
            continue
        if not isinstance(value, Tensor):
            raise TypeError(f"{function}: {name} must be a Tensor, got {type(value).__name__}")
        if value.shape != shape:
            raise ValueError(f"{function}: {name} has shape {value.shape}, expected {shape}")
        if value.dtype != like.dtype:
            raise TypeError(f"{function}: {name} is {value.dtype} but the input is {like.dtype}")
    if weight is None:
        weight = Tensor._make(np.ones(shape, dtype=like.dtype))
    if bias is None:
        bias = Tensor._make(np.zeros(shape, dtype=like.dtype))
    return weight, bias


def _check_input(function: str, input: Any, min_dims: int) -> None:
    if not isinstance(input, Tensor):
        raise TypeError(f"{function}: input must be a Tensor, got {type(input).__name__}")
    if input.ndim < min_dims:
        raise ValueError(f"{function}: expected at least {min_dims} dims, got shape "
                         f"{input.shape}")
    if input.dtype.kind != "f":
        raise TypeError(f"{function}: input must be floating point, got {input.dtype}")


def _buffer_array(value: Any) -> np.ndarray | None:
    if value is None:
        return None
    return value.data if isinstance(value, Tensor) else value


def batch_norm(input: Tensor, running_mean: Tensor | np.ndarray | None,
               running_var: Tensor | np.ndarray | None, weight: Tensor | None = None,
               bias: Tensor | None = None, training: bool = False, momentum: float = 0.1,
               eps: float = 1e-5) -> Tensor:
    """Batch normalization of (N, C, *) over every axis but C:
    ``y = (x - mean) / sqrt(var + eps) * weight + bias``. Training: batch statistics, and
    the running buffers (if given) are updated in place with ``momentum`` (unbiased
    variance); otherwise the running statistics are used."""
    _check_input("batch_norm", input, 2)
    channels = input.shape[1]
    mean, var = _buffer_array(running_mean), _buffer_array(running_var)
    for name, value in (("running_mean", mean), ("running_var", var)):
        if value is not None and value.shape != (channels,):
            raise ValueError(f"batch_norm: {name} has shape {value.shape}, expected "
                             f"({channels},)")
    if not training and (mean is None or var is None):
        raise ValueError("batch_norm: running_mean and running_var are needed when not training")
    if training:
        count = int(np.prod(input.shape)) // channels
        if count <= 1:
            raise ValueError(f"batch_norm: expected more than 1 value per channel when "
                             f"training, got input of shape {input.shape}")
    affine = _affine("batch_norm", weight, bias, (channels,), input)
    return BatchNorm.apply(input, *affine, running_mean=mean, running_var=var,
                           training=bool(training), momentum=float(momentum), eps=float(eps))


def layer_norm(input: Tensor, normalized_shape: int | Sequence[int],
               weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """Standardise over the trailing ``normalized_shape`` dims (biased variance), then
    ``* weight + bias`` (both of that shape)."""
    _check_input("layer_norm", input, 1)
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if not shape or input.shape[input.ndim - len(shape):] != shape:
        raise ValueError(f"layer_norm: normalized_shape {shape} does not match the last dims "
                         f"of the input {input.shape}")
    affine = _affine("layer_norm", weight, bias, shape, input)
    return LayerNorm.apply(input, *affine, n_dims=len(shape), eps=float(eps))


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Standardise each (sample, group of C/num_groups channels) of (N, C, *), then
    ``* weight[c] + bias[c]``."""
    _check_input("group_norm", input, 2)
    channels = input.shape[1]
    if isinstance(num_groups, bool) or not isinstance(num_groups, int) or num_groups < 1 \
            or channels % num_groups:
        raise ValueError(f"group_norm: {channels} channels cannot be split into "
                         f"num_groups={num_groups!r} groups")
    affine = _affine("group_norm", weight, bias, (channels,), input)
    return GroupNorm.apply(input, *affine, num_groups=num_groups, eps=float(eps))


def embedding(input: Tensor | np.ndarray, weight: Tensor, padding_idx: int | None = None,
              max_norm: float | None = None) -> Tensor:
    """Rows of ``weight`` (num_embeddings, dim) picked by the integer ``input`` (any shape)
    -> input.shape + (dim,). The ``padding_idx`` row receives no gradient."""
    if max_norm is not None:
        raise NotImplementedError("embedding: max_norm is not supported")
    if not isinstance(weight, Tensor) or weight.ndim != 2:
        raise ValueError("embedding: weight must be a 2-D Tensor (num_embeddings, dim)")
    indices = np.asarray(input.data if isinstance(input, Tensor) else input)
    if indices.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be integers, got {indices.dtype}")
    count = weight.shape[0]
    if indices.size and (indices.min() < 0 or indices.max() >= count):
        bad = indices.max() if indices.max() >= count else indices.min()
        raise IndexError(f"embedding: index {int(bad)} is out of range for {count} embeddings")
    if padding_idx is not None:
        if not -count <= padding_idx < count:
            raise ValueError(f"embedding: padding_idx {padding_idx} must be within "
                             f"num_embeddings ({count})")
        padding_idx %= count
    return Embedding.apply(weight, indices=indices, padding_idx=padding_idx)


__all__ = ["batch_norm", "embedding", "group_norm", "layer_norm"]
