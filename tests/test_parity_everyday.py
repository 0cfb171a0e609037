"""The everyday tensor API (issue 8, items 5 and 6) against PyTorch 2.13: outputs and input
gradients for the same float32 inputs and upstream gradient (see test_parity_ops.py for the
``L`` convention), then the non-differentiable functions, creation, dtypes and the semantics
PyTorch programs rely on (soft labels, pow at 0, 0-d reductions, index placement)."""

from __future__ import annotations

import numpy as np
import pytest
from input_samplers import normal, positive, uniform
from test_parity_ops import LOOSE, OURS, THEIRS, _run_both, case

import scratchnn as sn
import scratchnn.functional as F
from scratchnn.tensor import Tensor

torch = pytest.importorskip("torch")

MASK = np.array([[True, False, True, False], [False, False, True, True],
                 [True, True, False, False]])


def distinct(*shape):
    size = int(np.prod(shape))
    return lambda rng: rng.permutation(size).reshape(shape) * 0.25 - size / 8


def with_zeros(*shape):
    def draw(rng):
        values = rng.standard_normal(shape)
        values[rng.random(shape) < 0.3] = 0.0
        return values
    return draw


def fixed(values):
    return lambda rng: np.array(values, dtype=np.float64)


INF = float("inf")

CASES = [
    case("sin", lambda L, a: L.sin(a), [normal(3, 4)]),
    case("cos", lambda L, a: a.cos(), [normal(3, 4)]),
    case("tan", lambda L, a: L.tan(a), [uniform(-1.2, 1.2, 3, 4)]),
    case("asin", lambda L, a: a.asin(), [uniform(-0.9, 0.9, 3, 4)]),
    case("acos", lambda L, a: L.acos(a), [uniform(-0.9, 0.9, 3, 4)]),
    case("atan", lambda L, a: a.atan(), [normal(3, 4)]),
    case("atan2", lambda L, a, b: L.atan2(a, b), [normal(3, 4), normal(4)]),
    case("atan2_method", lambda L, a, b: a.atan2(b), [normal(2, 1), normal(1, 3)]),
    case("sinh", lambda L, a: a.sinh(), [normal(3, 4)]),
    case("cosh", lambda L, a: L.cosh(a), [normal(3, 4)]),
    case("log1p", lambda L, a: a.log1p(), [uniform(-0.9, 3, 3, 4)]),
    case("expm1", lambda L, a: L.expm1(a), [normal(3, 4)]),
    case("erf", lambda L, a: a.erf(), [normal(3, 4)]),
    case("reciprocal", lambda L, a: a.reciprocal(), [positive(3, 4)]),
    case("rsqrt", lambda L, a: L.rsqrt(a), [positive(3, 4)]),
    case("square", lambda L, a: a.square(), [normal(3, 4)]),
    case("floor", lambda L, a: a.floor() * a, [normal(3, 4)]),
    case("ceil", lambda L, a: L.ceil(a) + a, [normal(3, 4)]),
    case("round", lambda L, a: (a * 3).round(), [normal(3, 4)]),
    case("round_half_to_even", lambda L, a: L.round(a),
         [fixed([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5])]),
    case("round_decimals", lambda L, a: a.round(decimals=2), [normal(3, 4)]),
    case("trunc", lambda L, a: L.trunc(a * 3), [normal(3, 4)]),
    case("sign", lambda L, a: a.sign(), [fixed([-2.0, 0.0, 3.0])]),
    case("nan_to_num", lambda L, a: a.nan_to_num(), [fixed([1.0, np.nan, INF, -INF])]),
    case("nan_to_num_values", lambda L, a: L.nan_to_num(a, nan=2.0, posinf=9.0, neginf=-9.0),
         [fixed([1.0, np.nan, INF, -INF])]),
    case("masked_fill", lambda L, a: a.masked_fill(L.const(MASK), -1.5), [normal(3, 4)]),
    case("masked_fill_row_mask", lambda L, a: a.masked_fill(L.const(MASK[0]), 0.5),
         [normal(3, 4)]),
    case("masked_fill_tensor_value", lambda L, a, v: a.masked_fill(L.const(MASK), v),
         [normal(3, 4), normal()]),
    case("clone", lambda L, a: a.clone() * 2, [normal(3, 4)]),
    case("contiguous", lambda L, a: a.t().contiguous(), [normal(3, 4)]),
    case("where_method", lambda L, a, b: a.where(L.const(MASK), b), [normal(3, 4), normal(4)]),
    # reductions
    case("prod_all", lambda L, a: a.prod(), [normal(3, 4)]),
    case("prod_dim", lambda L, a: L.prod(a, 1), [normal(2, 3, 4)]),
    case("prod_keepdim_negative", lambda L, a: a.prod(-1, keepdim=True), [normal(2, 3, 4)]),
    case("prod_with_zeros", lambda L, a: a.prod(0), [with_zeros(5, 4)]),
    case("prod_all_one_zero", lambda L, a: a.prod(), [fixed([[2.0, 0.0], [3.0, 4.0]])]),
    case("prod_all_two_zeros", lambda L, a: a.prod(), [fixed([[2.0, 0.0], [0.0, 4.0]])]),
    case("prod_empty", lambda L, a: a.prod(0), [normal(0, 3)]),
    case("cumsum", lambda L, a: a.cumsum(1), [normal(2, 3, 4)]),
    case("cumsum_negative", lambda L, a: L.cumsum(a, dim=-1), [normal(3, 4)]),
    case("cumsum_empty", lambda L, a: a.cumsum(0), [normal(0, 3)]),
    case("var", lambda L, a: a.var(), [normal(3, 4)]),
    case("var_dim", lambda L, a: L.var(a, 1), [normal(2, 3, 4)]),
    case("var_dims_keepdim", lambda L, a: L.var(a, (0, -1), keepdim=True), [normal(2, 3, 4)]),
    case("var_correction0", lambda L, a: L.var(a, dim=0, correction=0), [normal(3, 4)]),
    case("var_unbiased_false", lambda L, a: L.var(a, 1, unbiased=False), [normal(3, 4)]),
    case("var_correction2", lambda L, a: L.var(a, -1, correction=2), [normal(3, 5)]),
    case("std", lambda L, a: a.std(), [normal(3, 4)]),
    case("std_dim_keepdim", lambda L, a: L.std(a, -2, keepdim=True), [normal(2, 5, 3)]),
    case("std_unbiased_positional", lambda L, a: L.std(a, 0, False), [normal(4, 3)]),
    case("norm", lambda L, a: a.norm(), [normal(3, 4)]),
    case("norm_dim", lambda L, a: a.norm(dim=1), [normal(3, 4)]),
    case("norm_fro_dims", lambda L, a: L.norm(a, "fro", dim=(0, 1)), [normal(3, 4)]),
    case("norm_p1", lambda L, a: a.norm(1, dim=-1, keepdim=True), [normal(3, 4)]),
    case("norm_p3", lambda L, a: a.norm(3, dim=(0, 2)), [normal(2, 3, 4)]),
    case("norm_p_half_zeros", lambda L, a: a.norm(0.5), [fixed([1.0, 0.0, 3.0])]),
    case("norm_inf", lambda L, a: a.norm(INF, dim=0), [distinct(3, 4)]),
    case("norm_inf_ties", lambda L, a: a.norm(INF), [fixed([1.0, -3.0, 3.0])]),
    case("norm_neg_inf", lambda L, a: a.norm(-INF), [distinct(3, 4)]),
    case("norm_p0", lambda L, a: a.norm(0, dim=1) + a.sum(1), [with_zeros(3, 4)]),
    case("norm_at_zero", lambda L, a: a.norm(), [fixed([0.0, 0.0, 0.0])]),
    case("norm_empty", lambda L, a: a.norm(), [normal(0, 3)]),
    # sorting and selecting: (values, indices)
    case("sort", lambda L, a: a.sort(), [distinct(3, 4)]),
    case("sort_dim0_descending", lambda L, a: L.sort(a, dim=0, descending=True), [distinct(3, 4)]),
    case("sort_stable_ties", lambda L, a: L.sort(a, stable=True),
         [fixed([[1.0, 0.0, 1.0, 0.0, 1.0]])]),
    case("sort_stable_ties_descending", lambda L, a: a.sort(descending=True, stable=True),
         [fixed([[1.0, 0.0, 1.0, 0.0, 1.0]])]),
    case("topk", lambda L, a: a.topk(2), [distinct(3, 4)]),
    case("topk_smallest_dim0", lambda L, a: L.topk(a, 2, dim=0, largest=False), [distinct(3, 4)]),
    case("kthvalue", lambda L, a: a.kthvalue(2), [distinct(3, 4)]),
    case("kthvalue_dim0_keepdim", lambda L, a: L.kthvalue(a, 3, 0, keepdim=True),
         [distinct(3, 4)]),
    case("max_dim_negative", lambda L, a: a.max(dim=-1), [distinct(2, 3, 4)]),
    case("min_dim_keepdim", lambda L, a: a.min(1, keepdim=True), [distinct(2, 3, 4)]),
    case("max_of_two_tensors", lambda L, a, b: L.max(a, b), [normal(3, 4), normal(4)]),
    case("min_method_of_two_tensors", lambda L, a, b: a.min(b), [normal(3, 1), normal(4)]),
    # reductions of a 0-d tensor over dim 0 / -1
    case("sum_0d_dim0", lambda L, a: a.sum(0), [normal()]),
    case("sum_0d_keepdim", lambda L, a: a.sum(-1, keepdim=True), [normal()]),
    case("mean_0d", lambda L, a: a.mean(0), [normal()]),
    case("amax_0d", lambda L, a: a.amax(-1), [normal()]),
    case("prod_0d", lambda L, a: a.prod(0), [normal()]),
    case("max_0d_dim", lambda L, a: a.max(0), [normal()]),
    case("norm_0d_dim", lambda L, a: a.norm(dim=0), [positive()]),
    case("cumsum_0d", lambda L, a: a.cumsum(0), [normal()]),
    case("sort_0d", lambda L, a: a.sort(0), [normal()]),
    case("softmax_0d", lambda L, a: L.softmax(a, 0) * a, [normal()]),
    # empty tensors
    case("sin_empty", lambda L, a: a.sin(), [normal(0, 3)]),
    case("atan2_empty_broadcast", lambda L, a, b: L.atan2(a, b), [normal(0, 3), normal(3)]),
    case("sort_empty_dim", lambda L, a: a.sort(dim=1), [normal(2, 0)]),
    case("topk_k0", lambda L, a: a.topk(0), [normal(2, 3)]),
    case("var_empty", lambda L, a: a.var(0), [normal(0, 3)]),
    case("std_over_one", lambda L, a: a.std(0), [normal(1, 3)]),
    case("repeat_empty", lambda L, a: a.repeat(0, 2), [normal(2, 3)]),
    case("flip_empty", lambda L, a: a.flip(0), [normal(0, 3)]),
    case("expand_empty", lambda L, a: a.expand(0, 3), [normal(1, 3)]),
    case("masked_fill_empty", lambda L, a: a.masked_fill(L.const(np.zeros((0, 3), bool)), 1.0),
         [normal(0, 3)]),
    # activations and products beyond the list
    case("softplus", lambda L, a: L.F.softplus(a), [normal(3, 4)]),
    case("softplus_beta_threshold", lambda L, a: L.F.softplus(a * 10, beta=2.0, threshold=15.0),
         [normal(3, 4)]),
    case("silu", lambda L, a: L.F.silu(a), [normal(3, 4)]),
    case("elu", lambda L, a: L.F.elu(a, 0.7), [normal(3, 4)]),
    case("elu_at_zero", lambda L, a: L.F.elu(a), [fixed([-1.0, 0.0, 1.0])]),
    case("gelu", lambda L, a: L.F.gelu(a), [normal(3, 4)]),
    case("gelu_tanh", lambda L, a: L.F.gelu(a, approximate="tanh"), [normal(3, 4)]),
    case("logsumexp", lambda L, a: L.logsumexp(a, 1), [normal(2, 3, 4)]),
    case("logsumexp_large_keepdim", lambda L, a: L.logsumexp(a * 1e3, -1, keepdim=True),
         [normal(3, 4)], **LOOSE),
    case("logsumexp_empty", lambda L, a: L.logsumexp(a, 0), [normal(0, 3)]),
    case("mm", lambda L, a, b: L.mm(a, b), [normal(3, 4), normal(4, 2)], **LOOSE),
    case("bmm", lambda L, a, b: L.bmm(a, b), [normal(2, 3, 4), normal(2, 4, 5)], **LOOSE),
    case("outer", lambda L, a, b: L.outer(a, b), [normal(3), normal(4)]),
    # shapes
    case("view_as", lambda L, a: a.view_as(L.const(np.zeros((3, 4)))), [normal(2, 6)]),
    case("expand", lambda L, a: a.expand(2, 3, 4), [normal(3, 1)]),
    case("expand_minus_one", lambda L, a: a.expand(-1, 5), [normal(3, 1)]),
    case("expand_as", lambda L, a, b: a.expand_as(b) * b, [normal(4), normal(3, 4)]),
    case("repeat", lambda L, a: a.repeat(2, 3), [normal(2, 3)]),
    case("repeat_new_dims", lambda L, a: a.repeat(2, 1, 2), [normal(3)]),
    case("t", lambda L, a: a.t(), [normal(3, 4)]),
    case("t_function_1d", lambda L, a: L.t(a), [normal(3)]),
    case("narrow", lambda L, a: a.narrow(1, 1, 2), [normal(3, 4)]),
    case("narrow_negative", lambda L, a: L.narrow(a, -1, -3, 2), [normal(3, 4)]),
    case("split", lambda L, a: L.stack([p.sum(0) for p in a.split(2)]), [normal(5, 3)]),
    case("split_sections", lambda L, a: a.split([1, 3], dim=-1)[1], [normal(2, 4)]),
    case("chunk", lambda L, a: L.cat(a.chunk(3, 1)[1:], 1), [normal(2, 5)]),
    case("flip", lambda L, a: a.flip(0), [normal(3, 4)]),
    case("flip_dims", lambda L, a: L.flip(a, (0, -1)), [normal(2, 3, 4)]),
    # integer + index array: the array's dim stays in place (PyTorch), not in front (NumPy)
    case("getitem_int_slice_list", lambda L, a: a[0, :, [1, 2]], [normal(2, 3, 4)]),
    case("getitem_slice_int_list", lambda L, a: a[:, 0, [1, 3, 1]], [normal(2, 3, 4)]),
    case("getitem_list_slice_int", lambda L, a: a[[0, 1], :, 0], [normal(2, 3, 4)]),
    case("getitem_int_list_list", lambda L, a: a[0, [0, 1], [1, 2]], [normal(2, 3, 4)]),
    case("getitem_int_ellipsis_list", lambda L, a: a[1, ..., [0, 2]], [normal(2, 3, 4)]),
    case("getitem_none_int_slice_list", lambda L, a: a[None, 1, :, [3]], [normal(2, 3, 4)]),
    case("getitem_int_none_slice_list", lambda L, a: a[0, None, :, [1, 2]], [normal(2, 3, 4)]),
    case("getitem_int_slice_mask", lambda L, a: a[1, :, L.const(MASK[0])], [normal(2, 3, 4)]),
    # pow at 0: PyTorch's gradients for 0**0, 0**p (base and exponent)
    case("pow_zero_base_tensor_exponent", lambda L, a, b: a**b,
         [fixed([0.0, 0.0, 0.0, 0.0, 2.0, -1.0]), fixed([0.0, 1.0, 2.0, 0.5, 0.0, 2.0])]),
    case("pow_zero_exponent", lambda L, a: a**0, [fixed([0.0, 1.0, -2.0])]),
    case("pow_zero_base_square", lambda L, a: a**2, [fixed([0.0, 1.0, -2.0])]),
    case("pow_zero_base_sqrt", lambda L, a: a**0.5, [fixed([0.0, 1.0, 4.0])]),
    case("pow_zero_base_negative_exponent", lambda L, a: a**-1.0, [fixed([0.0, 1.0, 4.0])]),
    case("pow_scalar_base_zero", lambda L, b: 0.0**b, [fixed([0.0, 1.0, 2.5])]),
]

