"""Bad inputs fail early with an error that names the op and what was wrong with the input."""

from __future__ import annotations

import numpy as np
import pytest

import scratchnn as sn
import scratchnn.functional as F
from scratchnn.tensor import Tensor


def ones(*shape, dtype=np.float32):
    return Tensor(np.ones(shape), dtype=dtype, requires_grad=np.dtype(dtype).kind == "f")


# ------------------------------------------------------------ shape mismatches
BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a**b,
    "maximum": sn.maximum,
    "minimum": sn.minimum,
    "where": lambda a, b: sn.where(np.ones(a.shape, dtype=bool), a, b),
}


@pytest.mark.parametrize("name", BINARY)
@pytest.mark.parametrize(("shape_a", "shape_b"), [((2, 3), (3, 2)), ((4,), (5,)),
                                                  ((2, 3, 4), (3, 3))])
def test_elementwise_shape_mismatch_names_the_op_and_both_shapes(name, shape_a, shape_b):
    with pytest.raises(ValueError) as error:
        BINARY[name](ones(*shape_a), ones(*shape_b))
    message = str(error.value)
    assert message.startswith(name)
    assert str(shape_a) in message and str(shape_b) in message


@pytest.mark.parametrize(
    ("shape_a", "shape_b"),
    [((2, 3), (4, 5)), ((3,), (4,)), ((3,), (4, 2)), ((2, 3), (4,)), ((2, 3, 4), (5, 4, 2)),
     ((2, 3, 4), (3, 5, 6))],
)
def test_matmul_shape_mismatch_names_the_op_and_both_shapes(shape_a, shape_b):
    with pytest.raises(ValueError) as error:
        ones(*shape_a) @ ones(*shape_b)
    message = str(error.value)
    assert message.startswith("matmul")
    assert str(shape_a) in message and str(shape_b) in message


def test_matmul_with_a_0d_operand_raises():
    with pytest.raises(ValueError, match=r"matmul.*at least 1 dim"):
        sn.matmul(Tensor(2.0), ones(2))


@pytest.mark.parametrize(
    "call",
    [
        lambda: sn.cat([ones(2, 3), ones(3, 3)], dim=1),
        lambda: sn.stack([ones(2, 3), ones(2, 4)]),
        lambda: ones(2, 3).reshape(4, 2),
        lambda: ones(2, 3).reshape(-1, -1),
        lambda: F.linear(ones(5, 3), ones(4, 2)),
        lambda: F.linear(ones(5, 3), ones(4, 3), ones(3)),
        lambda: ones(2, 3).permute(0, 0),
    ],
    ids=["cat", "stack", "reshape", "reshape_two_minus_one", "linear_weight", "linear_bias",
         "permute_repeated"],
)
def test_other_shape_errors_raise_value_error(call):
    with pytest.raises(ValueError):
        call()


@pytest.mark.parametrize(
    "loss",
    [F.mse_loss, F.l1_loss, F.binary_cross_entropy, F.binary_cross_entropy_with_logits],
)
def test_elementwise_losses_reject_mismatched_shapes(loss):
    # (4, 1) against (4,) would silently broadcast to (4, 4): the classic bug
    with pytest.raises(ValueError, match=r"\(4, 1\).*\(4,\)"):
        loss(Tensor(np.full((4, 1), 0.5), requires_grad=True), Tensor(np.full(4, 0.5)))


def test_binary_cross_entropy_rejects_values_outside_0_1():
    with pytest.raises(ValueError, match="probabilities"):
        F.binary_cross_entropy(Tensor([0.5, 1.5]), Tensor([0.0, 1.0]))


# ------------------------------------------------------------ class targets
CLASS_LOSSES = [F.cross_entropy, F.nll_loss]


@pytest.mark.parametrize("loss", CLASS_LOSSES)
@pytest.mark.parametrize("bad", [3, 7, -1, -100 + 1])
def test_class_losses_reject_out_of_range_targets(loss, bad):
    with pytest.raises(ValueError, match=f"target {bad} at position 1 is out of range"):
        loss(ones(3, 3), np.array([0, bad, 2]))


@pytest.mark.parametrize("loss", CLASS_LOSSES)
def test_class_losses_accept_the_ignore_index_but_no_other_negative(loss):
    loss(ones(3, 3), np.array([0, 5, 2]), ignore_index=5)  # fine
    with pytest.raises(ValueError, match="out of range"):
        loss(ones(3, 3), np.array([0, -100, 2]), ignore_index=5)


@pytest.mark.parametrize("loss", CLASS_LOSSES)
@pytest.mark.parametrize("target", [np.array([0.0, 1.0, 2.0]), Tensor([0.0, 1.0, 2.0]),
                                    np.array([True, False, True])])
def test_class_losses_reject_non_integer_targets(loss, target):
    with pytest.raises(TypeError, match="integer class indices"):
        loss(ones(3, 3), target)


@pytest.mark.parametrize("loss", CLASS_LOSSES)
@pytest.mark.parametrize(("input_shape", "target_shape"),
                         [((3, 4), (4,)), ((3, 4), (3, 1)), ((2, 4, 5), (2, 4)), ((3, 4), ())])
def test_class_losses_reject_mismatched_target_shapes(loss, input_shape, target_shape):
    with pytest.raises(ValueError, match="class-index targets of shape"):
        loss(ones(*input_shape), np.zeros(target_shape, dtype=np.int64))


@pytest.mark.parametrize("loss", CLASS_LOSSES)
def test_class_losses_reject_a_weight_of_the_wrong_length(loss):
    with pytest.raises(ValueError, match=r"weight must have shape \(3,\)"):
        loss(ones(2, 3), np.array([0, 1]), weight=np.ones(4))


