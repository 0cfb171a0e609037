"""Every op, in float64: the forward pass against a NumPy reference, the backward pass against
central finite differences (``scratchnn.gradcheck``).

Each case is ``(function, reference, inputs)``: ``function`` takes scratchnn tensors,
``reference`` the same data as NumPy arrays (``SAME`` when one lambda serves both, e.g.
``a + b`` or ``a[::2]``), and ``inputs`` says how to draw each input. Constants that are not
differentiated (class targets, masks, index arrays) are closed over by the lambdas.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from input_samplers import check_backward, check_forward, normal, positive, probability

import scratchnn as sn
import scratchnn.functional as F
from scratchnn import gradcheck
from scratchnn.tensor import Tensor

SAME = None  # the reference is the function itself, applied to NumPy arrays


# ------------------------------------------------------------- NumPy references
def np_sigmoid(x):
    return 1 / (1 + np.exp(-x))


def np_log_softmax(x, axis=-1):
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def np_softmax(x, axis=-1):
    return np.exp(np_log_softmax(x, axis))


def np_reduce(losses, reduction, normaliser=None):
    if reduction == "none":
        return losses
    if reduction == "sum":
        return losses.sum()
    return losses.sum() / (losses.size if normaliser is None else normaliser)


def np_nll(log_probs, target, weight=None, ignore_index=-100, reduction="mean",
           label_smoothing=0.0):
    """PyTorch's documented definition, one sample at a time. log_probs: (N, C, *d)."""
    n_classes = log_probs.shape[1]
    rows = np.moveaxis(log_probs, 1, -1).reshape(-1, n_classes)
    weight = np.ones(n_classes) if weight is None else weight
    losses, normaliser = [], 0.0
    for row, t in zip(rows, target.reshape(-1), strict=True):
        if t == ignore_index:
            losses.append(0.0)
            continue
        nll = -weight[t] * row[t]
        smooth = -(weight * row).sum() / n_classes
        losses.append((1 - label_smoothing) * nll + label_smoothing * smooth)
        normaliser += weight[t]
    return np_reduce(np.array(losses).reshape(target.shape), reduction, normaliser)


def np_cross_entropy(logits, target, **options):
    return np_nll(np_log_softmax(logits, axis=1), target, **options)


def np_bce(p, y, weight=None, reduction="mean"):
    loss = -(y * np.maximum(np.log(p), -100) + (1 - y) * np.maximum(np.log(1 - p), -100))
    return np_reduce(loss if weight is None else loss * weight, reduction)


def np_bce_with_logits(x, y, weight=None, reduction="mean", pos_weight=None):
    pos_weight = 1.0 if pos_weight is None else pos_weight
    loss = -(pos_weight * y * np.log(np_sigmoid(x)) + (1 - y) * np.log(1 - np_sigmoid(x)))
    return np_reduce(loss if weight is None else loss * weight, reduction)


# ------------------------------------------------------------------- constants
MASK = np.array([[True, False, True, True], [False, False, True, False],
                 [True, True, False, False]])
REPEATED = np.array([0, 2, 0, 0])  # row 0 three times: its gradient must add up
GATHER_INDEX = np.array([[0, 0, 2], [1, 3, 1]])  # smaller than the (3, 4) input, repeats
CLASSES = np.array([0, 3, 1, 1, 2])
CLASSES_IGNORED = np.array([0, -100, 1, 3, -100])
CLASSES_7 = np.array([7, 3, 1, 7, 2])
CLASSES_2D = np.array([[0, 2, 1], [3, 3, 0]])  # targets for (2, 4, 3) scores
CLASS_WEIGHT = np.array([0.5, 2.0, 1.0, 1.5])
BINARY = (np.arange(12).reshape(4, 3) % 3 == 0).astype(np.float64)
ELEMENT_WEIGHT = np.linspace(0.5, 2.0, 12).reshape(4, 3)
POS_WEIGHT = np.array([2.0, 0.5, 3.0])
REDUCTIONS = ["mean", "sum", "none"]


def case(name, function, inputs, reference=SAME):
    return pytest.param(function, function if reference is SAME else reference, inputs, id=name)


