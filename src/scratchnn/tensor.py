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
from collections.abc import Callable
from typing import Any

import numpy as np

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


class Function:
    """One differentiable operation. Subclasses define, side by side::

        def forward(self, *arrays, **options) -> np.ndarray        # the math
        def backward(self, grad_output) -> np.ndarray | tuple       # its chain rule

    ``backward`` returns one gradient per input (``None`` where no gradient is needed: see
    ``self.needs_input_grad``), each either the input's shape or broadcastable to it; the engine
    unbroadcasts. Whatever backward needs goes in ``self.saved`` (freed after backward).
    Gradients returned must be new arrays, ``grad_output`` itself, or views of it.
    """

    inputs: tuple[Tensor, ...]
    needs_input_grad: tuple[bool, ...]
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
            needs = tuple([tensor.requires_grad for tensor in inputs])
        except AttributeError:
            given = ", ".join(type(value).__name__ for value in inputs)
            raise TypeError(
                f"{cls.name()}: expected Tensor inputs, got ({given}); wrap arrays with "
                "scratchnn.tensor(...)"
            ) from None
        requires_grad = _grad_enabled and True in needs
        node.needs_input_grad = needs
        try:
            data = node.forward(*[tensor.data for tensor in inputs], **options)
        except ValueError as error:
            shapes = " and ".join(str(tensor.shape) for tensor in inputs)
            raise ValueError(f"{cls.name()}: invalid for shapes {shapes}: {error}") from None
        out = Tensor._make(data, requires_grad)
        if requires_grad:
            node.inputs = inputs
            out.grad_fn = node
        return out

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

    ``data`` is the underlying ``np.ndarray``; ``grad`` is an array of the same shape (or
    ``None``) filled by ``backward``. Python floats and float64 arrays become float32 unless
    ``dtype`` says otherwise; integer data (class labels) stays integer.
    """

    __slots__ = ("data", "grad", "requires_grad", "grad_fn", "__weakref__")
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
        self.grad: np.ndarray | None = None
        self.grad_fn: Function | None = None
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @staticmethod
    def _make(data: Any, requires_grad: bool = False) -> Tensor:
        """The fast constructor that ops use: no dtype conversion, no copy."""
        tensor = object.__new__(Tensor)
        tensor.data = data if type(data) is np.ndarray else np.asarray(data)
        tensor.grad = None
        tensor.requires_grad = requires_grad
        tensor.grad_fn = None
        return tensor

    # ----------------------------------------------------------------- graph
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

    def detach(self) -> Tensor:
        """The same data, cut off from the graph."""
        return Tensor._make(self.data)

    def backward(self, gradient: ArrayLike | None = None, retain_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into ``leaf.grad`` for every leaf that requires grad.

        ``gradient`` is d(loss)/d(self); it may be omitted only when self has one element.
        """
        if not self.requires_grad:
            raise RuntimeError(
                "backward: this tensor does not require grad and has no grad_fn "
                "(did you compute it inside no_grad(), or from tensors without requires_grad?)"
            )
        if gradient is None:
            if self.data.size != 1:
                raise RuntimeError(
                    f"backward: gradient can be implicitly created only for one-element "
                    f"outputs; this tensor has shape {self.shape}; pass gradient=..."
                )
            root_gradient = np.ones(self.data.shape, dtype=self.data.dtype)
        else:
            if isinstance(gradient, Tensor):
                gradient = gradient.data
            root_gradient = np.array(gradient, dtype=self.dtype)  # a copy we own
            if root_gradient.shape != self.shape:
                raise ValueError(
                    f"backward: gradient has shape {root_gradient.shape}, "
                    f"but the tensor has shape {self.shape}"
                )
        if self.grad_fn is None:
            _accumulate_into_leaf(self, root_gradient, set(), None, ())
            return
        # gradient of each computed tensor still to be passed on (tensors hash by identity)
        grads: dict[Tensor, np.ndarray] = {self: root_gradient}
        adopted: set[int] = set()
        for tensor in _reverse_topological_order(self):
            node = tensor.grad_fn
            if node.released:
                raise RuntimeError(
                    "backward: trying to go through the graph a second time, but its saved "
                    "values were freed by the first backward; pass retain_graph=True to the "
                    "first call if you need to"
                )
            grad_output = grads.pop(tensor)
            input_grads = node.backward(grad_output)
            if type(input_grads) is not tuple:
                input_grads = (input_grads,)
            for source, grad in zip(node.inputs, input_grads, strict=False):
                if grad is None or not source.requires_grad:
                    continue
                if grad.shape != source.data.shape:
                    grad = unbroadcast(grad, source.data.shape)
                    if grad.shape != source.data.shape:
                        raise RuntimeError(
                            f"backward: {node.name()} returned a gradient that does not "
                            f"reduce to its input's shape {source.data.shape}"
                        )
                if source.grad_fn is None:
                    _accumulate_into_leaf(source, grad, adopted, grad_output, input_grads)
                    continue
                previous = grads.get(source)
                grads[source] = grad if previous is None else previous + grad
            if not retain_graph:
                node.release()

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

    def __setitem__(self, index: Any, value: ArrayLike) -> None:
        if self.requires_grad and _grad_enabled:
            raise RuntimeError(
                "in-place assignment to a tensor that requires grad; "
                "do it inside no_grad() or on .data"
            )
        self.data[_index_arrays(index)] = value.data if isinstance(value, Tensor) else value

    # Operators, reductions and shape methods are attached by scratchnn.functional at import
    # time (see the bottom of that module), so each is defined once, next to its op.


