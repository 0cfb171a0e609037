"""Convolutions as one matrix multiplication: im2col -> GEMM -> reshape, and back.

Layout
------
Outside, images are NCHW as in PyTorch. Inside, every op here works on channels-last
(NHWC) memory: a convolution's GEMM produces an ``(N*Ho*Wo, C_out)`` matrix, which *is*
NHWC memory, and the op returns it as an NCHW-shaped **view** (``transpose(0, 3, 1, 2)``,
no copy). Elementwise ops (ReLU, ...) keep that memory order (NumPy's ``order='K'``), the
pooling ops produce it too, so the next convolution finds its input already channels-last.

im2col
------
For a kernel ``(kh, kw)`` the column matrix has one row per output pixel and one column
per (kernel row, kernel column, input channel)::

    cols[n, oy, ox, i, j, c] = x[n, oy*sy + i*dy - pad_top, ox*sx + j*dx - pad_left, c]

(zero where that falls into the padding). It is filled with one strided block copy per
kernel offset ``(i, j)`` (9 copies for a 3x3 kernel, each moving whole rows of C
contiguous channels), written straight into GEMM layout: no padded copy of the input and
no Python loop over pixels. Then ``out = cols.reshape(N*Ho*Wo, kh*kw*C) @ W_mat`` with
``W_mat[(i, j, c), o] = weight[o, c, i, j]``.

Backward: ``dW_mat = cols^T @ g``, ``db = sum of g over rows``, ``dcols = g @ W_mat^T``,
and col2im adds each offset's block of ``dcols`` back where it was copied from (9 strided
adds): the adjoint of im2col.
"""

from __future__ import annotations

import numpy as np

from scratchnn.tensor import Function

Pair = tuple[int, int]
THIN_GEMM = 32  # below this K (= kh*kw*C_in), Conv2d folds the bias into the GEMM
CHUNK_BYTES = 512 << 10  # im2col + GEMM run over batch chunks of about this many column bytes


# ------------------------------------------------------------------ im2col / col2im
def conv_output_size(size: int, kernel: int, stride: int, dilation: int, pad_lo: int,
                     pad_hi: int) -> int:
    """floor((size + pad_lo + pad_hi - dilation*(kernel-1) - 1) / stride) + 1."""
    return (size + pad_lo + pad_hi - dilation * (kernel - 1) - 1) // stride + 1