SOFT_WEIGHT = np.array([0.5, 2.0, 1.0])
for _reduction in ["mean", "sum", "none"]:
    for _smoothing in [0.0, 0.3]:
        _o = {"reduction": _reduction, "label_smoothing": _smoothing}
        CASES += [
            case(f"soft_ce-{_reduction}-{_smoothing}",
                 lambda L, x, y, o=_o: L.F.cross_entropy(x, L.F.softmax(y, dim=1), **o),
                 [normal(4, 3), normal(4, 3)], **LOOSE),
            case(f"soft_ce_raw_targets-{_reduction}-{_smoothing}",
                 lambda L, x, y, o=_o: L.F.cross_entropy(x, y, **o),
                 [normal(4, 3), uniform(0, 1, 4, 3)], **LOOSE),
            case(f"soft_ce_weight_NCd-{_reduction}-{_smoothing}",
                 lambda L, x, y, o=_o: L.F.cross_entropy(x, y, weight=L.const(SOFT_WEIGHT), **o),
                 [normal(2, 3, 2, 2), uniform(0, 1, 2, 3, 2, 2)], **LOOSE),
            case(f"soft_ce_unbatched-{_reduction}-{_smoothing}",
                 lambda L, x, y, o=_o: L.F.cross_entropy(x, y, **o),
                 [normal(3), uniform(0, 1, 3)], **LOOSE),
            case(f"soft_ce_module-{_reduction}-{_smoothing}",
                 lambda L, x, y, o=_o: L.nn.CrossEntropyLoss(**o)(x, y),
                 [normal(5, 4), uniform(0, 1, 5, 4)], **LOOSE),
        ]


