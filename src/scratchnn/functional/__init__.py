"""The functional API (``import scratchnn.functional as F``), with PyTorch's names.

Each function checks and converts its arguments, then calls one op from ``scratchnn.ops``,
where the forward and backward math lives. The package is split by concern:

- ``args``: operands and dtype promotion, dims, shapes, the ``axis``/``keepdims`` aliases
- ``arithmetic``: ``add mul div pow matmul exp log ...``
- ``activations``: ``relu sigmoid softmax dropout linear ...``
- ``reductions``: ``sum mean max min argmax gather ...``
- ``shapes``: ``reshape squeeze permute getitem cat stack ...``
- ``comparisons``: ``eq lt logical_and ...``
- ``losses``: ``cross_entropy mse_loss ...`` with their argument checks
- ``methods``: the Tensor methods and operators, which are these same functions

Where PyTorch says ``dim``/``keepdim``, NumPy's ``axis``/``keepdims`` are accepted too.
"""

import sys

from scratchnn import tensor as _tensor_module
from scratchnn.functional.activations import (
    dropout,
    leaky_relu,
    linear,
    log_softmax,
    relu,
    sigmoid,
    softmax,
    tanh,
)
from scratchnn.functional.args import Dim, DimensionError, dim_aliases, shape_arg
from scratchnn.functional.arithmetic import (
    abs,
    add,
    clamp,
    clip,
    div,
    exp,
    log,
    matmul,
    maximum,
    minimum,
    mul,
    neg,
    pow,
    sqrt,
    sub,
    to,
    where,
)
from scratchnn.functional.comparisons import (
    eq,
    ge,
    gt,
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
)
from scratchnn.functional.methods import (  # noqa: F401 (_install_tensor_methods: old name)
    _install_tensor_methods,
    install_tensor_methods,
)
from scratchnn.functional.normalization import batch_norm, embedding, group_norm, layer_norm
from scratchnn.functional.reductions import (
    ValuesIndices,
    amax,
    amin,
    argmax,
    argmin,
    gather,
    max,
    mean,
    min,
    sum,
)
from scratchnn.functional.shapes import (
    cat,
    concatenate,
    flatten,
    getitem,
    index_put,
    permute,
    reshape,
    squeeze,
    stack,
    transpose,
    unsqueeze,
    view,
)

install_tensor_methods()

__all__ = [
    "adaptive_avg_pool2d", "avg_pool2d", "batch_norm", "conv1d", "conv2d", "conv_transpose2d",
    "dropout2d", "embedding", "fold", "group_norm", "layer_norm", "max_pool2d", "pad", "unfold",
    "REDUCTIONS", "Dim", "DimensionError", "ValuesIndices", "abs", "add", "amax", "amin",
    "argmax", "argmin", "binary_cross_entropy", "binary_cross_entropy_with_logits", "cat",
    "clamp", "clip", "concatenate", "cross_entropy", "dim_aliases", "div", "dropout", "eq",
    "exp", "flatten", "gather", "ge", "getitem", "index_put", "gt", "install_tensor_methods",
    "l1_loss",
    "le", "leaky_relu", "linear", "log", "log_softmax", "logical_and", "logical_not",
    "logical_or", "logical_xor", "lt", "matmul", "max", "maximum", "mean", "min", "minimum",
    "mse_loss", "mul", "ne", "neg", "nll_loss", "permute", "pow", "relu", "reshape",
    "shape_arg", "sigmoid", "softmax", "sqrt", "squeeze", "stack", "sub", "sum", "tanh", "to",
    "transpose", "unsqueeze", "view", "where",
]

# Tensor's methods call this API through the engine's reference to it (tensor.py sits below
# this package and never imports it).
_tensor_module._functional = sys.modules[__name__]