CASES = [
    # arithmetic, with broadcasting
    case("add", lambda a, b: a + b, [normal(3, 1), normal(1, 4)]),
    case("sub", lambda a, b: a - b, [normal(2, 3), normal(3)]),
    case("mul", lambda a, b: a * b, [normal(5), normal(2, 3, 5)]),
    case("div", lambda a, b: a / b, [normal(2, 3), positive(2, 1)]),
    case("pow_tensor", lambda a, b: a**b, [positive(2, 3), normal(3)]),
    case("pow_int", lambda a: a**3, [normal(2, 3)]),
    case("pow_fraction", lambda a: a**0.5, [positive(4)]),
    case("pow_negative", lambda a: a**-1.5, [positive(4)]),
    case("neg", lambda a: -a, [normal(2, 3)]),
    case("rsub", lambda a: 2 - a, [normal(2, 3)]),
    case("rtruediv", lambda a: 1 / a, [positive(2, 3)]),
    case("rpow", lambda a: 2**a, [normal(2, 3)]),
    case("radd_rmul", lambda a: 3 + 2 * a, [normal(2, 3)]),
    case("sub_div_scalar", lambda a: (a - 1) / 4, [normal(2, 3)]),
    case("tensor_used_twice", lambda a: a * a + sn.exp(a) * a, [normal(3)],
         lambda a: a * a + np.exp(a) * a),
    # matmul
    case("matmul_2d", lambda a, b: a @ b, [normal(3, 4), normal(4, 5)]),
    case("matmul_1d_2d", lambda a, b: a @ b, [normal(4), normal(4, 5)]),
    case("matmul_2d_1d", lambda a, b: a @ b, [normal(3, 4), normal(4)]),
    case("matmul_1d_1d", lambda a, b: a @ b, [normal(4), normal(4)]),
    case("matmul_batched", lambda a, b: a @ b, [normal(2, 3, 4), normal(2, 4, 5)]),
    case("matmul_batched_2d", lambda a, b: a @ b, [normal(2, 3, 4), normal(4, 5)]),
    case("matmul_broadcast_batch", lambda a, b: a @ b, [normal(2, 1, 3, 4), normal(5, 4, 2)]),
    case("matmul_1d_batched", lambda a, b: a @ b, [normal(4), normal(2, 4, 3)]),
    case("matmul_batched_1d", lambda a, b: a @ b, [normal(2, 3, 4), normal(4)]),
    case("matmul_function", lambda a, b: sn.matmul(a, b), [normal(3, 4), normal(4, 2)],
         np.matmul),
    # reductions
    case("sum_all", lambda a: a.sum(), [normal(2, 3, 4)]),
    case("sum_dim", lambda a: a.sum(dim=1), [normal(2, 3, 4)], lambda a: a.sum(axis=1)),
    case("sum_dims_keepdim", lambda a: a.sum(dim=(0, 2), keepdim=True), [normal(2, 3, 4)],
         lambda a: a.sum(axis=(0, 2), keepdims=True)),
    case("sum_axis_keepdims", lambda a: a.sum(axis=-1, keepdims=True), [normal(2, 3, 4)]),
    case("mean_all", lambda a: a.mean(), [normal(2, 3, 4)]),
    case("mean_dims", lambda a: a.mean(axis=(0, 2)), [normal(2, 3, 4)]),
    case("mean_keepdim", lambda a: a.mean(dim=-2, keepdim=True), [normal(2, 3, 4)],
         lambda a: a.mean(axis=-2, keepdims=True)),
    case("max_all", lambda a: a.max(), [normal(3, 4)]),
    case("min_all", lambda a: a.min(), [normal(3, 4)]),
    case("max_dim_values", lambda a: a.max(dim=1).values, [normal(2, 3, 4)],
         lambda a: a.max(axis=1)),
    case("max_dim_keepdim", lambda a: a.max(dim=-1, keepdim=True)[0], [normal(2, 3, 4)],
         lambda a: a.max(axis=-1, keepdims=True)),
    case("min_dim_values", lambda a: a.min(dim=0).values, [normal(3, 4)],
         lambda a: a.min(axis=0)),
    case("amax_dims", lambda a: a.amax(dim=(0, 2)), [normal(2, 3, 4)],
         lambda a: a.max(axis=(0, 2))),
    case("amin_keepdims", lambda a: a.amin(axis=1, keepdims=True), [normal(2, 3, 4)],
         lambda a: a.min(axis=1, keepdims=True)),
    case("amax_all", lambda a: sn.amax(a), [normal(3, 4)], np.max),
    # elementwise math
    case("exp", lambda a: a.exp(), [normal(3, 4)], np.exp),
    case("log", lambda a: a.log(), [positive(3, 4)], np.log),
    case("sqrt", lambda a: a.sqrt(), [positive(3, 4)], np.sqrt),
    case("abs", lambda a: a.abs(), [normal(3, 4)], np.abs),
    case("clip", lambda a: a.clip(-0.5, 0.5), [normal(3, 4)], lambda a: np.clip(a, -0.5, 0.5)),
    case("clamp_min", lambda a: a.clamp(min=0.2), [normal(3, 4)],
         lambda a: np.maximum(a, 0.2)),
    case("clamp_max", lambda a: sn.clamp(a, max=-0.1), [normal(3, 4)],
         lambda a: np.minimum(a, -0.1)),
    # activations
    case("relu", F.relu, [normal(3, 4)], lambda a: np.maximum(a, 0)),
    case("leaky_relu", F.leaky_relu, [normal(3, 4)], lambda a: np.where(a > 0, a, 0.01 * a)),
    case("leaky_relu_slope", lambda a: F.leaky_relu(a, 0.2), [normal(3, 4)],
         lambda a: np.where(a > 0, a, 0.2 * a)),
    case("sigmoid", F.sigmoid, [normal(3, 4)], np_sigmoid),
    case("tanh", lambda a: a.tanh(), [normal(3, 4)], np.tanh),
    case("softmax_last", F.softmax, [normal(3, 4)], np_softmax),
    case("softmax_dim0", lambda a: F.softmax(a, dim=0), [normal(3, 4)],
         lambda a: np_softmax(a, 0)),
    case("log_softmax", lambda a: F.log_softmax(a, 1), [normal(2, 3, 4)],
         lambda a: np_log_softmax(a, 1)),
    case("log_softmax_method", lambda a: a.log_softmax(dim=-1), [normal(3, 4)],
         np_log_softmax),
    # shapes
    case("reshape", lambda a: a.reshape(4, -1), [normal(2, 6)]),
    case("reshape_tuple", lambda a: a.reshape((3, 2, 2)), [normal(2, 6)]),
    case("view", lambda a: a.view(3, 4), [normal(2, 6)], lambda a: a.reshape(3, 4)),
    case("flatten", lambda a: a.flatten(), [normal(2, 3, 4)], np.ravel),
    case("flatten_from_1", lambda a: a.flatten(1), [normal(2, 3, 4)],
         lambda a: a.reshape(2, 12)),
    case("flatten_middle", lambda a: sn.flatten(a, 1, 2), [normal(2, 3, 4, 2)],
         lambda a: a.reshape(2, 12, 2)),
    case("squeeze_all", lambda a: a.squeeze(), [normal(2, 1, 3, 1)]),
    case("squeeze_dim", lambda a: a.squeeze(1), [normal(2, 1, 3, 1)]),
    case("squeeze_not_one", lambda a: a.squeeze(0), [normal(2, 1, 3)], lambda a: a),
    case("unsqueeze", lambda a: a.unsqueeze(1), [normal(2, 3)],
         lambda a: np.expand_dims(a, 1)),
    case("unsqueeze_negative", lambda a: a.unsqueeze(-1), [normal(2, 3)],
         lambda a: np.expand_dims(a, -1)),
    case("transpose", lambda a: a.transpose(0, 2), [normal(2, 3, 4)],
         lambda a: np.swapaxes(a, 0, 2)),
    case("permute", lambda a: a.permute(2, 0, 1), [normal(2, 3, 4)],
         lambda a: np.transpose(a, (2, 0, 1))),
    case("permute_negative", lambda a: a.permute((-1, 0, 1)), [normal(2, 3, 4)],
         lambda a: np.transpose(a, (2, 0, 1))),
    case("T", lambda a: a.T, [normal(2, 3)]),
    case("T_3d", lambda a: a.T, [normal(2, 3, 4)]),
    # indexing
    case("getitem_int", lambda a: a[1], [normal(3, 4)]),
    case("getitem_negative_int_slice", lambda a: a[-1, 1:3], [normal(3, 4)]),
    case("getitem_steps", lambda a: a[::2, ::-1], [normal(3, 4)]),
    case("getitem_none_ellipsis", lambda a: a[None, ..., 1], [normal(2, 3, 4)]),
    case("getitem_ellipsis_none", lambda a: a[..., None], [normal(3, 4)]),
    case("getitem_bool_mask", lambda a: a[MASK], [normal(3, 4)]),
    case("getitem_bool_mask_tensor", lambda a: a[Tensor(MASK)], [normal(3, 4)],
         lambda a: a[MASK]),
    case("getitem_bool_rows", lambda a: a[np.array([True, False, True])], [normal(3, 4)]),
    case("getitem_repeated", lambda a: a[REPEATED], [normal(3, 4)]),
    case("getitem_repeated_list", lambda a: a[[2, 2, 0]], [normal(3, 4)]),
    case("getitem_repeated_tensor", lambda a: a[Tensor(REPEATED)], [normal(3, 4)],
         lambda a: a[REPEATED]),
    case("getitem_repeated_and_slice", lambda a: a[REPEATED, 1:], [normal(3, 4)]),
    case("getitem_slice_and_repeated", lambda a: a[:, [1, 1, 3]], [normal(3, 4)]),
    case("getitem_two_arrays", lambda a: a[[0, 0, 1], [2, 2, 0]], [normal(3, 4)]),
    # joining, selecting
    case("cat_dim0", lambda a, b: sn.cat([a, b]), [normal(2, 3), normal(1, 3)],
         lambda a, b: np.concatenate([a, b])),
    case("cat_dim1_three", lambda a, b, c: sn.cat([a, b, c], dim=1),
         [normal(2, 3), normal(2, 1), normal(2, 2)], lambda a, b, c: np.concatenate([a, b, c], 1)),
    case("cat_negative", lambda a, b: sn.cat((a, b), dim=-1), [normal(2, 2, 3), normal(2, 2, 1)],
         lambda a, b: np.concatenate([a, b], -1)),
    case("stack_dim0", lambda a, b: sn.stack([a, b]), [normal(2, 3), normal(2, 3)],
         lambda a, b: np.stack([a, b])),
    case("stack_dim1", lambda a, b, c: sn.stack([a, b, c], dim=1),
         [normal(2, 3), normal(2, 3), normal(2, 3)], lambda a, b, c: np.stack([a, b, c], 1)),
    case("stack_negative", lambda a, b: sn.stack([a, b], dim=-1), [normal(2, 3), normal(2, 3)],
         lambda a, b: np.stack([a, b], -1)),
    case("where", lambda a, b: sn.where(MASK, a, b), [normal(3, 4), normal(4)],
         lambda a, b: np.where(MASK, a, b)),
    case("where_scalar", lambda a: sn.where(Tensor(MASK), 0.0, a), [normal(3, 4)],
         lambda a: np.where(MASK, 0.0, a)),
    case("maximum", sn.maximum, [normal(3, 4), normal(4)], np.maximum),
    case("minimum", sn.minimum, [normal(2, 1, 3), normal(4, 3)], np.minimum),
    case("maximum_scalar", lambda a: a.maximum(0.1), [normal(3, 4)],
         lambda a: np.maximum(a, 0.1)),
    case("gather_dim1", lambda a: a.gather(1, GATHER_INDEX), [normal(3, 4)],
         lambda a: a[np.arange(2)[:, None], GATHER_INDEX]),
    case("gather_dim0", lambda a: sn.gather(a, 0, np.array([[2, 0], [2, 2]])), [normal(3, 4)],
         lambda a: a[np.array([[2, 0], [2, 2]]), np.arange(2)]),
    # layers
    case("linear", F.linear, [normal(5, 3), normal(4, 3), normal(4)],
         lambda x, w, b: x @ w.T + b),
    case("linear_no_bias", F.linear, [normal(5, 3), normal(4, 3)], lambda x, w: x @ w.T),
    case("linear_1d", F.linear, [normal(3), normal(4, 3), normal(4)],
         lambda x, w, b: w @ x + b),
    case("linear_3d", F.linear, [normal(2, 5, 3), normal(4, 3), normal(4)],
         lambda x, w, b: x @ w.T + b),
]