@pytest.mark.filterwarnings("ignore:.*degrees of freedom")  # var/std of 0 or 1 elements
@pytest.mark.parametrize(("function", "inputs", "tolerance"), CASES)
def test_forward_and_gradients_equal_torch(function, inputs, tolerance, rng):
    arrays = [np.asarray(draw(rng)).astype(np.float32) for draw in inputs]
    _run_both(function, arrays, rng, **tolerance)


# ------------------------------------------------------ no gradient: values and dtypes
def _same(ours, theirs):
    if isinstance(theirs, tuple):
        assert len(ours) == len(theirs)
        for mine, reference in zip(ours, theirs, strict=True):
            _same(mine, reference)
        return
    if isinstance(theirs, bool | int | float):
        assert ours == theirs and type(ours) is type(theirs)
        return
    assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch."), (ours.dtype, theirs.dtype)
    assert ours.shape == tuple(theirs.shape)
    if ours.dtype.kind == "f":  # transcendental functions may differ in the last bit
        np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=1e-6)
    else:
        np.testing.assert_array_equal(ours.data, theirs.numpy())


X = np.array([[0.5, -1.0, np.nan, 2.0], [np.inf, 3.0, -np.inf, 0.0]], dtype=np.float32)
Y = np.array([[0.5, -1.0 + 1e-6, np.nan, 2.1], [np.inf, 3.0, np.inf, 1e-9]], dtype=np.float32)
LABELS = np.array([[2, 0], [1, 4]])


