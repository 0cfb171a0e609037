"""Tensor methods and operators: the functional API attached to ``Tensor`` (``a + b``,
``x.sum(dim=1)``, ``x.relu()``). Temporary: these move into the Tensor class body."""

from __future__ import annotations

from typing import Any

import numpy as np

from scratchnn.device import check_device
from scratchnn.functional import activations as act
from scratchnn.functional import arithmetic as ar
from scratchnn.functional import comparisons as cmp
from scratchnn.functional import reductions as red
from scratchnn.functional import shapes as sh
from scratchnn.functional import sorting as srt
from scratchnn.functional.args import shape_arg
from scratchnn.tensor import ArrayLike, Tensor


def reflected(function: Any) -> Any:
    """``function`` with its two operands swapped (for ``__radd__`` and friends)."""
    def reflected_operator(self: Tensor, other: ArrayLike) -> Tensor:
        return function(other, self)

    reflected_operator.__name__ = f"r{function.__name__}"
    return reflected_operator


# name -> function; extended by the modules that add ops (see install_tensor_methods)
METHODS: dict[str, Any] = {
    "__add__": ar.add, "__radd__": reflected(ar.add), "__sub__": ar.sub,
    "__rsub__": reflected(ar.sub), "__mul__": ar.mul, "__rmul__": reflected(ar.mul),
    "__truediv__": ar.div, "__rtruediv__": reflected(ar.div), "__pow__": ar.pow,
    "__rpow__": reflected(ar.pow), "__matmul__": ar.matmul, "__rmatmul__": reflected(ar.matmul),
    "__neg__": ar.neg, "__getitem__": sh.getitem, "__eq__": cmp.eq, "__ne__": cmp.ne,
    "__lt__": cmp.lt, "__le__": cmp.le, "__gt__": cmp.gt, "__ge__": cmp.ge,
    "add": ar.add, "sub": ar.sub, "mul": ar.mul, "div": ar.div, "pow": ar.pow,
    "matmul": ar.matmul, "exp": ar.exp, "log": ar.log, "sqrt": ar.sqrt, "abs": ar.abs,
    "clip": ar.clip, "clamp": ar.clip, "maximum": ar.maximum, "minimum": ar.minimum,
    "relu": act.relu, "leaky_relu": act.leaky_relu, "sigmoid": act.sigmoid, "tanh": act.tanh,
    "softmax": act.softmax, "log_softmax": act.log_softmax,
    "sum": red.sum, "mean": red.mean, "max": red.max, "min": red.min, "amax": red.amax,
    "amin": red.amin, "argmax": red.argmax, "argmin": red.argmin, "gather": red.gather,
    "reshape": sh.reshape, "view": sh.reshape, "flatten": sh.flatten, "squeeze": sh.squeeze,
    "unsqueeze": sh.unsqueeze, "permute": sh.permute, "transpose": sh.transpose, "to": ar.to,
    "float": lambda self: ar.to(self, np.float32), "double": lambda self: ar.to(self, np.float64),
    "long": lambda self: ar.to(self, np.int64), "int": lambda self: ar.to(self, np.int32),
    "bool": lambda self: ar.to(self, np.bool_),
    "eq": cmp.eq, "ne": cmp.ne, "lt": cmp.lt, "le": cmp.le, "gt": cmp.gt, "ge": cmp.ge,
    "__and__": cmp.logical_and, "__or__": cmp.logical_or, "__xor__": cmp.logical_xor,
    "__rand__": cmp.logical_and, "__ror__": cmp.logical_or, "__rxor__": cmp.logical_xor,
    "__invert__": cmp.logical_not, "logical_and": cmp.logical_and, "logical_or": cmp.logical_or,
    "logical_not": cmp.logical_not,
    "any": lambda self: Tensor._make(np.any(self.data)),
    "all": lambda self: Tensor._make(np.all(self.data)),
}


# ------------------------------------------------------- new tensors like this one
def _new(self: Tensor, array: np.ndarray, device: Any, requires_grad: bool) -> Tensor:
    check_device(device)
    out = Tensor._make(array)
    return out.requires_grad_(True) if requires_grad else out


