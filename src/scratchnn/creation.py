"""Ways to make tensors, with PyTorch's names and keywords (``dtype=``, ``device=``,
``requires_grad=``). Random ones draw from ``scratchnn.random``. ``device`` may only be the CPU
(``'cpu'``, ``scratchnn.device('cpu')`` or None): anything else is a clear error."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from scratchnn.device import check_device
from scratchnn.dtypes import (  # noqa: F401 (re-exported: scratchnn.creation.float32, ...)
    bool_,
    double,
    float,
    float32,
    float64,
    int32,
    int64,
    long,
)
from scratchnn.functional.args import shape_arg
from scratchnn.random import generator
from scratchnn.tensor import ArrayLike, Tensor

Size = int | Sequence[int]


def _dtype(dtype: Any, default: Any) -> np.dtype:
    """``dtype`` (a NumPy type, a scratchnn dtype, a Python type or a name) as a NumPy dtype."""
    try:
        return np.dtype(default if dtype is None else dtype)
    except TypeError:
        raise TypeError(f"not a dtype: {dtype!r} (use e.g. scratchnn.float32)") from None


def _finish(array: np.ndarray, device: Any, requires_grad: bool) -> Tensor:
    """The new tensor around ``array`` (no copy), after checking the device."""
    check_device(device)
    tensor = Tensor._make(array)
    if requires_grad:
        tensor.requires_grad_(True)
    return tensor


def _size_keyword(name: str, kwargs: dict[str, Any]) -> Size | None:
    """PyTorch's ``size=`` keyword (the signature's ``*size`` cannot also name it); any other
    unknown keyword is an error, not silently ignored."""
    size = kwargs.pop("size", None)
    if kwargs:
        raise TypeError(f"{name}: unexpected keyword arguments {sorted(kwargs)}")
    return size


def _size(name: str, shape: tuple, size: Size | None) -> tuple[int, ...]:
    """``f(2, 3)``, ``f((2, 3))`` or ``f(size=(2, 3))`` as a shape tuple."""
    if size is not None:
        if shape:
            raise TypeError(f"{name}: the size is given twice (positionally and as size=)")
        shape = (size,) if isinstance(size, int | np.integer) else (tuple(size),)
    dims = shape_arg(shape)
    if any(d < 0 for d in dims):
        raise ValueError(f"{name}: sizes must be non-negative, got {dims}")
    return dims


def tensor(data: ArrayLike, dtype: Any = None, device: Any = None,
           requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (float64 data becomes float32 unless
    ``dtype`` says otherwise: see the README)."""
    check_device(device)
    if isinstance(data, Tensor):
        data = data.data
    return Tensor(np.array(data, dtype=dtype), requires_grad=requires_grad, dtype=dtype)


def as_tensor(data: ArrayLike, dtype: Any = None, device: Any = None) -> Tensor:
    """``data`` as a tensor without copying when possible: a Tensor is returned as is, a NumPy
    array of the requested (or any, when dtype is None) dtype is shared, as in PyTorch."""
    check_device(device)
    if isinstance(data, Tensor):
        return data if dtype is None or np.dtype(dtype) == data.dtype else data.to(dtype)
    if isinstance(data, np.ndarray) and data.dtype.kind in "biuf":
        wanted = data.dtype if dtype is None else np.dtype(dtype)
        return Tensor._make(data if wanted == data.dtype else data.astype(wanted))
    return Tensor(data, dtype=dtype)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing ``array``'s memory and dtype (changes to one show in the other)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a NumPy array, got {type(array).__name__}")
    if array.dtype.kind not in "biuf":
        raise TypeError(f"from_numpy: unsupported dtype {array.dtype} (numbers or booleans)")
    return Tensor._make(array)


def _filled(name: str, fill: Any, shape: tuple, size: Size | None, dtype: Any, device: Any,
            requires_grad: bool, default: Any = np.float32) -> Tensor:
    array = np.full(_size(name, shape, size), fill, dtype=_dtype(dtype, default))
    return _finish(array, device, requires_grad)


def zeros(*size: Size, dtype: Any = None, device: Any = None, requires_grad: bool = False,
          **kwargs: Any) -> Tensor:
    """A tensor of zeros: ``zeros(2, 3)`` or ``zeros((2, 3))``; float32 by default."""
    return _filled("zeros", 0, size, _size_keyword("zeros", kwargs), dtype, device, requires_grad)