@pytest.mark.parametrize(
    "expression",
    [
        pytest.param(lambda L, x, y: L.isnan(x), id="isnan"),
        pytest.param(lambda L, x, y: x.isinf(), id="isinf"),
        pytest.param(lambda L, x, y: x.isfinite(), id="isfinite"),
        pytest.param(lambda L, x, y: L.isclose(x, y), id="isclose"),
        pytest.param(lambda L, x, y: x.isclose(y, rtol=0.1, equal_nan=True), id="isclose_nan"),
        pytest.param(lambda L, x, y: L.allclose(x, y), id="allclose"),
        pytest.param(lambda L, x, y: x.allclose(x.nan_to_num()), id="allclose_nan"),
        pytest.param(lambda L, x, y: L.allclose(y, y, equal_nan=True), id="allclose_equal_nan"),
        pytest.param(lambda L, x, y: L.equal(x, x), id="equal_nan"),
        pytest.param(lambda L, x, y: L.equal(y[:, :1], y[:, :1]), id="equal"),
        pytest.param(lambda L, x, y: x.nan_to_num().equal(x.nan_to_num()), id="equal_method"),
        pytest.param(lambda L, x, y: L.equal(x[:1], x), id="equal_shapes"),
        pytest.param(lambda L, x, y: x.nan_to_num().argsort(), id="argsort"),
        pytest.param(lambda L, x, y: L.argsort(x.nan_to_num(), dim=0, descending=True),
                     id="argsort_descending"),
        pytest.param(lambda L, x, y: x.sort(), id="sort_nan_last"),
        pytest.param(lambda L, x, y: x.sort(descending=True), id="sort_nan_first_descending"),
        pytest.param(lambda L, x, y: x.nan_to_num().argmax(dim=1, keepdim=True),
                     id="argmax_keepdim"),
        pytest.param(lambda L, x, y: L.F.one_hot(L.const(LABELS)), id="one_hot"),
        pytest.param(lambda L, x, y: L.F.one_hot(L.const(LABELS[0]), num_classes=6),
                     id="one_hot_classes"),
        pytest.param(lambda L, x, y: x.nan_to_num().floor(), id="floor_value"),
        pytest.param(lambda L, x, y: L.const(np.array([3, -2, 0])).sign(), id="sign_int"),
        pytest.param(lambda L, x, y: L.const(np.array([3, -2])).floor(), id="floor_int"),
        pytest.param(lambda L, x, y: L.const(np.array([1, 2])).sin(), id="sin_int"),
        pytest.param(lambda L, x, y: L.const(np.array([1, 2])).reciprocal(), id="reciprocal_int"),
        pytest.param(lambda L, x, y: L.const(np.array([1, 2, 3])).prod(), id="prod_int"),
        pytest.param(lambda L, x, y: L.const(np.array([True, False, True])).cumsum(0),
                     id="cumsum_bool"),
        pytest.param(lambda L, x, y: L.const(np.array([1, 2, 3])).square(), id="square_int"),
        pytest.param(lambda L, x, y: L.const(np.arange(6)).chunk(4), id="chunk_fewer"),
        pytest.param(lambda L, x, y: L.const(np.arange(5)).chunk(3), id="chunk_last_smaller"),
        pytest.param(lambda L, x, y: L.const(np.arange(0)).chunk(2), id="chunk_empty"),
        pytest.param(lambda L, x, y: L.const(np.arange(7)).split(3), id="split_size"),
        pytest.param(lambda L, x, y: L.const(np.arange(0)).split(2), id="split_empty"),
        pytest.param(lambda L, x, y: L.const(np.arange(6)).reshape(2, 3).max(dim=0),
                     id="max_dim_int"),
        pytest.param(lambda L, x, y: x.nan_to_num().max(dim=1).indices.dtype == x.dtype,
                     id="max_indices_dtype"),
    ],
)
def test_values_and_dtypes_equal_torch(expression):
    ours = expression(OURS, Tensor(X), Tensor(Y))
    theirs = expression(THEIRS, torch.from_numpy(X.copy()), torch.from_numpy(Y.copy()))
    _same(ours, theirs)