def _loss_cases(reduction):
    """Every loss and option with one reduction; ``r`` holds the options both sides get."""
    r = {"reduction": reduction}
    w = {"reduction": reduction, "weight": CLASS_WEIGHT}
    bce_w = {"reduction": reduction, "weight": ELEMENT_WEIGHT}
    logit_w = {"reduction": reduction, "weight": ELEMENT_WEIGHT[0], "pos_weight": POS_WEIGHT}
    smooth = {"reduction": reduction, "label_smoothing": 0.2}
    every = {**w, "ignore_index": 7, "label_smoothing": 0.3}
    spatial = {**w, "label_smoothing": 0.1}
    return [
        case(f"mse_loss-{reduction}", lambda x, y: F.mse_loss(x, y, **r),
             [normal(4, 3), normal(4, 3)], lambda x, y: np_reduce((x - y) ** 2, reduction)),
        case(f"l1_loss-{reduction}", lambda x, y: F.l1_loss(x, y, **r),
             [normal(4, 3), normal(4, 3)], lambda x, y: np_reduce(np.abs(x - y), reduction)),
        case(f"bce-{reduction}", lambda p, y: F.binary_cross_entropy(p, y, **r),
             [probability(4, 3), probability(4, 3)], lambda p, y: np_bce(p, y, **r)),
        case(f"bce_weight-{reduction}", lambda p: F.binary_cross_entropy(p, BINARY, **bce_w),
             [probability(4, 3)], lambda p: np_bce(p, BINARY, **bce_w)),
        case(f"bce_with_logits-{reduction}",
             lambda x, y: F.binary_cross_entropy_with_logits(x, y, **r),
             [normal(4, 3), probability(4, 3)], lambda x, y: np_bce_with_logits(x, y, **r)),
        case(f"bce_with_logits_weights-{reduction}",
             lambda x, y: F.binary_cross_entropy_with_logits(x, y, **logit_w),
             [normal(4, 3), probability(4, 3)], lambda x, y: np_bce_with_logits(x, y, **logit_w)),
        case(f"cross_entropy-{reduction}", lambda x: F.cross_entropy(x, CLASSES, **r),
             [normal(5, 4)], lambda x: np_cross_entropy(x, CLASSES, **r)),
        case(f"cross_entropy_weight-{reduction}", lambda x: F.cross_entropy(x, CLASSES, **w),
             [normal(5, 4)], lambda x: np_cross_entropy(x, CLASSES, **w)),
        case(f"cross_entropy_ignore-{reduction}",
             lambda x: F.cross_entropy(x, CLASSES_IGNORED, **w),
             [normal(5, 4)], lambda x: np_cross_entropy(x, CLASSES_IGNORED, **w)),
        case(f"cross_entropy_smoothing-{reduction}",
             lambda x: F.cross_entropy(x, CLASSES, **smooth),
             [normal(5, 4)], lambda x: np_cross_entropy(x, CLASSES, **smooth)),
        case(f"cross_entropy_every_option-{reduction}",
             lambda x: F.cross_entropy(x, CLASSES_7, **every),
             [normal(5, 4)], lambda x: np_cross_entropy(x, CLASSES_7, **every)),
        case(f"cross_entropy_NCd-{reduction}",
             lambda x: F.cross_entropy(x, CLASSES_2D, **spatial),
             [normal(2, 4, 3)], lambda x: np_cross_entropy(x, CLASSES_2D, **spatial)),
        case(f"cross_entropy_unbatched-{reduction}",
             lambda x: F.cross_entropy(x, np.array(2), **r), [normal(4)],
             lambda x: np_cross_entropy(x[None], np.array([2]), **r).reshape(())),
        case(f"nll_loss-{reduction}", lambda x: F.nll_loss(x, CLASSES, **r),
             [normal(5, 4)], lambda x: np_nll(x, CLASSES, **r)),
        case(f"nll_loss_weight_ignore-{reduction}",
             lambda x: F.nll_loss(x, CLASSES_IGNORED, **w),
             [normal(5, 4)], lambda x: np_nll(x, CLASSES_IGNORED, **w)),
        case(f"nll_loss_NCd-{reduction}", lambda x: F.nll_loss(x, CLASSES_2D, **r),
             [normal(2, 4, 3)], lambda x: np_nll(x, CLASSES_2D, **r)),
    ]


