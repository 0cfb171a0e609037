"""Convolution, pooling and padding functions, PyTorch's ``torch.nn.functional`` names and
signatures: ``conv1d conv2d conv_transpose2d max_pool2d avg_pool2d adaptive_avg_pool2d
pad unfold fold dropout2d``. Each checks its arguments (one clear error line) and calls
one op of ``scratchnn.ops.conv`` / ``ops.pool`` / ``ops.padding``.

Shapes are NCHW (``(N, C, H, W)``; an unbatched ``(C, H, W)`` works too). Outputs of these
ops are NCHW views of channels-last memory (see ``scratchnn/ops/conv.py``): use them like
any tensor.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from scratchnn.functional.shapes import squeeze, unsqueeze
from scratchnn.ops.conv import Conv2d, ConvTranspose2d, Fold, Unfold
from scratchnn.ops.elementwise import Dropout
from scratchnn.ops.padding import Pad
from scratchnn.ops.pool import (
    AdaptiveAvgPool2d,
    AvgPool2d,
    MaxPool2d,
    avg_pool_divisor,
    max_pool_indices,
    max_pool_nchw,
    pool_output_size,
)
from scratchnn.random import generator
from scratchnn.tensor import Tensor, is_grad_enabled

IntOrPair = int | Sequence[int]


def _tuple(name: str, value: Any, n: int = 2, minimum: int = 0) -> tuple[int, ...]:
    """An int or a length-n sequence of ints (each >= ``minimum``) as an n-tuple."""
    if isinstance(value, int | np.integer) and not isinstance(value, bool):
        values = (int(value),) * n
    elif isinstance(value, Sequence) and len(value) == n and all(
        isinstance(v, int | np.integer) and not isinstance(v, bool) for v in value
    ):
        values = tuple(int(v) for v in value)
    else:
        raise ValueError(f"{name} must be an int or a tuple of {n} ints, got {value!r}")
    if any(v < minimum for v in values):
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    return values


def _check_tensor(function: str, name: str, value: Any) -> None:
    if not isinstance(value, Tensor):
        raise TypeError(f"{function}: {name} must be a Tensor, got {type(value).__name__}")


def _batched(function: str, input: Tensor, spatial: int) -> tuple[Tensor, bool]:
    """``input`` with a batch axis (adding one to an unbatched input), and whether it was
    added."""
    _check_tensor(function, "input", input)
    if input.ndim == spatial + 1:
        return unsqueeze(input, 0), True
    if input.ndim != spatial + 2:
        raise ValueError(
            f"{function}: expected a {spatial + 2}-D (batched) or {spatial + 1}-D (unbatched) "
            f"input, got shape {input.shape}"
        )
    if input.dtype.kind != "f":
        raise TypeError(f"{function}: input must be floating point, got {input.dtype}")
    return input, False


def _conv_padding(function: str, padding: Any, kernel: tuple[int, ...],
                  dilation: tuple[int, ...], stride: tuple[int, ...]) -> tuple[int, ...]:
    """padding -> (before0, after0, before1, after1, ...); 'same' pads d*(k-1) in total,
    the extra one (if odd) after, as PyTorch does."""
    if isinstance(padding, str):
        if padding == "valid":
            return (0,) * (2 * len(kernel))
        if padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError(f"{function}: padding='same' is not supported for strided "
                                 f"convolutions (stride={stride})")
            pads: list[int] = []
            for k, d in zip(kernel, dilation, strict=True):
                total = d * (k - 1)
                pads += [total // 2, total - total // 2]
            return tuple(pads)
        raise ValueError(f"{function}: padding must be an int, a tuple, 'same' or 'valid', "
                         f"got {padding!r}")
    per_axis = _tuple("padding", padding, len(kernel))
    return tuple(p for value in per_axis for p in (value, value))


def _check_conv(function: str, input: Tensor, weight: Tensor, bias: Tensor | None,
                groups: int, transposed: bool = False) -> None:
    _check_tensor(function, "weight", weight)
    if weight.ndim != input.ndim:
        raise ValueError(f"{function}: weight must be {input.ndim}-D, got shape {weight.shape}")
    if isinstance(groups, bool) or not isinstance(groups, int | np.integer) or groups < 1:
        raise ValueError(f"{function}: groups must be a positive int, got {groups!r}")
    channels = input.shape[1]
    if transposed:
        expected_in, out_channels = weight.shape[0], weight.shape[1] * groups
        if channels != expected_in or channels % groups:
            raise ValueError(
                f"{function}: input has {channels} channels, weight {weight.shape} expects "
                f"{expected_in} (divisible by groups={groups})"
            )
    else:
        out_channels = weight.shape[0]
        if channels != weight.shape[1] * groups:
            raise ValueError(
                f"{function}: input has {channels} channels but weight {weight.shape} with "
                f"groups={groups} expects {weight.shape[1] * groups}"
            )
        if out_channels % groups:
            raise ValueError(f"{function}: out_channels ({out_channels}) must be divisible by "
                             f"groups ({groups})")
    if bias is not None:
        _check_tensor(function, "bias", bias)
        if bias.shape != (out_channels,):
            raise ValueError(f"{function}: bias has shape {bias.shape}, expected "
                             f"({out_channels},)")
    dtypes = {t.dtype for t in (input, weight, bias) if t is not None}
    if len(dtypes) > 1:
        raise TypeError(f"{function}: input, weight and bias must have one dtype, got "
                        f"{', '.join(sorted(str(d) for d in dtypes))}")


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: IntOrPair = 1,
           padding: IntOrPair | str = 0, dilation: IntOrPair = 1, groups: int = 1) -> Tensor:
    """2-D convolution (cross-correlation): input (N, C_in, H, W), weight
    (C_out, C_in/groups, kh, kw), bias (C_out,) -> (N, C_out, Ho, Wo) with
    ``Ho = floor((H + 2*padding - dilation*(kh-1) - 1) / stride) + 1``.
    ``padding``: int, pair, 'valid' (0) or 'same' (output size = input size, stride 1)."""
    input, unbatched = _batched("conv2d", input, 2)
    _check_conv("conv2d", input, weight, bias, groups)
    stride = _tuple("stride", stride, minimum=1)
    dilation = _tuple("dilation", dilation, minimum=1)
    pads = _conv_padding("conv2d", padding, weight.shape[2:], dilation, stride)
    args = (input, weight) if bias is None else (input, weight, bias)
    out = Conv2d.apply(*args, stride=stride, padding=pads, dilation=dilation,
                       groups=int(groups))
    return squeeze(out, 0) if unbatched else out


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: IntOrPair = 1,
           padding: IntOrPair | str = 0, dilation: IntOrPair = 1, groups: int = 1) -> Tensor:
    """1-D convolution: input (N, C_in, L), weight (C_out, C_in/groups, k) -> (N, C_out, Lo).
    Computed as a conv2d of height 1."""
    input, unbatched = _batched("conv1d", input, 1)
    _check_conv("conv1d", input, weight, bias, groups)
    (s,), (d,) = _tuple("stride", stride, 1, 1), _tuple("dilation", dilation, 1, 1)
    pads = _conv_padding("conv1d", padding, weight.shape[2:], (d,), (s,))
    args = (unsqueeze(input, 2), unsqueeze(weight, 2)) + (() if bias is None else (bias,))
    out = Conv2d.apply(*args, stride=(1, s), padding=(0, 0) + pads, dilation=(1, d),
                       groups=int(groups))
    out = squeeze(out, 2)
    return squeeze(out, 0) if unbatched else out


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None,
                     stride: IntOrPair = 1, padding: IntOrPair = 0,
                     output_padding: IntOrPair = 0, groups: int = 1,
                     dilation: IntOrPair = 1) -> Tensor:
    """Transposed 2-D convolution (the gradient of conv2d with respect to its input):
    input (N, C_in, H, W), weight (C_in, C_out/groups, kh, kw) -> (N, C_out, Ho, Wo),
    ``Ho = (H-1)*stride - 2*padding + dilation*(kh-1) + output_padding + 1``."""
    input, unbatched = _batched("conv_transpose2d", input, 2)
    _check_conv("conv_transpose2d", input, weight, bias, groups, transposed=True)
    stride = _tuple("stride", stride, minimum=1)
    dilation = _tuple("dilation", dilation, minimum=1)
    pad = _tuple("padding", padding)
    extra = _tuple("output_padding", output_padding)
    for a in (0, 1):
        if extra[a] >= stride[a] and extra[a] >= dilation[a]:
            raise ValueError(
                f"conv_transpose2d: output_padding {extra} must be smaller than either stride "
                f"{stride} or dilation {dilation}"
            )
    args = (input, weight) if bias is None else (input, weight, bias)
    out = ConvTranspose2d.apply(
        *args, stride=stride, padding=(pad[0], pad[0], pad[1], pad[1]), output_padding=extra,
        dilation=dilation, groups=int(groups),
    )
    return squeeze(out, 0) if unbatched else out


# ----------------------------------------------------------------------- pooling
def _pool_args(function: str, kernel_size: IntOrPair, stride: IntOrPair | None,
               padding: IntOrPair, dilation: IntOrPair = 1) -> tuple[tuple[int, ...], ...]:
    kernel = _tuple("kernel_size", kernel_size, minimum=1)
    stride = kernel if stride is None or stride == () else _tuple("stride", stride, minimum=1)
    padding = _tuple("padding", padding)
    dilation = _tuple("dilation", dilation, minimum=1)
    for a in (0, 1):
        if padding[a] * 2 > kernel[a]:
            raise ValueError(f"{function}: padding {padding} should be at most half of the "
                             f"kernel size {kernel}")
    return kernel, stride, padding, dilation


def _pool_out(function: str, input: Tensor, kernel: tuple[int, ...], stride: tuple[int, ...],
              padding: tuple[int, ...], dilation: tuple[int, ...],
              ceil_mode: bool) -> tuple[int, int]:
    out = tuple(
        pool_output_size(input.shape[2 + a], kernel[a], stride[a], padding[a], dilation[a],
                         ceil_mode)
        for a in (0, 1)
    )
    if min(out) <= 0:
        raise ValueError(f"{function}: the input {input.shape} is too small for kernel "
                         f"{kernel} (dilation {dilation}, padding {padding}): output {out}")
    return out


def max_pool2d(input: Tensor, kernel_size: IntOrPair, stride: IntOrPair | None = None,
               padding: IntOrPair = 0, dilation: IntOrPair = 1, ceil_mode: bool = False,
               return_indices: bool = False) -> Tensor | tuple[Tensor, Tensor]:
    """Max over (kh, kw) windows: (N, C, H, W) -> (N, C, Ho, Wo); stride defaults to the
    kernel size; padding counts as -inf. ``return_indices``: also the flat ``y*W + x``
    position of each max (int64), as PyTorch."""
    input, unbatched = _batched("max_pool2d", input, 2)
    kernel, stride, padding, dilation = _pool_args("max_pool2d", kernel_size, stride, padding,
                                                   dilation)
    out_size = _pool_out("max_pool2d", input, kernel, stride, padding, dilation, ceil_mode)
    if return_indices and not (is_grad_enabled() and input.requires_grad):  # no graph
        pooled, winner = max_pool_nchw(input.data, kernel, stride, padding, dilation, out_size)
        out = Tensor._make(pooled)
    else:
        out = MaxPool2d.apply(input, kernel_size=kernel, stride=stride, padding=padding,
                              dilation=dilation, out_size=out_size)
        winner = out.grad_fn.winner if return_indices else None  # kept for its backward
    if return_indices:
        indices = Tensor._make(max_pool_indices(winner, input.shape[2:], kernel, stride,
                                                padding, dilation))
    if unbatched:
        out = squeeze(out, 0)
    if not return_indices:
        return out
    return out, indices[0] if unbatched else indices


def avg_pool2d(input: Tensor, kernel_size: IntOrPair, stride: IntOrPair | None = None,
               padding: IntOrPair = 0, ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: int | None = None) -> Tensor:
    """Mean over (kh, kw) windows: (N, C, H, W) -> (N, C, Ho, Wo); zero padding, counted in
    the divisor when ``count_include_pad``; ``divisor_override`` replaces the divisor."""
    input, unbatched = _batched("avg_pool2d", input, 2)
    kernel, stride, padding, _ = _pool_args("avg_pool2d", kernel_size, stride, padding)
    out_size = _pool_out("avg_pool2d", input, kernel, stride, padding, (1, 1), ceil_mode)
    if divisor_override is not None:
        if isinstance(divisor_override, bool) or not isinstance(divisor_override, int) \
                or divisor_override <= 0:
            raise ValueError(f"avg_pool2d: divisor_override must be a positive int, got "
                             f"{divisor_override!r}")
        divisor = np.full(out_size, divisor_override)
    else:
        divisor = avg_pool_divisor(input.shape[2:], out_size, kernel, stride, padding,
                                   count_include_pad)
    out = AvgPool2d.apply(input, kernel_size=kernel, stride=stride, padding=padding,
                          out_size=out_size, divisor=divisor)
    return squeeze(out, 0) if unbatched else out


def adaptive_avg_pool2d(input: Tensor, output_size: int | Sequence[int | None]) -> Tensor:
    """Average pooling to a fixed ``output_size`` (int, or pair whose None entries keep the
    input's size), windows ``[floor(p*H/Ho), ceil((p+1)*H/Ho))`` as PyTorch."""
    input, unbatched = _batched("adaptive_avg_pool2d", input, 2)
    if isinstance(output_size, Sequence) and len(output_size) == 2:
        output_size = tuple(input.shape[2 + a] if v is None else v
                            for a, v in enumerate(output_size))
    size = _tuple("output_size", output_size, minimum=1)
    out = AdaptiveAvgPool2d.apply(input, output_size=size)
    return squeeze(out, 0) if unbatched else out


# ----------------------------------------------------------------- pad, (un)fold
def pad(input: Tensor, pad: Sequence[int], mode: str = "constant",
        value: float | None = None) -> Tensor:
    """Pad the last ``len(pad) // 2`` dims: ``pad = (left, right, top, bottom, ...)``, last
    dim first, as PyTorch; negative amounts crop. Modes: 'constant' (with ``value``, default
    0), 'reflect', 'replicate', 'circular'."""
    _check_tensor("pad", "input", input)
    if (not isinstance(pad, Sequence) or len(pad) % 2
            or not all(isinstance(p, int | np.integer) for p in pad)):
        raise ValueError(f"pad: pad must be a sequence of an even number of ints, got {pad!r}")
    if len(pad) // 2 > input.ndim:
        raise ValueError(f"pad: {len(pad) // 2} dims to pad but the input has {input.ndim}")
    if mode not in ("constant", "reflect", "replicate", "circular"):
        raise ValueError(f"pad: mode must be 'constant', 'reflect', 'replicate' or "
                         f"'circular', got {mode!r}")
    widths = [(0, 0)] * input.ndim
    for k in range(len(pad) // 2):
        widths[input.ndim - 1 - k] = (int(pad[2 * k]), int(pad[2 * k + 1]))
    for axis, (before, after) in enumerate(widths):
        size = input.shape[axis]
        if size + before + after < 0 or (before < 0 and -before > size) or (
                after < 0 and -after > size):
            raise ValueError(f"pad: padding {(before, after)} crops more than dim {axis} "
                             f"(size {size}) has")
        if mode == "reflect" and (before >= size or after >= size):
            raise ValueError(f"pad: reflect padding {(before, after)} must be smaller than "
                             f"dim {axis} (size {size})")
        if mode == "circular" and (before > size or after > size):
            raise ValueError(f"pad: circular padding {(before, after)} must be at most dim "
                             f"{axis} (size {size})")
    if mode != "constant" and value not in (None, 0):
        raise ValueError(f"pad: value is only used by mode='constant', got mode={mode!r}")
    return Pad.apply(input, widths=tuple(widths), mode=mode,
                     value=0.0 if value is None else value)


def unfold(input: Tensor, kernel_size: IntOrPair, dilation: IntOrPair = 1,
           padding: IntOrPair = 0, stride: IntOrPair = 1) -> Tensor:
    """im2col: (N, C, H, W) -> (N, C*kh*kw, L), column l holding the l-th window (row-major
    over output positions), rows ordered (channel, kernel row, kernel column)."""
    input, unbatched = _batched("unfold", input, 2)
    pad_ = _tuple("padding", padding)
    out = Unfold.apply(
        input, kernel_size=_tuple("kernel_size", kernel_size, minimum=1),
        dilation=_tuple("dilation", dilation, minimum=1),
        padding=(pad_[0], pad_[0], pad_[1], pad_[1]), stride=_tuple("stride", stride, minimum=1),
    )
    return squeeze(out, 0) if unbatched else out


def fold(input: Tensor, output_size: IntOrPair, kernel_size: IntOrPair, dilation: IntOrPair = 1,
         padding: IntOrPair = 0, stride: IntOrPair = 1) -> Tensor:
    """col2im, the adjoint of unfold: (N, C*kh*kw, L) -> (N, C, H, W), overlapping entries
    summed."""
    input, unbatched = _batched("fold", input, 1)
    pad_ = _tuple("padding", padding)
    out = Fold.apply(
        input, output_size=_tuple("output_size", output_size, minimum=1),
        kernel_size=_tuple("kernel_size", kernel_size, minimum=1),
        dilation=_tuple("dilation", dilation, minimum=1),
        padding=(pad_[0], pad_[0], pad_[1], pad_[1]), stride=_tuple("stride", stride, minimum=1),
    )
    return squeeze(out, 0) if unbatched else out


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Zero whole channels: each (sample, channel) map of (N, C, H, W) (or (C, H, W)) is
    dropped with probability p, the rest scaled by 1/(1-p); identity when not training."""
    _check_tensor("dropout2d", "input", input)
    if not 0 <= p <= 1:
        raise ValueError(f"dropout2d: p must be in [0, 1], got {p}")
    if inplace:
        raise NotImplementedError("dropout2d(inplace=True): scratchnn ops never modify input")
    if input.ndim not in (3, 4):
        raise ValueError(f"dropout2d: expected a 4-D (N, C, H, W) or 3-D (C, H, W) input, got "
                         f"shape {input.shape}")
    if not training or p == 0:
        return input
    channels = input.shape[: input.ndim - 2]
    keep = generator().random(channels, dtype=np.float64) >= p
    scale = 0.0 if p == 1 else 1 / (1 - p)
    mask = (keep * scale).astype(input.dtype).reshape(channels + (1, 1))
    return Dropout.apply(input, scaled_mask=mask)


__all__ = [
    "adaptive_avg_pool2d", "avg_pool2d", "conv1d", "conv2d", "conv_transpose2d", "dropout2d",
    "fold", "max_pool2d", "pad", "unfold",
]