# ---------------------------------------------------------------- creation and dtypes
@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda L: L.linspace(0, 1, 5), id="linspace"),
        pytest.param(lambda L: L.linspace(-2, 10, 7, dtype=L.int64), id="linspace_int"),
        pytest.param(lambda L: L.linspace(3, 3, 1), id="linspace_one"),
        pytest.param(lambda L: L.linspace(0, 1, 0), id="linspace_empty"),
        pytest.param(lambda L: L.logspace(0, 2, 3), id="logspace"),
        pytest.param(lambda L: L.logspace(0, 3, 4, base=2.0, dtype=L.float64), id="logspace_base"),
        pytest.param(lambda L: L.full((2, 3), 7), id="full_int"),
        pytest.param(lambda L: L.full((2,), True), id="full_bool"),
        pytest.param(lambda L: L.full((2,), 1.5), id="full_float"),
        pytest.param(lambda L: L.full((2,), 1.5, dtype=L.float64), id="full_dtype"),
        pytest.param(lambda L: L.zeros(2, 3, dtype=L.int64), id="zeros_int"),
        pytest.param(lambda L: L.ones((2, 3), dtype=L.bool), id="ones_bool"),
        pytest.param(lambda L: L.zeros(size=(2, 1)), id="zeros_size_kw"),
        pytest.param(lambda L: L.empty(2, 3).shape, id="empty_shape"),
        pytest.param(lambda L: L.empty(0, dtype=L.float64), id="empty_dtype"),
        pytest.param(lambda L: L.arange(5), id="arange"),
        pytest.param(lambda L: L.arange(0, 1, 0.25), id="arange_float"),
        pytest.param(lambda L: L.arange(1, 4, dtype=L.float64), id="arange_dtype"),
        pytest.param(lambda L: L.eye(2, 3, dtype=L.int32), id="eye"),
        pytest.param(lambda L: L.tensor([1, 2], dtype=L.float16), id="tensor_half"),
        pytest.param(lambda L: L.tensor([[1.5]], dtype=L.double), id="tensor_double"),
        pytest.param(lambda L: L.zeros_like(L.ones(2, dtype=L.int64)), id="zeros_like"),
        pytest.param(lambda L: L.full_like(L.ones(2, 2), 3), id="full_like"),
        pytest.param(lambda L: L.full_like(L.ones(2), 3, dtype=L.int64), id="full_like_dtype"),
        pytest.param(lambda L: L.empty_like(L.ones(2, 3, dtype=L.int64)).shape,
                     id="empty_like_shape"),
        pytest.param(lambda L: L.empty_like(L.ones(0, 3, dtype=L.int64)), id="empty_like"),
        pytest.param(lambda L: L.ones(2, 3).new_zeros(4), id="new_zeros"),
        pytest.param(lambda L: L.ones(2, dtype=L.int64).new_ones((2, 2)), id="new_ones"),
        pytest.param(lambda L: L.ones(2, dtype=L.float64).new_tensor([1, 2]), id="new_tensor"),
        pytest.param(lambda L: L.ones(2).new_full((3,), 2.5), id="new_full"),
        pytest.param(lambda L: L.ones(2).new_zeros(2, dtype=L.int64), id="new_zeros_dtype"),
        pytest.param(lambda L: L.randn_like(L.ones(2, 3, dtype=L.float64)).shape,
                     id="randn_like_shape"),
        pytest.param(lambda L: L.rand_like(L.ones(2, dtype=L.float64)).dtype == L.float64,
                     id="rand_like_dtype"),
        pytest.param(lambda L: L.randint(5, (2, 3)).dtype == L.int64, id="randint_high_size"),
        pytest.param(lambda L: L.randint(2, 5, (4,)).shape, id="randint_low_high_size"),
        pytest.param(lambda L: L.randint(3, size=(2,)).shape, id="randint_size_kw"),
        pytest.param(lambda L: L.randperm(4).dtype == L.int64, id="randperm_dtype"),
        pytest.param(lambda L: L.ones(2, 3).t().contiguous().is_contiguous()
                     if hasattr(L.ones(1), "is_contiguous") else True, id="contiguous"),
        pytest.param(lambda L: L.ones(3).numel(), id="numel"),
        pytest.param(lambda L: L.tensor([[1.5, 2.0]]).tolist() == [[1.5, 2.0]], id="tolist"),
        pytest.param(lambda L: L.tensor(2.5).item(), id="item"),
        pytest.param(lambda L: L.ones(2).is_floating_point(), id="is_floating_point"),
    ],
)
def test_creation_equals_torch(make):
    ours, theirs = make(OURS), make(THEIRS)
    if isinstance(theirs, torch.Size):
        assert ours == tuple(theirs)
        return
    _same(ours, theirs)


