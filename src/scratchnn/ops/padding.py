"""Padding (PyTorch's ``F.pad``): constant, reflect, replicate and circular."""

from __future__ import annotations

import numpy as np

from scratchnn.tensor import Function

_NUMPY_MODES = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


class Pad(Function):
    """Pad (or, with negative amounts, crop) the trailing axes.

    ``widths``: one (before, after) pair per axis of x. Constant mode: out = x surrounded by
    ``value``; dx = g with the border sliced off (and zeros where x was cropped).
    Other modes: along each padded axis, ``out = take(x, source)`` with ``source`` the
    index each output position copies (e.g. reflect: 2 1 | 0 1 2 3 | 2 1), so
    dx = the gradients added back onto their sources (``np.add.at``), axis by axis.
    """

    saves_inputs = False

    def forward(self, x, widths=(), mode="constant", value=0.0):
        grow = [(max(a, 0), max(b, 0)) for a, b in widths]
        crop = tuple(slice(max(-a, 0), size - max(-b, 0))
                     for (a, b), size in zip(widths, x.shape, strict=True))
        x = x[crop]
        self.saved = (widths, crop, mode, [])
        if mode == "constant":
            return np.pad(x, grow, mode="constant", constant_values=value)
        sources = self.saved[3]
        out = x
        for axis, (before, after) in enumerate(grow):
            if before or after:
                size = out.shape[axis]
                source = np.pad(np.arange(size), (before, after), mode=_NUMPY_MODES[mode])
                sources.append((axis, source, size))
                out = np.take(out, source, axis=axis)
        return out

    def backward(self, grad_output):
        widths, crop, mode, sources = self.saved
        grad = grad_output
        if mode == "constant":
            inner = tuple(slice(max(a, 0), grad.shape[i] - max(b, 0))
                          for i, (a, b) in enumerate(widths))
            grad = grad[inner]
        else:
            for axis, source, size in reversed(sources):
                moved = np.moveaxis(grad, axis, 0)
                summed = np.zeros((size, *moved.shape[1:]), dtype=grad.dtype)
                np.add.at(summed, source, moved)
                grad = np.moveaxis(summed, 0, axis)
        if any(a < 0 or b < 0 for a, b in widths):
            full = np.zeros(tuple(s.stop + max(-b, 0) for s, (_, b) in zip(crop, widths,
                                                                           strict=True)),
                            dtype=grad.dtype)
            full[crop] = grad
            grad = full
        return grad
