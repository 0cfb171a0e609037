"""Every op against PyTorch: the same float32 inputs give the same outputs and the same input
gradients (for a random upstream gradient), within float32 tolerance.

Each case is one function ``f(L, *tensors)`` run twice: with ``L = OURS`` (scratchnn) and with
``L = THEIRS`` (torch). ``L`` exposes the library's top-level functions (``L.cat``,
``L.where``, ...), its functional module as ``L.F``, and ``L.const(array)`` for constants such
as class targets, index arrays, masks and loss weights. So each call is written once and both
libraries get exactly the same call.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
from input_samplers import normal, positive, probability

import scratchnn as sn
import scratchnn.functional as F
from scratchnn.tensor import Tensor

torch = pytest.importorskip("torch")

RTOL, ATOL = 1e-5, 1e-6  # float32
LOOSE = {"rtol": 1e-4, "atol": 1e-5}  # sums of many float32 products (matmul, linear, losses)


class Lib:
    """One library's namespace: its top-level functions plus ``F`` and ``const``."""

    def __init__(self, module: Any, functional: Any, const: Any) -> None:
        self.module, self.F, self.const = module, functional, const

    def __getattr__(self, name: str) -> Any:
        return getattr(self.module, name)


def _float32(array: Any) -> np.ndarray:
    array = np.asarray(array)
    return array.astype(np.float32) if array.dtype.kind == "f" else array


OURS = Lib(sn, F, lambda array: Tensor(_float32(array)))
THEIRS = Lib(torch, torch.nn.functional, lambda array: torch.from_numpy(_float32(array).copy()))


MASK = np.array([[True, False, True, True], [False, False, True, False],
                 [True, True, False, False]])
REPEATED = np.array([0, 2, 0, 0])
GATHER_INDEX = np.array([[0, 0, 2], [1, 3, 1]])
CLASSES = np.array([0, 3, 1, 1, 2, 3])
CLASSES_IGNORED = np.array([0, -100, 1, 3, -100, 2])
CLASSES_7 = np.array([7, 3, 1, 7, 2, 0])
CLASSES_2D = np.array([[0, 2, 1], [3, 3, 0]])
CLASS_WEIGHT = np.array([0.5, 2.0, 1.0, 1.5])
ELEMENT_WEIGHT = np.linspace(0.5, 2.0, 12).reshape(4, 3)
POS_WEIGHT = np.array([2.0, 0.5, 3.0])
BINARY = (np.arange(12).reshape(4, 3) % 3 == 0).astype(np.float64)
REDUCTIONS = ["mean", "sum", "none"]


def case(name, function, inputs, **tolerance):
    return pytest.param(function, inputs, tolerance, id=name)