def test_random_creation_draws_in_range_with_requested_dtypes():
    sn.manual_seed(0)
    draws = sn.randint(2, 5, (1000,))
    assert draws.dtype == np.int64 and draws.data.min() == 2 and draws.data.max() == 4
    assert sn.randint(3, (50,)).data.max() < 3
    uniform_draws = sn.rand_like(sn.ones(1000, dtype=sn.float64))
    assert uniform_draws.dtype == np.float64 and 0 <= uniform_draws.data.min() < 0.05
    normal_draws = sn.randn_like(sn.zeros(4000))
    assert abs(normal_draws.data.mean()) < 0.1 and abs(normal_draws.data.std() - 1) < 0.1


def test_dtypes_have_pytorch_names():
    for name in ["float32", "float64", "float16", "int64", "int32", "int16", "int8", "uint8",
                 "bool", "float", "double", "half", "long", "int", "short"]:
        assert str(np.dtype(getattr(sn, name))) == str(getattr(torch, name)).removeprefix(
            "torch."), name
    assert sn.ones(2, dtype=sn.bool).dtype == sn.bool


def test_from_numpy_and_as_tensor_share_memory_as_in_torch():
    array = np.arange(4.0)
    ours, theirs = sn.from_numpy(array), torch.from_numpy(array)
    assert ours.dtype == np.float64 and str(theirs.dtype) == "torch.float64"
    array[0] = 7.0
    assert ours[0].item() == theirs[0].item() == 7.0
    shared = sn.as_tensor(array)
    array[1] = 9.0
    assert shared[1].item() == 9.0
    assert sn.as_tensor(array, dtype=sn.float32).dtype == np.float32
    existing = sn.ones(2)
    assert sn.as_tensor(existing) is existing


