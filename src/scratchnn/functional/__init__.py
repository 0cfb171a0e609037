"""The functional API (``import scratchnn.functional as F``), with PyTorch's names.

Each function checks and converts its arguments, then calls one op from ``scratchnn.ops``,
where the forward and backward math lives. The package is split by concern:

- ``args``: operands and dtype promotion, dims, shapes, the ``axis``/``keepdims`` aliases
- ``arithmetic``: ``add mul div pow matmul exp log sin ... floor round masked_fill clone``
- ``activations``: ``relu sigmoid softmax dropout linear ...``
- ``reductions``: ``sum mean max min argmax gather prod cumsum var std norm``
- ``shapes``: ``reshape squeeze permute getitem cat stack ...``
- ``sorting``: ``sort argsort topk kthvalue`` ((values, indices), stable)
- ``comparisons``: ``eq lt logical_and ...``
- ``losses``: ``cross_entropy mse_loss ...`` with their argument checks
- ``new``: ``new_zeros new_ones new_empty new_full new_tensor`` (behind the Tensor methods)

Every Tensor method and operator is declared in the Tensor class body and calls the function
of the same name here.

Where PyTorch says ``dim``/``keepdim``, NumPy's ``axis``/``keepdims`` are accepted too.
"""

import sys

from scratchnn import tensor as _tensor_module
from scratchnn.functional.activations import (
    dropout,
    elu,
    gelu,
    leaky_relu,
    linear,
    log_softmax,
    relu,
    sigmoid,
    silu,
    softmax,
    softplus,
    tanh,
)
from scratchnn.functional.args import Dim, DimensionError, dim_aliases, shape_arg
from scratchnn.functional.arithmetic import (
    abs,
    acos,
    add,
    arccos,
    arcsin,
    arctan,
    arctan2,
    asin,
    atan,
    atan2,
    bmm,
    ceil,
    clamp,
    clip,
    clone,
    contiguous,
    cos,
    cosh,
    div,
    erf,
    exp,
    expm1,
    floor,
    log,
    log1p,
    masked_fill,
    matmul,
    maximum,
    minimum,
    mm,
    mul,
    nan_to_num,
    neg,
    outer,
    pow,
    reciprocal,
    round,
    rsqrt,
    sign,
    sin,
    sinh,
    sqrt,
    square,
    sub,
    tan,
    to,
    trunc,
    where,
)
from scratchnn.functional.comparisons import (
    allclose,
    eq,
    equal,
    ge,
    gt,
    isclose,
    isfinite,
    isinf,
    isnan,
    le,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    lt,
    ne,
)
from scratchnn.functional.conv import (
    adaptive_avg_pool2d,
    avg_pool2d,
    conv1d,
    conv2d,
    conv_transpose2d,
    dropout2d,
    fold,
    max_pool2d,
    pad,
    unfold,
)
from scratchnn.functional.losses import (
    REDUCTIONS,
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    l1_loss,
    mse_loss,
    nll_loss,
    one_hot,
)
from scratchnn.functional.new import (
    new_empty,
    new_full,
    new_ones,
    new_tensor,
    new_zeros,
)
from scratchnn.functional.normalization import batch_norm, embedding, group_norm, layer_norm
from scratchnn.functional.reductions import (
    ValuesIndices,
    amax,
    amin,
    argmax,
    argmin,
    cumsum,
    gather,
    logsumexp,
    max,
    mean,
    min,
    norm,
    prod,
    std,
    sum,
    var,
)
from scratchnn.functional.shapes import (
    cat,
    chunk,
    concatenate,
    expand,
    expand_as,
    flatten,
    flip,
    getitem,
    index_put,
    narrow,
    permute,
    repeat,
    reshape,
    split,
    squeeze,
    stack,
    t,
    torch_index_target,
    transpose,
    unsqueeze,
    view,
    view_as,
)
from scratchnn.functional.sorting import argsort, kthvalue, sort, topk

__all__ = [
    "new_empty", "new_full", "new_ones", "new_tensor", "new_zeros",
    "Dim", "DimensionError", "REDUCTIONS", "ValuesIndices", "abs", "acos", "adaptive_avg_pool2d",
    "add", "allclose", "amax", "amin", "arccos", "arcsin", "arctan", "arctan2", "argmax", "argmin",
    "argsort", "asin", "atan", "atan2", "avg_pool2d", "batch_norm", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "cat", "ceil", "chunk", "clamp", "clip", "clone",
    "concatenate", "contiguous", "conv1d", "conv2d", "conv_transpose2d", "cos", "cosh",
    "cross_entropy", "cumsum", "dim_aliases", "div", "dropout", "dropout2d", "embedding", "eq",
    "equal", "erf", "exp", "expand", "expand_as", "expm1", "flatten", "flip", "floor", "fold",
    "gather", "ge", "getitem", "group_norm", "gt", "index_put", "torch_index_target", "isclose",
    "isfinite", "isinf", "isnan", "kthvalue", "l1_loss", "layer_norm", "le", "leaky_relu", "linear",
    "log", "log1p", "log_softmax", "logical_and", "logical_not", "logical_or", "logical_xor", "lt",
    "masked_fill", "matmul", "max", "max_pool2d", "maximum", "mean", "min", "minimum", "mse_loss",
    "mul", "nan_to_num", "narrow", "ne", "neg", "nll_loss", "norm", "one_hot", "pad", "permute",
    "pow", "prod", "reciprocal", "relu", "repeat", "reshape", "round", "rsqrt", "shape_arg",
    "sigmoid", "sign", "sin", "sinh", "softmax", "sort", "split", "sqrt", "square", "squeeze",
    "stack", "std", "sub", "sum", "t", "tan", "tanh", "to", "topk", "transpose", "trunc", "unfold",
    "unsqueeze", "var", "view", "view_as", "where",
    "bmm", "elu", "gelu", "logsumexp", "mm", "outer", "silu", "softplus",
]

# Tensor's methods call this API through the engine's reference to it (tensor.py sits below
# this package and never imports it).
_tensor_module._functional = sys.modules[__name__]
