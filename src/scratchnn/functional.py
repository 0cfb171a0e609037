"""The functional API (``import scratchnn.functional as F``), with PyTorch's names.

Each function checks and converts its arguments, then calls one op from ``scratchnn.ops``,
where the forward and backward math lives. Tensor methods and operators (``a + b``,
``x.sum(dim=1)``, ``x.relu()``) are these same functions, attached at the bottom.
Where PyTorch says ``dim``/``keepdim``, NumPy's ``axis``/``keepdims`` are accepted too.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Sequence
from typing import Any

import numpy as np

from scratchnn import ops
from scratchnn.random import generator
from scratchnn.tensor import ArrayLike, Tensor, as_tensor

Dim = int | Sequence[int] | None
REDUCTIONS = ("mean", "sum", "none")


def _operands(a: ArrayLike, b: ArrayLike) -> tuple[Tensor, Tensor]:
    """Both operands as Tensors of one kind; a plain number or array takes the other operand's
    float dtype (``t64 * weights`` stays exact, ``t32 * np.arange(3)`` stays float32)."""
    a_is_tensor, b_is_tensor = isinstance(a, Tensor), isinstance(b, Tensor)
    if a_is_tensor and b_is_tensor:
        pass
    elif a_is_tensor:
        b = _constant(b, like=a)
    elif b_is_tensor:
        a = _constant(a, like=b)
    else:
        a, b = as_tensor(a), as_tensor(b)
    if a.data.dtype.kind == b.data.dtype.kind:
        return a, b
    return _promote(a, b)


def _promote(a: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
    """PyTorch's promotion where NumPy's differs: with one float operand, the result has its
    dtype (int64 * float32 is float32, not float64; an int tensor * 2.5 is float32)."""
    if a.data.dtype.kind == "f" and b.data.dtype.kind != "f":
        return a, Tensor._make(b.data.astype(a.data.dtype))
    if b.data.dtype.kind == "f" and a.data.dtype.kind != "f":
        return Tensor._make(a.data.astype(b.data.dtype)), b
    return a, b


def _constant(value: ArrayLike, like: Tensor) -> Tensor:
    if like.dtype.kind == "f" and np.asarray(value).dtype.kind in "biuf":
        return Tensor._make(np.asarray(value, dtype=like.dtype))
    return as_tensor(value, like=like)


def _axes(name: str, ndim: int, dim: Dim, axis: Dim) -> tuple[int, ...] | None:
    """``dim`` (or NumPy's ``axis``) as a tuple of non-negative axes, or None for all axes."""
    chosen = dim if dim is not None else axis
    if chosen is None:
        return None
    listed = (chosen,) if isinstance(chosen, int | np.integer) else tuple(chosen)
    rank = ndim if ndim > 0 else 1  # a 0-d tensor accepts dim 0 and -1, as in PyTorch
    result = []
    for d in listed:
        if not -rank <= d < rank:
            raise ValueError(f"{name}: dim {d} is out of range for a tensor with {ndim} dims")
        result.append(int(d) % rank)
    return tuple(result)


def _keep(keepdim: bool, keepdims: bool | None) -> bool:
    return bool(keepdims) if keepdims is not None else keepdim


def _single_axis(name: str, ndim: int, dim: int | None, axis: int | None, default: int) -> int:
    chosen = dim if dim is not None else axis if axis is not None else default
    return _axes(name, ndim, chosen, None)[0]


# ------------------------------------------------------------------ arithmetic
def add(a: ArrayLike, b: ArrayLike) -> Tensor:
    return ops.Add.apply(*_operands(a, b))


def sub(a: ArrayLike, b: ArrayLike) -> Tensor:
    return ops.Sub.apply(*_operands(a, b))


def mul(a: ArrayLike, b: ArrayLike) -> Tensor:
    return ops.Mul.apply(*_operands(a, b))


def div(a: ArrayLike, b: ArrayLike) -> Tensor:
    """True division; two integer operands give float32, as in PyTorch."""
    a, b = _operands(a, b)
    if a.data.dtype.kind != "f" and b.data.dtype.kind != "f":
        a, b = Tensor._make(a.data.astype(np.float32)), Tensor._make(b.data.astype(np.float32))
    return ops.Div.apply(a, b)


def pow(a: ArrayLike, exponent: ArrayLike) -> Tensor:  # noqa: A001 (PyTorch's name)
    return ops.Pow.apply(*_operands(a, exponent))


def neg(a: Tensor) -> Tensor:
    return ops.Neg.apply(a)


def matmul(a: ArrayLike, b: ArrayLike) -> Tensor:
    """a @ b; shapes (..., n, k) @ (..., k, m) -> (..., m) with broadcast batch axes."""
    a, b = _operands(a, b)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: both operands need at least 1 dim, got {a.shape} and {b.shape}")
    inner_a, inner_b = a.shape[-1], b.shape[-2] if b.ndim > 1 else b.shape[0]
    if inner_a != inner_b:
        raise ValueError(
            f"matmul: shapes {a.shape} and {b.shape} do not match: "
            f"{inner_a} columns in the first, {inner_b} rows in the second"
        )
    return ops.MatMul.apply(a, b)


# -------------------------------------------------------------- elementwise math
def exp(x: Tensor) -> Tensor:
    return ops.Exp.apply(x)


def log(x: Tensor) -> Tensor:
    return ops.Log.apply(x)


def sqrt(x: Tensor) -> Tensor:
    return ops.Sqrt.apply(x)


def abs(x: Tensor) -> Tensor:  # noqa: A001 (PyTorch's name)
    return ops.Abs.apply(x)


def clip(x: Tensor, min: float | None = None, max: float | None = None) -> Tensor:  # noqa: A002
    """Clamp every element to [min, max]; the gradient is zero where clamping happened."""
    if min is None and max is None:
        raise ValueError("clip: at least one of min and max must be given")
    return ops.Clip.apply(x, low=min, high=max)


clamp = clip


def maximum(a: ArrayLike, b: ArrayLike) -> Tensor:
    return ops.Maximum.apply(*_operands(a, b))


def minimum(a: ArrayLike, b: ArrayLike) -> Tensor:
    return ops.Minimum.apply(*_operands(a, b))


def where(condition: ArrayLike, a: ArrayLike, b: ArrayLike) -> Tensor:
    """Elementwise ``a if condition else b``; the condition gets no gradient."""
    condition = np.asarray(condition.data if isinstance(condition, Tensor) else condition)
    a, b = _operands(a, b)
    return ops.Where.apply(a, b, condition=condition.astype(bool, copy=False))


def to(x: Tensor, dtype: Any) -> Tensor:
    """x converted to ``dtype``; differentiable between float types."""
    dtype = np.dtype(dtype)
    if dtype == x.dtype:
        return x
    if x.requires_grad and dtype.kind != "f":
        return Tensor._make(x.data.astype(dtype))
    return ops.Cast.apply(x, dtype=dtype)


# ------------------------------------------------------------------ activations
def relu(x: Tensor) -> Tensor:
    return ops.ReLU.apply(x)


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    return ops.LeakyReLU.apply(x, negative_slope=negative_slope)


def sigmoid(x: Tensor) -> Tensor:
    return ops.Sigmoid.apply(x)


def tanh(x: Tensor) -> Tensor:
    return ops.Tanh.apply(x)


def softmax(x: Tensor, dim: int | None = None, *, axis: int | None = None) -> Tensor:
    """e**x / sum(e**x) along ``dim`` (default: the last)."""
    return ops.Softmax.apply(x, axis=_single_axis("softmax", x.ndim, dim, axis, -1))


def log_softmax(x: Tensor, dim: int | None = None, *, axis: int | None = None) -> Tensor:
    """x - logsumexp(x) along ``dim`` (default: the last)."""
    return ops.LogSoftmax.apply(x, axis=_single_axis("log_softmax", x.ndim, dim, axis, -1))


def dropout(x: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """Zero each element with probability p and scale the rest by 1/(1-p) (training only)."""
    if not 0 <= p <= 1:
        raise ValueError(f"dropout: p must be in [0, 1], got {p}")
    if not training or p == 0:
        return x
    if p == 1:
        return mul(x, 0.0)
    keep = generator().random(x.shape, dtype=np.float64) >= p
    return ops.Dropout.apply(x, scaled_mask=keep.astype(x.dtype) / x.dtype.type(1 - p))


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """x @ weight.T + bias;  x: (..., in), weight: (out, in), bias: (out,) -> (..., out)."""
    if weight.ndim != 2 or x.ndim == 0 or x.shape[-1] != weight.shape[1]:
        raise ValueError(
            f"linear: input of shape {x.shape} does not fit weight of shape {weight.shape} "
            f"(expected input (..., {weight.shape[-1]}))"
        )
    if bias is None:
        return ops.Linear.apply(x, weight)
    if bias.shape != (weight.shape[0],):
        raise ValueError(f"linear: bias has shape {bias.shape}, expected ({weight.shape[0]},)")
    return ops.Linear.apply(x, weight, bias)


# ------------------------------------------------------------------- reductions
def sum(  # noqa: A001 (PyTorch's name)
    x: Tensor, dim: Dim = None, keepdim: bool = False, *, axis: Dim = None,
    keepdims: bool | None = None,
) -> Tensor:
    return ops.Sum.apply(
        x, axis=_axes("sum", x.ndim, dim, axis), keepdims=_keep(keepdim, keepdims)
    )


def mean(
    x: Tensor, dim: Dim = None, keepdim: bool = False, *, axis: Dim = None,
    keepdims: bool | None = None,
) -> Tensor:
    if x.dtype.kind != "f":
        raise TypeError(f"mean: needs a floating-point tensor, got dtype {x.dtype}")
    return ops.Mean.apply(
        x, axis=_axes("mean", x.ndim, dim, axis), keepdims=_keep(keepdim, keepdims)
    )


def amax(
    x: Tensor, dim: Dim = None, keepdim: bool = False, *, axis: Dim = None,
    keepdims: bool | None = None,
) -> Tensor:
    """Maximum over ``dim``; ties share the gradient evenly."""
    return ops.Amax.apply(
        x, axis=_axes("amax", x.ndim, dim, axis), keepdims=_keep(keepdim, keepdims)
    )


def amin(
    x: Tensor, dim: Dim = None, keepdim: bool = False, *, axis: Dim = None,
    keepdims: bool | None = None,
) -> Tensor:
    """Minimum over ``dim``; ties share the gradient evenly."""
    return ops.Amin.apply(
        x, axis=_axes("amin", x.ndim, dim, axis), keepdims=_keep(keepdim, keepdims)
    )


ValuesIndices = namedtuple("ValuesIndices", ["values", "indices"])


def _extreme_along(name: str, pick: Any, x: Tensor, dim: int | None, axis: int | None,
                   keepdim: bool, keepdims: bool | None) -> Tensor | ValuesIndices:
    """``max``/``min``: over everything -> a Tensor; along one dim -> (values, indices) as
    PyTorch, the values' gradient going to the returned index."""
    if dim is None and axis is None:
        return (amax if name == "max" else amin)(x)
    chosen = _single_axis(name, x.ndim, dim, axis, 0)
    keep = _keep(keepdim, keepdims)
    indices = np.expand_dims(pick(x.data, axis=chosen), chosen)
    values = ops.Gather.apply(x, axis=chosen, index=indices)
    if not keep:
        values = squeeze(values, chosen)
        indices = np.squeeze(indices, chosen)
    return ValuesIndices(values, Tensor._make(indices))


def max(  # noqa: A001 (PyTorch's name)
    x: Tensor, dim: int | None = None, keepdim: bool = False, *, axis: int | None = None,
    keepdims: bool | None = None,
) -> Tensor | ValuesIndices:
    return _extreme_along("max", np.argmax, x, dim, axis, keepdim, keepdims)


def min(  # noqa: A001 (PyTorch's name)
    x: Tensor, dim: int | None = None, keepdim: bool = False, *, axis: int | None = None,
    keepdims: bool | None = None,
) -> Tensor | ValuesIndices:
    return _extreme_along("min", np.argmin, x, dim, axis, keepdim, keepdims)


def argmax(x: Tensor, dim: int | None = None, keepdim: bool = False, *,
           axis: int | None = None) -> Tensor:
    """Index of the maximum (over the flattened tensor when no dim is given); no gradient."""
    chosen = dim if dim is not None else axis
    if chosen is None:
        return Tensor._make(np.argmax(x.data))
    return Tensor._make(np.argmax(x.data, axis=chosen, keepdims=keepdim))


def argmin(x: Tensor, dim: int | None = None, keepdim: bool = False, *,
           axis: int | None = None) -> Tensor:
    chosen = dim if dim is not None else axis
    if chosen is None:
        return Tensor._make(np.argmin(x.data))
    return Tensor._make(np.argmin(x.data, axis=chosen, keepdims=keepdim))


def gather(x: Tensor, dim: int, index: ArrayLike) -> Tensor:
    """out[i][j] = x[i][index[i][j]] for dim=1 (torch.gather)."""
    index = np.asarray(index.data if isinstance(index, Tensor) else index)
    return ops.Gather.apply(x, axis=_single_axis("gather", x.ndim, dim, None, 0), index=index)


# -------------------------------------------------------------------- shapes
def _shape_arg(shape: tuple) -> tuple[int, ...]:
    """Accept both ``reshape(2, 3)`` and ``reshape((2, 3))``."""
    if len(shape) == 1 and isinstance(shape[0], tuple | list):
        return tuple(shape[0])
    return tuple(shape)


def reshape(x: Tensor, *shape: int | Sequence[int]) -> Tensor:
    """The same elements in a new shape; one dim may be -1 (inferred)."""
    requested = _shape_arg(shape)
    known = int(np.prod([size for size in requested if size != -1]))
    inferred = [(x.numel() // known if known else 0) if size == -1 else size for size in requested]
    if requested.count(-1) > 1 or int(np.prod(inferred)) != x.numel():
        raise ValueError(f"reshape: cannot reshape a tensor of shape {x.shape} "
                         f"({x.numel()} elements) into {requested}")
    target = tuple(inferred)
    if target == x.shape:
        return x
    return ops.Reshape.apply(x, shape=target)


view = reshape


def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dims start_dim..end_dim into one."""
    if x.ndim == 0:
        return reshape(x, 1)
    start, end = _axes("flatten", x.ndim, (start_dim, end_dim), None)
    merged = int(np.prod(x.shape[start:end + 1]))
    return reshape(x, x.shape[:start] + (merged,) + x.shape[end + 1:])


def squeeze(x: Tensor, dim: int | None = None) -> Tensor:
    if dim is None:
        return reshape(x, tuple(size for size in x.shape if size != 1))
    axis = _axes("squeeze", x.ndim, dim, None)[0]
    if x.shape[axis] != 1:
        return x
    return reshape(x, x.shape[:axis] + x.shape[axis + 1:])


def unsqueeze(x: Tensor, dim: int) -> Tensor:
    axis = dim if dim >= 0 else dim + x.ndim + 1
    if not 0 <= axis <= x.ndim:
        raise ValueError(f"unsqueeze: dim {dim} is out of range for a tensor with {x.ndim} dims")
    return reshape(x, x.shape[:axis] + (1,) + x.shape[axis:])


def permute(x: Tensor, *dims: int | Sequence[int]) -> Tensor:
    axes = _shape_arg(dims)
    if sorted(_axes("permute", x.ndim, axes, None)) != list(range(x.ndim)):
        raise ValueError(f"permute: {axes} is not a permutation of the {x.ndim} dims")
    return ops.Permute.apply(x, axes=_axes("permute", x.ndim, axes, None))


def transpose(x: Tensor, dim0: int, dim1: int) -> Tensor:
    axes = list(range(x.ndim))
    first, second = _axes("transpose", x.ndim, (dim0, dim1), None)
    axes[first], axes[second] = axes[second], axes[first]
    return ops.Permute.apply(x, axes=tuple(axes))


def _reversed_dims(x: Tensor) -> Tensor:
    return ops.Permute.apply(x, axes=tuple(reversed(range(x.ndim))))


def getitem(x: Tensor, index: Any) -> Tensor:
    """x[index]: slices, integers, None, Ellipsis, boolean masks and integer arrays."""
    if isinstance(index, Tensor):
        index = index.data
    elif isinstance(index, tuple):
        index = tuple(part.data if isinstance(part, Tensor) else part for part in index)
    elif isinstance(index, list):
        index = np.asarray(index)
    try:
        return ops.GetItem.apply(x, index=index)
    except (IndexError, ValueError) as error:
        raise IndexError(f"index {index!r} is invalid for a tensor of shape {x.shape}: "
                         f"{error}") from None


def cat(tensors: Sequence[Tensor], dim: int = 0, *, axis: int | None = None) -> Tensor:
    """Join tensors along an existing dim."""
    tensors = [as_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("cat: expected a non-empty sequence of tensors")
    chosen = _single_axis("cat", tensors[0].ndim, dim if axis is None else axis, None, 0)
    return ops.Cat.apply(*tensors, axis=chosen)


concatenate = cat


def stack(tensors: Sequence[Tensor], dim: int = 0, *, axis: int | None = None) -> Tensor:
    """Join same-shaped tensors along a new dim."""
    tensors = [as_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("stack: expected a non-empty sequence of tensors")
    # the new dim is one of the result's ndim + 1 (a negative dim counts from its end)
    chosen = _single_axis("stack", tensors[0].ndim + 1, dim if axis is None else axis, None, 0)
    return ops.Stack.apply(*tensors, axis=chosen)


# ---------------------------------------------------------------- comparisons
def _compare(numpy_op: Any) -> Any:
    def compare(a: ArrayLike, b: ArrayLike) -> Tensor:
        """Elementwise comparison; a boolean tensor without gradient."""
        a, b = _operands(a, b)
        return Tensor._make(numpy_op(a.data, b.data))

    compare.__name__ = numpy_op.__name__
    return compare


eq, ne, lt, le, gt, ge = (
    _compare(op) for op in (np.equal, np.not_equal, np.less, np.less_equal, np.greater,
                            np.greater_equal)
)
logical_and, logical_or, logical_xor = (
    _compare(op) for op in (np.logical_and, np.logical_or, np.logical_xor)
)


def logical_not(x: Tensor) -> Tensor:
    """Elementwise not of a boolean tensor (``~mask``); no gradient."""
    return Tensor._make(np.logical_not(x.data))


# ---------------------------------------------------------------------- losses
def _check_reduction(name: str, reduction: str) -> None:
    if reduction not in REDUCTIONS:
        raise ValueError(f"{name}: reduction must be one of {REDUCTIONS}, got {reduction!r}")


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return mean(loss)
    if reduction == "sum":
        return sum(loss)
    return loss


def _check_same_shape(name: str, input: Tensor, target: Tensor) -> None:
    if input.shape != target.shape:
        raise ValueError(
            f"{name}: input shape {input.shape} and target shape {target.shape} differ "
            "(reshape one of them; broadcasting them silently is a common bug)"
        )


def mse_loss(input: Tensor, target: ArrayLike, reduction: str = "mean") -> Tensor:
    """mean((input - target)**2)."""
    _check_reduction("mse_loss", reduction)
    input, target = _operands(input, target)
    _check_same_shape("mse_loss", input, target)
    difference = sub(input, target)
    return _reduce(mul(difference, difference), reduction)


def l1_loss(input: Tensor, target: ArrayLike, reduction: str = "mean") -> Tensor:
    """mean(|input - target|)."""
    _check_reduction("l1_loss", reduction)
    input, target = _operands(input, target)
    _check_same_shape("l1_loss", input, target)
    return _reduce(abs(sub(input, target)), reduction)


def binary_cross_entropy(input: Tensor, target: ArrayLike, weight: ArrayLike | None = None,
                         reduction: str = "mean") -> Tensor:
    """-[y log p + (1 - y) log(1 - p)] for probabilities p (logs clamped at -100)."""
    _check_reduction("binary_cross_entropy", reduction)
    input, target = _operands(input, target)
    _check_same_shape("binary_cross_entropy", input, target)
    if input.numel() and (input.data.min() < 0 or input.data.max() > 1):
        raise ValueError("binary_cross_entropy: input must be probabilities in [0, 1] "
                         "(for raw scores use binary_cross_entropy_with_logits)")
    loss = ops.BinaryCrossEntropy.apply(input, target)
    if weight is not None:
        loss = mul(loss, weight)
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(
    input: Tensor, target: ArrayLike, weight: ArrayLike | None = None, reduction: str = "mean",
    pos_weight: ArrayLike | None = None,
) -> Tensor:
    """sigmoid + binary cross-entropy in one stable op (see ops.loss)."""
    _check_reduction("binary_cross_entropy_with_logits", reduction)
    input, target = _operands(input, target)
    _check_same_shape("binary_cross_entropy_with_logits", input, target)
    if pos_weight is not None:
        pos_weight = np.asarray(pos_weight.data if isinstance(pos_weight, Tensor) else pos_weight,
                                dtype=input.dtype)
    loss = ops.BinaryCrossEntropyWithLogits.apply(input, target, pos_weight=pos_weight)
    if weight is not None:
        loss = mul(loss, weight)
    return _reduce(loss, reduction)


def _class_targets(name: str, input: Tensor, target: ArrayLike, weight: ArrayLike | None,
                   ) -> tuple[Tensor, np.ndarray, np.ndarray | None, tuple[int, ...]]:
    """Bring (N, C, d1, ...) scores and (N, d1, ...) class indices to (M, C) and (M,)."""
    target = np.asarray(target.data if isinstance(target, Tensor) else target)
    if target.dtype.kind not in "iu":
        raise TypeError(f"{name}: target must hold integer class indices, got dtype "
                        f"{target.dtype} (use .long())")
    batch_shape = target.shape  # () for one unbatched sample, as in PyTorch
    if input.ndim == 1:
        input, target = unsqueeze(input, 0), target.reshape(1)
    if input.ndim < 2 or target.shape != (input.shape[0],) + input.shape[2:]:
        raise ValueError(f"{name}: input of shape {input.shape} needs class-index targets of "
                         f"shape {(input.shape[0],) + input.shape[2:]}, got {target.shape}")
    if input.ndim > 2:
        input = reshape(transpose(flatten(input, 2), 1, 2), -1, input.shape[1])
        target = target.reshape(-1)
    n_classes = input.shape[1]
    if weight is not None:
        weight = np.asarray(weight.data if isinstance(weight, Tensor) else weight,
                            dtype=input.dtype)
        if weight.shape != (n_classes,):
            raise ValueError(f"{name}: weight must have shape ({n_classes},), got {weight.shape}")
    return input, target, weight, batch_shape


def _check_class_range(name: str, target: np.ndarray, n_classes: int,
                       ignore_index: int) -> int | None:
    """Raise for a target outside [0, n_classes) that is not ``ignore_index``. Returns
    ``ignore_index`` if some target equals it, else None (the loss op then skips the mask)."""
    if target.size == 0:
        return None
    lowest, highest = target.min(), target.max()
    if lowest >= 0 and highest < n_classes:
        if lowest <= ignore_index <= highest and (target == ignore_index).any():
            return ignore_index
        return None
    bad = (target != ignore_index) & ((target < 0) | (target >= n_classes))
    if bad.any():
        position = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{name}: target {int(target[position])} at position {position} is "
                         f"out of range for {n_classes} classes")
    return ignore_index


def cross_entropy(input: Tensor, target: ArrayLike, weight: ArrayLike | None = None,
                  ignore_index: int = -100, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """-log softmax(input)[target], from raw scores (N, C) and class indices (N,)."""
    _check_reduction("cross_entropy", reduction)
    if not 0 <= label_smoothing <= 1:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    logits, target, weight, batch_shape = _class_targets("cross_entropy", input, target, weight)
    ignore_index = _check_class_range("cross_entropy", target, logits.shape[1], ignore_index)
    loss = ops.CrossEntropy.apply(logits, target=target, weight=weight, ignore_index=ignore_index,
                                  reduction=reduction, label_smoothing=label_smoothing)
    return reshape(loss, batch_shape) if reduction == "none" else loss


def nll_loss(input: Tensor, target: ArrayLike, weight: ArrayLike | None = None,
             ignore_index: int = -100, reduction: str = "mean") -> Tensor:
    """-input[target] for log-probabilities (N, C) and class indices (N,)."""
    _check_reduction("nll_loss", reduction)
    log_probs, target, weight, batch_shape = _class_targets("nll_loss", input, target, weight)
    ignore_index = _check_class_range("nll_loss", target, log_probs.shape[1], ignore_index)
    loss = ops.NLLLoss.apply(log_probs, target=target, weight=weight, ignore_index=ignore_index,
                             reduction=reduction)
    return reshape(loss, batch_shape) if reduction == "none" else loss


# ---------------------------------------------- Tensor methods and operators
def _reflected(function: Any) -> Any:
    def reflected(self: Tensor, other: ArrayLike) -> Tensor:
        return function(other, self)

    return reflected


def _install_tensor_methods() -> None:
    methods = {
        "__add__": add, "__radd__": _reflected(add), "__sub__": sub, "__rsub__": _reflected(sub),
        "__mul__": mul, "__rmul__": _reflected(mul), "__truediv__": div,
        "__rtruediv__": _reflected(div), "__pow__": pow, "__rpow__": _reflected(pow),
        "__matmul__": matmul, "__rmatmul__": _reflected(matmul), "__neg__": neg,
        "__getitem__": getitem, "__eq__": eq, "__ne__": ne, "__lt__": lt, "__le__": le,
        "__gt__": gt, "__ge__": ge,
        "add": add, "sub": sub, "mul": mul, "div": div, "pow": pow, "matmul": matmul,
        "exp": exp, "log": log, "sqrt": sqrt, "abs": abs, "clip": clip, "clamp": clip,
        "maximum": maximum, "minimum": minimum, "relu": relu, "leaky_relu": leaky_relu,
        "sigmoid": sigmoid, "tanh": tanh, "softmax": softmax, "log_softmax": log_softmax,
        "sum": sum, "mean": mean, "max": max, "min": min, "amax": amax, "amin": amin,
        "argmax": argmax, "argmin": argmin, "gather": gather, "reshape": reshape,
        "view": reshape, "flatten": flatten, "squeeze": squeeze, "unsqueeze": unsqueeze,
        "permute": permute, "transpose": transpose, "to": to,
        "float": lambda self: to(self, np.float32), "double": lambda self: to(self, np.float64),
        "long": lambda self: to(self, np.int64), "int": lambda self: to(self, np.int32),
        "bool": lambda self: to(self, np.bool_),
        "eq": eq, "ne": ne, "lt": lt, "le": le, "gt": gt, "ge": ge,
        "__and__": logical_and, "__or__": logical_or, "__xor__": logical_xor,
        "__rand__": logical_and, "__ror__": logical_or, "__rxor__": logical_xor,
        "__invert__": logical_not, "logical_and": logical_and, "logical_or": logical_or,
        "logical_not": logical_not,
    }
    for name, function in methods.items():
        setattr(Tensor, name, function)
    Tensor.T = property(_reversed_dims)
    Tensor.any = lambda self: Tensor._make(np.any(self.data))
    Tensor.all = lambda self: Tensor._make(np.all(self.data))


_install_tensor_methods()