CASES = [
    case("add", lambda L, a, b: a + b, [normal(3, 1), normal(1, 4)]),
    case("sub", lambda L, a, b: a - b, [normal(2, 3), normal(3)]),
    case("mul", lambda L, a, b: a * b, [normal(5), normal(2, 3, 5)]),
    case("div", lambda L, a, b: a / b, [normal(2, 3), positive(2, 1)]),
    case("pow_tensor", lambda L, a, b: a**b, [positive(2, 3), normal(3)]),
    case("pow_int", lambda L, a: a**3, [normal(2, 3)]),
    case("pow_fraction", lambda L, a: a**-1.5, [positive(4)]),
    case("neg", lambda L, a: -a, [normal(2, 3)]),
    case("rsub", lambda L, a: 2 - a, [normal(2, 3)]),
    case("rtruediv", lambda L, a: 1 / a, [positive(2, 3)]),
    case("rpow", lambda L, a: 2**a, [normal(2, 3)]),
    case("radd_rmul", lambda L, a: 3 + 2 * a, [normal(2, 3)]),
    case("matmul_2d", lambda L, a, b: a @ b, [normal(3, 4), normal(4, 5)], **LOOSE),
    case("matmul_1d_2d", lambda L, a, b: a @ b, [normal(4), normal(4, 5)], **LOOSE),
    case("matmul_2d_1d", lambda L, a, b: a @ b, [normal(3, 4), normal(4)], **LOOSE),
    case("matmul_1d_1d", lambda L, a, b: a @ b, [normal(4), normal(4)], **LOOSE),
    case("matmul_batched", lambda L, a, b: L.matmul(a, b), [normal(2, 3, 4), normal(2, 4, 5)],
         **LOOSE),
    case("matmul_broadcast_batch", lambda L, a, b: a @ b, [normal(2, 1, 3, 4), normal(5, 4, 2)],
         **LOOSE),
    case("matmul_1d_batched", lambda L, a, b: a @ b, [normal(4), normal(2, 4, 3)], **LOOSE),
    case("matmul_batched_1d", lambda L, a, b: a @ b, [normal(2, 3, 4), normal(4)], **LOOSE),
    case("sum_all", lambda L, a: a.sum(), [normal(2, 3, 4)], **LOOSE),
    case("sum_dims_keepdim", lambda L, a: a.sum(dim=(0, 2), keepdim=True), [normal(2, 3, 4)],
         **LOOSE),
    case("sum_axis_keepdims", lambda L, a: a.sum(axis=-1, keepdims=True), [normal(2, 3, 4)]),
    case("mean_all", lambda L, a: a.mean(), [normal(2, 3, 4)], **LOOSE),
    case("mean_dim", lambda L, a: L.mean(a, dim=1), [normal(2, 3, 4)]),
    case("mean_dims_keepdim", lambda L, a: a.mean(dim=(-1, 0), keepdim=True), [normal(2, 3, 4)]),
    case("max_all", lambda L, a: a.max(), [normal(3, 4)]),
    case("min_all", lambda L, a: L.min(a), [normal(3, 4)]),
    case("max_dim", lambda L, a: a.max(dim=1), [normal(2, 3, 4)]),
    case("max_dim_keepdim", lambda L, a: L.max(a, dim=-1, keepdim=True), [normal(2, 3, 4)]),
    case("min_dim", lambda L, a: a.min(dim=0), [normal(3, 4)]),
    case("min_dim_keepdim", lambda L, a: a.min(1, True), [normal(3, 4)]),
    case("amax", lambda L, a: a.amax(dim=(0, 2)), [normal(2, 3, 4)]),
    case("amin_keepdim", lambda L, a: L.amin(a, dim=1, keepdim=True), [normal(2, 3, 4)]),
    case("exp", lambda L, a: a.exp(), [normal(3, 4)]),
    case("log", lambda L, a: L.log(a), [positive(3, 4)]),
    case("sqrt", lambda L, a: a.sqrt(), [positive(3, 4)]),
    case("abs", lambda L, a: L.abs(a), [normal(3, 4)]),
    case("clip", lambda L, a: a.clip(-0.5, 0.5), [normal(3, 4)]),
    case("clamp_min", lambda L, a: a.clamp(min=0.2), [normal(3, 4)]),
    case("clamp_max", lambda L, a: L.clamp(a, max=-0.1), [normal(3, 4)]),
    case("relu", lambda L, a: L.F.relu(a), [normal(3, 4)]),
    case("leaky_relu", lambda L, a: L.F.leaky_relu(a), [normal(3, 4)]),
    case("leaky_relu_slope", lambda L, a: L.F.leaky_relu(a, 0.2), [normal(3, 4)]),
    case("sigmoid", lambda L, a: L.sigmoid(a), [normal(3, 4)]),
    case("tanh", lambda L, a: a.tanh(), [normal(3, 4)]),
    case("softmax", lambda L, a: L.F.softmax(a, dim=-1), [normal(3, 4)]),
    case("softmax_dim0", lambda L, a: L.softmax(a, dim=0), [normal(3, 4)]),
    case("log_softmax", lambda L, a: L.F.log_softmax(a, dim=1), [normal(2, 3, 4)]),
    case("log_softmax_method", lambda L, a: a.log_softmax(dim=-1), [normal(3, 4)]),
    case("reshape", lambda L, a: a.reshape(4, -1), [normal(2, 6)]),
    case("view", lambda L, a: a.view(3, 4), [normal(2, 6)]),
    case("flatten", lambda L, a: a.flatten(), [normal(2, 3, 4)]),
    case("flatten_from_1", lambda L, a: a.flatten(1), [normal(2, 3, 4)]),
    case("flatten_middle", lambda L, a: L.flatten(a, 1, 2), [normal(2, 3, 4, 2)]),
    case("squeeze_all", lambda L, a: a.squeeze(), [normal(2, 1, 3, 1)]),
    case("squeeze_dim", lambda L, a: L.squeeze(a, 1), [normal(2, 1, 3, 1)]),
    case("squeeze_not_one", lambda L, a: a.squeeze(0), [normal(2, 1, 3)]),
    case("unsqueeze", lambda L, a: a.unsqueeze(1), [normal(2, 3)]),
    case("unsqueeze_negative", lambda L, a: L.unsqueeze(a, -1), [normal(2, 3)]),
    case("transpose", lambda L, a: a.transpose(0, 2), [normal(2, 3, 4)]),
    case("transpose_function", lambda L, a: L.transpose(a, -1, 0), [normal(2, 3, 4)]),
    case("permute", lambda L, a: a.permute(2, 0, 1), [normal(2, 3, 4)]),
    case("T", lambda L, a: a.T, [normal(2, 3)]),
    case("getitem_int", lambda L, a: a[1], [normal(3, 4)]),
    case("getitem_negative_int_slice", lambda L, a: a[-1, 1:3], [normal(3, 4)]),
    case("getitem_step", lambda L, a: a[::2, 1::2], [normal(3, 4)]),
    case("getitem_none_ellipsis", lambda L, a: a[None, ..., 1], [normal(2, 3, 4)]),
    case("getitem_bool_mask", lambda L, a: a[L.const(MASK)], [normal(3, 4)]),
    case("getitem_repeated", lambda L, a: a[L.const(REPEATED)], [normal(3, 4)]),
    case("getitem_repeated_list", lambda L, a: a[[2, 2, 0]], [normal(3, 4)]),
    case("getitem_repeated_and_slice", lambda L, a: a[L.const(REPEATED), 1:], [normal(3, 4)]),
    case("getitem_slice_and_repeated", lambda L, a: a[:, [1, 1, 3]], [normal(3, 4)]),
    case("getitem_two_arrays", lambda L, a: a[[0, 0, 1], [2, 2, 0]], [normal(3, 4)]),
    case("cat", lambda L, a, b, c: L.cat([a, b, c], dim=1),
         [normal(2, 3), normal(2, 1), normal(2, 2)]),
    case("cat_negative", lambda L, a, b: L.cat((a, b), dim=-1), [normal(2, 2, 3), normal(2, 2, 1)]),
    case("stack", lambda L, a, b: L.stack([a, b]), [normal(2, 3), normal(2, 3)]),
    case("stack_dim1", lambda L, a, b: L.stack([a, b], dim=1), [normal(2, 3), normal(2, 3)]),
    case("stack_negative", lambda L, a, b: L.stack([a, b], dim=-1), [normal(2, 3), normal(2, 3)]),
    case("where", lambda L, a, b: L.where(L.const(MASK), a, b), [normal(3, 4), normal(4)]),
    case("where_scalar", lambda L, a: L.where(L.const(MASK), 0.0, a), [normal(3, 4)]),
    case("maximum", lambda L, a, b: L.maximum(a, b), [normal(3, 4), normal(4)]),
    case("minimum", lambda L, a, b: L.minimum(a, b), [normal(2, 1, 3), normal(4, 3)]),
    case("gather", lambda L, a: a.gather(1, L.const(GATHER_INDEX)), [normal(3, 4)]),
    case("gather_dim0", lambda L, a: L.gather(a, 0, L.const([[2, 0], [2, 2]])), [normal(3, 4)]),
    case("linear", lambda L, x, w, b: L.F.linear(x, w, b),
         [normal(5, 3), normal(4, 3), normal(4)], **LOOSE),
    case("linear_no_bias", lambda L, x, w: L.F.linear(x, w), [normal(5, 3), normal(4, 3)],
         **LOOSE),
    case("linear_3d", lambda L, x, w, b: L.F.linear(x, w, b),
         [normal(2, 5, 3), normal(4, 3), normal(4)], **LOOSE),
    case("linear_1d", lambda L, x, w, b: L.F.linear(x, w, b),
         [normal(3), normal(4, 3), normal(4)], **LOOSE),
    case("dropout_eval", lambda L, x: L.F.dropout(x, 0.5, training=False), [normal(3, 4)]),
]


