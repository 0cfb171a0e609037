"""The functions behind ``Tensor.new_zeros``, ``new_ones``, ``new_empty``, ``new_full`` and
``new_tensor``: new tensors with the dtype of an existing one (PyTorch has them only as
methods). Every other Tensor method is declared in the Tensor class body (tensor.py) and calls
the function of the same name in this package."""

from __future__ import annotations

from typing import Any

import numpy as np

from scratchnn.device import check_device
from scratchnn.functional.args import shape_arg
from scratchnn.tensor import ArrayLike, Tensor


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
