"""Assignment into a tensor that is part of a graph: ``x[index] = value``."""

from __future__ import annotations

import numpy as np

from scratchnn.tensor import Function


class IndexPut(Function):
    """out = a with out[index] = value;  da = g with zeros at index,  dvalue = g[index]
    (summed back to value's shape by the engine when value was broadcast).

    ``select``, when given, is applied first (``out[select][index] = value``): how an index
    mixing integers with index arrays keeps the arrays' dims in place, as in PyTorch."""

    saves_inputs = False

    def forward(self, a, value, index=None, select=None):
        out = a.copy()
        (out if select is None else out[select])[index] = value
        self.saved = (select, index)
        return out

    def backward(self, grad_output):
        select, index = self.saved
        grad_a = grad_value = None
        if self.needs_input_grad[0]:
            grad_a = grad_output.copy()
            (grad_a if select is None else grad_a[select])[index] = 0
        if self.needs_input_grad[1]:
            grad_value = np.array((grad_output if select is None else grad_output[select])[index])
        return grad_a, grad_value