def _loss_cases(reduction):
    r = {"reduction": reduction}

    def options(L, **arrays):
        return {"reduction": reduction, **{k: L.const(v) for k, v in arrays.items()}}

    return [
        case(f"mse_loss-{reduction}", lambda L, x, y: L.F.mse_loss(x, y, **r),
             [normal(4, 3), normal(4, 3)], **LOOSE),
        case(f"l1_loss-{reduction}", lambda L, x, y: L.F.l1_loss(x, y, **r),
             [normal(4, 3), normal(4, 3)], **LOOSE),
        case(f"bce-{reduction}", lambda L, p, y: L.F.binary_cross_entropy(p, y, **r),
             [probability(4, 3), probability(4, 3)], **LOOSE),
        case(f"bce_weight-{reduction}",
             lambda L, p: L.F.binary_cross_entropy(p, L.const(BINARY),
                                                   **options(L, weight=ELEMENT_WEIGHT)),
             [probability(4, 3)], **LOOSE),
        case(f"bce_with_logits-{reduction}",
             lambda L, x, y: L.F.binary_cross_entropy_with_logits(x, y, **r),
             [normal(4, 3), probability(4, 3)], **LOOSE),
        case(f"bce_with_logits_pos_weight-{reduction}",
             lambda L, x, y: L.F.binary_cross_entropy_with_logits(
                 x, y, **options(L, pos_weight=POS_WEIGHT)),
             [normal(4, 3), probability(4, 3)], **LOOSE),
        case(f"bce_with_logits_weights-{reduction}",
             lambda L, x: L.F.binary_cross_entropy_with_logits(
                 x, L.const(BINARY), **options(L, weight=ELEMENT_WEIGHT[0], pos_weight=POS_WEIGHT)),
             [normal(4, 3)], **LOOSE),
        case(f"cross_entropy-{reduction}",
             lambda L, x: L.F.cross_entropy(x, L.const(CLASSES), **r), [normal(6, 4)], **LOOSE),
        case(f"cross_entropy_weight-{reduction}",
             lambda L, x: L.F.cross_entropy(x, L.const(CLASSES), **options(L, weight=CLASS_WEIGHT)),
             [normal(6, 4)], **LOOSE),
        case(f"cross_entropy_ignore_index-{reduction}",
             lambda L, x: L.F.cross_entropy(x, L.const(CLASSES_IGNORED), **r),
             [normal(6, 4)], **LOOSE),
        case(f"cross_entropy_label_smoothing-{reduction}",
             lambda L, x: L.F.cross_entropy(x, L.const(CLASSES), label_smoothing=0.2, **r),
             [normal(6, 4)], **LOOSE),
        case(f"cross_entropy_every_option-{reduction}",
             lambda L, x: L.F.cross_entropy(x, L.const(CLASSES_7), ignore_index=7,
                                            label_smoothing=0.3,
                                            **options(L, weight=CLASS_WEIGHT)),
             [normal(6, 4)], **LOOSE),
        case(f"cross_entropy_NCd-{reduction}",
             lambda L, x: L.F.cross_entropy(x, L.const(CLASSES_2D), label_smoothing=0.1,
                                            **options(L, weight=CLASS_WEIGHT)),
             [normal(2, 4, 3)], **LOOSE),
        case(f"cross_entropy_unbatched-{reduction}",
             lambda L, x: L.F.cross_entropy(x, L.const(np.array(2)), **r), [normal(4)], **LOOSE),
        case(f"nll_loss-{reduction}",
             lambda L, x: L.F.nll_loss(x, L.const(CLASSES), **r), [normal(6, 4)], **LOOSE),
        case(f"nll_loss_weight_ignore-{reduction}",
             lambda L, x: L.F.nll_loss(x, L.const(CLASSES_IGNORED),
                                       **options(L, weight=CLASS_WEIGHT)),
             [normal(6, 4)], **LOOSE),
        case(f"nll_loss_NCd-{reduction}",
             lambda L, x: L.F.nll_loss(x, L.const(CLASSES_2D), **r), [normal(2, 4, 3)], **LOOSE),
    ]


