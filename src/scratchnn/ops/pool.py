"""Pooling: max and average over sliding windows, and adaptive average pooling.

Like the convolutions (``ops/conv.py``), these work on channels-last memory and return NCHW
views of it. A window op loops over the **kernel offsets** ``(i, j)`` (4 for a 2x2 kernel),
never over pixels: offset ``(i, j)`` of every window at once is one strided view of the
input, ``x[:, i*dy - top :: sy, j*dx - left :: sx, :]`` (clipped to the input; positions
in the padding are skipped, which is what ``-inf`` padding for max and zero padding for
average amount to).

Max pooling keeps, per output element, only *which* offset won, as a ``uint8`` (an
``int16`` for kernels of 256+ elements): one byte per output, a quarter of a byte per input
for 2x2 windows, instead of a float mask the size of the input. Its backward sends each
gradient to the winner: ``dx[window offset k] (+)= g where winner == k``.
"""

from __future__ import annotations

import numpy as np

from scratchnn.ops.conv import batch_chunks, nchw_view, spans
from scratchnn.tensor import Function

Pair = tuple[int, int]
POOL_CHUNK_BYTES = 2 << 20  # max pooling runs over batch chunks of about this much input


def pool_output_size(size: int, kernel: int, stride: int, padding: int, dilation: int,
                     ceil_mode: bool) -> int:
    """PyTorch's pooling output size: floor (or ceil) of
    ``(size + 2*padding - dilation*(kernel-1) - 1) / stride + 1``; in ceil mode the last
    window must start inside the input or its left padding."""
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    if ceil_mode:
        out = -(-span // stride) + 1
        if (out - 1) * stride >= size + padding:
            out -= 1
        return out
    return span // stride + 1


def _offsets(shape: tuple[int, ...], out_size: Pair, kernel: Pair, stride: Pair, padding: Pair,
             dilation: Pair) -> list[tuple[int, tuple[slice, slice], tuple[slice, slice]]]:
    """(offset number k = i*kw + j, output region, input region) per kernel offset that
    reads the input: ``out[:, region] <- x[:, input region]`` for offset (i, j)."""
    _, h, w, _ = shape
    rows = spans(h, out_size[0], kernel[0], stride[0], dilation[0], padding[0])
    columns = spans(w, out_size[1], kernel[1], stride[1], dilation[1], padding[1])
    return [
        (i * kernel[1] + j, (slice(y0, y1), slice(x0, x1)), (ys, xs))
        for i, y0, y1, ys in rows
        for j, x0, x1, xs in columns
    ]


def _covers(region: tuple[slice, slice], out_size: Pair) -> bool:
    return region[0] == slice(0, out_size[0]) and region[1] == slice(0, out_size[1])


def max_pool_nhwc(x: np.ndarray, kernel: Pair, stride: Pair, padding: Pair, dilation: Pair,
                  out_size: Pair) -> tuple[np.ndarray, np.ndarray]:
    """Max over windows of an ``(N, H, W, C)`` array: ``(max (N, Ho, Wo, C), winner)``,
    ``winner`` = the offset ``i*kw + j`` holding the max (the first one on ties, as in
    PyTorch; NaNs propagate to the max). Computed over batch chunks of about
    ``POOL_CHUNK_BYTES`` of input, so that the passes over each offset read from cache."""
    n, _, _, c = x.shape
    offsets = _offsets(x.shape, out_size, kernel, stride, padding, dilation)
    out = np.empty((n, *out_size, c), dtype=x.dtype)
    winner = np.empty(out.shape, dtype=np.uint8 if kernel[0] * kernel[1] < 256 else np.int16)
    for part in batch_chunks(n, x[0].nbytes, POOL_CHUNK_BYTES):
        _max_pool_into(x[part], out[part], winner[part], offsets, out_size)
    return out, winner


def max_pool_nchw(x: np.ndarray, kernel: Pair, stride: Pair, padding: Pair, dilation: Pair,
                  out_size: Pair) -> tuple[np.ndarray, np.ndarray]:
    """:func:`max_pool_nhwc` of an ``(N, C, H, W)`` array: the max as an NCHW view of
    channels-last memory, and the winners ``(N, Ho, Wo, C)``."""
    out, winner = max_pool_nhwc(x.transpose(0, 2, 3, 1), kernel, stride, padding, dilation,
                                out_size)
    return nchw_view(out), winner


def _max_pool_into(x: np.ndarray, out: np.ndarray, winner: np.ndarray, offsets: list,
                   out_size: Pair) -> None:
    """:func:`max_pool_nhwc` of one batch chunk, written into ``out`` and ``winner``."""
    first_k, first_region, (ys, xs) = offsets[0]
    if _covers(first_region, out_size):  # start from the first offset's values
        np.copyto(out, x[:, ys, xs])
        winner.fill(first_k)
        offsets = offsets[1:]
    else:
        out.fill(-np.inf)
        winner.fill(0)
    # Offsets come in increasing k, so "winner = k where better" is max(winner, better * k):
    # two branch-free passes (a masked copy of random booleans is ~50x slower).
    scratch = np.empty(out.shape, dtype=winner.dtype)
    for k, (oy, ox), (ys, xs) in offsets:
        window = x[:, ys, xs]
        target = out[:, oy, ox]
        better = np.greater(window, target).view(np.uint8)
        np.maximum(target, window, out=target)
        region = winner[:, oy, ox]
        marks = scratch[:, oy, ox]
        np.multiply(better, winner.dtype.type(k), out=marks)
        np.maximum(region, marks, out=region)


class MaxPool2d(Function):
    """out[n, c, y, x] = max over the window (i, j) of x_pad[n, c, y*sy + i*dy, x*sx + j*dx]
    (padding = -inf).  dx: each g[n, c, y, x] goes to the window's winning element (summed
    where windows overlap).

    Options: kernel_size, stride, padding, dilation (pairs), out_size (from ceil_mode)."""

    saves_inputs = False  # keeps the winners (one byte per output) and the input's shape

    def forward(self, x, kernel_size=(1, 1), stride=(1, 1), padding=(0, 0), dilation=(1, 1),
                out_size=(1, 1)):
        out, winner = max_pool_nchw(x, kernel_size, stride, padding, dilation, out_size)
        n, c, h, w = x.shape
        self.saved = (winner, (n, h, w, c), (kernel_size, stride, padding, dilation, out_size))
        return out

    @property
    def winner(self) -> np.ndarray:
        """The winning offset of every output, ``(N, Ho, Wo, C)`` (what backward routes by;
        ``F.max_pool2d(return_indices=True)`` turns it into PyTorch's indices)."""
        return self.saved[0]

    def backward(self, grad_output):
        winner, shape, (kernel, stride, padding, dilation, out_size) = self.saved
        g = grad_output.transpose(0, 2, 3, 1)
        offsets = _offsets(shape, out_size, kernel, stride, padding, dilation)
        extent = [dilation[a] * (kernel[a] - 1) + 1 for a in (0, 1)]
        # every input element in exactly one window: plain writes, no zero fill, no adds
        tiles = (
            all(stride[a] == kernel[a] == extent[a] and padding[a] == 0 for a in (0, 1))
            and shape[1] == out_size[0] * stride[0] and shape[2] == out_size[1] * stride[1]
        )
        grad = np.empty(shape, dtype=grad_output.dtype) if tiles else np.zeros(
            shape, dtype=grad_output.dtype)
        for part in batch_chunks(shape[0], grad[0].nbytes, POOL_CHUNK_BYTES):  # (in cache)
            for k, (oy, ox), (ys, xs) in offsets:
                won = winner[part, oy, ox] == k
                target = grad[part, ys, xs]
                if tiles:
                    np.multiply(g[part], won, out=target)
                else:
                    np.add(target, np.where(won, g[part, oy, ox], 0), out=target)
        return nchw_view(grad)


def max_pool_indices(winner: np.ndarray, in_size: Pair, kernel: Pair, stride: Pair,
                     padding: Pair, dilation: Pair) -> np.ndarray:
    """PyTorch's ``return_indices``: the flat index ``y*W + x`` in its (H, W) plane of each
    max, from the winning offsets ``(N, Ho, Wo, C)``; returned as NCHW int64."""
    _, ho, wo, _ = winner.shape
    i, j = np.divmod(winner.astype(np.int64), kernel[1])
    y = np.arange(ho)[:, None, None] * stride[0] - padding[0] + i * dilation[0]
    x = np.arange(wo)[None, :, None] * stride[1] - padding[1] + j * dilation[1]
    return np.ascontiguousarray((y * in_size[1] + x).transpose(0, 3, 1, 2))


def avg_pool_divisor(in_size: Pair, out_size: Pair, kernel: Pair, stride: Pair, padding: Pair,
                     count_include_pad: bool) -> np.ndarray:
    """Per output position, what PyTorch divides the window's sum by: the window's size
    clipped to the padded input (``count_include_pad``) or to the input itself. (Ho, Wo)."""
    counts = []
    for a in (0, 1):
        start = np.arange(out_size[a]) * stride[a] - padding[a]
        end = np.minimum(start + kernel[a], in_size[a] + padding[a])
        if not count_include_pad:
            start, end = np.maximum(start, 0), np.minimum(end, in_size[a])
        counts.append(end - start)
    return np.outer(counts[0], counts[1])


class AvgPool2d(Function):
    """out[n, c, y, x] = (sum over the window of x_pad) / divisor[y, x]  (zero padding; the
    divisor from ``avg_pool_divisor`` or ``divisor_override``).
    dx: g / divisor added to every element of its window.

    Options: kernel_size, stride, padding (pairs), out_size, divisor ((Ho, Wo) array)."""

    saves_inputs = False

    def forward(self, x, kernel_size=(1, 1), stride=(1, 1), padding=(0, 0), out_size=(1, 1),
                divisor=None):
        x_nhwc = x.transpose(0, 2, 3, 1)
        n, _, _, c = x_nhwc.shape
        offsets = _offsets(x_nhwc.shape, out_size, kernel_size, stride, padding, (1, 1))
        out = np.zeros((n, *out_size, c), dtype=x.dtype)
        for _, (oy, ox), (ys, xs) in offsets:
            target = out[:, oy, ox]
            np.add(target, x_nhwc[:, ys, xs], out=target)
        scale = (1 / divisor).astype(x.dtype)[:, :, None]
        out *= scale
        self.saved = (scale, x_nhwc.shape, (kernel_size, stride, padding, out_size))
        return nchw_view(out)

    def backward(self, grad_output):
        scale, shape, (kernel, stride, padding, out_size) = self.saved
        g = grad_output.transpose(0, 2, 3, 1) * scale
        grad = np.zeros(shape, dtype=grad_output.dtype)
        for _, (oy, ox), (ys, xs) in _offsets(shape, out_size, kernel, stride, padding, (1, 1)):
            target = grad[:, ys, xs]
            np.add(target, g[:, oy, ox], out=target)
        return nchw_view(grad)


def adaptive_pool_matrix(in_size: int, out_size: int, dtype: np.dtype) -> np.ndarray:
    """(out_size, in_size): row p averages input [floor(p*in/out), ceil((p+1)*in/out)),
    PyTorch's adaptive windows."""
    p = np.arange(out_size)
    start = (p * in_size) // out_size
    end = -((-(p + 1) * in_size) // out_size)
    position = np.arange(in_size)
    inside = (position >= start[:, None]) & (position < end[:, None])
    return (inside / (end - start)[:, None]).astype(dtype)


class AdaptiveAvgPool2d(Function):
    """out[n, c] = A_h @ x[n, c] @ A_w^T, with ``A`` the averaging matrices of
    :func:`adaptive_pool_matrix` (any input and output sizes; no loops);
    dx[n, c] = A_h^T @ g[n, c] @ A_w."""

    saves_inputs = False

    def forward(self, x, output_size=(1, 1)):
        _, _, h, w = x.shape
        a_h = adaptive_pool_matrix(h, output_size[0], x.dtype)
        a_w = adaptive_pool_matrix(w, output_size[1], x.dtype)
        self.saved = (a_h, a_w)
        if output_size == (1, 1):  # the global average: a plain mean, no matmuls
            return x.mean(axis=(2, 3), keepdims=True, dtype=x.dtype)
        # contract H then W; the result's memory is channels-last (N, Ho, Wo, C)
        out = np.einsum("ph,nchw,qw->npqc", a_h, x, a_w, optimize=True)
        return nchw_view(out)

    def backward(self, grad_output):
        a_h, a_w = self.saved
        return np.einsum("ph,ncpq,qw->nchw", a_h, grad_output, a_w, optimize=True)
