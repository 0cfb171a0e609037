"""The Tensor: an n-dimensional array that remembers how it was computed.

How the graph is recorded
-------------------------
Every differentiable operation is a :class:`Function` subclass with a ``forward`` (arrays in,
array out) and a ``backward`` (gradient of the output in, gradients of the inputs out), written
side by side in ``scratchnn/ops/``. ``Function.apply`` runs ``forward`` on the inputs' arrays and,
when any input requires a gradient, keeps the Function instance as the new tensor's
``grad_fn``: that instance *is* the graph node. It holds the input tensors (``inputs``) and
whatever ``forward`` stored in ``saved`` for the backward pass.

How backward walks it
---------------------
``loss.backward()`` orders the nodes so that every tensor comes before the tensors it was
computed from (a reverse topological order, found with an explicit stack, so a chain of any
length works), then visits them once each: a node's ``backward`` turns the gradient of its
output into gradients of its inputs (the chain rule, one op at a time), and
:func:`unbroadcast` sums each of those back to its input's shape. Gradients arriving at the same
tensor from several uses are added. Leaves (tensors made by the user, e.g. parameters) that
require a gradient accumulate it into ``.grad``. Afterwards each node frees what it saved, so a
second backward through the same graph raises, unless ``retain_graph=True``.
"""

from __future__ import annotations

import functools
import operator
import sys
import weakref
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

import numpy as np

from scratchnn import device as _device
from scratchnn import random as _random

ArrayLike = Any  # anything np.asarray accepts, or a Tensor

_grad_enabled = True


def is_grad_enabled() -> bool:
    """True unless inside ``no_grad()``."""
    return _grad_enabled


class _GradMode:
    """Shared body of ``no_grad`` / ``enable_grad``: a context manager and a decorator."""

    enabled: bool

    def __enter__(self) -> None:
        global _grad_enabled
        self._previous = _grad_enabled
        _grad_enabled = self.enabled

    def __exit__(self, *exc_info: object) -> None:
        global _grad_enabled
        _grad_enabled = self._previous

    def __call__(self, function: Callable) -> Callable:
        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self.__class__():
                return function(*args, **kwargs)

        return wrapper


class no_grad(_GradMode):  # noqa: N801 (PyTorch's name)
    """Record no graph inside: ``with no_grad(): ...`` or ``@no_grad()``."""

    enabled = False