def ones(*size: Size, dtype: Any = None, device: Any = None, requires_grad: bool = False,
         **kwargs: Any) -> Tensor:
    """A tensor of ones: ``ones(2, 3)`` or ``ones((2, 3))``; float32 by default."""
    return _filled("ones", 1, size, _size_keyword("ones", kwargs), dtype, device, requires_grad)


def empty(*size: Size, dtype: Any = None, device: Any = None, requires_grad: bool = False,
          **kwargs: Any) -> Tensor:
    """A tensor whose values are whatever the memory held (fill it before reading)."""
    shape = _size("empty", size, _size_keyword("empty", kwargs))
    return _finish(np.empty(shape, dtype=_dtype(dtype, np.float32)), device, requires_grad)


def full(size: Size, fill_value: float | bool, dtype: Any = None, device: Any = None,
         requires_grad: bool = False) -> Tensor:
    """A tensor filled with ``fill_value``; its dtype follows the value as in PyTorch
    (bool -> bool, int -> int64, float -> float32) unless ``dtype`` is given."""
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    default = (np.bool_ if isinstance(fill_value, bool | np.bool_) else
               np.int64 if isinstance(fill_value, int | np.integer) else np.float32)
    return _filled("full", fill_value, (), size, dtype, device, requires_grad, default)


def _like(name: str, other: Tensor, dtype: Any) -> tuple[tuple[int, ...], np.dtype]:
    if not isinstance(other, Tensor):
        raise TypeError(f"{name}: expected a Tensor, got {type(other).__name__}")
    return other.shape, _dtype(dtype, other.dtype)


def zeros_like(input: Tensor, dtype: Any = None, device: Any = None,  # noqa: A002
               requires_grad: bool = False) -> Tensor:
    """Zeros of ``input``'s shape (and dtype unless given)."""
    shape, kind = _like("zeros_like", input, dtype)
    return _finish(np.zeros(shape, dtype=kind), device, requires_grad)


def ones_like(input: Tensor, dtype: Any = None, device: Any = None,  # noqa: A002
              requires_grad: bool = False) -> Tensor:
    """Ones of ``input``'s shape (and dtype unless given)."""
    shape, kind = _like("ones_like", input, dtype)
    return _finish(np.ones(shape, dtype=kind), device, requires_grad)


def empty_like(input: Tensor, dtype: Any = None, device: Any = None,  # noqa: A002
               requires_grad: bool = False) -> Tensor:
    """An uninitialised tensor of ``input``'s shape (and dtype unless given)."""
    shape, kind = _like("empty_like", input, dtype)
    return _finish(np.empty(shape, dtype=kind), device, requires_grad)


def full_like(input: Tensor, fill_value: float | bool, dtype: Any = None,  # noqa: A002
              device: Any = None, requires_grad: bool = False) -> Tensor:
    """``fill_value`` in ``input``'s shape (and dtype unless given)."""
    shape, kind = _like("full_like", input, dtype)
    return _finish(np.full(shape, fill_value, dtype=kind), device, requires_grad)


def _float_dtype(name: str, dtype: Any, default: Any = np.float32) -> np.dtype:
    kind = _dtype(dtype, default)
    if kind.kind != "f":
        raise TypeError(f"{name}: needs a floating-point dtype, got {kind}")
    return kind


def randn(*size: Size, dtype: Any = None, device: Any = None, requires_grad: bool = False,
          **kwargs: Any) -> Tensor:
    """Standard normal samples."""
    shape = _size("randn", size, _size_keyword("randn", kwargs))
    kind = _float_dtype("randn", dtype)
    array = generator().standard_normal(shape, dtype=np.float64).astype(kind, copy=False) \
        if kind == np.float16 else generator().standard_normal(shape, dtype=kind)
    return _finish(array, device, requires_grad)


def rand(*size: Size, dtype: Any = None, device: Any = None, requires_grad: bool = False,
         **kwargs: Any) -> Tensor:
    """Uniform samples in [0, 1)."""
    shape = _size("rand", size, _size_keyword("rand", kwargs))
    kind = _float_dtype("rand", dtype)
    array = generator().random(shape, dtype=np.float64).astype(kind, copy=False) \
        if kind == np.float16 else generator().random(shape, dtype=kind)
    return _finish(array, device, requires_grad)