def new_zeros(self: Tensor, *size: Any, dtype: Any = None, device: Any = None,
              requires_grad: bool = False) -> Tensor:
    """Zeros of ``size`` with this tensor's dtype (unless ``dtype`` is given)."""
    return _new(self, np.zeros(shape_arg(size), dtype=dtype or self.dtype), device, requires_grad)


def new_ones(self: Tensor, *size: Any, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    """Ones of ``size`` with this tensor's dtype (unless ``dtype`` is given)."""
    return _new(self, np.ones(shape_arg(size), dtype=dtype or self.dtype), device, requires_grad)


def new_empty(self: Tensor, *size: Any, dtype: Any = None, device: Any = None,
              requires_grad: bool = False) -> Tensor:
    """An uninitialised tensor of ``size`` with this tensor's dtype (unless given)."""
    return _new(self, np.empty(shape_arg(size), dtype=dtype or self.dtype), device, requires_grad)


def new_full(self: Tensor, size: Any, fill_value: Any, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    """``fill_value`` in ``size`` with this tensor's dtype (unless ``dtype`` is given)."""
    return _new(self, np.full(shape_arg((size,)), fill_value, dtype=dtype or self.dtype), device,
                requires_grad)


def new_tensor(self: Tensor, data: ArrayLike, dtype: Any = None, device: Any = None,
               requires_grad: bool = False) -> Tensor:
    """A copy of ``data`` as a tensor with this tensor's dtype (unless ``dtype`` is given)."""
    if isinstance(data, Tensor):
        data = data.data
    return _new(self, np.array(data, dtype=dtype or self.dtype), device, requires_grad)


def tensor_where(self: Tensor, condition: ArrayLike, other: ArrayLike) -> Tensor:
    """``x.where(condition, y)``: x where condition, else y (torch.where(condition, x, y))."""
    return ar.where(condition, self, other)


METHODS.update({
    "sin": ar.sin, "cos": ar.cos, "tan": ar.tan, "asin": ar.asin, "acos": ar.acos,
    "atan": ar.atan, "arcsin": ar.asin, "arccos": ar.acos, "arctan": ar.atan,
    "atan2": ar.atan2, "arctan2": ar.atan2, "sinh": ar.sinh, "cosh": ar.cosh,
    "log1p": ar.log1p, "expm1": ar.expm1, "erf": ar.erf, "reciprocal": ar.reciprocal,
    "rsqrt": ar.rsqrt, "square": ar.square, "floor": ar.floor, "ceil": ar.ceil,
    "round": ar.round, "trunc": ar.trunc, "sign": ar.sign, "nan_to_num": ar.nan_to_num,
    "masked_fill": ar.masked_fill, "clone": ar.clone, "contiguous": ar.contiguous,
    "where": tensor_where,
    "prod": red.prod, "cumsum": red.cumsum, "var": red.var, "std": red.std, "norm": red.norm,
    "sort": srt.sort, "argsort": srt.argsort, "topk": srt.topk, "kthvalue": srt.kthvalue,
    "view_as": sh.view_as, "expand": sh.expand, "expand_as": sh.expand_as,
    "repeat": sh.repeat, "t": sh.t, "narrow": sh.narrow, "split": sh.split,
    "chunk": sh.chunk, "flip": sh.flip,
    "isclose": cmp.isclose, "allclose": cmp.allclose, "equal": cmp.equal,
    "isnan": cmp.isnan, "isinf": cmp.isinf, "isfinite": cmp.isfinite,
    "new_zeros": new_zeros, "new_ones": new_ones, "new_empty": new_empty,
    "new_full": new_full, "new_tensor": new_tensor,
    "is_floating_point": lambda self: self.data.dtype.kind == "f",
    "__abs__": ar.abs,
})
PROPERTIES: dict[str, Any] = {"T": sh.reversed_dims}


def install_tensor_methods(methods: dict[str, Any] | None = None) -> None:
    """Attach ``methods`` (default: all of METHODS and PROPERTIES) to Tensor."""
    for name, function in (METHODS if methods is None else methods).items():
        if name not in Tensor.__dict__:  # the class body's own methods come first
            setattr(Tensor, name, function)
    if methods is None:
        for name, getter in PROPERTIES.items():
            if name not in Tensor.__dict__:
                setattr(Tensor, name, property(getter))


_install_tensor_methods = install_tensor_methods  # the old name, until tensor.py has them