@pytest.mark.parametrize("make", [
    lambda device: sn.zeros(2, device=device), lambda device: sn.ones(2, device=device),
    lambda device: sn.randn(2, device=device), lambda device: sn.rand(2, device=device),
    lambda device: sn.full((2,), 1.0, device=device), lambda device: sn.empty(2, device=device),
    lambda device: sn.arange(3, device=device), lambda device: sn.eye(2, device=device),
    lambda device: sn.linspace(0, 1, 3, device=device),
    lambda device: sn.logspace(0, 1, 3, device=device),
    lambda device: sn.tensor([1.0], device=device),
    lambda device: sn.as_tensor([1.0], device=device),
    lambda device: sn.randint(3, (2,), device=device), lambda device: sn.randperm(3, device=device),
    lambda device: sn.zeros_like(sn.ones(2), device=device),
    lambda device: sn.ones_like(sn.ones(2), device=device),
    lambda device: sn.full_like(sn.ones(2), 2.0, device=device),
    lambda device: sn.empty_like(sn.ones(2), device=device),
    lambda device: sn.randn_like(sn.ones(2), device=device),
    lambda device: sn.rand_like(sn.ones(2), device=device),
])
def test_every_creation_function_takes_device_cpu_and_refuses_cuda(make):
    assert isinstance(make("cpu"), Tensor)
    assert isinstance(make(sn.device("cpu")), Tensor)
    assert isinstance(make(None), Tensor)
    with pytest.raises(RuntimeError, match="CPU"):
        make("cuda")
    with pytest.raises(RuntimeError, match="CPU"):
        make("mps")


@pytest.mark.parametrize("make", [
    lambda: sn.zeros(2, requires_grad=True), lambda: sn.ones(2, 2, requires_grad=True),
    lambda: sn.randn(2, requires_grad=True), lambda: sn.rand(2, requires_grad=True),
    lambda: sn.full((2,), 1.0, requires_grad=True), lambda: sn.empty(2, requires_grad=True),
    lambda: sn.linspace(0, 1, 3, requires_grad=True), lambda: sn.eye(2, requires_grad=True),
    lambda: sn.arange(0.0, 2.0, requires_grad=True), lambda: sn.tensor([1.0], requires_grad=True),
    lambda: sn.zeros_like(sn.ones(2), requires_grad=True),
    lambda: sn.randn_like(sn.ones(2), requires_grad=True),
    lambda: sn.ones(2).new_ones(2, requires_grad=True),
])
def test_requires_grad_on_creation_makes_a_leaf_that_gets_a_gradient(make):
    leaf = make()
    assert leaf.requires_grad and leaf.is_leaf
    (leaf * 2).sum().backward()
    np.testing.assert_array_equal(np.asarray(leaf.grad), np.full(leaf.shape, 2.0))


# -------------------------------------------------------------- clear errors
@pytest.mark.parametrize(("call", "error", "match"), [
    (lambda: sn.randint(5), TypeError, "randint"),
    (lambda: sn.randint(5, 2, (3,)), ValueError, "high"),
    (lambda: sn.ones(3).expand(2, 2), ValueError, "expand"),
    (lambda: sn.ones(2, 3).repeat(2), ValueError, "repeat"),
    (lambda: sn.ones(2, 3, 4).t(), ValueError, "at most 2 dims"),
    (lambda: sn.ones(4).narrow(0, 3, 2), IndexError, "narrow"),
    (lambda: sn.ones(4).split([1, 2]), ValueError, "add up"),
    (lambda: sn.ones(4).chunk(0), ValueError, "chunk"),
    (lambda: sn.ones(4).topk(5), IndexError, "topk"),
    (lambda: sn.ones(4).kthvalue(0), IndexError, "kthvalue"),
    (lambda: sn.ones(2, 2).masked_fill(sn.ones(2, 2), 0.0), TypeError, "boolean"),
    (lambda: sn.ones(2).masked_fill(sn.tensor([True, False, True]), 0.0), ValueError, "mask"),
    (lambda: F.one_hot(sn.tensor([0.0, 1.0])), TypeError, "integer"),
    (lambda: F.one_hot(sn.tensor([0, 3]), 3), ValueError, "one_hot"),
    (lambda: sn.var(sn.ones(3), 0, unbiased=True, correction=0), TypeError, "correction"),
    (lambda: sn.norm(sn.ones(3), "nuc"), ValueError, "norm"),
    (lambda: F.sum(sn.ones(3), dim=0, axis=0), TypeError, "both dim"),
    (lambda: F.cross_entropy(sn.ones(2, 3), sn.ones(2, 4)), TypeError,
     "class probabilities of the input's shape"),
    (lambda: sn.zeros(2, dtype="not a dtype"), TypeError, "dtype"),
    (lambda: sn.ones(2, layot=None), TypeError, "unexpected keyword arguments"),
    (lambda: sn.from_numpy([1, 2]), TypeError, "NumPy array"),
    (lambda: sn.ones(1).var(), RuntimeWarning, "degrees of freedom"),
    (lambda: sn.zeros(2, requires_grad=True, dtype=sn.int64), TypeError, "floating"),
])
def test_misuse_raises_one_clear_error(call, error, match):
    if issubclass(error, Warning):
        with pytest.warns(error, match=match):
            call()
        return
    with pytest.raises(error, match=match):
        call()


