"""gradcheck itself: it must pass correct gradients and catch wrong ones, naming where."""

from __future__ import annotations

import numpy as np
import pytest

import scratchnn.functional as F
from scratchnn import GradcheckError, gradcheck
from scratchnn.tensor import Function, Tensor


def leaf(*shape, seed=0):
    data = np.random.default_rng(seed).standard_normal(shape)
    return Tensor(data, dtype=np.float64, requires_grad=True)


class Square(Function):
    """out = a**2, with the right backward."""

    def forward(self, a):
        self.saved = a
        return a * a

    def backward(self, grad_output):
        return 2 * self.saved * grad_output


class WrongMul(Function):
    """out = a * b, but b's gradient is off by 1 at element (1, 2)."""

    def forward(self, a, b):
        self.saved = (a, b)
        return a * b

    def backward(self, grad_output):
        a, b = self.saved
        grad_b = grad_output * a
        grad_b[1, 2] += 1.0
        return grad_output * b, grad_b


class ForgetsInput(Function):
    """out = a * b, but backward returns no gradient for b."""

    def forward(self, a, b):
        self.saved = b
        return a * b

    def backward(self, grad_output):
        return grad_output * self.saved, None


class HalfGradient(Function):
    """out = sin(a), with half the true gradient everywhere."""

    def forward(self, a):
        self.saved = a
        return np.sin(a)

    def backward(self, grad_output):
        return 0.5 * np.cos(self.saved) * grad_output


@pytest.mark.parametrize(
    ("function", "shapes"),
    [
        (Square.apply, [(3, 4)]),
        (lambda a, b: a * b + a.exp(), [(2, 3), (2, 3)]),
        (lambda x: F.cross_entropy(x, np.array([1, 0])), [(2, 3)]),
        (lambda a: a.sum(), [(5,)]),
    ],
    ids=["custom_square", "expression", "cross_entropy", "scalar_output"],
)
def test_gradcheck_passes_correct_gradients(function, shapes):
    inputs = [leaf(*shape, seed=i) for i, shape in enumerate(shapes)]
    assert gradcheck(function, inputs) is True


def test_gradcheck_names_the_input_and_element_of_a_wrong_gradient():
    a, b = leaf(2, 3, seed=1), leaf(2, 3, seed=2)
    with pytest.raises(GradcheckError) as error:
        gradcheck(WrongMul.apply, [a, b])
    message = str(error.value)
    assert "input 1" in message
    assert "element (1, 2)" in message
    assert "1 of 6 elements disagree" in message


def test_gradcheck_passes_when_the_wrong_input_is_not_checked():
    a, b = leaf(2, 3, seed=1), Tensor(leaf(2, 3, seed=2).data, dtype=np.float64)
    assert gradcheck(WrongMul.apply, [a, b])  # b does not require grad: not checked


def test_gradcheck_catches_a_missing_gradient():
    with pytest.raises(GradcheckError, match="input 1"):
        gradcheck(ForgetsInput.apply, [leaf(3), leaf(3, seed=1)])


def test_gradcheck_catches_a_gradient_off_by_a_constant_factor():
    with pytest.raises(GradcheckError, match=r"input 0 \(shape \(4,\)\)"):
        gradcheck(HalfGradient.apply, [leaf(4)])


def test_gradcheck_error_is_an_assertion_error():
    assert issubclass(GradcheckError, AssertionError)


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_gradcheck_rejects_low_precision_inputs(dtype):
    x = Tensor(np.ones(3), dtype=dtype, requires_grad=True)
    with pytest.raises(ValueError, match="use float64"):
        gradcheck(Square.apply, [x])


def test_gradcheck_rejects_inputs_without_requires_grad():
    with pytest.raises(ValueError, match="no input requires grad"):
        gradcheck(Square.apply, [Tensor(np.ones(3), dtype=np.float64)])


def test_gradcheck_restores_the_inputs():
    x = leaf(3, 2)
    before = x.data.copy()
    gradcheck(lambda x: (x * x).sum(dim=1), [x])
    np.testing.assert_array_equal(x.data, before)


class WrongShapeSum(Function):
    """out = a.sum(), but backward returns a (1,) gradient for an (n,) input: every element's
    gradient is the same, so the broadcast value matches the finite differences."""

    def forward(self, a):
        return a.sum()

    def backward(self, grad_output):
        return np.reshape(grad_output, (1,))


def test_gradcheck_catches_a_gradient_of_the_wrong_shape():
    with pytest.raises((GradcheckError, RuntimeError, ValueError)):
        gradcheck(WrongShapeSum.apply, [leaf(3)])