def spans(size: int, out_size: int, kernel: int, stride: int, dilation: int,
           pad_lo: int) -> list[tuple[int, int, int, slice]]:
    """For each kernel offset i along one axis: (i, first output, end output, input slice),
    the outputs ``o`` in [first, end) reading input ``o*stride + i*dilation - pad_lo``,
    which is inside [0, size). Offsets that only ever read padding are left out."""
    spans = []
    for i in range(kernel):
        shift = i * dilation - pad_lo
        first = (-shift + stride - 1) // stride if shift < 0 else 0  # ceil(-shift / stride)
        last_input = size - 1 - shift  # o*stride <= last_input
        end = min(out_size, last_input // stride + 1) if last_input >= 0 else 0
        if end <= first:
            continue
        start = first * stride + shift
        spans.append((i, first, end, slice(start, start + (end - first - 1) * stride + 1,
                                           stride)))
    return spans


def pad_nhwc(x_nhwc: np.ndarray, padding: tuple[int, int, int, int]) -> np.ndarray:
    """``(N, H, W, C)`` with ``padding = (top, bottom, left, right)`` zeros around H and W (the
    array itself when there is none)."""
    top, bottom, left, right = padding
    if not (top or bottom or left or right):
        return x_nhwc
    n, h, w, c = x_nhwc.shape
    padded = np.zeros((n, h + top + bottom, w + left + right, c), dtype=x_nhwc.dtype)
    padded[:, top : top + h, left : left + w] = x_nhwc
    return padded


def windows(padded: np.ndarray, kernel: Pair, stride: Pair, dilation: Pair,
            out_size: Pair) -> np.ndarray:
    """The read-only strided view ``(N, Ho, Wo, kh, kw, C)`` of a padded ``(N, H, W, C)``
    array: ``windows[n, y, x, i, j, c] = padded[n, y*sy + i*dy, x*sx + j*dx, c]`` (no copy)."""
    sn, sh, sw, sc = padded.strides
    return np.lib.stride_tricks.as_strided(
        padded, (padded.shape[0], *out_size, *kernel, padded.shape[3]),
        (sn, sh * stride[0], sw * stride[1], sh * dilation[0], sw * dilation[1], sc),
        writeable=False,
    )


def im2col(x_nhwc: np.ndarray, kernel: Pair, stride: Pair, dilation: Pair,
           padding: tuple[int, int, int, int], out_size: Pair) -> np.ndarray:
    """Columns ``(N, Ho, Wo, kh, kw, C)`` of an ``(N, H, W, C)`` array (see the module
    docstring); ``padding = (top, bottom, left, right)`` zeros: the :func:`windows` view of
    the padded input, copied once into GEMM layout (runs of ``kw*C`` contiguous values on both
    sides when dx = 1)."""
    view = windows(pad_nhwc(x_nhwc, padding), kernel, stride, dilation, out_size)
    cols = np.empty(view.shape, dtype=x_nhwc.dtype)
    np.copyto(cols, view)
    return cols


def batch_chunks(n: int, sample_bytes: int, chunk_bytes: int) -> list[slice]:
    """Slices of a batch of ``n`` samples of ``sample_bytes`` each, about ``chunk_bytes`` a
    slice. For im2col: column blocks small enough to stay in the CPU cache between the copy
    and the GEMM that reads it (and never a fresh multi-megabyte allocation per step), large
    enough for an efficient GEMM."""
    step = max(1, chunk_bytes // max(sample_bytes, 1))
    return [slice(start, min(n, start + step)) for start in range(0, n, step)]


def col2im(cols: np.ndarray, in_size: Pair, stride: Pair, dilation: Pair,
           padding: tuple[int, int, int, int]) -> np.ndarray:
    """The adjoint of :func:`im2col`: ``(N, Ho, Wo, kh, kw, C)`` -> ``(N, H, W, C)``, every
    column entry added to the input pixel it was copied from (padding entries dropped)."""
    n, ho, wo, kh, kw, c = cols.shape
    h, w = in_size
    rows = spans(h, ho, kh, stride[0], dilation[0], padding[0])
    columns = spans(w, wo, kw, stride[1], dilation[1], padding[2])
    out = None
    first = None
    if stride == (1, 1):  # an offset that covers every pixel: start from a copy, not zeros
        for i, y0, y1, _ in rows:
            for j, x0, x1, _ in columns:
                if out is None and y1 - y0 == h and x1 - x0 == w:
                    first = (i, j)
                    out = np.empty((n, h, w, c), dtype=cols.dtype)
                    np.copyto(out, cols[:, y0:y1, x0:x1, i, j])
    if out is None:
        out = np.zeros((n, h, w, c), dtype=cols.dtype)
    for i, y0, y1, ys in rows:
        for j, x0, x1, xs in columns:
            if (i, j) != first:
                target = out[:, ys, xs]
                np.add(target, cols[:, y0:y1, x0:x1, i, j], out=target)
    return out


def nhwc(x: np.ndarray) -> np.ndarray:
    """An NCHW-shaped array as a C-contiguous NHWC array (a free view when its memory is
    channels-last already, as the outputs of these ops are)."""
    return np.ascontiguousarray(x.transpose(0, 2, 3, 1))


def nchw_view(x_nhwc: np.ndarray) -> np.ndarray:
    """An ``(N, H, W, C)`` array seen as ``(N, C, H, W)`` (a view: no copy)."""
    return x_nhwc.transpose(0, 3, 1, 2)


def _weight_matrix(weight: np.ndarray) -> np.ndarray:
    """``(C_out, C_in, kh, kw)`` -> ``(kh*kw*C_in, C_out)``: rows in im2col's column order."""
    c_out = weight.shape[0]
    return np.ascontiguousarray(weight.transpose(2, 3, 1, 0)).reshape(-1, c_out)


def _weight_from_matrix(matrix: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """The inverse of :func:`_weight_matrix`: ``(kh*kw*C_in, C_out)`` -> ``shape``."""
    c_out, c_in, kh, kw = shape
    return np.ascontiguousarray(matrix.reshape(kh, kw, c_in, c_out).transpose(3, 2, 0, 1))


class Conv2d(Function):
    """2-D cross-correlation, PyTorch's ``conv2d``.

    x: (N, C_in, H, W), weight: (C_out, C_in/groups, kh, kw), bias: (C_out,) ->
    out: (N, C_out, Ho, Wo),  Ho = floor((H + top + bottom - dy*(kh-1) - 1)/sy) + 1.

    out[n, o, y, x] = b[o] + sum_{c,i,j} w[o, c, i, j] x_pad[n, g*Cg + c, y*sy + i*dy, x*sx + j*dx]
    (o in group g). As matrices (one group): ``out = cols @ W_mat + b``, with
    ``W_mat[(i, j, c), o] = w[o, c, i, j]``. Backward: ``dW_mat = cols^T @ g``,
    ``db = g summed over N, Ho, Wo``, and ``dx = col2im(g @ W_mat^T)``, which for stride 1 is
    itself a convolution: ``dx = im2col(g padded by d*(k-1) - pad) @ W_flipped``
    (``W_flipped[(i, j, o), c] = w[o, c, kh-1-i, kw-1-j]``).

    The columns are built and multiplied batch chunk by batch chunk (``batch_chunks``) in
    one reused buffer that stays in cache; they are not kept for the backward pass, which
    rebuilds them from the saved (padded) input: a copy costs less than keeping, then
    re-reading from memory, a matrix kh*kw times the size of the input. A thin GEMM
    (``K < THIN_GEMM``, e.g. 3x3 on one channel) carries the bias as a column of ones (so
    ``dW``'s GEMM also gives ``db``). With groups, the same per group (a batched matmul).

    Options: stride, dilation (pairs), padding = (top, bottom, left, right), groups.
    The output is an NCHW view of NHWC memory (see the module docstring).
    """

    saves_inputs = False  # keeps a (padded, channels-last) copy of x and the weight matrix

    def forward(self, x, weight, bias=None, stride=(1, 1), padding=(0, 0, 0, 0),
                dilation=(1, 1), groups=1):
        n, _, h, w = x.shape
        c_out, c_group, kh, kw = weight.shape
        ho = conv_output_size(h, kh, stride[0], dilation[0], padding[0], padding[1])
        wo = conv_output_size(w, kw, stride[1], dilation[1], padding[2], padding[3])
        if ho <= 0 or wo <= 0:
            raise ValueError(
                f"the kernel ({kh}, {kw}) with dilation {dilation} is larger than the padded "
                f"input ({h + padding[0] + padding[1]}, {w + padding[2] + padding[3]})"
            )
        settings = (stride, padding, dilation, groups, (ho, wo))
        if groups > 1:
            return self._grouped_forward(x, weight, bias, settings)
        k = kh * kw * c_group
        ones_column = bias is not None and k < THIN_GEMM
        w_mat = _weight_matrix(weight)
        if ones_column:
            w_mat = np.concatenate([w_mat, bias[np.newaxis].astype(w_mat.dtype)])
        padded = pad_nhwc(nhwc(x), padding)
        view = windows(padded, (kh, kw), stride, dilation, (ho, wo))
        out = np.empty((n, ho, wo, c_out), dtype=x.dtype)
        for chunk, cols in _column_blocks(view, ones_column):
            np.matmul(cols, w_mat, out=out[chunk].reshape(len(cols), c_out))
        if bias is not None and not ones_column:
            out += bias
        self.saved = (padded, w_mat, x.shape, weight.shape, settings, ones_column)
        return nchw_view(out)

    def backward(self, grad_output):
        if self.saved[-1] == "grouped":
            return self._grouped_backward(grad_output)
        padded, w_mat, x_shape, w_shape, settings, ones_column = self.saved
        stride, padding, dilation, _, (ho, wo) = settings
        n, c_in, h, w = x_shape
        c_out, _, kh, kw = w_shape
        g = nhwc(grad_output)  # (N, Ho, Wo, C_out)
        needs = self.needs_input_grad
        has_bias = len(needs) > 2
        grad_x = grad_w = grad_b = None
        if needs[1] or (ones_column and needs[2]):
            view = windows(padded, (kh, kw), stride, dilation, (ho, wo))
            dw = np.zeros(w_mat.shape, dtype=w_mat.dtype)
            for chunk, cols in _column_blocks(view, ones_column):
                dw += np.matmul(cols.T, g[chunk].reshape(len(cols), c_out))
            if ones_column:
                dw, grad_b = dw[:-1], dw[-1]
            grad_w = _weight_from_matrix(dw, w_shape)
        if has_bias and needs[2] and not ones_column:
            grad_b = g.reshape(-1, c_out).sum(axis=0)
        if needs[0]:
            if ones_column:
                w_mat = w_mat[:-1]
            grad_x = _conv_input_grad(g, w_mat, (h, w), w_shape, stride, padding, dilation)
            grad_x = nchw_view(grad_x)
        return grad_x, (grad_w if needs[1] else None), (grad_b if has_bias and needs[2]
                                                        else None)

    # -------------------------------------------------------------- groups > 1
    def _grouped_forward(self, x, weight, bias, settings):
        """(rows, kh*kw, G, Cg) -> (G, rows, kh*kw*Cg): one GEMM per group, batched."""
        stride, padding, dilation, groups, (ho, wo) = settings
        n = x.shape[0]
        c_out, c_group, kh, kw = weight.shape
        rows = n * ho * wo
        cols = im2col(nhwc(x), (kh, kw), stride, dilation, padding, (ho, wo))
        cols = cols.reshape(rows, kh * kw, groups, c_group).transpose(2, 0, 1, 3)
        cols = np.ascontiguousarray(cols).reshape(groups, rows, kh * kw * c_group)
        w_mat = np.ascontiguousarray(
            weight.reshape(groups, c_out // groups, c_group, kh, kw).transpose(0, 3, 4, 2, 1)
        ).reshape(groups, kh * kw * c_group, c_out // groups)
        out = np.matmul(cols, w_mat).transpose(1, 0, 2).reshape(rows, c_out)
        if bias is not None:
            out += bias
        self.saved = (cols, w_mat, x.shape, weight.shape, settings, "grouped")
        return nchw_view(out.reshape(n, ho, wo, c_out))

    def _grouped_backward(self, grad_output):
        cols, w_mat, x_shape, w_shape, settings, _ = self.saved
        stride, padding, dilation, groups, (ho, wo) = settings
        n, c_in, h, w = x_shape
        c_out, c_group, kh, kw = w_shape
        g = nhwc(grad_output).reshape(n * ho * wo, c_out)
        needs = self.needs_input_grad
        grad_x = grad_w = grad_b = None
        g_groups = g.reshape(len(g), groups, c_out // groups).transpose(1, 0, 2)
        if needs[1]:
            dw = np.matmul(cols.transpose(0, 2, 1), g_groups)  # (G, kh*kw*Cg, Cout/G)
            grad_w = np.ascontiguousarray(
                dw.reshape(groups, kh, kw, c_group, c_out // groups).transpose(0, 4, 3, 1, 2)
            ).reshape(w_shape)
        if needs[0]:
            dcols = np.matmul(g_groups, w_mat.transpose(0, 2, 1))  # (G, rows, kh*kw*Cg)
            dcols = dcols.reshape(groups, n, ho, wo, kh, kw, c_group)
            dcols = np.ascontiguousarray(dcols.transpose(1, 2, 3, 4, 5, 0, 6))
            dcols = dcols.reshape(n, ho, wo, kh, kw, c_in)
            grad_x = nchw_view(col2im(dcols, (h, w), stride, dilation, padding))
        if len(needs) > 2 and needs[2]:
            grad_b = g.sum(axis=0)
        return grad_x, grad_w, grad_b


def _column_blocks(view: np.ndarray, ones_column: bool = False):
    """For each batch chunk: (the chunk's slice, its im2col matrix ``(rows, K[+1])``), the
    matrix copied from the windows ``view`` into one buffer reused by every chunk (with a
    last column of ones when ``ones_column``)."""
    n, ho, wo, kh, kw, c = view.shape
    k = kh * kw * c
    width = k + ones_column
    chunks = batch_chunks(n, ho * wo * width * view.itemsize, CHUNK_BYTES)
    buffer = np.empty((min(n, chunks[0].stop) * ho * wo, width), dtype=view.dtype)
    if ones_column:
        buffer[:, k] = 1
    for chunk in chunks:
        rows = (chunk.stop - chunk.start) * ho * wo
        cols = buffer[:rows]
        target = cols[:, :k]
        target.shape = (chunk.stop - chunk.start, ho, wo, kh, kw, c)  # a view, never a copy
        np.copyto(target, view[chunk])
        yield chunk, cols


def _conv_input_grad(g: np.ndarray, w_mat: np.ndarray, in_size: Pair, w_shape: tuple,
                     stride: Pair, padding: tuple[int, int, int, int],
                     dilation: Pair) -> np.ndarray:
    """dx (N, H, W, C_in) of a convolution from g (N, Ho, Wo, C_out).

    Stride 1: a convolution of g with the flipped kernel, ``dx[n, y, x, c] = sum_{i,j,o}
    g_pad[n, y + i*dy, x + j*dx, o] w[o, c, kh-1-i, kw-1-j]``, g padded by ``d*(k-1) - pad``
    on each side: im2col + GEMM chunk by chunk, no col2im. Otherwise (or when a padding
    exceeds d*(k-1)): ``dcols = g @ W_mat^T`` and col2im's strided adds.
    """
    c_out, c_in, kh, kw = w_shape
    n, ho, wo, _ = g.shape
    extent = (dilation[0] * (kh - 1), dilation[1] * (kw - 1))
    pads = (extent[0] - padding[0], extent[0] - padding[1], extent[1] - padding[2],
            extent[1] - padding[3])
    if stride != (1, 1) or min(pads) < 0:
        dcols = np.matmul(g.reshape(-1, c_out), w_mat.T).reshape(n, ho, wo, kh, kw, c_in)
        return col2im(dcols, in_size, stride, dilation, padding)
    flipped = w_mat.reshape(kh, kw, c_in, c_out)[::-1, ::-1].transpose(0, 1, 3, 2)
    flipped = np.ascontiguousarray(flipped).reshape(kh * kw * c_out, c_in)
    view = windows(pad_nhwc(g, pads), (kh, kw), (1, 1), dilation, in_size)
    grad = np.empty((n, *in_size, c_in), dtype=g.dtype)
    for chunk, cols in _column_blocks(view):
        np.matmul(cols, flipped, out=grad[chunk].reshape(len(cols), c_in))
    return grad


class ConvTranspose2d(Function):
    """The transposed convolution (PyTorch's ``conv_transpose2d``): the backward-data
    pass of a ``Conv2d`` used as a forward.

    x: (N, C_in, H, W), weight: (C_in, C_out/groups, kh, kw), bias: (C_out,) ->
    out: (N, C_out, Ho, Wo),  Ho = (H-1)*sy - top - bottom + dy*(kh-1) + output_padding + 1.

    ``cols = x_mat @ W_mat`` (every input pixel spreads its kernel-sized patch), then
    ``out = col2im(cols)``. Backward: ``gcols = im2col(g)``, ``dx = gcols @ W_mat^T``,
    ``dW_mat = x_mat^T @ gcols``, ``db = g summed over N, Ho, Wo``.
    ``padding`` = (top, bottom, left, right) is what a Conv2d with these settings would pad.
    """

    saves_inputs = False

    def forward(self, x, weight, bias=None, stride=(1, 1), padding=(0, 0, 0, 0),
                output_padding=(0, 0), dilation=(1, 1), groups=1):
        n, c_in, h, w = x.shape
        _, c_group_out, kh, kw = weight.shape
        c_out = c_group_out * groups
        ho = (h - 1) * stride[0] - padding[0] - padding[1] + dilation[0] * (kh - 1) \
            + output_padding[0] + 1
        wo = (w - 1) * stride[1] - padding[2] - padding[3] + dilation[1] * (kw - 1) \
            + output_padding[1] + 1
        if ho <= 0 or wo <= 0:
            raise ValueError(f"the output size ({ho}, {wo}) would not be positive")
        # the Conv2d whose input is our output: pads (top, ho - ... ) so that its output is (h, w)
        pads = (padding[0], padding[1] + output_padding[0], padding[2],
                padding[3] + output_padding[1])
        x_mat = nhwc(x).reshape(n * h * w, c_in)
        c_in_group = c_in // groups
        # w_mats[g]: (C_in/G, kh*kw*C_out/G), columns in im2col order (i, j, c)
        w_mats = np.ascontiguousarray(
            weight.reshape(groups, c_in_group, c_group_out, kh, kw).transpose(0, 1, 3, 4, 2)
        ).reshape(groups, c_in_group, kh * kw * c_group_out)
        if groups == 1:
            cols = np.matmul(x_mat, w_mats[0]).reshape(n, h, w, kh, kw, c_out)
        else:
            x_groups = x_mat.reshape(len(x_mat), groups, c_in_group).transpose(1, 0, 2)
            cols = np.matmul(x_groups, w_mats).reshape(groups, n, h, w, kh, kw, c_group_out)
            cols = np.ascontiguousarray(cols.transpose(1, 2, 3, 4, 5, 0, 6))
            cols = cols.reshape(n, h, w, kh, kw, c_out)
        out = col2im(cols, (ho, wo), stride, dilation, pads)
        if bias is not None:
            out += bias
        self.saved = (x_mat, w_mats, x.shape, weight.shape, (ho, wo),
                      (stride, pads, dilation, groups))
        return nchw_view(out)

    def backward(self, grad_output):
        x_mat, w_mats, x_shape, w_shape, (ho, wo), settings = self.saved
        stride, pads, dilation, groups = settings
        n, c_in, h, w = x_shape
        _, c_group_out, kh, kw = w_shape
        g_nhwc = nhwc(grad_output)
        gcols = im2col(g_nhwc, (kh, kw), stride, dilation, pads, (h, w))
        rows = n * h * w
        needs = self.needs_input_grad
        grad_x = grad_w = grad_b = None
        c_in_group = c_in // groups
        gcols = gcols.reshape(rows, kh * kw, groups, c_group_out).transpose(2, 0, 1, 3)
        gcols = gcols.reshape(groups, rows, kh * kw * c_group_out)
        if needs[0]:
            dx = np.matmul(gcols, w_mats.transpose(0, 2, 1))  # (G, rows, C_in/G)
            dx = dx.transpose(1, 0, 2).reshape(n, h, w, c_in)
            grad_x = nchw_view(dx)
        if needs[1]:
            x_groups = x_mat.reshape(rows, groups, c_in_group).transpose(1, 2, 0)
            dw = np.matmul(x_groups, gcols)  # (G, C_in/G, kh*kw*Cout/G)
            grad_w = np.ascontiguousarray(
                dw.reshape(groups, c_in_group, kh, kw, c_group_out).transpose(0, 1, 4, 2, 3)
            ).reshape(w_shape)
        if len(needs) > 2 and needs[2]:
            grad_b = g_nhwc.reshape(-1, g_nhwc.shape[-1]).sum(axis=0)
        return grad_x, grad_w, grad_b


# ------------------------------------------------------------------ unfold / fold
def _cols_from_unfolded(unfolded: np.ndarray, kernel: Pair, out_size: Pair) -> np.ndarray:
    """(N, C*kh*kw, Ho*Wo) in PyTorch's row order (c, i, j) -> im2col's (N, Ho, Wo, kh, kw, C)
    (a view)."""
    n, ckk, _ = unfolded.shape
    (kh, kw), (ho, wo) = kernel, out_size
    return unfolded.reshape(n, ckk // (kh * kw), kh, kw, ho, wo).transpose(0, 4, 5, 2, 3, 1)


def _unfolded_from_cols(cols: np.ndarray) -> np.ndarray:
    """im2col's (N, Ho, Wo, kh, kw, C) -> (N, C*kh*kw, Ho*Wo), PyTorch's order (a copy)."""
    n, ho, wo, kh, kw, c = cols.shape
    return np.ascontiguousarray(cols.transpose(0, 5, 3, 4, 1, 2)).reshape(n, c * kh * kw,
                                                                          ho * wo)


class Unfold(Function):
    """PyTorch's ``unfold``, im2col as a public op: x (N, C, H, W) -> (N, C*kh*kw, L),
    L = Ho*Wo, rows ordered (c, i, j) as in PyTorch:
    ``out[n, (c, i, j), (y, x)] = x_pad[n, c, y*sy + i*dy, x*sx + j*dx]``.
    Backward: dx = fold(g), the adjoint (col2im)."""

    saves_inputs = False

    def forward(self, x, kernel_size=(1, 1), dilation=(1, 1), padding=(0, 0, 0, 0),
                stride=(1, 1)):
        _, _, h, w = x.shape
        kh, kw = kernel_size
        ho = conv_output_size(h, kh, stride[0], dilation[0], padding[0], padding[1])
        wo = conv_output_size(w, kw, stride[1], dilation[1], padding[2], padding[3])
        if ho <= 0 or wo <= 0:
            raise ValueError(f"the kernel {tuple(kernel_size)} does not fit the padded input")
        cols = im2col(nhwc(x), (kh, kw), stride, dilation, padding, (ho, wo))
        self.saved = ((h, w), (kh, kw), (ho, wo), stride, dilation, padding)
        return _unfolded_from_cols(cols)

    def backward(self, grad_output):
        in_size, kernel, out_size, stride, dilation, padding = self.saved
        cols = _cols_from_unfolded(grad_output, kernel, out_size)
        return nchw_view(col2im(cols, in_size, stride, dilation, padding))


class Fold(Function):
    """PyTorch's ``fold`` (col2im), the adjoint of unfold: x (N, C*kh*kw, L) ->
    (N, C, H, W), each column entry added to the pixel unfold would have copied it from.
    Backward: dx = unfold(g)."""

    saves_inputs = False

    def forward(self, x, output_size=(1, 1), kernel_size=(1, 1), dilation=(1, 1),
                padding=(0, 0, 0, 0), stride=(1, 1)):
        h, w = output_size
        kh, kw = kernel_size
        ho = conv_output_size(h, kh, stride[0], dilation[0], padding[0], padding[1])
        wo = conv_output_size(w, kw, stride[1], dilation[1], padding[2], padding[3])
        if x.shape[1] % (kh * kw) or ho <= 0 or wo <= 0 or x.shape[2] != ho * wo:
            raise ValueError(
                f"expected (N, C*{kh}*{kw}, {max(ho, 0) * max(wo, 0)}) blocks for output size "
                f"{tuple(output_size)}, got {x.shape}"
            )
        self.saved = ((kh, kw), (ho, wo), stride, dilation, padding)
        cols = _cols_from_unfolded(x, (kh, kw), (ho, wo))
        return nchw_view(col2im(cols, (h, w), stride, dilation, padding))

    def backward(self, grad_output):
        kernel, out_size, stride, dilation, padding = self.saved
        cols = im2col(nhwc(grad_output), kernel, stride, dilation, padding, out_size)
        return _unfolded_from_cols(cols)