CASES += [loss_case for reduction in REDUCTIONS for loss_case in _loss_cases(reduction)]


@pytest.mark.parametrize(("function", "reference", "inputs"), CASES)
def test_forward_matches_numpy(function, reference, inputs, rng):
    check_forward(function, reference, inputs, rng)


@pytest.mark.parametrize(("function", "reference", "inputs"), CASES)
def test_backward_matches_finite_differences(function, reference, inputs, rng):
    check_backward(function, inputs, rng)


# --------------------------------------------- gradients at ties, kinks and repeats
def test_repeated_integer_indices_scatter_add():
    x = Tensor(np.zeros(4), requires_grad=True)
    x[np.array([0, 0, 0, 2])].sum().backward()
    np.testing.assert_array_equal(x.grad, [3, 0, 1, 0])


def test_repeated_index_pairs_scatter_add():
    x = Tensor(np.zeros((2, 3)), requires_grad=True)
    x[[1, 1, 0], [2, 2, 2]].backward(gradient=np.array([1.0, 10.0, 100.0]))
    np.testing.assert_array_equal(x.grad, [[0, 0, 100], [0, 0, 11]])


def test_gather_with_repeated_indices_scatter_adds():
    x = Tensor(np.zeros((2, 3)), requires_grad=True)
    x.gather(1, np.array([[2, 2, 2, 0], [1, 1, 0, 1]])).sum().backward()
    np.testing.assert_array_equal(x.grad, [[1, 0, 3], [1, 3, 0]])


