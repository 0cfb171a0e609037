"""``scratchnn.nn``: modules, layers, losses and initialisers, named as in ``torch.nn``.

    from scratchnn import nn
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
    loss = nn.CrossEntropyLoss()(model(x), y)
"""

from scratchnn.nn import functional, init, parallel, utils
from scratchnn.nn.conv import Conv1d, Conv2d, ConvTranspose2d
from scratchnn.nn.dropout import Dropout2d
from scratchnn.nn.embedding import Embedding
from scratchnn.nn.layers import (
    ELU,
    GELU,
    Dropout,
    Flatten,
    Identity,
    LeakyReLU,
    Linear,
    LogSoftmax,
    ModuleDict,
    ModuleList,
    ParameterList,
    ReLU,
    Sequential,
    Sigmoid,
    SiLU,
    Softmax,
    Softplus,
    Tanh,
)
from scratchnn.nn.loss import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
)
from scratchnn.nn.module import IncompatibleKeys, Module, Parameter, StateDictError
from scratchnn.nn.normalization import BatchNorm1d, BatchNorm2d, GroupNorm, LayerNorm
from scratchnn.nn.pooling import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d

__all__ = [
    "Softplus",
    "SiLU",
    "GELU",
    "ELU",
    "AdaptiveAvgPool2d",
    "AvgPool2d",
    "BatchNorm1d",
    "BatchNorm2d",
    "Conv1d",
    "Conv2d",
    "ConvTranspose2d",
    "Dropout2d",
    "Embedding",
    "GroupNorm",
    "LayerNorm",
    "MaxPool2d",
    "BCELoss",
    "BCEWithLogitsLoss",
    "CrossEntropyLoss",
    "Dropout",
    "Flatten",
    "Identity",
    "IncompatibleKeys",
    "L1Loss",
    "LeakyReLU",
    "Linear",
    "LogSoftmax",
    "MSELoss",
    "Module",
    "ModuleDict",
    "ModuleList",
    "ParameterList",
    "NLLLoss",
    "Parameter",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Softmax",
    "StateDictError",
    "Tanh",
    "functional",
    "init",
    "parallel",
    "utils",
]
