"""The engine: graph recording, the backward walk, gradient accumulation and ownership,
no_grad/detach, dtype rules, and unbroadcast."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import scratchnn as sn
import scratchnn.functional as F
from scratchnn.tensor import Function, Tensor, enable_grad, is_grad_enabled, no_grad, unbroadcast


# ------------------------------------------------------------------ the walk
def test_a_chain_of_10000_ops_backpropagates_without_recursion():
    assert sys.getrecursionlimit() < 10_000  # a recursive walk could not do this
    x = Tensor([1.0], dtype=np.float64, requires_grad=True)
    y = x
    for i in range(10_000):
        y = y * 1.0001 if i % 2 else y + 0.5
    y.sum().backward()
    np.testing.assert_allclose(x.grad, [1.0001**5000], rtol=1e-12)
    del y  # freeing the chain must not overflow the stack either


def test_backward_twice_raises_a_clear_error():
    x = Tensor([1.0, 2.0], requires_grad=True)
    loss = (x * x).sum()
    loss.backward()
    with pytest.raises(RuntimeError, match="second time.*retain_graph=True"):
        loss.backward()
    np.testing.assert_array_equal(x.grad, [2.0, 4.0])  # the failed call added nothing


def test_retain_graph_allows_a_second_backward_that_accumulates():
    x = Tensor([1.0, 2.0], requires_grad=True)
    loss = (x * x).sum()
    loss.backward(retain_graph=True)
    loss.backward()
    np.testing.assert_array_equal(x.grad, [4.0, 8.0])


def test_a_shared_subgraph_is_freed_by_the_first_backward():
    x = Tensor([1.0, 2.0], requires_grad=True)
    shared = x.exp()
    first, second = shared.sum(), (shared * 2).sum()
    first.backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        second.backward()


def test_non_scalar_backward_needs_a_gradient():
    y = Tensor([1.0, 2.0], requires_grad=True) * 2
    with pytest.raises(RuntimeError, match=r"one-element.*\(2,\)"):
        y.backward()


def test_one_element_backward_needs_no_gradient():
    x = Tensor([[3.0]], requires_grad=True)
    (x * x).backward()
    np.testing.assert_array_equal(x.grad, [[6.0]])


@pytest.mark.parametrize("wrap", [np.asarray, Tensor, lambda g: g.tolist()],
                         ids=["array", "tensor", "list"])
def test_backward_with_an_explicit_gradient(wrap):
    x = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    gradient = np.array([[1.0, -2.0, 0.5], [3.0, 0.0, 1.0]])
    (x * 3).backward(gradient=wrap(gradient))
    np.testing.assert_allclose(x.grad, 3 * gradient)


def test_backward_with_a_gradient_of_the_wrong_shape_raises():
    y = Tensor([1.0, 2.0], requires_grad=True) * 2
    with pytest.raises(ValueError, match=r"\(3,\).*\(2,\)"):
        y.backward(gradient=np.ones(3))


def test_backward_on_a_leaf_gives_the_gradient_itself():
    x = Tensor([1.0, 2.0], requires_grad=True)
    gradient = np.array([5.0, 6.0])
    x.backward(gradient=gradient)
    gradient[:] = 0  # the caller's array is not adopted
    np.testing.assert_array_equal(x.grad, [5.0, 6.0])


def test_backward_on_a_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        (Tensor([1.0]) * 2).sum().backward()


def test_gradients_accumulate_across_backward_calls():
    x = Tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad, [3 + 2, 3 + 4])


def test_a_tensor_used_twice_gets_the_summed_gradient():
    x = Tensor([1.0, -2.0], requires_grad=True)
    (x * x + x).sum().backward()
    np.testing.assert_array_equal(x.grad, [2 * 1 + 1, 2 * -2 + 1])


def test_diamond_through_an_intermediate_sums_both_paths():
    x = Tensor([0.0, 1.0], dtype=np.float64, requires_grad=True)
    middle = x.exp()
    (middle * 3 + middle * 5).sum().backward()
    np.testing.assert_allclose(x.grad, 8 * np.exp([0.0, 1.0]), rtol=1e-15)


def test_only_leaves_that_require_grad_get_gradients():
    x = Tensor([1.0, 2.0], requires_grad=True)
    constant = Tensor([3.0, 4.0])
    middle = x * constant
    (middle * 2).sum().backward()
    np.testing.assert_array_equal(x.grad, [6.0, 8.0])
    assert constant.grad is None and middle.grad is None  # no grads on non-leaves


def test_backward_from_an_intermediate_reaches_only_its_leaves():
    x = Tensor([1.0], requires_grad=True)
    y = Tensor([2.0], requires_grad=True)
    middle = x * 3
    _ = middle + y
    middle.backward(gradient=np.ones(1))
    np.testing.assert_array_equal(x.grad, [3.0])
    assert y.grad is None


def test_requires_grad_and_grad_fn_propagate():
    x, c = Tensor([1.0], requires_grad=True), Tensor([2.0])
    assert x.is_leaf and x.grad_fn is None
    y = x * c
    assert y.requires_grad and not y.is_leaf and y.grad_fn is not None
    z = c * c
    assert not z.requires_grad and z.grad_fn is None


# ------------------------------------------------------- gradient ownership
OWNERSHIP_GRAPHS = {
    "add_sum": lambda a, b: (a + b).sum(),
    "add_explicit_gradient": lambda a, b: a + b,
    "sub": lambda a, b: (a - b).sum(),
    "add_broadcast_scalar": lambda a, b: a + b.sum(),
    "reshape": lambda a, b: (a.reshape(-1) + b.reshape(-1)).sum(),
    "transpose": lambda a, b: (a.T + b.T).sum(),
    "getitem": lambda a, b: (a[...] + b[:, :]).sum(),
    "cat": lambda a, b: sn.cat([a, b]).sum(),
    "stack": lambda a, b: sn.stack([a, b], dim=1),
    "where": lambda a, b: sn.where(np.eye(2, 3, dtype=bool), a, b),
    "maximum": lambda a, b: sn.maximum(a, b).sum(),
    "same_leaf_twice": lambda a, b: (a + a + b).sum(),
    "mul_by_one": lambda a, b: (a * 1.0 + b * 1.0).sum(),
}


@pytest.mark.parametrize("graph", OWNERSHIP_GRAPHS.values(), ids=OWNERSHIP_GRAPHS.keys())
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_leaf_gradients_are_owned_writable_arrays_of_the_leafs_dtype_and_shape(graph, dtype):
    a = Tensor(np.arange(6.0).reshape(2, 3), dtype=dtype, requires_grad=True)
    b = Tensor(np.arange(6.0).reshape(2, 3)[::-1], dtype=dtype, requires_grad=True)
    out = graph(a, b)
    gradient = np.ones(out.shape, dtype=dtype)
    out.backward(gradient=gradient)
    for leaf in (a, b):
        assert type(leaf.grad) is Tensor and type(leaf.grad.data) is np.ndarray
        assert leaf.grad.dtype == dtype and leaf.grad.shape == leaf.shape
        assert leaf.grad.data.flags.writeable
        assert not np.shares_memory(leaf.grad.data, leaf.data)
        assert not np.shares_memory(leaf.grad.data, gradient)
    assert not np.shares_memory(a.grad.data, b.grad.data)
    b_before = b.grad.data.copy()
    a_grad = a.grad
    a.grad += 100  # in place: must not reach b's gradient
    assert a.grad is a_grad
    np.testing.assert_array_equal(b.grad, b_before)


def test_accumulating_into_one_leaf_does_not_change_another():
    a = Tensor([1.0, 2.0], requires_grad=True)
    b = Tensor([3.0, 4.0], requires_grad=True)
    (a + b).sum().backward()
    (a * 5).sum().backward()  # a.grad += 5, in place
    np.testing.assert_array_equal(a.grad, [6.0, 6.0])
    np.testing.assert_array_equal(b.grad, [1.0, 1.0])


class _SharedGradient(Function):
    """out = 2a + b + 2c; backward hands one new array to both a and c (allowed by the
    Function contract: "new arrays, grad_output itself, or views of it")."""

    def forward(self, a, b, c):
        return 2 * a + b + 2 * c

    def backward(self, grad_output):
        twice = 2 * grad_output
        return twice, grad_output, twice


def test_an_array_shared_by_a_leaf_and_a_non_leaf_is_not_modified_in_place():
    x = Tensor([1.0], requires_grad=True)
    # a = x, b = 3x (reached next, adds 3 to x.grad in place), c = 7x (pending: gets 2)
    out = _SharedGradient.apply(x, x * 3.0, x * 7.0)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad, [2 + 3 + 2 * 7])


class _WronglyShapedGradient(Function):
    """out = 2a; backward returns the gradient transposed (a (3, 2) gradient for (2, 3))."""

    def forward(self, a):
        return 2 * a

    def backward(self, grad_output):
        return (2 * grad_output).T


def test_a_gradient_of_the_wrong_shape_is_rejected():
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises((RuntimeError, ValueError)):
        _WronglyShapedGradient.apply(x).sum().backward()
    assert x.grad is None or x.grad.shape == x.shape


# ----------------------------------------------------------- no_grad, detach
def test_no_grad_context_records_no_graph_and_restores_the_mode():
    x = Tensor([1.0, 2.0], requires_grad=True)
    with no_grad():
        assert not is_grad_enabled()
        y = (x * 2).exp().sum()
        with enable_grad():
            z = x * 2
    assert is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad and z.grad_fn is not None
    np.testing.assert_allclose(y.data, np.exp(2.0) + np.exp(4.0), rtol=1e-6)


def test_no_grad_restores_the_mode_after_an_exception():
    with pytest.raises(KeyError), no_grad():
        raise KeyError("boom")
    assert is_grad_enabled()


def test_no_grad_as_a_decorator():
    x = Tensor([1.0, 2.0], requires_grad=True)

    @no_grad()
    def double(t):
        """Docstring kept."""
        assert not is_grad_enabled()
        return t * 2

    y = double(x)
    assert is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    assert double.__name__ == "double" and double.__doc__ == "Docstring kept."


def test_assignment_into_a_tensor_that_requires_grad_needs_no_grad():
    x = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="in-place"):
        x[0] = 5.0
    with no_grad():
        x[0] = 5.0
    np.testing.assert_array_equal(x.data, [5.0, 2.0])


def test_detach_shares_data_and_stops_gradients():
    x = Tensor([1.0, 2.0], requires_grad=True)
    d = x.detach()
    assert np.shares_memory(d.data, x.data)
    assert not d.requires_grad and d.is_leaf
    (d * x).sum().backward()  # only the x factor is differentiated
    np.testing.assert_array_equal(x.grad, [1.0, 2.0])
    assert d.grad is None


def test_requires_grad_cannot_be_switched_off_on_a_non_leaf():
    y = Tensor([1.0], requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="leaf"):
        y.requires_grad_(False)


@pytest.mark.parametrize("data", [[1, 2], [True, False], np.arange(3, dtype=np.int32)])
def test_requires_grad_on_an_integer_or_bool_tensor_raises_type_error(data):
    with pytest.raises(TypeError, match="floating-point"):
        Tensor(data, requires_grad=True)
    with pytest.raises(TypeError, match="floating-point"):
        Tensor(data).requires_grad_()


# -------------------------------------------------------------------- dtypes
@pytest.mark.parametrize(
    ("data", "dtype", "expected"),
    [
        (1.5, None, np.float32),
        ([1.0, 2.0], None, np.float32),
        (np.zeros(2, dtype=np.float64), None, np.float32),
        (np.zeros(2, dtype=np.float32), None, np.float32),
        ([1, 2], None, np.int64),
        ([True], None, np.bool_),
        ([1.0, 2.0], np.float64, np.float64),
        (np.zeros(2), np.float64, np.float64),
        ([1, 2], np.float32, np.float32),
    ],
)
def test_construction_dtype(data, dtype, expected):
    assert Tensor(data, dtype=dtype).dtype == expected


FLOAT64_PIPELINES = {
    "arithmetic": lambda x: ((x + 1.5) * 2 - 0.25) / 3 + 2**x + x**2 - (1 - x),
    "math": lambda x: x.exp().log().abs().sqrt().tanh().sigmoid().clamp(0.1, 0.9),
    "reductions": lambda x: x.sum(dim=1) + x.mean(dim=1) + x.amax(dim=1) + x.max(dim=1).values,
    "matmul": lambda x: x @ x.T,
    "shapes": lambda x: sn.cat([x.reshape(3, 2).T, x[:, ::2]], dim=1).flatten().unsqueeze(0),
    "select": lambda x: sn.where(x.data > 0, x, 0.5) + sn.maximum(x, 0.1) + x.gather(1, [[0]]),
    "softmax": lambda x: F.softmax(x, dim=1) + F.log_softmax(x, dim=0) + F.relu(x),
    "cross_entropy": lambda x: F.cross_entropy(x, np.array([0, 2]), weight=np.array([1, 2, 3.0]),
                                               label_smoothing=0.1),
    "mse_float64_target": lambda x: F.mse_loss(x, np.full((2, 3), 0.1)),
    "bce_with_logits": lambda x: F.binary_cross_entropy_with_logits(
        x, np.full((2, 3), 0.3), weight=np.full(3, 0.7), pos_weight=np.full(3, 1.3)),
    "linear": lambda x: F.linear(x, x, x[0, :2]),
}


@pytest.mark.parametrize("pipeline", FLOAT64_PIPELINES.values(), ids=FLOAT64_PIPELINES.keys())
def test_float64_is_kept_end_to_end(pipeline):
    x = Tensor([[0.3, -1.2, 2.0], [1.1, 0.4, -0.7]], dtype=np.float64, requires_grad=True)
    out = pipeline(x)
    assert out.dtype == np.float64
    out.backward(gradient=np.ones(out.shape))
    assert x.grad.dtype == np.float64


def test_float64_constants_are_not_rounded_to_float32():
    x = Tensor([1.0, 2.0], dtype=np.float64)
    weights = np.array([0.1, 1 / 3])
    np.testing.assert_array_equal((x * weights).data, x.data * weights)
    np.testing.assert_array_equal(F.mse_loss(x, weights, reduction="none").data,
                                  (x.data - weights) ** 2)


FLOAT32_EXPRESSIONS = {
    "2*x": lambda x: 2 * x,
    "x*2.5": lambda x: x * 2.5,
    "x/3": lambda x: x / 3,
    "x**2": lambda x: x**2,
    "2**x": lambda x: 2**x,
    "1-x": lambda x: 1 - x,
    "np.float64*x": lambda x: np.float64(2.0) * x,
    "x+float64_array": lambda x: x + np.array([0.1, 0.2]),
    "x*int_array": lambda x: x * np.array([1, 2]),
    "float64_array@x": lambda x: np.ones((3, 2)) @ x,
    "maximum(x, 0.5)": lambda x: sn.maximum(x, 0.5),
    "where(x, 0.0)": lambda x: sn.where([True, False], x, 0.0),
}


@pytest.mark.parametrize("expression", FLOAT32_EXPRESSIONS.values(),
                         ids=FLOAT32_EXPRESSIONS.keys())
def test_python_and_numpy_constants_keep_float32(expression):
    x = Tensor([1.0, 2.0], requires_grad=True)
    out = expression(x)
    assert isinstance(out, Tensor) and out.dtype == np.float32
    out.backward(gradient=np.ones(out.shape))
    assert x.grad.dtype == np.float32


@pytest.mark.parametrize(
    "expression",
    [lambda i: i + i, lambda i: i * 2, lambda i: -i, lambda i: i - 1, lambda i: i.sum(),
     lambda i: i[[0, 0]], lambda i: i.reshape(1, 3), lambda i: sn.cat([i, i]),
     lambda i: i.amax(), lambda i: i.abs()],
)
def test_integer_tensors_stay_integer(expression):
    out = expression(Tensor([1, -2, 3]))
    assert out.dtype == np.int64
    assert not out.requires_grad


@pytest.mark.parametrize(
    "expression",
    [lambda x, y: x > 0, lambda x, y: x >= y, lambda x, y: x < 0.5, lambda x, y: x <= y,
     lambda x, y: x == y, lambda x, y: x != 1.0, lambda x, y: F.eq(x, y)],
)
def test_comparisons_return_bool_tensors_without_grad(expression):
    x = Tensor([1.0, -2.0, 3.0], requires_grad=True)
    y = Tensor([1.0, 0.0, 4.0], requires_grad=True)
    out = expression(x, y)
    assert isinstance(out, Tensor)
    assert out.dtype == np.bool_
    assert not out.requires_grad and out.grad_fn is None
    np.testing.assert_array_equal(out.data, expression(x.data, y.data))


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        (lambda x: x.argmax(), 5),
        (lambda x: x.argmax(dim=1), [2, 2]),
        (lambda x: x.argmin(dim=1, keepdim=True), [[1], [1]]),
        (lambda x: sn.argmin(x), 1),
        (lambda x: x.max(dim=1).indices, [2, 2]),
    ],
)
def test_argmax_and_indices_are_integer_tensors_without_grad(expression, expected):
    x = Tensor([[1.0, -3.0, 2.0], [4.0, 0.0, 5.0]], requires_grad=True)
    out = expression(x)
    assert isinstance(out, Tensor)
    assert out.dtype == np.int64
    assert not out.requires_grad and out.grad_fn is None
    np.testing.assert_array_equal(out.data, expected)


# -------------------------------------------------------------- unbroadcast
@pytest.mark.parametrize(
    ("grad_shape", "shape", "expected"),
    [
        ((3, 4), (3, 1), np.full((3, 1), 4.0)),
        ((3, 4), (1, 4), np.full((1, 4), 3.0)),
        ((2, 3, 5), (5,), np.full(5, 6.0)),
        ((2, 3, 5), (3, 1), np.full((3, 1), 10.0)),
        ((2, 3), (), np.array(6.0)),
        ((2, 3), (1, 1), np.full((1, 1), 6.0)),
    ],
)
def test_unbroadcast_sums_over_broadcast_axes(grad_shape, shape, expected):
    reduced = unbroadcast(np.ones(grad_shape), shape)
    assert reduced.shape == shape
    np.testing.assert_array_equal(reduced, expected)


def test_unbroadcast_keeps_a_gradient_of_the_right_shape():
    grad = np.ones((2, 3))
    assert unbroadcast(grad, (2, 3)) is grad