def test_max_dim_returns_values_and_first_index_and_routes_gradient_there():
    x = Tensor([[1.0, 5.0, 5.0], [7.0, 2.0, 7.0]], requires_grad=True)
    values, indices = x.max(dim=1)
    np.testing.assert_array_equal(values.data, [5.0, 7.0])
    np.testing.assert_array_equal(indices.data, [1, 0])
    assert not indices.requires_grad and indices.dtype.kind == "i"
    values.sum().backward()
    np.testing.assert_array_equal(x.grad, [[0, 1, 0], [1, 0, 0]])


def test_min_dim_keepdim_and_named_fields():
    x = Tensor([[3.0, -1.0], [0.0, 4.0], [2.0, 2.5]])
    result = sn.min(x, dim=1, keepdim=True)
    assert result.values.shape == (3, 1) and result.indices.shape == (3, 1)
    np.testing.assert_array_equal(result.indices.data, [[1], [0], [0]])
    np.testing.assert_array_equal(result.values.data, [[-1.0], [0.0], [2.0]])


@pytest.mark.parametrize("reduce", [lambda x: x.amax(), lambda x: x.max(), lambda x: sn.amax(x, 1)])
def test_max_over_all_or_amax_shares_gradient_among_ties(reduce):
    x = Tensor([[1.0, 3.0, 3.0, 3.0]], requires_grad=True)
    reduce(x).sum().backward()
    np.testing.assert_allclose(x.grad, [[0, 1 / 3, 1 / 3, 1 / 3]])


