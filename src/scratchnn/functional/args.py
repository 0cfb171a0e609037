"""Argument handling shared by the functional API: operands and dtype promotion, dims, shapes,
and the one place where NumPy's ``axis=``/``keepdims=`` become PyTorch's ``dim=``/``keepdim=``."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import numpy as np

from scratchnn.tensor import ArrayLike, Tensor, as_tensor

Dim = int | Sequence[int] | None
FunctionType = TypeVar("FunctionType", bound=Callable[..., Any])

# NumPy's spelling -> PyTorch's, for every function decorated with dim_aliases
ALIASES = {"axis": "dim", "keepdims": "keepdim"}


class _Missing:
    """The default of a wrapper parameter: tells "not passed" from any value."""

    def __repr__(self) -> str:
        return "<not given>"


MISSING = _Missing()


def dim_aliases(function: FunctionType) -> FunctionType:
    """Let ``function`` (whose signature is PyTorch's: ``dim``, ``keepdim``) also take NumPy's
    ``axis=`` and ``keepdims=``. The signature ``help()`` shows stays PyTorch's.

    The wrapper is generated from ``function``'s own parameter list plus ``axis``/``keepdims``
    (a generic ``*args, **kwargs`` wrapper costs several times more per call); for ``sum``::

        def sum(x, dim=MISSING, keepdim=MISSING, *, axis=MISSING, keepdims=MISSING):
            if dim is MISSING:
                dim = default_dim if axis is MISSING else axis
            elif axis is not MISSING:
                raise both("sum", "dim", "axis")
            ...  # the same for keepdim
            return function(x, dim, keepdim)
    """
    name = function.__name__
    kinds = inspect.Parameter
    numpy_names = {torch_name: numpy_name for numpy_name, torch_name in ALIASES.items()}
    namespace: dict[str, Any] = {"function": function, "MISSING": MISSING, "both": _both,
                                 "missing": _missing}
    header: list[str] = []
    body: list[str] = []
    call: list[str] = []
    aliases: list[str] = []
    keyword_only_started = after_dim = False
    for parameter in inspect.signature(function).parameters.values():
        pname = parameter.name
        if parameter.kind in (kinds.VAR_KEYWORD, kinds.POSITIONAL_ONLY):
            raise TypeError(f"dim_aliases: {name} has a {parameter.kind.description} parameter "
                            f"({pname}), which the generated wrapper does not support")
        if parameter.kind is kinds.VAR_POSITIONAL:
            header.append(f"*{pname}")
            call.append(f"*{pname}")
            keyword_only_started = True
            continue
        if parameter.kind is kinds.KEYWORD_ONLY and not keyword_only_started:
            header.append("*")
            keyword_only_started = True
        alias = numpy_names.get(pname)
        after_dim = after_dim or alias is not None
        required = parameter.default is kinds.empty
        if not required:
            namespace[f"default_{pname}"] = parameter.default
        if alias:
            aliases.append(alias)
            header.append(f"{pname}=MISSING")
            fallback = (f"missing({name!r}, {pname!r}) if {alias} is MISSING else {alias}"
                        if required else f"default_{pname} if {alias} is MISSING else {alias}")
            body += [f"    if {pname} is MISSING:", f"        {pname} = {fallback}",
                     f"    elif {alias} is not MISSING:",
                     f"        raise both({name!r}, {pname!r}, {alias!r})"]
        elif required and after_dim:  # dim may come as axis=, so what follows needs a default
            header.append(f"{pname}=MISSING")
            body += [f"    if {pname} is MISSING:", f"        missing({name!r}, {pname!r})"]
        else:
            header.append(f"{pname}=default_{pname}" if not required else pname)
        call.append(f"{pname}={pname}" if parameter.kind is kinds.KEYWORD_ONLY else pname)
    if not keyword_only_started:
        header.append("*")
    header += [f"{alias}=MISSING" for alias in aliases]
    source = "\n".join([f"def {name}({', '.join(header)}):", *body,
                        f"    return function({', '.join(call)})"])
    exec(source, namespace)  # noqa: S102 (generated from the function's own signature)
    with_aliases = functools.wraps(function)(namespace[name])
    with_aliases.__doc__ = ((function.__doc__ or "").rstrip()
                            + "\n\nNumPy's ``axis=``/``keepdims=`` are accepted for "
                              "``dim=``/``keepdim=``.")
    return with_aliases  # type: ignore[return-value]


def _both(name: str, torch_name: str, numpy_name: str) -> TypeError:
    return TypeError(f"{name}: got both {torch_name}= and its NumPy alias {numpy_name}=; "
                     "pass one")


def _missing(name: str, parameter: str) -> None:
    raise TypeError(f"{name}: missing required argument {parameter!r}")


def operands(a: ArrayLike, b: ArrayLike) -> tuple[Tensor, Tensor]:
    """Both operands as Tensors of one kind; a plain number or array takes the other operand's
    float dtype (``t64 * weights`` stays exact, ``t32 * np.arange(3)`` stays float32)."""
    a_is_tensor, b_is_tensor = isinstance(a, Tensor), isinstance(b, Tensor)
    if a_is_tensor and b_is_tensor:
        pass
    elif a_is_tensor:
        b = constant(b, like=a)
    elif b_is_tensor:
        a = constant(a, like=b)
    else:
        a, b = as_tensor(a), as_tensor(b)
    if a.data.dtype.kind == b.data.dtype.kind:
        return a, b
    return promote(a, b)


def promote(a: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
    """PyTorch's promotion where NumPy's differs: with one float operand, the result has its
    dtype (int64 * float32 is float32, not float64; an int tensor * 2.5 is float32)."""
    if a.data.dtype.kind == "f" and b.data.dtype.kind != "f":
        return a, Tensor._make(b.data.astype(a.data.dtype))
    if b.data.dtype.kind == "f" and a.data.dtype.kind != "f":
        return Tensor._make(a.data.astype(b.data.dtype)), b
    return a, b


def constant(value: ArrayLike, like: Tensor) -> Tensor:
    """``value`` (a number or array) as a Tensor; with a float ``like`` it takes its dtype."""
    if like.dtype.kind == "f" and np.asarray(value).dtype.kind in "biuf":
        return Tensor._make(np.asarray(value, dtype=like.dtype))
    return as_tensor(value, like=like)


def array_of(value: ArrayLike) -> np.ndarray:
    """The NumPy array behind a Tensor, or ``value`` as an array."""
    return value.data if isinstance(value, Tensor) else np.asarray(value)


class DimensionError(IndexError, ValueError):
    """A dim out of range: an IndexError as in PyTorch (and a ValueError, as it was here)."""


def axes(name: str, ndim: int, dim: Dim) -> tuple[int, ...] | None:
    """``dim`` as a tuple of non-negative axes, or None for all axes."""
    if dim is None:
        return None
    listed = (dim,) if isinstance(dim, int | np.integer) else tuple(dim)
    rank = ndim if ndim > 0 else 1  # a 0-d tensor accepts dim 0 and -1, as in PyTorch
    result = []
    for d in listed:
        if not -rank <= d < rank:
            raise DimensionError(f"{name}: dim {d} is out of range for a tensor with {ndim} dims "
                             f"(expected to be in [{-rank}, {rank - 1}])")
        result.append(int(d) % rank)
    return tuple(result)


def single_axis(name: str, ndim: int, dim: int | None, default: int | None = None) -> int:
    """One dim (or ``default`` when it is None) as a non-negative axis."""
    chosen = dim if dim is not None else default
    if not isinstance(chosen, int | np.integer):
        raise TypeError(f"{name}: dim must be one integer, got {chosen!r}")
    return axes(name, ndim, chosen)[0]


def shape_arg(shape: tuple) -> tuple[int, ...]:
    """Accept both ``reshape(2, 3)`` and ``reshape((2, 3))`` (also a Size-like tuple)."""
    if len(shape) == 1 and isinstance(shape[0], tuple | list):
        shape = tuple(shape[0])
    return tuple(int(size) for size in shape)


def reduce_axes(name: str, ndim: int, dim: Dim) -> tuple[int, ...] | None:
    """``axes`` for a reduction: a 0-d tensor reduced over dim 0 or -1 reduces over nothing
    (as in PyTorch, the result is that 0-d tensor's value)."""
    if dim is None:
        return None
    chosen = axes(name, ndim, dim)
    return () if ndim == 0 and chosen is not None else chosen


def floating(x: Tensor) -> Tensor:
    """``x``, or a float32 copy of an integer or boolean tensor (PyTorch's result type for
    ``sin``, ``sqrt``, ... of integers)."""
    if x.data.dtype.kind == "f":
        return x
    return Tensor._make(x.data.astype(np.float32))