CASES += [loss_case for reduction in REDUCTIONS for loss_case in _loss_cases(reduction)]


def _run_both(function, arrays, rng, rtol=RTOL, atol=ATOL):
    """Run ``function`` in both libraries on the same float32 data; compare the outputs, then
    backpropagate the same random upstream gradient and compare every input's gradient."""
    ours = [Tensor(array.copy(), requires_grad=True) for array in arrays]
    theirs = [torch.tensor(array, requires_grad=True) for array in arrays]
    out, expected = function(OURS, *ours), function(THEIRS, *theirs)
    if isinstance(expected, tuple):  # max(dim) / min(dim): (values, indices)
        np.testing.assert_array_equal(out.indices.data, expected.indices.numpy())
        assert out.indices.dtype == np.int64
        out, expected = out.values, expected.values
    assert out.dtype == np.float32 and expected.dtype == torch.float32
    assert out.shape == tuple(expected.shape)
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=rtol, atol=atol)

    upstream = rng.standard_normal(out.shape).astype(np.float32)
    out.backward(gradient=upstream)
    expected.backward(torch.from_numpy(upstream))
    for index, (mine, reference) in enumerate(zip(ours, theirs, strict=True)):
        assert mine.grad is not None, f"input {index} got no gradient"
        assert mine.grad.dtype == np.float32 and mine.grad.shape == mine.shape
        np.testing.assert_allclose(mine.grad, reference.grad.numpy(), rtol=rtol, atol=atol,
                                   err_msg=f"gradient of input {index}")


