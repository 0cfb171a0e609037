"""The everyday tensor API (issue 8, item 5) in float64: each differentiable op's forward
against a NumPy reference and its backward against central differences (``gradcheck``),
including broadcasting, negative dims, keepdim, empty and 0-d tensors.

Cases are ``(function, reference, inputs)`` as in test_ops_gradcheck.py.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from input_samplers import check_backward, check_forward, normal, positive, uniform

import scratchnn as sn
import scratchnn.functional as F
from scratchnn.tensor import Tensor

SAME = None
MASK = np.array([[True, False, True, False], [False, False, True, True],
                 [True, True, False, False]])


def distinct(*shape):
    """Normal samples with no ties (sorting and selecting pick one element each)."""
    size = int(np.prod(shape))
    return lambda rng: rng.permutation(size).reshape(shape) * 0.1 + rng.uniform(0, 0.01, shape)


def with_zeros(*shape):
    """Normal samples with some exact zeros (prod and norm at 0)."""
    def draw(rng):
        values = rng.standard_normal(shape)
        values[rng.random(shape) < 0.3] = 0.0
        return values
    return draw


def case(name, function, inputs, reference=SAME):
    return pytest.param(function, function if reference is SAME else reference, inputs, id=name)


def np_var(a, axis=None, correction=1, keepdims=False):
    n = a.size if axis is None else np.prod([a.shape[i] for i in np.atleast_1d(axis)])
    centred = a - a.mean(axis=axis, keepdims=True)
    return (centred**2).sum(axis=axis, keepdims=keepdims) / (n - correction)


def np_sorted(a, axis=-1, descending=False):
    out = np.sort(a, axis=axis)
    return np.flip(out, axis) if descending else out


CASES = [
    # elementwise math
    case("sin", lambda a: a.sin(), [normal(3, 4)], np.sin),
    case("cos", lambda a: sn.cos(a), [normal(3, 4)], np.cos),
    case("tan", lambda a: a.tan(), [uniform(-1.2, 1.2, 3, 4)], np.tan),
    case("asin", lambda a: a.asin(), [uniform(-0.9, 0.9, 3, 4)], np.arcsin),
    case("acos", lambda a: sn.acos(a), [uniform(-0.9, 0.9, 3, 4)], np.arccos),
    case("atan", lambda a: a.atan(), [normal(3, 4)], np.arctan),
    case("atan2_broadcast", lambda a, b: sn.atan2(a, b), [normal(3, 4), normal(4)], np.arctan2),
    case("atan2_method", lambda a, b: a.atan2(b), [normal(2, 1), normal(1, 3)], np.arctan2),
    case("sinh", lambda a: a.sinh(), [normal(3, 4)], np.sinh),
    case("cosh", lambda a: sn.cosh(a), [normal(3, 4)], np.cosh),
    case("log1p", lambda a: a.log1p(), [uniform(-0.9, 3, 3, 4)], np.log1p),
    case("expm1", lambda a: sn.expm1(a), [normal(3, 4)], np.expm1),
    case("erf", lambda a: a.erf(), [normal(3, 4)], np.vectorize(math.erf)),
    case("reciprocal", lambda a: a.reciprocal(), [positive(3, 4)], lambda a: 1 / a),
    case("rsqrt", lambda a: sn.rsqrt(a), [positive(3, 4)], lambda a: a**-0.5),
    case("square", lambda a: a.square(), [normal(3, 4)], np.square),
    case("sin_0d", lambda a: a.sin(), [normal()], np.sin),
    case("sin_empty", lambda a: a.sin(), [normal(0, 3)], np.sin),
    case("nan_to_num_finite", lambda a: a.nan_to_num(), [normal(3, 4)], np.nan_to_num),
    case("masked_fill", lambda a: a.masked_fill(Tensor(MASK), -1.5), [normal(3, 4)],
         lambda a: np.where(MASK, -1.5, a)),
    case("masked_fill_broadcast_mask", lambda a: F.masked_fill(a, MASK[0], 2.0),
         [normal(3, 4)], lambda a: np.where(MASK[0], 2.0, a)),
    case("masked_fill_tensor_value", lambda a, v: a.masked_fill(Tensor(MASK), v),
         [normal(3, 4), normal()], lambda a, v: np.where(MASK, v, a)),
    case("clone", lambda a: a.clone() * 2, [normal(3, 4)], lambda a: a * 2),
    case("contiguous_of_transpose", lambda a: a.T.contiguous(), [normal(3, 4)], lambda a: a.T),
    case("where_method", lambda a, b: a.where(Tensor(MASK), b), [normal(3, 4), normal(4)],
         lambda a, b: np.where(MASK, a, b)),
    # reductions
    case("prod_all", lambda a: a.prod(), [normal(3, 4)], np.prod),
    case("prod_dim", lambda a: a.prod(1), [normal(2, 3, 4)], lambda a: a.prod(1)),
    case("prod_negative_keepdim", lambda a: sn.prod(a, dim=-1, keepdim=True), [normal(2, 3, 4)],
         lambda a: a.prod(-1, keepdims=True)),
    case("prod_with_zeros", lambda a: a.prod(0), [with_zeros(4, 5)], lambda a: a.prod(0)),
    case("prod_all_with_zeros", lambda a: a.prod(), [with_zeros(3, 3)], np.prod),
    case("prod_empty_dim", lambda a: a.prod(0), [normal(0, 3)], lambda a: a.prod(0)),
    case("prod_0d", lambda a: a.prod(0), [normal()], lambda a: a),
    case("cumsum", lambda a: a.cumsum(1), [normal(2, 3, 4)], lambda a: np.cumsum(a, 1)),
    case("cumsum_negative", lambda a: sn.cumsum(a, dim=-1), [normal(3, 4)],
         lambda a: np.cumsum(a, -1)),
    case("cumsum_0d", lambda a: a.cumsum(0), [normal()], lambda a: a),
    case("var_all", lambda a: a.var(), [normal(3, 4)], np_var),
    case("var_dim", lambda a: sn.var(a, 1), [normal(2, 3, 4)], lambda a: np_var(a, 1)),
    case("var_dims_keepdim_biased", lambda a: sn.var(a, (0, -1), keepdim=True, correction=0),
         [normal(2, 3, 4)], lambda a: np_var(a, (0, 2), 0, True)),
    case("var_unbiased_false", lambda a: sn.var(a, dim=0, unbiased=False), [normal(3, 4)],
         lambda a: np_var(a, 0, 0)),
    case("std_all", lambda a: a.std(), [normal(3, 4)], lambda a: np.sqrt(np_var(a))),
    case("std_dim_correction2", lambda a: sn.std(a, -2, correction=2, keepdim=True),
         [normal(2, 5, 3)], lambda a: np.sqrt(np_var(a, 1, 2, True))),
    case("norm_all", lambda a: a.norm(), [normal(3, 4)], np.linalg.norm),
    case("norm_dim", lambda a: a.norm(dim=1), [normal(3, 4)],
         lambda a: np.linalg.norm(a, axis=1)),
    case("norm_p1_keepdim", lambda a: sn.norm(a, 1, dim=-1, keepdim=True), [normal(3, 4)],
         lambda a: np.abs(a).sum(-1, keepdims=True)),
    case("norm_p3_dims", lambda a: a.norm(3, dim=(0, 2)), [normal(2, 3, 4)],
         lambda a: (np.abs(a) ** 3).sum((0, 2)) ** (1 / 3)),
    case("norm_inf", lambda a: a.norm(float("inf"), dim=0), [distinct(3, 4)],
         lambda a: np.abs(a).max(0)),
    case("norm_neg_inf", lambda a: a.norm(-float("inf")), [distinct(3, 4)],
         lambda a: np.abs(a).min()),
    case("norm_fro_with_zeros", lambda a: a.norm("fro", dim=1), [with_zeros(3, 4)],
         lambda a: np.linalg.norm(a, axis=1)),
    # sorting and selecting
    case("sort_values", lambda a: a.sort().values, [distinct(3, 4)], np_sorted),
    case("sort_dim0_descending", lambda a: sn.sort(a, dim=0, descending=True)[0],
         [distinct(3, 4)], lambda a: np_sorted(a, 0, True)),
    case("sort_0d", lambda a: a.sort(0).values, [normal()], lambda a: a),
    case("topk", lambda a: a.topk(2).values, [distinct(3, 4)],
         lambda a: np_sorted(a, -1, True)[:, :2]),
    case("topk_smallest_dim0", lambda a: sn.topk(a, 2, dim=0, largest=False)[0],
         [distinct(3, 4)], lambda a: np_sorted(a, 0)[:2]),
    case("kthvalue", lambda a: a.kthvalue(2).values, [distinct(3, 4)],
         lambda a: np_sorted(a, -1)[:, 1]),
    case("kthvalue_keepdim", lambda a: sn.kthvalue(a, 3, 0, keepdim=True).values,
         [distinct(3, 4)], lambda a: np_sorted(a, 0)[2:3]),
    case("max_dim_0d", lambda a: a.max(dim=0).values, [normal()], lambda a: a),
    case("sum_dim_0d", lambda a: a.sum(dim=-1), [normal()], lambda a: a),
    case("mean_dim_0d_keepdim", lambda a: a.mean(0, keepdim=True), [normal()], lambda a: a),
    # shapes
    case("view_as", lambda a: a.view_as(Tensor(np.zeros((3, 4)))), [normal(2, 6)],
         lambda a: a.reshape(3, 4)),
    case("expand", lambda a: a.expand(2, 3, 4), [normal(3, 1)],
         lambda a: np.broadcast_to(a, (2, 3, 4))),
    case("expand_minus_one", lambda a: a.expand(-1, 5), [normal(3, 1)],
         lambda a: np.broadcast_to(a, (3, 5))),
    case("expand_as", lambda a, b: a.expand_as(b) * b, [normal(4), normal(3, 4)],
         lambda a, b: a * b),
    case("repeat", lambda a: a.repeat(2, 3), [normal(2, 3)], lambda a: np.tile(a, (2, 3))),
    case("repeat_new_dims", lambda a: a.repeat(2, 1, 2), [normal(3)],
         lambda a: np.tile(a, (2, 1, 2))),
    case("t", lambda a: a.t(), [normal(3, 4)], lambda a: a.T),
    case("t_1d", lambda a: a.t(), [normal(3)], lambda a: a),
    case("narrow", lambda a: a.narrow(1, 1, 2), [normal(3, 4)], lambda a: a[:, 1:3]),
    case("narrow_negative", lambda a: sn.narrow(a, -1, -3, 2), [normal(3, 4)],
         lambda a: a[:, 1:3]),
    case("split_size", lambda a: sn.stack([p.sum() for p in a.split(2)]), [normal(5, 3)],
         lambda a: np.array([a[:2].sum(), a[2:4].sum(), a[4:].sum()])),
    case("split_sections_dim", lambda a: a.split([1, 3], dim=-1)[1], [normal(2, 4)],
         lambda a: a[:, 1:]),
    case("chunk", lambda a: a.chunk(3, 1)[2], [normal(2, 5)], lambda a: a[:, 4:]),
    case("chunk_cat", lambda a: sn.cat(a.chunk(2), dim=0), [normal(5, 2)], lambda a: a),
    case("flip", lambda a: a.flip(0), [normal(3, 4)], lambda a: a[::-1]),
    case("flip_dims", lambda a: sn.flip(a, (0, -1)), [normal(2, 3, 4)],
         lambda a: a[::-1, :, ::-1]),
    # indexing with an integer and an index array: PyTorch places the array's dim in place
    case("getitem_int_slice_list", lambda a: a[0, :, [1, 2]], [normal(2, 3, 4)],
         lambda a: a[0][:, [1, 2]]),
    case("getitem_slice_int_list", lambda a: a[:, 0, [1, 3, 1]], [normal(2, 3, 4)],
         lambda a: a[:, 0][:, [1, 3, 1]]),
    case("getitem_int_ellipsis_list", lambda a: a[1, ..., [0, 2]], [normal(2, 3, 4)],
         lambda a: a[1][:, [0, 2]]),
    case("getitem_none_int_slice_list", lambda a: a[None, 1, :, [3]], [normal(2, 3, 4)],
         lambda a: a[1][None][:, :, [3]]),
    # activations and products beyond the list (compositions and one op: softplus)
    case("softplus", F.softplus, [normal(3, 4)], lambda a: np.log1p(np.exp(a))),
    case("softplus_beta_threshold", lambda a: F.softplus(a * 10, beta=2.0, threshold=15.0),
         [normal(3, 4)],
         lambda a: np.where(20 * a > 15, 10 * a, np.log1p(np.exp(20 * a)) / 2)),
    case("silu", F.silu, [normal(3, 4)], lambda a: a / (1 + np.exp(-a))),
    case("elu", lambda a: F.elu(a, 0.7), [normal(3, 4)],
         lambda a: np.where(a > 0, a, 0.7 * np.expm1(a))),
    case("gelu", F.gelu, [normal(3, 4)],
         lambda a: 0.5 * a * (1 + np.vectorize(math.erf)(a / np.sqrt(2)))),
    case("gelu_tanh", lambda a: F.gelu(a, approximate="tanh"), [normal(3, 4)],
         lambda a: 0.5 * a * (1 + np.tanh(np.sqrt(2 / np.pi) * (a + 0.044715 * a**3)))),
    case("logsumexp", lambda a: sn.logsumexp(a, 1), [normal(2, 3, 4)],
         lambda a: np.log(np.exp(a).sum(1))),
    case("logsumexp_dims_keepdim", lambda a: F.logsumexp(a * 300, (0, -1), keepdim=True),
         [normal(2, 3, 4)],
         lambda a: (300 * a).max((0, 2), keepdims=True) + np.log(np.exp(
             300 * a - (300 * a).max((0, 2), keepdims=True)).sum((0, 2), keepdims=True))),
    case("logsumexp_0d", lambda a: sn.logsumexp(a, 0), [normal()], lambda a: a),
    case("mm", sn.mm, [normal(3, 4), normal(4, 2)], np.matmul),
    case("bmm", sn.bmm, [normal(2, 3, 4), normal(2, 4, 5)], np.matmul),
    case("outer", sn.outer, [normal(3), normal(4)], np.outer),
    # soft-label cross-entropy
    case("cross_entropy_probabilities",
         lambda x, y: F.cross_entropy(x, F.softmax(y, 1)), [normal(4, 3), normal(4, 3)],
         lambda x, y: -(np_softmax(y, 1) * np_log_softmax(x, 1)).sum(1).mean()),
]


def np_log_softmax(x, axis):
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def np_softmax(x, axis):
    return np.exp(np_log_softmax(x, axis))


def np_soft_cross_entropy(x, y, weight=None, reduction="mean", label_smoothing=0.0):
    """PyTorch's definition for probability targets; class dim 1 (or 0 for one sample)."""
    axis = 1 if x.ndim > 1 else 0
    n_classes = x.shape[axis]
    y = y * (1 - label_smoothing) + label_smoothing / n_classes
    w = np.ones(n_classes) if weight is None else weight
    w = w.reshape((n_classes,) + (1,) * (x.ndim - 2)) if x.ndim > 1 else w
    losses = -(w * y * np_log_softmax(x, axis)).sum(axis)
    if reduction == "none":
        return losses
    return losses.sum() if reduction == "sum" else losses.mean()


