"""How the op tests draw their inputs: each sampler takes a NumPy generator and returns one
array; and the two checks every op case gets (forward against a NumPy reference, backward
against finite differences). Shared by test_ops_gradcheck.py, test_ops_everyday.py and
test_parity_ops.py (importable because conftest.py puts this folder on sys.path)."""

from __future__ import annotations

import numpy as np

from scratchnn import gradcheck
from scratchnn.tensor import Tensor


def leaves(inputs, rng):
    """One draw of each sampler, as float64 arrays and as leaf tensors requiring grad."""
    arrays = [np.asarray(draw(rng), dtype=np.float64) for draw in inputs]
    return arrays, [Tensor(array, dtype=np.float64, requires_grad=True) for array in arrays]


def check_forward(function, reference, inputs, rng):
    """``function`` of fresh leaves equals ``reference`` of the same arrays, in float64."""
    arrays, tensors = leaves(inputs, rng)
    out = function(*tensors)
    expected = np.asarray(reference(*[array.copy() for array in arrays]))
    assert isinstance(out, Tensor)
    assert out.dtype == np.float64
    assert out.shape == expected.shape
    np.testing.assert_allclose(out.data, expected, rtol=1e-10, atol=1e-12)


def check_backward(function, inputs, rng):
    """gradcheck passes; it leaves the analytic gradients in .grad, of each input's shape."""
    _, tensors = leaves(inputs, rng)
    assert gradcheck(function, tensors)
    for tensor in tensors:
        assert tensor.grad.shape == tensor.shape
        assert tensor.grad.dtype == np.float64


def normal(*shape):
    return lambda rng: rng.standard_normal(shape)


def uniform(low, high, *shape):
    return lambda rng: rng.uniform(low, high, shape)


def positive(*shape):
    return uniform(0.5, 2.0, *shape)


def probability(*shape):
    return uniform(0.05, 0.95, *shape)