def _index_arrays(index: Any) -> Any:
    """Replace Tensors inside an index by their arrays."""
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, tuple):
        return tuple(part.data if isinstance(part, Tensor) else part for part in index)
    return index


def _reverse_topological_order(root: Tensor) -> list[Tensor]:
    """The computed (non-leaf) tensors that ``root`` depends on, each before its inputs.

    Depth-first search with an explicit stack (no recursion, so 10,000-op chains are fine).
    Leaves are left out: they take their gradient as soon as it arrives.
    """
    order: list[Tensor] = []
    visited: set[Tensor] = set()  # Tensors hash by identity
    stack: list[tuple[Tensor, bool]] = [(root, False)]
    while stack:
        tensor, inputs_done = stack.pop()
        if inputs_done:
            order.append(tensor)
            continue
        if tensor in visited:
            continue
        visited.add(tensor)
        stack.append((tensor, True))
        for source in tensor.grad_fn.inputs:
            if source.grad_fn is not None and source.requires_grad and source not in visited:
                stack.append((source, False))
    order.reverse()
    return order


def _accumulate_into_leaf(
    leaf: Tensor,
    grad: np.ndarray,
    adopted: set[int],
    grad_output: np.ndarray | None,
    input_grads: tuple[np.ndarray | None, ...],
) -> None:
    """``leaf.grad += grad``, in place.

    The first gradient is adopted without a copy when its op's backward (which received
    ``grad_output`` and returned ``input_grads``) made it for this leaf alone: not a view, not
    ``grad_output`` passed through (``Add`` hands the same array to both inputs), not one
    array returned for several inputs, not already adopted by another leaf. Otherwise a later
    in-place accumulation into ``leaf.grad`` would change a gradient still on its way.
    """
    if type(grad) is not np.ndarray:  # NumPy turns 0-d results into scalars
        grad = np.array(grad)
    if grad.dtype != leaf.data.dtype:
        grad = grad.astype(leaf.data.dtype)
    if leaf.grad is not None:
        np.add(leaf.grad, grad, out=leaf.grad)
        return
    owned = (
        grad is not grad_output
        and grad.base is None
        and grad.flags.writeable
        and id(grad) not in adopted
        and sum(returned is grad for returned in input_grads) <= 1
    )
    leaf.grad = grad if owned else grad.copy()
    adopted.add(id(leaf.grad))


def as_tensor(value: ArrayLike, like: Tensor | None = None) -> Tensor:
    """``value`` as a Tensor (no copy if it already is one). A Python or NumPy number takes
    the dtype of ``like`` when that is a float tensor, so ``2 * t`` stays float32."""
    if isinstance(value, Tensor):
        return value
    if like is not None and np.isscalar(value) and like.data.dtype.kind == "f":
        return Tensor._make(np.asarray(value, dtype=like.data.dtype))
    return Tensor(value)
