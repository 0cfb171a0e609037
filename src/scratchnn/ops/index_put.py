"""Assignment into a tensor that is part of a graph: ``x[index] = value``."""

from __future__ import annotations

import numpy as np

from scratchnn.tensor import Function


class IndexPut(Function):
    """out = a with out[index] = value;  da = g with zeros at index,  dvalue = g[index]
    (summed back to value's shape by the engine when value was broadcast)."""

    saves_inputs = False

    def forward(self, a, value, index=None):
        out = a.copy()
        out[index] = value
        self.saved = index
        return out

    def backward(self, grad_output):
        index = self.saved
        grad_a = None
        if self.needs_input_grad[0]:
            grad_a = grad_output.copy()
            grad_a[index] = 0
        grad_value = np.array(grad_output[index]) if self.needs_input_grad[1] else None
        return grad_a, grad_value