# ------------------------------------- every dim of small, empty and 0-d tensors, with keepdim
SWEEP_SHAPES = [(), (0,), (3,), (2, 0), (2, 3, 4), (1, 3, 1)]
REDUCTIONS_WITH_KEEPDIM = {
    "sum": lambda L, x, d, k: x.sum(d, keepdim=k),
    "mean": lambda L, x, d, k: x.mean(d, keepdim=k),
    "prod": lambda L, x, d, k: x.prod(d, keepdim=k),
    "var": lambda L, x, d, k: x.var(d, keepdim=k),
    "std_biased": lambda L, x, d, k: x.std(d, keepdim=k, correction=0),
    "norm": lambda L, x, d, k: x.norm(dim=d, keepdim=k),
    "norm_p1": lambda L, x, d, k: x.norm(1, dim=d, keepdim=k),
    "amax": lambda L, x, d, k: x.amax(d, keepdim=k),
    "max": lambda L, x, d, k: x.max(d, keepdim=k),
    "min": lambda L, x, d, k: L.min(x, d, keepdim=k),
    "kthvalue": lambda L, x, d, k: x.kthvalue(1, d, keepdim=k),
    "logsumexp": lambda L, x, d, k: L.logsumexp(x, d, keepdim=k),
}
ALONG_DIM = {
    "cumsum": lambda L, x, d: x.cumsum(d),
    "sort": lambda L, x, d: x.sort(d),
    "sort_descending": lambda L, x, d: L.sort(x, d, descending=True),
    "topk1": lambda L, x, d: x.topk(1, d),
    "softmax": lambda L, x, d: L.softmax(x, d),
    "log_softmax": lambda L, x, d: L.log_softmax(x, d),
    "flip": lambda L, x, d: x.flip(d),
    "unsqueeze": lambda L, x, d: x.unsqueeze(d),
    "squeeze": lambda L, x, d: x.squeeze(d),
}


def _sweep():
    for shape in SWEEP_SHAPES:
        rank = max(len(shape), 1)
        for dim in range(-rank, rank):
            for name, function in REDUCTIONS_WITH_KEEPDIM.items():
                for keepdim in (False, True):
                    yield pytest.param(
                        lambda L, x, f=function, d=dim, k=keepdim: f(L, x, d, k), shape,
                        id=f"{name}-{shape}-dim{dim}-keepdim{keepdim}")
            for name, function in ALONG_DIM.items():
                yield pytest.param(lambda L, x, f=function, d=dim: f(L, x, d), shape,
                                   id=f"{name}-{shape}-dim{dim}")


@pytest.mark.filterwarnings("ignore:.*degrees of freedom")
@pytest.mark.parametrize(("function", "shape"), list(_sweep()))
def test_every_dim_keepdim_empty_and_0d_equal_torch(function, shape, rng):
    size = int(np.prod(shape))
    x = (rng.permutation(size).reshape(shape) * 0.3 - 1).astype(np.float32)  # no ties
    try:
        function(THEIRS, torch.tensor(x))
    except (RuntimeError, IndexError) as error:  # e.g. max over an empty dim: ours raises too
        with pytest.raises((ValueError, IndexError, RuntimeError)):
            function(OURS, Tensor(x))
        assert str(error)
        return
    _run_both(function, [x], rng)


# ------------------------------------------------- indexing: many mixes of index kinds
INDEX_PARTS = [0, 1, -1, slice(None), slice(1, None), [0, 1], [1, 0, 1], None, Ellipsis,
               np.array([True, False])]


def _index_mixes(step=53):
    """Every 53rd tuple of 1-4 index parts (ints, slices, lists, None, Ellipsis, a boolean
    mask), in a fixed order: a spread of the ~11,000 mixes (the
    ~7,000 that torch accepts were all checked once)."""
    import itertools

    mixes = [tuple(INDEX_PARTS[i] for i in combo) for length in (1, 2, 3, 4)
             for combo in itertools.product(range(len(INDEX_PARTS)), repeat=length)]
    return [mix for mix in mixes[::step] if sum(part is Ellipsis for part in mix) <= 1]


def _torch_index(index):
    return tuple(torch.tensor(part) if isinstance(part, np.ndarray) else part for part in index)


@pytest.mark.parametrize("index", _index_mixes(), ids=repr)
def test_indexing_places_dims_and_routes_gradients_as_torch(index):
    x = np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5)
    theirs = torch.from_numpy(x.copy()).requires_grad_()
    try:
        expected = theirs[_torch_index(index)]
    except (IndexError, RuntimeError, TypeError):
        with pytest.raises(IndexError):
            Tensor(x.copy(), requires_grad=True)[index]
        return
    ours = Tensor(x.copy(), requires_grad=True)
    out = ours[index]
    assert out.shape == tuple(expected.shape)
    np.testing.assert_array_equal(out.data, expected.detach().numpy())
    out.sum().backward()
    expected.sum().backward()
    np.testing.assert_array_equal(np.asarray(ours.grad), theirs.grad.numpy())


def test_max_of_the_output_array_is_the_classic_accuracy_idiom():
    outputs = np.array([[0.1, 2.0, -1.0], [3.0, 0.5, 0.2]], dtype=np.float32)
    labels = np.array([1, 2])
    _, predicted = sn.max(Tensor(outputs).data, 1)  # .data is the NumPy array in scratchnn
    _, expected = torch.max(torch.from_numpy(outputs).data, 1)
    np.testing.assert_array_equal(predicted.data, expected.numpy())
    assert (predicted == Tensor(labels)).sum().item() == 1