SOFT_WEIGHT = np.array([0.5, 2.0, 1.0])
for reduction in ["mean", "sum", "none"]:
    for smoothing in [0.0, 0.25]:
        options = {"reduction": reduction, "label_smoothing": smoothing}
        CASES += [
            case(f"soft_ce-{reduction}-{smoothing}",
                 lambda x, y, o=options: F.cross_entropy(x, y, **o),
                 [normal(4, 3), uniform(0, 1, 4, 3)],
                 lambda x, y, o=options: np_soft_cross_entropy(x, y, **o)),
            case(f"soft_ce_weight_NCd-{reduction}-{smoothing}",
                 lambda x, y, o=options: F.cross_entropy(x, y, weight=SOFT_WEIGHT, **o),
                 [normal(2, 3, 2, 2), uniform(0, 1, 2, 3, 2, 2)],
                 lambda x, y, o=options: np_soft_cross_entropy(x, y, SOFT_WEIGHT, **o)),
            case(f"soft_ce_unbatched-{reduction}-{smoothing}",
                 lambda x, y, o=options: F.cross_entropy(x, y, **o),
                 [normal(3), uniform(0, 1, 3)],
                 lambda x, y, o=options: np_soft_cross_entropy(x, y, **o)),
        ]


@pytest.mark.parametrize(("function", "reference", "inputs"), CASES)
def test_forward_matches_numpy(function, reference, inputs, rng):
    check_forward(function, reference, inputs, rng)


@pytest.mark.parametrize(("function", "reference", "inputs"), CASES)
def test_backward_matches_finite_differences(function, reference, inputs, rng):
    check_backward(function, inputs, rng)