def test_amin_over_several_dims_shares_gradient_among_ties():
    x = Tensor([[[0.0, 2.0]], [[0.0, 1.0]]], requires_grad=True)  # (2, 1, 2)
    sn.amin(x, dim=(0, 2)).backward(gradient=np.array([4.0]))
    np.testing.assert_allclose(x.grad, [[[2, 0]], [[2, 0]]])


@pytest.mark.parametrize(("op", "a_grad"), [(sn.maximum, [1, 0.5, 0]), (sn.minimum, [0, 0.5, 1])])
def test_maximum_minimum_split_gradient_on_ties(op, a_grad):
    a = Tensor([3.0, 2.0, 1.0], requires_grad=True)
    b = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    op(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad, a_grad)
    np.testing.assert_array_equal(b.grad, 1 - np.array(a_grad))


@pytest.mark.parametrize(
    ("function", "expected"),
    [
        (F.relu, [0, 0, 1]),
        (F.leaky_relu, [0.01, 0.01, 1]),
        (lambda x: x.abs(), [-1, 0, 1]),
        (lambda x: x.clamp(-1.0, 0.0), [1, 1, 0]),  # both bounds inclusive, as PyTorch
    ],
    ids=["relu", "leaky_relu", "abs", "clamp"],
)
def test_gradient_at_kinks_follows_pytorch(function, expected):
    x = Tensor([-1.0, 0.0, 2.0], requires_grad=True)
    function(x).sum().backward()
    np.testing.assert_allclose(x.grad, expected)


