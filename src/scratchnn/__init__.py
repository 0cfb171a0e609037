"""scratchnn: a neural-network library written from scratch on NumPy.

Tensors with reverse-mode automatic differentiation (``scratchnn.Tensor``), the functional
API (``scratchnn.functional``), layers and losses (``scratchnn.nn``), optimizers
(``scratchnn.optim``) and data loading (``scratchnn.data``), named as in PyTorch.
"""

# The training workflow too: scratchnn.train (fit, evaluate), callbacks, metrics, plot (which
# imports matplotlib only when a plot is drawn) and viz (graph).
from scratchnn import (
    allocator,
    autograd,
    callbacks,
    data,
    functional,
    metrics,
    nn,
    optim,
    plot,
    summary,  # the module (a leaf): scratchnn.summary.summary(model, input_shape)
    train,
    utils,
    viz,
)
from scratchnn.creation import (
    arange,
    bool_,
    double,
    eye,
    float,
    float32,
    float64,
    full,
    int32,
    int64,
    long,
    ones,
    ones_like,
    rand,
    randint,
    randn,
    randperm,
    tensor,
    zeros,
    zeros_like,
)
from scratchnn.device import cuda, device
from scratchnn.functional import (
    abs,
    amax,
    amin,
    argmax,
    argmin,
    cat,
    clamp,
    clip,
    exp,
    flatten,
    gather,
    log,
    matmul,
    max,
    maximum,
    mean,
    min,
    minimum,
    permute,
    reshape,
    sigmoid,
    softmax,
    sqrt,
    squeeze,
    stack,
    sum,
    tanh,
    transpose,
    unsqueeze,
    where,
)
from scratchnn.gradcheck import GradcheckError, gradcheck
from scratchnn.predictor import Predictor, load_model
from scratchnn.random import get_rng_state, manual_seed, set_rng_state
from scratchnn.serialization import (
    CheckpointError,
    load,
    load_checkpoint,
    save,
    save_checkpoint,
)
from scratchnn.tensor import (
    Function,
    Tensor,
    enable_grad,
    is_grad_enabled,
    no_grad,
    unbroadcast,
)

# isort: split
# The everyday tensor API at the top level, as torch.* (issue 8): creation, dtypes, math
from scratchnn.creation import (
    as_tensor,
    empty,
    empty_like,
    from_numpy,
    full_like,
    linspace,
    logspace,
    rand_like,
    randint_like,
    randn_like,
)
from scratchnn.dtypes import bool, float16, half, int, int8, int16, short, uint8
from scratchnn.functional import (
    acos,
    allclose,
    argsort,
    asin,
    atan,
    atan2,
    bmm,
    ceil,
    chunk,
    clone,
    cos,
    cosh,
    cumsum,
    equal,
    erf,
    expm1,
    flip,
    floor,
    isclose,
    isfinite,
    isinf,
    isnan,
    kthvalue,
    log1p,
    log_softmax,
    logsumexp,
    masked_fill,
    mm,
    nan_to_num,
    narrow,
    norm,
    outer,
    prod,
    reciprocal,
    round,
    rsqrt,
    sign,
    sin,
    sinh,
    sort,
    split,
    square,
    std,
    t,
    tan,
    topk,
    trunc,
    var,
)

__version__ = "0.1.0"

__all__ = [
    "autograd", "cuda", "device", "utils",
    "CheckpointError", "Function", "GradcheckError", "Tensor", "load", "load_checkpoint",
    "load_model", "Predictor",
    "save", "save_checkpoint", "summary", "callbacks", "data", "metrics", "nn", "optim", "plot",
    "train", "viz", "allocator", "abs", "amax", "amin",
    "arange", "argmax", "argmin",
    "bool_", "cat", "clamp", "clip", "double", "enable_grad", "exp", "eye", "flatten", "float",
    "float32", "float64", "full", "functional", "gather", "get_rng_state", "gradcheck",
    "int32", "int64", "is_grad_enabled", "log", "long", "manual_seed", "matmul", "max",
    "maximum", "mean", "min", "minimum", "no_grad", "ones", "ones_like", "permute", "rand",
    "randint", "randn", "randperm", "reshape", "set_rng_state", "sigmoid", "softmax", "sqrt",
    "squeeze", "stack", "sum", "tanh", "tensor", "transpose", "unbroadcast", "unsqueeze",
    "where", "zeros", "zeros_like",
    # the everyday tensor API (issue 8)
    "acos", "allclose", "argsort", "as_tensor", "asin", "atan", "atan2", "bool", "ceil",
    "chunk", "clone", "cos", "cosh", "cumsum", "empty", "empty_like", "equal", "erf", "expm1",
    "flip", "float16", "floor", "from_numpy", "full_like", "half", "int", "int8", "int16",
    "isclose", "isfinite", "isinf", "isnan", "kthvalue", "linspace", "log1p", "logspace",
    "masked_fill", "nan_to_num", "narrow", "norm", "prod", "rand_like", "randint_like",
    "randn_like", "reciprocal", "round", "rsqrt", "short", "sign", "sin", "sinh", "sort",
    "split", "square", "std", "t", "tan", "topk", "trunc", "uint8", "var",
    "bmm", "log_softmax", "logsumexp", "mm", "outer",
]