@pytest.mark.parametrize("smoothing", [-0.1, 1.5])
def test_cross_entropy_rejects_label_smoothing_outside_0_1(smoothing):
    with pytest.raises(ValueError, match="label_smoothing"):
        F.cross_entropy(ones(2, 3), np.array([0, 1]), label_smoothing=smoothing)


# ---------------------------------------------------------------- reductions
LOSSES = {
    "mse_loss": lambda r: F.mse_loss(ones(2), ones(2), reduction=r),
    "l1_loss": lambda r: F.l1_loss(ones(2), ones(2), reduction=r),
    "binary_cross_entropy": lambda r: F.binary_cross_entropy(ones(2), ones(2), reduction=r),
    "binary_cross_entropy_with_logits":
        lambda r: F.binary_cross_entropy_with_logits(ones(2), ones(2), reduction=r),
    "cross_entropy": lambda r: F.cross_entropy(ones(2, 3), np.array([0, 1]), reduction=r),
    "nll_loss": lambda r: F.nll_loss(ones(2, 3), np.array([0, 1]), reduction=r),
}


@pytest.mark.parametrize("name", LOSSES)
@pytest.mark.parametrize("reduction", ["average", "MEAN", None, "elementwise_mean"])
def test_losses_reject_an_unknown_reduction(name, reduction):
    with pytest.raises(ValueError, match=f"{name}: reduction must be one of"):
        LOSSES[name](reduction)


# ---------------------------------------------------------------------- dims
def _one_more(dim):
    """unsqueeze and stack insert a dim, so they accept one more position on either side."""
    return dim + 1 if dim >= 0 else dim - 1


DIM_CALLS = {
    "sum": lambda x, d: x.sum(dim=d),
    "sum_tuple": lambda x, d: x.sum(dim=(0, d)),
    "mean": lambda x, d: x.mean(axis=d),
    "amax": lambda x, d: x.amax(dim=d),
    "amin": lambda x, d: sn.amin(x, d),
    "max": lambda x, d: x.max(dim=d),
    "min": lambda x, d: x.min(dim=d),
    "softmax": lambda x, d: F.softmax(x, dim=d),
    "log_softmax": lambda x, d: F.log_softmax(x, dim=d),
    "squeeze": lambda x, d: x.squeeze(d),
    "unsqueeze": lambda x, d: x.unsqueeze(_one_more(d)),
    "transpose": lambda x, d: x.transpose(0, d),
    "permute": lambda x, d: x.permute(0, d),
    "flatten": lambda x, d: x.flatten(0, d),
    "gather": lambda x, d: x.gather(d, np.zeros((2, 3), dtype=np.int64)),
    "cat": lambda x, d: sn.cat([x, x], dim=d),
    "stack": lambda x, d: sn.stack([x, x], dim=_one_more(d)),
}


@pytest.mark.parametrize("name", DIM_CALLS)
@pytest.mark.parametrize("dim", [2, -3, 5])
def test_a_dim_out_of_range_raises_value_error_naming_the_op(name, dim):
    with pytest.raises(ValueError, match=name.removesuffix("_tuple")):
        DIM_CALLS[name](ones(2, 3), dim)


# -------------------------------------------------------------- other misuse
@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: F.dropout(ones(2), p=1.5), ValueError, "dropout: p must be in"),
        (lambda: F.dropout(ones(2), p=-0.1), ValueError, "dropout: p must be in"),
        (lambda: ones(2).clip(), ValueError, "clip: at least one of min and max"),
        (lambda: sn.cat([]), ValueError, "cat: expected a non-empty"),
        (lambda: sn.stack([]), ValueError, "stack: expected a non-empty"),
        (lambda: ones(2, 3)[5], IndexError, r"invalid for a tensor of shape \(2, 3\)"),
        (lambda: ones(2, 3)[np.array([True, False, True])], IndexError, "invalid"),
        (lambda: ones(2, 3)[[0, 4]], IndexError, "invalid"),
        (lambda: Tensor([1, 2]).mean(), TypeError, "floating-point"),
        (lambda: Tensor(["a", object()]), TypeError, "cannot make a tensor"),
        (lambda: Tensor("abc"), TypeError, "from str data of NumPy dtype <U3"),
        (lambda: Tensor([1 + 2j]), TypeError, "numbers or booleans only"),
        (lambda: Tensor([[1.0, 2.0], [3.0]]), ValueError, "Tensor: cannot make a tensor"),
        (lambda: sn.nn.Linear(3, -1), ValueError, "Linear: out_features must be a non-neg"),
        (lambda: sn.nn.Linear(2.5, 3), ValueError, "Linear: in_features must be a non-neg"),
        (lambda: sn.nn.Linear(3, 2)(np.zeros((1, 3))), TypeError,
         r"linear: expected Tensor inputs, got \(ndarray, Parameter, Parameter\)"),
        (lambda: F.relu([1.0, -1.0]), TypeError, r"relu: expected Tensor inputs, got \(list\)"),
        (lambda: ones(2, 3).item(), ValueError, "only one-element"),
        (lambda: bool(ones(2)), RuntimeError, "ambiguous"),
    ],
    ids=["dropout_p_high", "dropout_p_negative", "clip_no_bounds", "cat_empty", "stack_empty",
         "index_out_of_range", "mask_wrong_length", "array_index_out_of_range", "mean_of_ints",
         "object_data", "string_data", "complex_data", "ragged_data", "linear_negative_size",
         "linear_float_size", "array_into_a_module", "list_into_relu", "item_of_many",
         "truth_of_many"],
)
def test_misuse_raises_a_clear_error(call, error, match):
    with pytest.raises(error, match=match):
        call()