# ----------------------------------------------------------------------- dropout
def test_dropout_zeroes_with_probability_p_and_scales_the_rest(seeded):
    seeded(0)
    p = 0.3
    x = Tensor(np.full(20_000, 2.0), requires_grad=True)
    y = F.dropout(x, p)
    kept = y.data != 0
    assert abs(kept.mean() - (1 - p)) < 0.02
    np.testing.assert_allclose(y.data[kept], 2.0 / (1 - p), rtol=1e-6)
    y.sum().backward()
    np.testing.assert_allclose(x.grad, kept / (1 - p), rtol=1e-6)


def test_dropout_gradcheck_with_a_fixed_mask(seeded):
    def dropout_with_fixed_mask(x):
        seeded(7)  # the same mask at every evaluation
        return F.dropout(x, 0.4)

    x = Tensor(np.random.default_rng(0).standard_normal((4, 5)), dtype=np.float64,
               requires_grad=True)
    assert gradcheck(dropout_with_fixed_mask, [x])


@pytest.mark.parametrize(("p", "training"), [(0.5, False), (0.0, True)])
def test_dropout_is_the_identity_in_eval_mode_or_at_p_zero(p, training):
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = F.dropout(x, p, training=training)
    np.testing.assert_array_equal(y.data, x.data)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [1, 1, 1])


def test_dropout_with_p_one_zeroes_everything():
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = F.dropout(x, 1.0)
    np.testing.assert_array_equal(y.data, [0, 0, 0])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [0, 0, 0])


# ---------------------------------------------------------- numerical stability
LARGE = np.array([-1e4, -50.0, -1.0, 0.0, 1.0, 50.0, 1e4])


def _stable_cases():
    """(name, function of x, the exact value) at |x| up to 1e4."""
    targets = (np.arange(7) % 2).astype(np.float64)
    pos_weight = np.full(7, 3.0)
    big = np.array([[-1e4, 0.0, 1e4], [1e4, 1e4, -1e4], [0.0, 0.0, 0.0]])
    classes = np.array([0, 1, 2])
    log_softmax_big = np.array([[-2e4, -1e4, 0.0], [-np.log(2), -np.log(2), -2e4 - np.log(2)],
                                [-np.log(3)] * 3])
    return [
        ("sigmoid", LARGE, F.sigmoid, 0.5 * (1 + np.tanh(LARGE / 2))),
        ("log_softmax", big, lambda x: F.log_softmax(x, dim=1), log_softmax_big),
        ("softmax", big, F.softmax, np.exp(log_softmax_big)),
        ("cross_entropy", big, lambda x: F.cross_entropy(x, classes, reduction="none"),
         -log_softmax_big[[0, 1, 2], classes]),
        ("bce_with_logits", LARGE,
         lambda x: F.binary_cross_entropy_with_logits(x, targets, reduction="none"),
         np.array([0.0, 50.0, np.log1p(np.exp(-1)), np.log(2), np.log1p(np.e), 0.0, 1e4])),
        ("bce_with_logits_pos_weight", LARGE,
         lambda x: F.binary_cross_entropy_with_logits(x, targets, pos_weight=pos_weight,
                                                      reduction="none"),
         np.array([0.0, 150.0, np.log1p(np.exp(-1)), 3 * np.log(2), np.log1p(np.e), 0.0, 1e4])),
    ]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("x", "function", "expected"),
                         [pytest.param(*c[1:], id=c[0]) for c in _stable_cases()])
def test_large_inputs_give_exact_finite_values_and_gradients_without_warnings(
        x, function, expected, dtype):
    x = Tensor(x, dtype=dtype, requires_grad=True)
    # e**-1e4 underflowing to exactly 0 is the intended result; anything else is an error
    with warnings.catch_warnings(), np.errstate(over="raise", divide="raise", invalid="raise"):
        warnings.simplefilter("error")
        out = function(x)
        out.backward(gradient=np.ones(out.shape))
    assert np.isfinite(out.data).all() and np.isfinite(x.grad).all()
    np.testing.assert_allclose(out.data, expected, rtol=1e-6, atol=1e-6)
