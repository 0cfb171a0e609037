"""Property tests over random shapes (hypothesis): broadcasting binary ops, ``unbroadcast``,
reductions over random dims, matmul over random batch shapes, softmax, permutations and
scatter-adding indexing. Each example runs a float64 gradcheck, so the shapes stay small.

Data are drawn from a NumPy generator seeded by hypothesis (normal draws never tie, so the
kinks of max/min/abs are not hit by accident); hypothesis chooses the shapes.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import (
    BroadcastableShapes,
    array_shapes,
    broadcastable_shapes,
    mutually_broadcastable_shapes,
)

import scratchnn as sn
import scratchnn.functional as F
from scratchnn import gradcheck
from scratchnn.tensor import Tensor, unbroadcast

FEW = settings(max_examples=30, deadline=None)
seeds = st.integers(0, 2**32 - 1)
small_shapes = array_shapes(min_dims=1, max_dims=4, max_side=4)


def _draw(rng, shape, domain="normal"):
    data = rng.standard_normal(shape) if domain == "normal" else rng.uniform(0.5, 2.0, shape)
    return Tensor(data, dtype=np.float64, requires_grad=True)


def _assert_gradients_have_operand_shapes(*tensors):
    for tensor in tensors:
        assert tensor.grad is not None
        assert tensor.grad.shape == tensor.shape, (tensor.grad.shape, tensor.shape)


# ------------------------------------------------------------ binary elementwise
BINARY_OPS = {  # name: (scratchnn op, NumPy op, domain of a, domain of b)
    "add": (lambda a, b: a + b, np.add, "normal", "normal"),
    "sub": (lambda a, b: a - b, np.subtract, "normal", "normal"),
    "mul": (lambda a, b: a * b, np.multiply, "normal", "normal"),
    "div": (lambda a, b: a / b, np.divide, "normal", "positive"),
    "pow": (lambda a, b: a**b, np.power, "positive", "normal"),
    "maximum": (sn.maximum, np.maximum, "normal", "normal"),
    "minimum": (sn.minimum, np.minimum, "normal", "normal"),
}
pair_shapes = mutually_broadcastable_shapes(num_shapes=2, max_dims=4, max_side=3)


@pytest.mark.parametrize("name", BINARY_OPS)
@FEW
@given(shapes=pair_shapes, seed=seeds)
@example(shapes=BroadcastableShapes(((3, 1), (1, 4)), (3, 4)), seed=0)
@example(shapes=BroadcastableShapes(((5,), (2, 3, 5)), (2, 3, 5)), seed=1)
@example(shapes=BroadcastableShapes(((2, 1, 3), ()), (2, 1, 3)), seed=2)
def test_binary_op_gradients_have_operand_shapes_and_match_finite_differences(
        name, shapes, seed):
    op, numpy_op, domain_a, domain_b = BINARY_OPS[name]
    rng = np.random.default_rng(seed)
    a, b = _draw(rng, shapes.input_shapes[0], domain_a), _draw(rng, shapes.input_shapes[1],
                                                                  domain_b)
    out = op(a, b)
    assert out.shape == shapes.result_shape
    np.testing.assert_allclose(out.data, numpy_op(a.data, b.data), rtol=1e-12)
    assert gradcheck(op, [a, b])
    _assert_gradients_have_operand_shapes(a, b)


@FEW
@given(shapes=mutually_broadcastable_shapes(num_shapes=3, max_dims=3, max_side=3), seed=seeds)
def test_where_gradients_have_operand_shapes_and_match_finite_differences(shapes, seed):
    rng = np.random.default_rng(seed)
    condition = rng.random(shapes.input_shapes[0]) < 0.5
    a, b = (_draw(rng, shape) for shape in shapes.input_shapes[1:])
    out = sn.where(condition, a, b)
    np.testing.assert_array_equal(out.data, np.where(condition, a.data, b.data))
    assert gradcheck(lambda a, b: sn.where(condition, a, b), [a, b])
    _assert_gradients_have_operand_shapes(a, b)


# ------------------------------------------------------------------ unbroadcast
def _brute_force_unbroadcast(grad, shape):
    """Add every element of ``grad`` into the element of ``shape`` it was broadcast from."""
    total = np.zeros(shape)
    for position in np.ndindex(grad.shape):
        aligned = position[len(position) - len(shape):]
        source = tuple(0 if size == 1 else i for i, size in zip(aligned, shape, strict=True))
        total[source] += grad[position]
    return total


@FEW
@given(shapes=mutually_broadcastable_shapes(num_shapes=2, max_dims=5, max_side=4), seed=seeds)
@example(shapes=BroadcastableShapes(((3, 1), (1, 4)), (3, 4)), seed=0)
def test_unbroadcast_equals_brute_force_sum(shapes, seed):
    grad = np.random.default_rng(seed).standard_normal(shapes.result_shape)
    for shape in shapes.input_shapes:
        reduced = unbroadcast(grad, shape)
        assert reduced.shape == shape
        np.testing.assert_allclose(reduced, _brute_force_unbroadcast(grad, shape), rtol=1e-12,
                                   atol=1e-12)


@FEW
@given(data=st.data(), seed=seeds)
def test_unbroadcast_of_a_broadcastable_shape(data, seed):
    target = data.draw(array_shapes(min_dims=0, max_dims=4, max_side=4), label="target")
    shape = data.draw(broadcastable_shapes(target, max_dims=4, max_side=4), label="operand")
    result = np.broadcast_shapes(shape, target)
    grad = np.random.default_rng(seed).standard_normal(result)
    np.testing.assert_allclose(unbroadcast(grad, shape), _brute_force_unbroadcast(grad, shape),
                               rtol=1e-12, atol=1e-12)


# ------------------------------------------------------------------- reductions
REDUCTIONS = {  # name: (scratchnn method name, NumPy function)
    "sum": ("sum", np.sum),
    "mean": ("mean", np.mean),
    "amax": ("amax", np.max),
    "amin": ("amin", np.min),
}


@st.composite
def shape_and_dims(draw):
    """A shape, and None or a set of its dims, each possibly written negatively."""
    shape = draw(small_shapes)
    if draw(st.booleans()):
        return shape, None
    axes = draw(st.lists(st.integers(0, len(shape) - 1), min_size=1, unique=True))
    signs = draw(st.lists(st.booleans(), min_size=len(axes), max_size=len(axes)))
    return shape, tuple(axis - len(shape) if negative else axis
                        for axis, negative in zip(axes, signs, strict=True))


@pytest.mark.parametrize("name", REDUCTIONS)
@FEW
@given(case=shape_and_dims(), keepdim=st.booleans(), seed=seeds)
def test_reduction_over_random_dims(name, case, keepdim, seed):
    shape, dims = case
    method, numpy_function = REDUCTIONS[name]
    x = _draw(np.random.default_rng(seed), shape)

    def reduce(x):
        return getattr(x, method)(dim=dims, keepdim=keepdim)

    out = reduce(x)
    expected = numpy_function(x.data, axis=dims, keepdims=keepdim)
    assert out.shape == np.shape(expected)
    np.testing.assert_allclose(out.data, expected, rtol=1e-12)
    assert gradcheck(reduce, [x])
    _assert_gradients_have_operand_shapes(x)


@pytest.mark.parametrize(("name", "numpy_function", "numpy_arg"),
                         [("max", np.max, np.argmax), ("min", np.min, np.argmin)])
@FEW
@given(shape=small_shapes, data=st.data(), keepdim=st.booleans(), seed=seeds)
def test_max_min_along_one_dim_return_values_and_indices(name, numpy_function, numpy_arg, shape,
                                                        data, keepdim, seed):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1), label="dim")
    x = _draw(np.random.default_rng(seed), shape)
    values, indices = getattr(x, name)(dim=dim, keepdim=keepdim)
    np.testing.assert_array_equal(values.data, numpy_function(x.data, axis=dim, keepdims=keepdim))
    np.testing.assert_array_equal(indices.data, numpy_arg(x.data, axis=dim, keepdims=keepdim))
    assert gradcheck(lambda x: getattr(x, name)(dim=dim, keepdim=keepdim).values, [x])
    _assert_gradients_have_operand_shapes(x)


# ----------------------------------------------------------------------- matmul
@FEW
@given(shapes=mutually_broadcastable_shapes(signature=np.matmul.signature, max_dims=3,
                                            max_side=3), seed=seeds)
@example(shapes=BroadcastableShapes(((2, 1, 3, 4), (5, 4, 2)), (2, 5, 3, 2)), seed=0)
@example(shapes=BroadcastableShapes(((4,), (4,)), ()), seed=0)
def test_matmul_over_random_batch_shapes(shapes, seed):
    rng = np.random.default_rng(seed)
    a, b = (_draw(rng, shape) for shape in shapes.input_shapes)
    out = a @ b
    assert out.shape == shapes.result_shape
    np.testing.assert_allclose(out.data, np.matmul(a.data, b.data), rtol=1e-12, atol=1e-12)
    assert gradcheck(lambda a, b: a @ b, [a, b])
    _assert_gradients_have_operand_shapes(a, b)


# -------------------------------------------------------- softmax and shape ops
@FEW
@given(shape=small_shapes, data=st.data(), seed=seeds)
def test_softmax_and_log_softmax_along_a_random_dim(shape, data, seed):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1), label="dim")
    x = _draw(np.random.default_rng(seed), shape)
    probabilities = F.softmax(x, dim=dim)
    np.testing.assert_allclose(probabilities.data.sum(axis=dim), 1.0, rtol=1e-12)
    np.testing.assert_allclose(F.log_softmax(x, dim=dim).data, np.log(probabilities.data),
                               rtol=1e-10, atol=1e-12)
    assert gradcheck(lambda x: F.softmax(x, dim=dim), [x])
    assert gradcheck(lambda x: F.log_softmax(x, dim=dim), [x])


@FEW
@given(shape=small_shapes, data=st.data(), seed=seeds)
def test_permute_and_reshape_move_gradients_back(shape, data, seed):
    axes = data.draw(st.permutations(range(len(shape))), label="axes")
    x = _draw(np.random.default_rng(seed), shape)
    permuted = x.permute(*axes)
    np.testing.assert_array_equal(permuted.data, np.transpose(x.data, axes))

    def move(x):
        return x.permute(*axes).reshape(-1).reshape(tuple(reversed(shape)))

    assert gradcheck(move, [x])
    _assert_gradients_have_operand_shapes(x)


@FEW
@given(rows=st.integers(1, 5), columns=st.integers(1, 3),
       picks=st.lists(st.integers(0, 4), min_size=1, max_size=12), seed=seeds)
def test_integer_array_indexing_adds_the_gradient_of_every_repeat(rows, columns, picks, seed):
    index = np.array(picks) % rows
    x = _draw(np.random.default_rng(seed), (rows, columns))
    upstream = np.random.default_rng(seed + 1).standard_normal((len(index), columns))
    x[index].backward(gradient=upstream)
    expected = np.zeros((rows, columns))
    for position, row in enumerate(index):
        expected[row] += upstream[position]
    np.testing.assert_allclose(x.grad, expected, rtol=1e-12, atol=1e-15)