@pytest.mark.parametrize(("function", "inputs", "tolerance"), CASES)
def test_forward_and_gradients_equal_torch(function, inputs, tolerance, rng):
    arrays = [draw(rng).astype(np.float32) for draw in inputs]
    _run_both(function, arrays, rng, **tolerance)


# ----------------------------------------- ties and kinks: PyTorch's conventions
TIES = [
    # the full max/min and amax/amin share the gradient evenly between tied elements
    case("max_all_ties", lambda L, a: a.max(), [lambda rng: np.array([[1.0, 3.0], [3.0, 3.0]])]),
    case("min_all_ties", lambda L, a: a.min(), [lambda rng: np.array([[1.0, 3.0], [1.0, 2.0]])]),
    case("amax_ties", lambda L, a: a.amax(dim=1),
         [lambda rng: np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])]),
    case("amin_ties", lambda L, a: L.amin(a, dim=(0, 1)),
         [lambda rng: np.array([[0.0, 3.0, 0.0], [0.0, 2.0, 5.0]])]),
    # maximum/minimum give each operand half on a tie
    case("maximum_ties", lambda L, a, b: L.maximum(a, b),
         [lambda rng: np.array([1.0, 2.0, 3.0]), lambda rng: np.array([3.0, 2.0, 1.0])]),
    case("minimum_ties", lambda L, a, b: L.minimum(a, b),
         [lambda rng: np.array([1.0, 2.0, 3.0]), lambda rng: np.array([3.0, 2.0, 1.0])]),
    # kinks: relu'(0) = 0, leaky_relu'(0) = slope, |x|'(0) = 0, clamp passes at the bounds
    case("relu_at_zero", lambda L, a: L.F.relu(a), [lambda rng: np.array([-1.0, 0.0, 1.0])]),
    case("leaky_relu_at_zero", lambda L, a: L.F.leaky_relu(a, 0.1),
         [lambda rng: np.array([-1.0, 0.0, 1.0])]),
    case("abs_at_zero", lambda L, a: a.abs(), [lambda rng: np.array([-1.0, 0.0, 1.0])]),
    case("clamp_at_bounds", lambda L, a: a.clamp(-1.0, 1.0),
         [lambda rng: np.array([-2.0, -1.0, 0.0, 1.0, 2.0])]),
    case("where_same_tensor", lambda L, a: L.where(L.const([True, False, True]), a, a * 2),
         [lambda rng: np.array([1.0, 2.0, 3.0])]),
]


@pytest.mark.parametrize(("function", "inputs", "tolerance"), TIES)
def test_ties_and_kinks_follow_torch(function, inputs, tolerance, rng):
    _run_both(function, [draw(rng).astype(np.float32) for draw in inputs], rng)


# --------------------------------------------------------- numerical stability
LARGE = np.array([-1e4, -100.0, -20.0, -1.0, 0.0, 1.0, 20.0, 100.0, 1e4], dtype=np.float32)
LARGE_ROWS = np.array([[-1e4, 0.0, 1e4], [1e4, 1e4, -1e4], [-1e4, -1e4, -1e4], [5.0, -5.0, 0.0]],
                      dtype=np.float32)