def randn_like(input: Tensor, dtype: Any = None, device: Any = None,  # noqa: A002
               requires_grad: bool = False) -> Tensor:
    """Standard normal samples in ``input``'s shape (and dtype unless given)."""
    shape, kind = _like("randn_like", input, dtype)
    return randn(shape, dtype=kind, device=device, requires_grad=requires_grad)


def rand_like(input: Tensor, dtype: Any = None, device: Any = None,  # noqa: A002
              requires_grad: bool = False) -> Tensor:
    """Uniform samples in [0, 1) in ``input``'s shape (and dtype unless given)."""
    shape, kind = _like("rand_like", input, dtype)
    return rand(shape, dtype=kind, device=device, requires_grad=requires_grad)


def randint(*args: Any, size: Size | None = None, dtype: Any = None, device: Any = None,
            requires_grad: bool = False) -> Tensor:
    """Integers drawn uniformly from [low, high): ``randint(high, size)`` or
    ``randint(low, high, size)``, as in PyTorch (int64 by default)."""
    if size is not None:
        args = (*args, size)
    if len(args) == 2:
        low, (high, shape) = 0, args
    elif len(args) == 3:
        low, high, shape = args
    else:
        raise TypeError("randint: expected randint(high, size) or randint(low, high, size), "
                        f"got {len(args)} arguments")
    if not high > low:
        raise ValueError(f"randint: high ({high}) must be greater than low ({low})")
    shape = (shape,) if isinstance(shape, int | np.integer) else tuple(shape)
    array = generator().integers(low, high, size=shape, dtype=np.int64)
    return _finish(array.astype(_dtype(dtype, np.int64), copy=False), device, requires_grad)


def randint_like(input: Tensor, low: int = 0, high: int | None = None,  # noqa: A002
                 dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """``randint`` in ``input``'s shape: ``randint_like(x, high)`` or ``(x, low, high)``."""
    shape, kind = _like("randint_like", input, dtype)
    if high is None:
        low, high = 0, low
    return randint(low, high, shape, dtype=kind, device=device, requires_grad=requires_grad)


def randperm(n: int, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    """A random permutation of 0 .. n-1 (int64 by default)."""
    array = generator().permutation(n).astype(_dtype(dtype, np.int64), copy=False)
    return _finish(array, device, requires_grad)


def arange(start: float, end: float | None = None, step: float = 1, dtype: Any = None,
           device: Any = None, requires_grad: bool = False) -> Tensor:
    """Like torch.arange: integers stay int64, a float bound gives float32."""
    check_device(device)
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError("arange: step must be nonzero")
    array = np.arange(start, end, step, dtype=dtype)
    if dtype is None and array.dtype.kind == "i":
        array = array.astype(np.int64, copy=False)
    return Tensor(array, requires_grad=requires_grad, dtype=dtype)


def linspace(start: float, end: float, steps: int, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    """``steps`` evenly spaced values from start to end, both included (float32 default)."""
    if steps < 0:
        raise ValueError(f"linspace: steps must be non-negative, got {steps}")
    values = np.linspace(start, end, int(steps), dtype=np.float64)
    kind = _dtype(dtype, np.float32)
    if kind.kind in "iu":
        values = np.trunc(values)
    return _finish(values.astype(kind), device, requires_grad)


def logspace(start: float, end: float, steps: int, base: float = 10.0, dtype: Any = None,
             device: Any = None, requires_grad: bool = False) -> Tensor:
    """base ** linspace(start, end, steps)  (float32 default)."""
    if steps < 0:
        raise ValueError(f"logspace: steps must be non-negative, got {steps}")
    values = float64(base) ** np.linspace(start, end, int(steps), dtype=np.float64)
    kind = _dtype(dtype, np.float32)
    if kind.kind in "iu":
        values = np.trunc(values)
    return _finish(values.astype(kind), device, requires_grad)


def eye(n: int, m: int | None = None, dtype: Any = None, device: Any = None,
        requires_grad: bool = False) -> Tensor:
    """The n x m identity matrix (m = n by default); float32 by default."""
    return _finish(np.eye(n, m, dtype=_dtype(dtype, np.float32)), device, requires_grad)
