"""Every differentiable op in scratchnn, each a :class:`~scratchnn.tensor.Function` whose
``forward`` and ``backward`` sit side by side. ``scratchnn.functional`` is the public face."""

from scratchnn.ops.conv import Conv2d, ConvTranspose2d, Fold, Unfold
from scratchnn.ops.elementwise import (
    Abs,
    Add,
    Cast,
    Clip,
    Div,
    Dropout,
    Exp,
    LeakyReLU,
    Log,
    Maximum,
    Minimum,
    Mul,
    Neg,
    Pow,
    ReLU,
    Sigmoid,
    Softplus,
    Sqrt,
    Sub,
    Tanh,
    Where,
)
from scratchnn.ops.index_put import IndexPut
from scratchnn.ops.loss import (
    BinaryCrossEntropy,
    BinaryCrossEntropyWithLogits,
    CrossEntropy,
    NLLLoss,
)
from scratchnn.ops.math import (
    Acos,
    Asin,
    Atan,
    Atan2,
    Clone,
    Cos,
    Cosh,
    Erf,
    Expm1,
    Log1p,
    NanToNum,
    Piecewise,
    Sin,
    Sinh,
    Tan,
)
from scratchnn.ops.matmul import Linear, MatMul
from scratchnn.ops.norm import BatchNorm, Embedding, GroupNorm, LayerNorm
from scratchnn.ops.padding import Pad
from scratchnn.ops.pool import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d
from scratchnn.ops.reduce import (
    Amax,
    Amin,
    Cumsum,
    Gather,
    LogSoftmax,
    Mean,
    Norm,
    Prod,
    Softmax,
    Std,
    Sum,
    Var,
)
from scratchnn.ops.shape import Cat, Expand, Flip, GetItem, Permute, Repeat, Reshape, Stack

__all__ = [
    "Abs", "Add", "Amax", "Amin", "BinaryCrossEntropy", "BinaryCrossEntropyWithLogits", "Cast",
    "Cat", "Clip", "CrossEntropy", "Div", "Dropout", "Exp", "Gather", "GetItem", "IndexPut",
    "LeakyReLU",
    "Linear", "Log", "LogSoftmax", "MatMul", "Maximum", "Mean", "Minimum", "Mul", "NLLLoss",
    "Neg", "Permute", "Pow", "ReLU", "Reshape", "Sigmoid", "Softmax", "Sqrt", "Stack", "Sub",
    "Sum", "Tanh", "Where",
    # the everyday API's ops (ops/math.py, and reduce.py and shape.py)
    "Acos", "Asin", "Atan", "Atan2", "Clone", "Cos", "Cosh", "Cumsum", "Erf", "Expand", "Expm1",
    "Flip", "Log1p", "NanToNum", "Norm", "Piecewise", "Prod", "Repeat", "Sin", "Sinh", "Tan",
    "Var", "Softplus", "Std",
    # convolutional networks (ops/conv.py, pool.py, norm.py, padding.py)
    "AdaptiveAvgPool2d", "AvgPool2d", "BatchNorm", "Conv2d", "ConvTranspose2d", "Embedding",
    "Fold", "GroupNorm", "LayerNorm", "MaxPool2d", "Pad", "Unfold",
]