BITS = (np.arange(9) % 2).astype(np.float32)

STABILITY = [
    case("sigmoid", lambda L, x: L.sigmoid(x), [lambda rng: LARGE]),
    case("log_softmax", lambda L, x: L.F.log_softmax(x, dim=1), [lambda rng: LARGE_ROWS]),
    case("softmax", lambda L, x: L.F.softmax(x, dim=1), [lambda rng: LARGE_ROWS]),
    case("cross_entropy", lambda L, x: L.F.cross_entropy(x, L.const([0, 2, 1, 1]),
                                                         reduction="none"),
         [lambda rng: LARGE_ROWS]),
    case("cross_entropy_every_option",
         lambda L, x: L.F.cross_entropy(x, L.const([0, 2, 1, 1]), weight=L.const([1.0, 2, 3]),
                                        label_smoothing=0.1),
         [lambda rng: LARGE_ROWS]),
    case("bce_with_logits", lambda L, x: L.F.binary_cross_entropy_with_logits(
        x, L.const(BITS), reduction="none"), [lambda rng: LARGE]),
    case("bce_with_logits_pos_weight", lambda L, x: L.F.binary_cross_entropy_with_logits(
        x, L.const(BITS), pos_weight=L.const(np.full(9, 3.0)), reduction="sum"),
        [lambda rng: LARGE]),
]


@pytest.mark.parametrize(("function", "inputs", "tolerance"), STABILITY)
def test_large_inputs_are_finite_without_warnings_and_equal_torch(function, inputs, tolerance,
                                                                  rng):
    x = inputs[0](rng)
    # overflow, division by zero and invalid operations are errors; e**-1e4 underflowing to 0
    # is the intended result (NumPy does not warn about it by default either)
    with warnings.catch_warnings(), np.errstate(over="raise", divide="raise", invalid="raise"):
        warnings.simplefilter("error")
        ours = Tensor(x.copy(), requires_grad=True)
        out = function(OURS, ours)
        out.backward(gradient=np.ones(out.shape, dtype=np.float32))
    assert np.isfinite(out.data).all() and np.isfinite(ours.grad).all()
    _run_both(function, [x], rng)


# -------------------------------------------------------------- dtypes of results
@pytest.mark.parametrize(
    "expression",
    [
        pytest.param(lambda L, x, i: 2 * x, id="2*x"),
        pytest.param(lambda L, x, i: x / 3, id="x/3"),
        pytest.param(lambda L, x, i: 2**x, id="2**x"),
        pytest.param(lambda L, x, i: x**2, id="x**2"),
        pytest.param(lambda L, x, i: 1 - x, id="1-x"),
        pytest.param(lambda L, x, i: x + np.float64(0.5), id="x+np.float64"),
        pytest.param(lambda L, x, i: i + i, id="int+int"),
        pytest.param(lambda L, x, i: i * 2, id="int*2"),
        pytest.param(lambda L, x, i: i.sum(), id="int.sum"),
        pytest.param(lambda L, x, i: x > 0, id="x>0"),
        pytest.param(lambda L, x, i: x.argmax(), id="argmax"),
        pytest.param(lambda L, x, i: x.max(dim=0).indices, id="max_indices"),
        pytest.param(lambda L, x, i: x * i, id="x*int_tensor"),
        pytest.param(lambda L, x, i: i * 2.5, id="int*2.5"),
        pytest.param(lambda L, x, i: i / i, id="int/int"),
        pytest.param(lambda L, x, i: 2.5 - i, id="2.5-int"),
        pytest.param(lambda L, x, i: L.where(x > 0, i, x), id="where(int, float)"),
        pytest.param(lambda L, x, i: L.maximum(i, x), id="maximum(int, float)"),
    ],
)
def test_result_dtype_equals_torch(expression):
    x32 = np.array([0.5, -1.0, 2.0], dtype=np.float32)
    ints = np.array([1, 2, 3])
    ours = expression(OURS, Tensor(x32), Tensor(ints))
    theirs = expression(THEIRS, torch.from_numpy(x32), torch.from_numpy(ints))
    assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch.")