class enable_grad(_GradMode):  # noqa: N801 (PyTorch's name)
    """Record the graph again inside a ``no_grad`` block."""

    enabled = True


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``grad`` down to ``shape``: the backward of broadcasting.

    Broadcasting copies an operand along new leading axes and along its size-1 axes, so the
    operand influenced every copy and its gradient is the sum over them (seed 003, eq 8:
    ``db = sum over the batch``). ``(3,1) + (1,4)`` gives the first operand ``grad.sum(1,
    keepdims)`` and the second ``grad.sum(0, keepdims)``.
    """
    if grad.shape == shape:
        return grad
    extra_leading = grad.ndim - len(shape)
    if extra_leading > 0:
        grad = grad.sum(axis=tuple(range(extra_leading)))
    stretched = tuple(
        axis for axis, size in enumerate(shape) if size == 1 and grad.shape[axis] != 1
    )
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    return grad


# attribute readers for Function.apply (map with these costs less than a list comprehension)
_requires_grad_of = operator.attrgetter("requires_grad")
_data_of = operator.attrgetter("data")
_grad_fn_of = operator.attrgetter("grad_fn")


class Function:
    """One differentiable operation. Subclasses define, side by side::

        def forward(self, *arrays, **options) -> np.ndarray        # the math
        def backward(self, grad_output) -> np.ndarray | tuple       # its chain rule

    ``backward`` returns one gradient per input (``None`` where no gradient is needed: see
    ``self.needs_input_grad``), each either the input's shape or broadcastable to it; the engine
    unbroadcasts. Whatever backward needs goes in ``self.saved`` (freed after backward).
    Gradients returned must be new arrays, ``grad_output`` itself, or views of it.

    In-place safety (PyTorch's version counters): a class says what its ``saved`` aliases, so
    that ``backward`` can refuse to run on values an in-place op has changed since forward:
    ``saves_inputs`` (the input arrays themselves; default True), ``saves_output`` (the output
    array), ``is_view`` (forward may return a view of the first input's array).
    """

    saves_inputs = True
    saves_output = False
    is_view = False

    inputs: tuple[Tensor, ...]
    input_fns: list[Function | None]  # each input's grad_fn when this node was recorded
    needs_input_grad: tuple[bool, ...]
    options: Mapping[str, Any] = MappingProxyType({})  # forward's keyword options
    recorded_at = 0  # the in-place clock when forward ran (see Tensor._changed_in_place)
    output_version: list[int]  # the output's version counter, for ops that save the output
    saved: Any = None
    released = False

    def forward(self, *arrays: np.ndarray, **options: Any) -> np.ndarray:
        raise NotImplementedError

    def backward(self, grad_output: np.ndarray) -> np.ndarray | tuple[np.ndarray | None, ...]:
        raise NotImplementedError

    @classmethod
    def apply(cls, *inputs: Tensor, **options: Any) -> Tensor:
        """Run ``forward`` on the inputs' data and record the node if a gradient is needed."""
        node = cls()
        try:
            needs = tuple(map(_requires_grad_of, inputs))
        except AttributeError:
            given = ", ".join(type(value).__name__ for value in inputs)
            raise TypeError(
                f"{cls.name()}: expected Tensor inputs, got ({given}); wrap arrays with "
                "scratchnn.tensor(...)"
            ) from None
        requires_grad = _grad_enabled and True in needs
        node.needs_input_grad = needs
        try:
            data = node.forward(*map(_data_of, inputs), **options)
        except ValueError as error:
            shapes = " and ".join(str(tensor.shape) for tensor in inputs)
            raise ValueError(f"{cls.name()}: invalid for shapes {shapes}: {error}") from None
        out = Tensor._make(data, requires_grad)
        if cls.is_view and np.may_share_memory(out.data, inputs[0].data):
            base = inputs[0]
            out._version = base._version  # views and their base count changes together
            out._base = base if base._base is None else base._base
        if requires_grad:
            node._record(inputs, out, options)
        return out

    def _record(self, inputs: tuple[Tensor, ...], out: Tensor, options: dict[str, Any]) -> None:
        """Make this node ``out``'s ``grad_fn``: the graph edge to each input's own node, and
        what ``check_versions`` needs (the in-place clock now, the output's version counter)."""
        self.inputs = inputs
        self.input_fns = list(map(_grad_fn_of, inputs))
        if options:
            self.options = options
        if _inplace_clock:  # until the first in-place change the class default 0 is right
            self.recorded_at = _inplace_clock
        if self.saves_output:
            self.output_version = out._version
        out.grad_fn = self

    def check_versions(self) -> None:
        """Raise if an in-place op changed a value this node saved for its backward (called
        only when some in-place change happened since this node was recorded)."""
        cls = type(self)
        watched = list(self.inputs) if (
            (self.saved is not None and cls.saves_inputs) or cls.is_view) else []
        counters = [tensor._version for tensor in watched]
        if cls.saves_output:
            counters.append(self.output_version)
        for counter in counters:
            if counter[1] > self.recorded_at:
                raise RuntimeError(
                    "one of the variables needed for gradient computation has been modified "
                    f"by an inplace operation: a tensor {self!r} saved is now at version "
                    f"{counter[0]}, changed after forward; use an out-of-place op (x = x * 2 "
                    "instead of x *= 2) or .clone() the tensor before changing it"
                )

    @classmethod
    def name(cls) -> str:
        return cls.__name__.lower()

    def release(self) -> None:
        """Free what forward saved; the graph cannot be walked through this node again."""
        self.saved = None
        self.released = True

    def __repr__(self) -> str:
        return f"<{type(self).__name__}Backward>"


class Tensor:
    """An n-dimensional array with reverse-mode automatic differentiation.

    ``data`` is the underlying ``np.ndarray``; ``grad`` is a Tensor of the same shape (or
    ``None``) filled by ``backward``. Python floats and float64 arrays become float32 unless
    ``dtype`` says otherwise; integer data (class labels) stays integer.
    """

    __slots__ = ("data", "_grad", "requires_grad", "grad_fn", "_version", "_base", "__weakref__")
    __array_priority__ = 1000  # ndarray <op> Tensor defers to Tensor's reflected op

    def __init__(self, data: ArrayLike, requires_grad: bool = False, dtype: Any = None) -> None:
        if isinstance(data, Tensor):
            data = data.data
        try:
            array = np.array(data, dtype=dtype, copy=None)
        except ValueError as error:  # ragged nested lists, unparsable strings, ...
            raise ValueError(f"Tensor: cannot make a tensor from this data: {error}") from None
        if dtype is None and array.dtype == np.float64:
            array = array.astype(np.float32)
        if array.dtype.kind not in "biuf":  # strings, dates, complex numbers, Python objects
            raise TypeError(
                f"Tensor: cannot make a tensor from {type(data).__name__} data of NumPy dtype "
                f"{array.dtype} (numbers or booleans only)"
            )
        self.data: np.ndarray = array
        self._grad: Tensor | None = None
        self.grad_fn: Function | None = None
        self._version = [0, 0]  # [changes, clock of the last change]; shared with views
        self._base: Tensor | None = None  # the tensor this one is a view of
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @staticmethod
    def _make(data: Any, requires_grad: bool = False) -> Tensor:
        """The fast constructor that ops use: no dtype conversion, no copy."""
        tensor = object.__new__(Tensor)
        tensor.data = data if type(data) is np.ndarray else np.asarray(data)
        tensor._grad = None
        tensor.requires_grad = requires_grad
        tensor.grad_fn = None
        tensor._version = [0, 0]
        tensor._base = None
        return tensor

    # ----------------------------------------------------------------- graph
    @property
    def grad(self) -> Tensor | None:
        """d(loss)/d(self), a Tensor filled by ``backward`` (leaves that require grad only)."""
        return self._grad

    @grad.setter
    def grad(self, value: Tensor | np.ndarray | None) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                value = Tensor._make(np.asarray(value))
            if value.shape != self.data.shape:
                raise RuntimeError(
                    f"assigned grad has shape {value.shape}, but the tensor has shape "
                    f"{self.data.shape}"
                )
            if value.data.dtype != self.data.dtype:
                raise RuntimeError(
                    f"assigned grad has dtype {value.data.dtype}, but the tensor has dtype "
                    f"{self.data.dtype}"
                )
        self._grad = value

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if requires_grad and not np.issubdtype(self.data.dtype, np.floating):
            raise TypeError(
                f"only floating-point tensors can require gradients, got dtype {self.dtype}"
            )
        if not requires_grad and self.grad_fn is not None:
            raise RuntimeError("requires_grad can only be switched off on leaf tensors")
        self.requires_grad = requires_grad
        return self

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def _version_number(self) -> int:
        return self._version[0]

    def _changed_in_place(self) -> None:
        """Count an in-place change of ``self.data`` (shared with its views and base)."""
        global _inplace_clock
        _inplace_clock += 1
        version = self._version
        version[0] += 1
        version[1] = _inplace_clock

    def detach(self) -> Tensor:
        """The same data (and version counter), cut off from the graph."""
        out = Tensor._make(self.data)
        out._version = self._version
        out._base = self if self._base is None else self._base
        return out

    def register_post_accumulate_grad_hook(self, hook: Callable[[Tensor], None]) -> _Handle:
        """Call ``hook(self)`` each time ``backward`` has accumulated into ``self.grad``
        (leaves only). Returns a handle whose ``remove()`` unregisters it."""
        if self.grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks can only be registered on leaf tensors")
        hooks = _post_accumulate_hooks.get(id(self))
        if hooks is None:  # keyed by id: Tensor's == is elementwise, so no WeakKeyDictionary
            hooks = _post_accumulate_hooks[id(self)] = []
            weakref.finalize(self, _post_accumulate_hooks.pop, id(self), None)
        hooks.append(hook)
        return _Handle(hooks, hook)

    def backward(self, gradient: ArrayLike | None = None, retain_graph: bool = False,
                 inputs: Sequence[Tensor] | None = None) -> None:
        """Accumulate d(self)/d(leaf) into ``leaf.grad`` for every leaf that requires grad
        (only into ``inputs`` when given).

        ``gradient`` is d(loss)/d(self); it may be omitted only when self has one element.
        """
        if not self.requires_grad:
            raise RuntimeError(
                "backward: this tensor does not require grad and has no grad_fn "
                "(did you compute it inside no_grad(), or from tensors without requires_grad?)"
            )
        root_gradient = _root_gradient(self, gradient, "backward")
        if inputs is None:
            run_backward(self, root_gradient, retain_graph)
            return
        captured = run_backward(self, root_gradient, retain_graph, capture=list(inputs))
        for tensor, grad in zip(inputs, captured, strict=True):
            if grad is not None:
                _accumulate_into_leaf(tensor, grad, set(), None, ())

    # ------------------------------------------------------------ properties
    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    def size(self, dim: int | None = None) -> tuple[int, ...] | int:
        """The shape, or the length along ``dim`` (PyTorch's ``size``; ``numel`` counts)."""
        return self.data.shape if dim is None else self.data.shape[dim]

    def numel(self) -> int:
        return self.data.size

    def dim(self) -> int:
        return self.data.ndim

    def __len__(self) -> int:
        return len(self.data)

    def item(self) -> float | int | bool:
        if self.data.size != 1:
            raise ValueError(f"item: only one-element tensors, this one has shape {self.shape}")
        return self.data.item()

    def numpy(self) -> np.ndarray:
        return self.data

    def tolist(self) -> Any:
        return self.data.tolist()

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        return self.data if dtype is None else self.data.astype(dtype)

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise RuntimeError(
                f"the truth value of a tensor with shape {self.shape} is ambiguous; "
                "use .any() or .all()"
            )
        return bool(self.data)

    def _one_element(self, what: str) -> Any:
        if self.data.size != 1:
            raise TypeError(f"only one-element tensors can be converted to {what}, this one "
                            f"has shape {self.shape}")
        return self.data.reshape(()).item()

    def __float__(self) -> float:
        return float(self._one_element("Python scalars"))

    def __int__(self) -> int:
        return int(self._one_element("Python scalars"))

    def __index__(self) -> int:
        if self.data.dtype.kind not in "iub":
            raise TypeError("only integer tensors of a single element can be converted to an "
                            "index")
        return int(self._one_element("an index"))

    def __format__(self, spec: str) -> str:
        if self.data.size == 1 and spec:
            return format(self.data.reshape(()).item(), spec)
        return format(repr(self), spec)

    def __iter__(self) -> Any:
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(len(self)))

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", prefix="tensor(", precision=4)
        extras = [f"size={self.shape}"] if self.data.size == 0 and self.ndim > 1 else []
        if self.data.dtype not in (np.float32, np.int64, np.bool_):
            extras.append(f"dtype={self.data.dtype}")
        if self.grad_fn is not None:
            extras.append(f"grad_fn={self.grad_fn!r}")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + ", ".join([body, *extras]) + ")"

    # -------------------------------------------------------------- in place
    # ``x.add_(y)``, ``x += y``, ``x[i] = v``: the same object and array, changed. PyTorch's
    # rules: a leaf that requires grad may change in place only inside ``no_grad()`` (the
    # optimizer idiom); on any other tensor in a graph the change is recorded as a new node,
    # and ops that saved the old value find out through the version counter at backward.
    def inplace(self, name: str, function: Callable[..., Tensor], *args: Any,
                 ufunc: np.ufunc | None = None, **kwargs: Any) -> Tensor:
        """``self <- function(self, *args)``, written into ``self.data``; returns self.

        What every ``*_`` method is built on (``name`` is for error messages; ``ufunc``, a
        NumPy ufunc of self and ``args[0]``, is the fast path when nothing is recorded)."""
        recording = _grad_enabled and (
            self.requires_grad or any(isinstance(a, Tensor) and a.requires_grad for a in args)
        )
        if not self.data.flags.writeable:
            raise _read_only_error(name)
        if recording:
            if self.grad_fn is None and self.requires_grad:
                raise RuntimeError(
                    f"{name}: a leaf Variable that requires grad is being used in an in-place "
                    "operation (update parameters inside `with scratchnn.no_grad():`, as "
                    "optimizers do)"
                )
            if self._base is not None:
                raise RuntimeError(
                    f"{name}: in-place change of a view (an index, view, reshape or transpose "
                    "of another tensor) while gradients are recorded is not supported by "
                    "scratchnn; assign through the base tensor (x[i] = ...) or clone() first"
                )
            before = Tensor._make(self.data.copy(), self.requires_grad)
            before.grad_fn = self.grad_fn
            result = function(before, *args, **kwargs)
        elif ufunc is not None:
            other = args[0].data if isinstance(args[0], Tensor) else args[0]
            try:
                ufunc(self.data, other, out=self.data, casting="same_kind")
            except TypeError:
                raise _cast_error(name, np.result_type(self.data, other), self.dtype) from None
            except ValueError:
                raise _shape_error(name, np.shape(other), self.shape) from None
            self._changed_in_place()
            return self
        else:
            previous = _set_grad_enabled(False)
            try:
                result = function(self, *args, **kwargs)
            finally:
                _set_grad_enabled(previous)
        if result.shape != self.shape:
            raise _shape_error(name, result.shape, self.shape)
        try:
            np.copyto(self.data, result.data, casting="same_kind")
        except TypeError:
            raise _cast_error(name, result.dtype, self.dtype) from None
        self._changed_in_place()
        if recording:
            self.grad_fn = result.grad_fn
            self.requires_grad = result.requires_grad
        return self

    def add_(self, other: ArrayLike, *, alpha: float = 1) -> Tensor:
        """self += alpha * other, in place."""
        if alpha != 1:
            other = _functional.mul(other, alpha)
        return self.inplace("add_", _functional.add, other, ufunc=np.add)

    def sub_(self, other: ArrayLike, *, alpha: float = 1) -> Tensor:
        """self -= alpha * other, in place."""
        if alpha != 1:
            other = _functional.mul(other, alpha)
        return self.inplace("sub_", _functional.sub, other, ufunc=np.subtract)

    def mul_(self, other: ArrayLike) -> Tensor:
        return self.inplace("mul_", _functional.mul, other, ufunc=np.multiply)

    def div_(self, other: ArrayLike) -> Tensor:
        return self.inplace("div_", _functional.div, other, ufunc=np.true_divide)

    def pow_(self, exponent: ArrayLike) -> Tensor:
        return self.inplace("pow_", _functional.pow, exponent)

    __iadd__ = add_
    __isub__ = sub_
    __imul__ = mul_
    __itruediv__ = div_
    __ipow__ = pow_

    def addcmul_(self, tensor1: Tensor, tensor2: Tensor, *, value: float = 1) -> Tensor:
        """self += value * tensor1 * tensor2, in place."""
        return self.add_(_functional.mul(tensor1, tensor2), alpha=value)

    def addcdiv_(self, tensor1: Tensor, tensor2: Tensor, *, value: float = 1) -> Tensor:
        """self += value * tensor1 / tensor2, in place."""
        return self.add_(_functional.div(tensor1, tensor2), alpha=value)

    def lerp_(self, end: ArrayLike, weight: ArrayLike) -> Tensor:
        """self += weight * (end - self), in place."""
        return self.inplace(
            "lerp_", lambda x: _functional.add(x, _functional.mul(_functional.sub(end, x), weight))
        )

    def neg_(self) -> Tensor:
        return self.inplace("neg_", _functional.neg)

    def abs_(self) -> Tensor:
        return self.inplace("abs_", _functional.abs)

    def exp_(self) -> Tensor:
        return self.inplace("exp_", _functional.exp)

    def log_(self) -> Tensor:
        return self.inplace("log_", _functional.log)

    def sqrt_(self) -> Tensor:
        return self.inplace("sqrt_", _functional.sqrt)

    def relu_(self) -> Tensor:
        return self.inplace("relu_", _functional.relu)

    def sigmoid_(self) -> Tensor:
        return self.inplace("sigmoid_", _functional.sigmoid)

    def tanh_(self) -> Tensor:
        return self.inplace("tanh_", _functional.tanh)

    def clamp_(self, min: float | None = None, max: float | None = None) -> Tensor:  # noqa: A002
        return self.inplace("clamp_", _functional.clamp, min, max)

    clip_ = clamp_

    def masked_fill_(self, mask: ArrayLike, value: float) -> Tensor:
        """Set the elements where ``mask`` is True to ``value``, in place."""
        return self.inplace("masked_fill_", lambda x: _functional.where(mask, value, x))

    def fill_(self, value: float | Tensor) -> Tensor:
        """Every element set to ``value`` (a number or a one-element tensor), in place."""
        return self.copy_(value if isinstance(value, Tensor) else np.asarray(value))

    def zero_(self) -> Tensor:
        """Every element set to 0, in place (``p.grad.zero_()``)."""
        return self.copy_(np.zeros((), self.dtype))

    def copy_(self, src: ArrayLike) -> Tensor:
        """The values of ``src`` (broadcast to self's shape, converted to self's dtype)."""
        recording = _grad_enabled and (
            self.requires_grad or (isinstance(src, Tensor) and src.requires_grad)
        )
        if not recording:
            source = src.data if isinstance(src, Tensor) else src
            try:
                np.copyto(self.data, source, casting="unsafe")
            except ValueError:
                raise _shape_error("copy_", np.shape(source), self.shape) from None
            self._changed_in_place()
            return self
        source = src if isinstance(src, Tensor) else Tensor(src, dtype=self.dtype)
        if source.dtype != self.dtype:
            source = _functional.to(source, self.dtype)
        everywhere = np.ones(self.shape, dtype=bool)
        return self.inplace("copy_", lambda x: _functional.where(everywhere, source, x))

    def normal_(self, mean: float = 0.0, std: float = 1.0) -> Tensor:
        """Fill with samples of N(mean, std²) from scratchnn's generator, in place."""
        samples = _random.generator().normal(mean, std, self.shape)
        return self.copy_(Tensor._make(samples.astype(self.dtype)))

    def uniform_(self, a: float = 0.0, b: float = 1.0) -> Tensor:
        """Fill with samples of U(a, b) from scratchnn's generator, in place."""
        samples = _random.generator().uniform(a, b, self.shape)
        return self.copy_(Tensor._make(samples.astype(self.dtype)))

    def __setitem__(self, index: Any, value: ArrayLike) -> None:
        """``x[index] = value``: recorded in the graph like any in-place op."""
        index = _index_arrays(index)
        if not (_grad_enabled and (self.requires_grad or (isinstance(value, Tensor)
                                                         and value.requires_grad))):
            if not self.data.flags.writeable:
                raise _read_only_error("setitem")
            target, index = _functional.torch_index_target(self.data, index)
            try:
                target[index] = value.data if isinstance(value, Tensor) else value
            except (TypeError, ValueError) as error:
                raise type(error)(f"setitem: {error}") from None
            self._changed_in_place()
            return
        self.inplace("setitem", _functional.index_put, index, value)

    # ------------------------------------------------- device and dtype boilerplate
    @property
    def device(self) -> _device.device:
        """Always ``device('cpu')``: scratchnn computes on the CPU."""
        return _device.CPU

    @property
    def is_cuda(self) -> bool:
        return False

    def cpu(self) -> Tensor:
        return self

    def cuda(self, *args: Any, **kwargs: Any) -> Tensor:
        _device.check_device("cuda")
        return self

    def to(self, *args: Any, **kwargs: Any) -> Tensor:
        """``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(other_tensor)``, with
        ``dtype=``/``device=``/``copy=`` keywords; differentiable between float dtypes."""
        dtype, copy = kwargs.pop("dtype", None), kwargs.pop("copy", False)
        kwargs.pop("non_blocking", None)
        if "device" in kwargs:
            _device.check_device(kwargs.pop("device"))
        if kwargs:
            raise TypeError(f"to: unexpected keyword arguments {sorted(kwargs)}")
        for arg in args:
            if isinstance(arg, Tensor):
                dtype = arg.dtype
            elif isinstance(arg, str | _device.device):
                _device.check_device(arg)
            elif arg is not None:
                dtype = arg
        out = self if dtype is None else _functional.to(self, dtype)
        return _functional.clone(out) if copy and out is self else out

    def type(self, dtype: Any = None) -> Any:
        """The type name (``'scratchnn.FloatTensor'``), or the tensor converted to ``dtype``."""
        if dtype is None:
            return f"scratchnn.{_TYPE_NAMES.get(self.dtype.name, self.dtype.name)}"
        return self.to(dtype)

    def float(self) -> Tensor:
        return _functional.to(self, np.float32)

    def double(self) -> Tensor:
        return _functional.to(self, np.float64)

    def half(self) -> Tensor:
        return _functional.to(self, np.float16)

    def long(self) -> Tensor:
        return _functional.to(self, np.int64)

    def int(self) -> Tensor:
        return _functional.to(self, np.int32)

    def bool(self) -> Tensor:
        return _functional.to(self, np.bool_)

    def is_floating_point(self) -> bool:
        return self.data.dtype.kind == "f"

    def element_size(self) -> int:
        return self.data.itemsize

    def is_contiguous(self) -> bool:
        return bool(self.data.flags.c_contiguous)

    def stride(self, dim: int | None = None) -> tuple[int, ...] | int:
        """Steps in elements (not bytes) between neighbours along each dim, as in PyTorch."""
        steps = tuple(s // self.data.itemsize for s in self.data.strides)
        return steps if dim is None else steps[dim]

    # ---------------------------------------------------------------- operators
    # Each method is the function of the same name in ``scratchnn.functional`` (``F``), where
    # it is documented and calls its op; ``help(scratchnn.functional.NAME)`` has the details.
    def __add__(self, other: ArrayLike) -> Tensor:
        return _functional.add(self, other)

    def __radd__(self, other: ArrayLike) -> Tensor:
        return _functional.add(other, self)

    def __sub__(self, other: ArrayLike) -> Tensor:
        return _functional.sub(self, other)

    def __rsub__(self, other: ArrayLike) -> Tensor:
        return _functional.sub(other, self)

    def __mul__(self, other: ArrayLike) -> Tensor:
        return _functional.mul(self, other)

    def __rmul__(self, other: ArrayLike) -> Tensor:
        return _functional.mul(other, self)

    def __truediv__(self, other: ArrayLike) -> Tensor:
        return _functional.div(self, other)

    def __rtruediv__(self, other: ArrayLike) -> Tensor:
        return _functional.div(other, self)

    def __pow__(self, exponent: ArrayLike) -> Tensor:
        return _functional.pow(self, exponent)

    def __rpow__(self, base: ArrayLike) -> Tensor:
        return _functional.pow(base, self)

    def __matmul__(self, other: ArrayLike) -> Tensor:
        return _functional.matmul(self, other)

    def __rmatmul__(self, other: ArrayLike) -> Tensor:
        return _functional.matmul(other, self)

    def __neg__(self) -> Tensor:
        return _functional.neg(self)

    def __abs__(self) -> Tensor:
        return _functional.abs(self)

    def __getitem__(self, index: Any) -> Tensor:
        return _functional.getitem(self, index)

    def __eq__(self, other: ArrayLike) -> Tensor:  # type: ignore[override]
        return _functional.eq(self, other)

    def __ne__(self, other: ArrayLike) -> Tensor:  # type: ignore[override]
        return _functional.ne(self, other)

    def __lt__(self, other: ArrayLike) -> Tensor:
        return _functional.lt(self, other)

    def __le__(self, other: ArrayLike) -> Tensor:
        return _functional.le(self, other)

    def __gt__(self, other: ArrayLike) -> Tensor:
        return _functional.gt(self, other)

    def __ge__(self, other: ArrayLike) -> Tensor:
        return _functional.ge(self, other)

    def __and__(self, other: ArrayLike) -> Tensor:
        return _functional.logical_and(self, other)

    def __or__(self, other: ArrayLike) -> Tensor:
        return _functional.logical_or(self, other)

    def __xor__(self, other: ArrayLike) -> Tensor:
        return _functional.logical_xor(self, other)

    __rand__, __ror__, __rxor__ = __and__, __or__, __xor__

    def __invert__(self) -> Tensor:
        return _functional.logical_not(self)

    # ------------------------------------------------------------- arithmetic
    def add(self, other: ArrayLike) -> Tensor:
        return _functional.add(self, other)

    def sub(self, other: ArrayLike) -> Tensor:
        return _functional.sub(self, other)

    def mul(self, other: ArrayLike) -> Tensor:
        return _functional.mul(self, other)

    def div(self, other: ArrayLike) -> Tensor:
        return _functional.div(self, other)

    def pow(self, exponent: ArrayLike) -> Tensor:
        return _functional.pow(self, exponent)

    def matmul(self, other: ArrayLike) -> Tensor:
        return _functional.matmul(self, other)

    def mm(self, mat2: Tensor) -> Tensor:
        return _functional.mm(self, mat2)

    def bmm(self, mat2: Tensor) -> Tensor:
        return _functional.bmm(self, mat2)

    def outer(self, vec2: Tensor) -> Tensor:
        return _functional.outer(self, vec2)

    def maximum(self, other: ArrayLike) -> Tensor:
        return _functional.maximum(self, other)

    def minimum(self, other: ArrayLike) -> Tensor:
        return _functional.minimum(self, other)

    def atan2(self, other: ArrayLike) -> Tensor:
        return _functional.atan2(self, other)

    arctan2 = atan2

    def exp(self) -> Tensor:
        return _functional.exp(self)

    def log(self) -> Tensor:
        return _functional.log(self)

    def sqrt(self) -> Tensor:
        return _functional.sqrt(self)

    def abs(self) -> Tensor:
        return _functional.abs(self)

    def neg(self) -> Tensor:
        return _functional.neg(self)

    def log1p(self) -> Tensor:
        return _functional.log1p(self)

    def expm1(self) -> Tensor:
        return _functional.expm1(self)

    def sin(self) -> Tensor:
        return _functional.sin(self)

    def cos(self) -> Tensor:
        return _functional.cos(self)

    def tan(self) -> Tensor:
        return _functional.tan(self)

    def asin(self) -> Tensor:
        return _functional.asin(self)

    def acos(self) -> Tensor:
        return _functional.acos(self)

    def atan(self) -> Tensor:
        return _functional.atan(self)

    arcsin, arccos, arctan = asin, acos, atan

    def trunc(self) -> Tensor:
        return _functional.trunc(self)

    def sinh(self) -> Tensor:
        return _functional.sinh(self)

    def cosh(self) -> Tensor:
        return _functional.cosh(self)

    def floor(self) -> Tensor:
        return _functional.floor(self)

    def ceil(self) -> Tensor:
        return _functional.ceil(self)

    def sign(self) -> Tensor:
        return _functional.sign(self)

    def reciprocal(self) -> Tensor:
        return _functional.reciprocal(self)

    def rsqrt(self) -> Tensor:
        return _functional.rsqrt(self)

    def square(self) -> Tensor:
        return _functional.square(self)

    def erf(self) -> Tensor:
        return _functional.erf(self)

    def relu(self) -> Tensor:
        return _functional.relu(self)

    def sigmoid(self) -> Tensor:
        return _functional.sigmoid(self)

    def tanh(self) -> Tensor:
        return _functional.tanh(self)

    def isnan(self) -> Tensor:
        return _functional.isnan(self)

    def isinf(self) -> Tensor:
        return _functional.isinf(self)

    def isfinite(self) -> Tensor:
        return _functional.isfinite(self)

    def logical_not(self) -> Tensor:
        return _functional.logical_not(self)

    def clone(self) -> Tensor:
        return _functional.clone(self)

    def contiguous(self) -> Tensor:
        return _functional.contiguous(self)

    def t(self) -> Tensor:
        return _functional.t(self)

    def round(self, decimals: int = 0) -> Tensor:
        return _functional.round(self, decimals=decimals)

    def clamp(self, min: float | None = None, max: float | None = None) -> Tensor:
        return _functional.clamp(self, min, max)

    clip = clamp

    def leaky_relu(self, negative_slope: float = 0.01) -> Tensor:
        return _functional.leaky_relu(self, negative_slope)

    def softmax(self, dim: int | None = None) -> Tensor:
        return _functional.softmax(self, dim)

    def log_softmax(self, dim: int | None = None) -> Tensor:
        return _functional.log_softmax(self, dim)

    def nan_to_num(self, nan: float = 0.0, posinf: float | None = None,
                   neginf: float | None = None) -> Tensor:
        return _functional.nan_to_num(self, nan, posinf, neginf)

    def masked_fill(self, mask: ArrayLike, value: float) -> Tensor:
        return _functional.masked_fill(self, mask, value)

    def where(self, condition: ArrayLike, other: ArrayLike) -> Tensor:
        """self where condition, else other: ``scratchnn.where(condition, self, other)``."""
        return _functional.where(condition, self, other)

    def eq(self, other: ArrayLike) -> Tensor:
        return _functional.eq(self, other)

    def ne(self, other: ArrayLike) -> Tensor:
        return _functional.ne(self, other)

    def lt(self, other: ArrayLike) -> Tensor:
        return _functional.lt(self, other)

    def le(self, other: ArrayLike) -> Tensor:
        return _functional.le(self, other)

    def gt(self, other: ArrayLike) -> Tensor:
        return _functional.gt(self, other)

    def ge(self, other: ArrayLike) -> Tensor:
        return _functional.ge(self, other)

    def logical_and(self, other: ArrayLike) -> Tensor:
        return _functional.logical_and(self, other)

    def logical_or(self, other: ArrayLike) -> Tensor:
        return _functional.logical_or(self, other)

    def logical_xor(self, other: ArrayLike) -> Tensor:
        return _functional.logical_xor(self, other)

    def isclose(self, other: ArrayLike, rtol: float = 1e-05, atol: float = 1e-08,
                equal_nan: bool = False) -> Tensor:
        return _functional.isclose(self, other, rtol, atol, equal_nan)

    def allclose(self, other: ArrayLike, rtol: float = 1e-05, atol: float = 1e-08,
                 equal_nan: bool = False) -> bool:
        return _functional.allclose(self, other, rtol, atol, equal_nan)

    def equal(self, other: ArrayLike) -> bool:
        return _functional.equal(self, other)

    # ------------------------------------------------------------- reductions
    def sum(self, dim: Any = None, keepdim: bool = False, **numpy_aliases: Any) -> Tensor:
        dim, keepdim = _dim_keepdim("sum", dim, keepdim, numpy_aliases)
        return _functional.sum(self, dim, keepdim)

    def mean(self, dim: Any = None, keepdim: bool = False, **numpy_aliases: Any) -> Tensor:
        dim, keepdim = _dim_keepdim("mean", dim, keepdim, numpy_aliases)
        return _functional.mean(self, dim, keepdim)

    def prod(self, dim: Any = None, keepdim: bool = False, *, dtype: Any = None,
             **numpy_aliases: Any) -> Tensor:
        dim, keepdim = _dim_keepdim("prod", dim, keepdim, numpy_aliases)
        return _functional.prod(self, dim, keepdim, dtype=dtype)

    def amax(self, dim: Any = None, keepdim: bool = False, **numpy_aliases: Any) -> Tensor:
        dim, keepdim = _dim_keepdim("amax", dim, keepdim, numpy_aliases)
        return _functional.amax(self, dim, keepdim)

    def amin(self, dim: Any = None, keepdim: bool = False, **numpy_aliases: Any) -> Tensor:
        dim, keepdim = _dim_keepdim("amin", dim, keepdim, numpy_aliases)
        return _functional.amin(self, dim, keepdim)

    def any(self, dim: Any = None, keepdim: bool = False, **numpy_aliases: Any) -> Tensor:
        """Logical or over ``dim`` (all dims by default); no gradient."""
        dim, keepdim = _dim_keepdim("any", dim, keepdim, numpy_aliases)
        return Tensor._make(np.any(self.data, axis=dim, keepdims=keepdim))

    def all(self, dim: Any = None, keepdim: bool = False, **numpy_aliases: Any) -> Tensor:
        """Logical and over ``dim`` (all dims by default); no gradient."""
        dim, keepdim = _dim_keepdim("all", dim, keepdim, numpy_aliases)
        return Tensor._make(np.all(self.data, axis=dim, keepdims=keepdim))

    def max(self, dim: int | None = None, keepdim: bool = False, **numpy_aliases: Any) -> Any:
        """Over everything: a Tensor; along ``dim``: (values, indices)."""
        dim, keepdim = _dim_keepdim("max", dim, keepdim, numpy_aliases)
        return _functional.max(self, dim, keepdim)

    def min(self, dim: int | None = None, keepdim: bool = False, **numpy_aliases: Any) -> Any:
        """Over everything: a Tensor; along ``dim``: (values, indices)."""
        dim, keepdim = _dim_keepdim("min", dim, keepdim, numpy_aliases)
        return _functional.min(self, dim, keepdim)

    def argmax(self, dim: int | None = None, keepdim: bool = False, **numpy_aliases: Any) -> Tensor:
        dim, keepdim = _dim_keepdim("argmax", dim, keepdim, numpy_aliases)
        return _functional.argmax(self, dim, keepdim)

    def argmin(self, dim: int | None = None, keepdim: bool = False, **numpy_aliases: Any) -> Tensor:
        dim, keepdim = _dim_keepdim("argmin", dim, keepdim, numpy_aliases)
        return _functional.argmin(self, dim, keepdim)

    def std(self, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *,
            correction: float | None = None) -> Tensor:
        return _functional.std(self, dim, unbiased, keepdim, correction=correction)

    def var(self, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *,
            correction: float | None = None) -> Tensor:
        return _functional.var(self, dim, unbiased, keepdim, correction=correction)

    def norm(self, p: Any = 'fro', dim: Any = None, keepdim: bool = False) -> Tensor:
        return _functional.norm(self, p, dim, keepdim)

    def logsumexp(self, dim: Any, keepdim: bool = False) -> Tensor:
        return _functional.logsumexp(self, dim, keepdim)

    def cumsum(self, dim: int, *, dtype: Any = None) -> Tensor:
        return _functional.cumsum(self, dim, dtype=dtype)

    def gather(self, dim: int, index: ArrayLike) -> Tensor:
        return _functional.gather(self, dim, index)

    def sort(self, dim: int = -1, descending: bool = False, stable: bool = False) -> Any:
        """(values, indices) along ``dim``."""
        return _functional.sort(self, dim, descending, stable=stable)

    def argsort(self, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
        return _functional.argsort(self, dim, descending, stable=stable)

    def topk(self, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> Any:  # noqa: A002
        """(values, indices) of the k largest (smallest) along ``dim``."""
        return _functional.topk(self, k, dim, largest, sorted)

    def kthvalue(self, k: int, dim: int = -1, keepdim: bool = False) -> Any:
        """(values, indices) of the k-th smallest along ``dim``."""
        return _functional.kthvalue(self, k, dim, keepdim)

    # ----------------------------------------------------------------- shapes
    def reshape(self, *shape: Any) -> Tensor:
        return _functional.reshape(self, *shape)

    def view(self, *shape: Any) -> Tensor:
        return _functional.view(self, *shape)

    def view_as(self, other: Tensor) -> Tensor:
        return _functional.view_as(self, other)

    def expand(self, *sizes: Any) -> Tensor:
        return _functional.expand(self, *sizes)

    def expand_as(self, other: Tensor) -> Tensor:
        return _functional.expand_as(self, other)

    def repeat(self, *sizes: Any) -> Tensor:
        return _functional.repeat(self, *sizes)

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        return _functional.flatten(self, start_dim, end_dim)

    def squeeze(self, dim: int | None = None) -> Tensor:
        return _functional.squeeze(self, dim)

    def unsqueeze(self, dim: int) -> Tensor:
        return _functional.unsqueeze(self, dim)

    def permute(self, *dims: Any) -> Tensor:
        return _functional.permute(self, *dims)

    def transpose(self, dim0: int, dim1: int) -> Tensor:
        return _functional.transpose(self, dim0, dim1)

    def flip(self, *dims: Any) -> Tensor:
        return _functional.flip(self, *dims)

    def narrow(self, dim: int, start: int, length: int) -> Tensor:
        return _functional.narrow(self, dim, start, length)

    def chunk(self, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
        return _functional.chunk(self, chunks, dim)

    def split(self, split_size_or_sections: Any, dim: int = 0) -> tuple[Tensor, ...]:
        return _functional.split(self, split_size_or_sections, dim)

    @property
    def T(self) -> Tensor:  # noqa: N802 (PyTorch's name)
        """The dims in reverse order."""
        return _functional.permute(self, tuple(range(self.ndim - 1, -1, -1)))

    @property
    def mT(self) -> Tensor:  # noqa: N802 (PyTorch's name)
        """The last two dims swapped."""
        return _functional.transpose(self, -2, -1)

    # ------------------------------------------------------------------- creation
    def new_zeros(self, *size: Any, dtype: Any = None, device: Any = None,
                  requires_grad: bool = False) -> Tensor:
        return _functional.new_zeros(self, *size, dtype=dtype, device=device,
                               requires_grad=requires_grad)

    def new_ones(self, *size: Any, dtype: Any = None, device: Any = None,
                  requires_grad: bool = False) -> Tensor:
        return _functional.new_ones(self, *size, dtype=dtype, device=device,
                               requires_grad=requires_grad)

    def new_empty(self, *size: Any, dtype: Any = None, device: Any = None,
                  requires_grad: bool = False) -> Tensor:
        return _functional.new_empty(self, *size, dtype=dtype, device=device,
                                     requires_grad=requires_grad)

    def new_full(self, size: Any, fill_value: float, dtype: Any = None, device: Any = None,
                 requires_grad: bool = False) -> Tensor:
        return _functional.new_full(self, size, fill_value, dtype=dtype, device=device,
                                    requires_grad=requires_grad)

    def new_tensor(self, data: ArrayLike, dtype: Any = None, device: Any = None,
                   requires_grad: bool = False) -> Tensor:
        return _functional.new_tensor(self, data, dtype=dtype, device=device,
                                      requires_grad=requires_grad)



def _dim_keepdim(name: str, dim: Any, keepdim: bool, aliases: dict[str, Any]) -> tuple[Any, bool]:
    """``dim``/``keepdim``, or NumPy's ``axis``/``keepdims`` (what ``np.sum(tensor)`` passes,
    with ``dtype=None, out=None``)."""
    if aliases:
        if "axis" in aliases:
            if dim is not None:
                raise TypeError(f"{name}: got both dim= and its NumPy alias axis=; pass one")
            dim = aliases.pop("axis")
        if "keepdims" in aliases:
            keepdim = aliases.pop("keepdims")
        for unused in ("dtype", "out"):
            if aliases.get(unused, 0) is None:
                del aliases[unused]
        if aliases:
            raise TypeError(f"{name}: unexpected keyword arguments {sorted(aliases)}")
    return dim, keepdim


def _cast_error(name: str, result: Any, wanted: Any) -> RuntimeError:
    return RuntimeError(
        f"{name}: result type {np.dtype(result)} can't be cast to the desired output type "
        f"{np.dtype(wanted)} (in-place ops keep the tensor's dtype)"
    )


def _read_only_error(name: str) -> RuntimeError:
    return RuntimeError(
        f"{name}: unsupported operation: more than one element of the written-to tensor refers "
        "to a single memory location (an expand()ed tensor, or one made from a read-only "
        "array); clone() it first"
    )


def _shape_error(name: str, result: tuple[int, ...], wanted: tuple[int, ...]) -> RuntimeError:
    return RuntimeError(
        f"{name}: output with shape {wanted} doesn't match the broadcast shape {result} "
        "(an in-place op cannot change the tensor's shape)"
    )


def _set_grad_enabled(enabled: bool) -> bool:
    global _grad_enabled
    previous, _grad_enabled = _grad_enabled, enabled
    return previous


# Tensor methods call the functional API, which sits above this module and registers itself
# here when imported (``import scratchnn`` does it); the engine never imports it.
_functional: Any = None

# Counts every in-place change in the process; a node remembers its value at forward, so
# backward checks saved values only when something has changed in place since.
_inplace_clock = 0

_TYPE_NAMES = {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
               "int64": "LongTensor", "int32": "IntTensor", "bool": "BoolTensor",
               "uint8": "ByteTensor", "int8": "CharTensor", "int16": "ShortTensor"}


def _index_arrays(index: Any) -> Any:
    """Replace Tensors inside an index by their arrays."""
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, tuple):
        return tuple(part.data if isinstance(part, Tensor) else part for part in index)
    return index


def _root_gradient(root: Tensor, gradient: ArrayLike | None, who: str) -> np.ndarray:
    """d(loss)/d(root) as an array we own: ones for a one-element root, else ``gradient``."""
    if gradient is None:
        if root.data.size != 1:
            raise RuntimeError(
                f"{who}: gradient can be implicitly created only for one-element outputs; "
                f"this tensor has shape {root.shape}; pass gradient=..."
            )
        ones = np.empty(root.data.shape, dtype=root.data.dtype)  # (np.ones is slower)
        ones.fill(1)
        return ones
    if isinstance(gradient, Tensor):
        gradient = gradient.data
    array = np.array(gradient, dtype=root.dtype)  # a copy we own
    if array.shape != root.shape:
        raise ValueError(
            f"{who}: gradient has shape {array.shape}, but the tensor has shape {root.shape}"
        )
    return array


def run_backward(root: Tensor, root_gradient: np.ndarray, retain_graph: bool = False,
                 capture: Sequence[Tensor] | None = None) -> list[np.ndarray | None] | None:
    """The engine: pass ``root_gradient`` back through the graph that made ``root``.

    Gradients are keyed by graph node (a node has one output), so a tensor changed in place
    after some op used it still sends that op's gradient to the node it had then. Without
    ``capture``, leaves that require grad accumulate into ``.grad``; with it, nothing is
    accumulated and the gradients of the ``capture`` tensors are returned (None where the
    root does not depend on one): that is ``scratchnn.autograd.grad``.
    """
    global _backward_depth
    captured: list[np.ndarray | None] | None = None
    if capture is not None:
        captured = [None] * len(capture)
        capture_leaves = {t: i for i, t in enumerate(capture) if t.grad_fn is None}
        capture_nodes = {t.grad_fn: i for i, t in enumerate(capture) if t.grad_fn is not None}
    _backward_depth += 1
    try:
        if root.grad_fn is None:
            if captured is not None:
                if root in capture_leaves:
                    captured[capture_leaves[root]] = root_gradient
                return captured
            _accumulate_into_leaf(root, root_gradient, set(), None, ())
            return None
        grads: dict[Function, np.ndarray] = {root.grad_fn: root_gradient}
        adopted: set[int] = set()
        for node in _reverse_topological_order(root.grad_fn):
            if node.released:
                raise RuntimeError(
                    "backward: trying to go through the graph a second time, but its saved "
                    "values were freed by the first backward; pass retain_graph=True to the "
                    "first call if you need to"
                )
            if node.recorded_at != _inplace_clock:
                node.check_versions()  # something changed in place since this node's forward
            grad_output = grads.pop(node)
            if captured is not None and node in capture_nodes:
                captured[capture_nodes[node]] = grad_output.copy()
            input_grads = node.backward(grad_output)
            if type(input_grads) is not tuple:
                input_grads = (input_grads,)
            if len(input_grads) < len(node.inputs):
                raise RuntimeError(
                    f"backward: {node.name()} returned {len(input_grads)} gradients for "
                    f"{len(node.inputs)} inputs"
                )
            for source, source_fn, needed, grad in zip(
                node.inputs, node.input_fns, node.needs_input_grad, input_grads, strict=False
            ):
                if grad is None or not needed:
                    continue
                if grad.shape != source.data.shape:
                    grad = unbroadcast(grad, source.data.shape)
                    if grad.shape != source.data.shape:
                        raise RuntimeError(
                            f"backward: {node.name()} returned a gradient that does not "
                            f"reduce to its input's shape {source.data.shape}"
                        )
                if source_fn is None:
                    if captured is None:
                        _accumulate_into_leaf(source, grad, adopted, grad_output, input_grads)
                    elif source in capture_leaves:
                        slot = capture_leaves[source]
                        previous = captured[slot]
                        captured[slot] = grad.copy() if previous is None else previous + grad
                    continue
                previous = grads.get(source_fn)
                grads[source_fn] = grad if previous is None else previous + grad
            if not retain_graph:
                node.release()
        return captured
    finally:
        finished = (_leaves_to_hook or _queued_callbacks) and sys.exc_info()[0] is None
        if _backward_depth == 1 and _leaves_to_hook:
            leaves = list(_leaves_to_hook.values())
            _leaves_to_hook.clear()
            for leaf in leaves if finished else ():
                for hook in list(_post_accumulate_hooks.get(id(leaf), ())):
                    hook(leaf)  # may queue_callback: the backward still counts as running
        _backward_depth -= 1
        if _backward_depth == 0 and _queued_callbacks:
            callbacks = list(_queued_callbacks)
            _queued_callbacks.clear()
            for callback in callbacks if finished else ():
                callback()


def _reverse_topological_order(root: Function) -> list[Function]:
    """The graph nodes that ``root`` depends on (``root`` included), each before the nodes
    that made its inputs.

    Depth-first search with an explicit stack (no recursion, so 10,000-op chains are fine).
    """
    order: list[Function] = []
    visited: set[Function] = set()  # nodes hash by identity
    stack: list[tuple[Function, bool]] = [(root, False)]
    while stack:
        node, inputs_done = stack.pop()
        if inputs_done:
            order.append(node)
            continue
        if node in visited:
            continue
        visited.add(node)
        stack.append((node, True))
        for source_fn in node.input_fns:
            if source_fn is not None and source_fn not in visited:
                stack.append((source_fn, False))
    order.reverse()
    return order


def _accumulate_into_leaf(
    leaf: Tensor,
    grad: np.ndarray,
    adopted: set[int],
    grad_output: np.ndarray | None,
    input_grads: tuple[np.ndarray | None, ...],
) -> None:
    """``leaf.grad += grad``, in place (then the leaf's post-accumulate hooks run).

    The first gradient is adopted without a copy when its op's backward (which received
    ``grad_output`` and returned ``input_grads``) made it for this leaf alone: not a view, not
    ``grad_output`` passed through (``Add`` hands the same array to both inputs), not one
    array returned for several inputs, not already adopted by another leaf. Otherwise a later
    in-place accumulation into ``leaf.grad`` would change a gradient still on its way.
    """
    if not leaf.requires_grad:
        return
    if type(grad) is not np.ndarray:  # NumPy turns 0-d results into scalars
        grad = np.array(grad)
    if grad.dtype != leaf.data.dtype:
        grad = grad.astype(leaf.data.dtype)
    accumulated = leaf._grad
    if accumulated is not None:
        total = accumulated.data
        total += grad  # in place (an ndarray's += costs less than np.add(..., out=))
    else:
        owned = (
            grad is not grad_output
            and grad.base is None
            and grad.flags.writeable
            and id(grad) not in adopted
            and sum(returned is grad for returned in input_grads) <= 1
        )
        leaf._grad = Tensor._make(grad if owned else grad.copy())
        adopted.add(id(leaf._grad.data))
    if _post_accumulate_hooks and id(leaf) in _post_accumulate_hooks:
        _leaves_to_hook[id(leaf)] = leaf  # its hooks run once, when this backward is done


_post_accumulate_hooks: dict[int, list[Callable[[Tensor], None]]] = {}  # id(leaf) -> hooks
_leaves_to_hook: dict[int, Tensor] = {}  # leaves with hooks that got a gradient
_queued_callbacks: list[Callable[[], None]] = []
_backward_depth = 0


def queue_callback(callback: Callable[[], None]) -> None:
    """Run ``callback()`` once when the backward pass now running has finished (e.g. to
    average gradients across processes after all of them are accumulated)."""
    if _backward_depth == 0:
        raise RuntimeError("queue_callback: no backward pass is running")
    _queued_callbacks.append(callback)


class _Handle:
    """What ``register_*_hook`` returns: ``handle.remove()`` unregisters the hook."""

    def __init__(self, hooks: list[Any], hook: Any) -> None:
        self._hooks, self._hook = hooks, hook

    def remove(self) -> None:
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


def as_tensor(value: ArrayLike, like: Tensor | None = None) -> Tensor:
    """``value`` as a Tensor (no copy if it already is one). A Python or NumPy number takes
    the dtype of ``like`` when that is a float tensor, so ``2 * t`` stays float32."""
    if isinstance(value, Tensor):
        return value
    if like is not None and np.isscalar(value) and like.data.dtype.kind == "f":
        return Tensor._make(np.asarray(value, dtype=like.data.dtype))
    return Tensor(value)
