"""Convolution layers: ``Conv1d``, ``Conv2d``, ``ConvTranspose2d`` (PyTorch's signatures,
defaults, parameter shapes and initialisation). Each forward is one call into
``scratchnn.functional`` (``functional/conv.py``), whose ops hold the math
(``ops/conv.py``: im2col -> one matmul -> reshape, and back).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from scratchnn.functional import conv as F
from scratchnn.nn import init
from scratchnn.nn.module import Module, Parameter
from scratchnn.tensor import Tensor

IntOrTuple = int | Sequence[int]


def _ntuple(cls: str, name: str, value: IntOrTuple, n: int, minimum: int) -> tuple[int, ...]:
    if isinstance(value, int | np.integer) and not isinstance(value, bool):
        values = (int(value),) * n
    elif isinstance(value, Sequence) and len(value) == n and all(
            isinstance(v, int | np.integer) and not isinstance(v, bool) for v in value):
        values = tuple(int(v) for v in value)
    else:
        raise ValueError(f"{cls}: {name} must be an int or a tuple of {n} ints, got {value!r}")
    if any(v < minimum for v in values):
        raise ValueError(f"{cls}: {name} must be >= {minimum}, got {value!r}")
    return values


class _ConvNd(Module):
    """What Conv1d, Conv2d and ConvTranspose2d share: argument checks, the parameters
    (weight ``(out, in/groups, *kernel)``, or ``(in, out/groups, *kernel)`` when transposed),
    PyTorch's default init and the repr."""

    _dims = 2
    _transposed = False

    def __init__(self, in_channels: int, out_channels: int, kernel_size: IntOrTuple,
                 stride: IntOrTuple = 1, padding: IntOrTuple | str = 0,
                 dilation: IntOrTuple = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", output_padding: IntOrTuple = 0,
                 dtype: object = None) -> None:
        super().__init__()
        name, n = type(self).__name__, self._dims
        for label, value in (("in_channels", in_channels), ("out_channels", out_channels),
                             ("groups", groups)):
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
                raise ValueError(f"{name}: {label} must be a positive int, got {value!r}")
        if in_channels % groups:
            raise ValueError(f"{name}: in_channels ({in_channels}) must be divisible by groups "
                             f"({groups})")
        if out_channels % groups:
            raise ValueError(f"{name}: out_channels ({out_channels}) must be divisible by "
                             f"groups ({groups})")
        if padding_mode != "zeros":
            raise NotImplementedError(
                f"{name}: padding_mode={padding_mode!r} is not supported (only 'zeros'); "
                "pad the input with scratchnn.functional.pad(..., mode=...) instead"
            )
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size = _ntuple(name, "kernel_size", kernel_size, n, 1)
        self.stride = _ntuple(name, "stride", stride, n, 1)
        self.dilation = _ntuple(name, "dilation", dilation, n, 1)
        if isinstance(padding, str):
            if padding not in ("same", "valid") or self._transposed:
                raise ValueError(f"{name}: padding must be an int or a tuple of ints"
                                 + ("" if self._transposed else ", 'same' or 'valid'")
                                 + f", got {padding!r}")
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError(f"{name}: padding='same' is not supported for strided "
                                 f"convolutions (stride={self.stride})")
            self.padding: tuple[int, ...] | str = padding
        else:
            self.padding = _ntuple(name, "padding", padding, n, 0)
        self.output_padding = _ntuple(name, "output_padding", output_padding, n, 0)
        self.groups = int(groups)
        self.padding_mode = padding_mode
        if self._transposed:
            shape = (in_channels, out_channels // groups, *self.kernel_size)
        else:
            shape = (out_channels, in_channels // groups, *self.kernel_size)
        dtype = np.float32 if dtype is None else np.dtype(dtype)
        self.weight = Parameter(np.empty(shape, dtype=dtype))
        if bias:
            self.bias = Parameter(np.empty(out_channels, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's default: weight ``kaiming_uniform_(a=sqrt(5))`` (= U(-k, k),
        k = 1/sqrt(fan_in)), bias U(-k, k), fan_in = in_channels/groups * kernel elements."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
            init.uniform_(self.bias, -bound, bound)

    def extra_repr(self) -> str:
        n = self._dims
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}")
        if self.padding != (0,) * n:
            text += f", padding={self.padding}"
        if self.dilation != (1,) * n:
            text += f", dilation={self.dilation}"
        if self.output_padding != (0,) * n:
            text += f", output_padding={self.output_padding}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        if self.padding_mode != "zeros":
            text += f", padding_mode={self.padding_mode}"
        return text


class Conv1d(_ConvNd):
    """1-D convolution: (N, C_in, L) -> (N, C_out, L_out),
    ``L_out = floor((L + 2*padding - dilation*(kernel_size-1) - 1)/stride) + 1``.
    weight ``(out_channels, in_channels/groups, kernel_size)``, bias ``(out_channels,)``."""

    _dims = 1

    def __init__(self, in_channels: int, out_channels: int, kernel_size: IntOrTuple,
                 stride: IntOrTuple = 1, padding: IntOrTuple | str = 0,
                 dilation: IntOrTuple = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", device: object = None,
                 dtype: object = None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, dtype=dtype)

    def forward(self, input: Tensor) -> Tensor:
        return F.conv1d(input, self.weight, self.bias, self.stride, self.padding, self.dilation,
                        self.groups)


class Conv2d(_ConvNd):
    """2-D convolution: (N, C_in, H, W) -> (N, C_out, H_out, W_out),
    ``H_out = floor((H + 2*padding - dilation*(kh-1) - 1)/stride) + 1``.
    weight ``(out_channels, in_channels/groups, kh, kw)``, bias ``(out_channels,)``;
    ``groups = in_channels = out_channels`` is a depthwise convolution; ``padding`` may be
    'same' or 'valid'."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: IntOrTuple,
                 stride: IntOrTuple = 1, padding: IntOrTuple | str = 0,
                 dilation: IntOrTuple = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", device: object = None,
                 dtype: object = None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, dtype=dtype)

    def forward(self, input: Tensor) -> Tensor:
        return F.conv2d(input, self.weight, self.bias, self.stride, self.padding, self.dilation,
                        self.groups)


class ConvTranspose2d(_ConvNd):
    """Transposed 2-D convolution (a learnable upsampling): (N, C_in, H, W) ->
    (N, C_out, H_out, W_out),
    ``H_out = (H-1)*stride - 2*padding + dilation*(kh-1) + output_padding + 1``.
    weight ``(in_channels, out_channels/groups, kh, kw)``, bias ``(out_channels,)``."""

    _transposed = True

    def __init__(self, in_channels: int, out_channels: int, kernel_size: IntOrTuple,
                 stride: IntOrTuple = 1, padding: IntOrTuple = 0,
                 output_padding: IntOrTuple = 0, groups: int = 1, bias: bool = True,
                 dilation: IntOrTuple = 1, padding_mode: str = "zeros", device: object = None,
                 dtype: object = None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, output_padding, dtype=dtype)
        for a in range(2):
            if self.output_padding[a] >= max(self.stride[a], self.dilation[a]):
                raise ValueError(
                    f"ConvTranspose2d: output_padding {self.output_padding} must be smaller "
                    f"than either stride {self.stride} or dilation {self.dilation}"
                )

    def forward(self, input: Tensor, output_size: Sequence[int] | None = None) -> Tensor:
        output_padding = self.output_padding
        if output_size is not None:  # pick the output_padding that gives this size
            size = tuple(output_size)[-2:]
            output_padding = tuple(
                size[a] - ((input.shape[-2 + a] - 1) * self.stride[a] - 2 * self.padding[a]
                           + self.dilation[a] * (self.kernel_size[a] - 1) + 1)
                for a in range(2)
            )
            if any(not 0 <= p < max(self.stride[a], self.dilation[a])
                   for a, p in enumerate(output_padding)):
                raise ValueError(f"ConvTranspose2d: output_size {size} is not reachable from "
                                 f"input {input.shape}")
        return F.conv_transpose2d(input, self.weight, self.bias, self.stride, self.padding,
                                  output_padding, self.groups, self.dilation)
