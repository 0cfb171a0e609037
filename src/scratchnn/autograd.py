"""``scratchnn.autograd``: PyTorch's autograd API on top of the engine in ``tensor.py``.

* :class:`Function`: a user-defined op written the way PyTorch's tutorial writes one, with
  Tensors and a context object::

      class Cube(scratchnn.autograd.Function):
          @staticmethod
          def forward(ctx, x):                  # Tensors in, a Tensor out
              ctx.save_for_backward(x)
              return x ** 3

          @staticmethod
          def backward(ctx, grad_output):       # d(loss)/d(out) in, d(loss)/d(input) out
              (x,) = ctx.saved_tensors
              return grad_output * 3 * x ** 2

      y = Cube.apply(x)

  (The library's own ops use the leaner array-level ``scratchnn.tensor.Function``.)
* :func:`grad`: gradients of outputs with respect to chosen inputs, returned instead of
  accumulated into ``.grad``.
* :func:`gradcheck`, ``no_grad``, ``enable_grad``, ``queue_callback``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from scratchnn import tensor as _engine
from scratchnn.gradcheck import GradcheckError, gradcheck
from scratchnn.tensor import (
    Tensor,
    enable_grad,
    is_grad_enabled,
    no_grad,
    queue_callback,
    run_backward,
)

__all__ = [
    "Function", "FunctionCtx", "GradcheckError", "enable_grad", "grad", "gradcheck",
    "is_grad_enabled", "no_grad", "queue_callback",
]


class FunctionCtx:
    """The ``ctx`` a custom :class:`Function`'s ``forward`` and ``backward`` share."""

    def __init__(self, needs_input_grad: tuple[bool, ...]) -> None:
        self.needs_input_grad = needs_input_grad
        self.materialize_grads = True
        self._saved: tuple[Tensor | None, ...] = ()
        self._saved_versions: tuple[tuple[list[int], int] | None, ...] = ()
        self._non_differentiable: set[int] = set()

    def save_for_backward(self, *tensors: Tensor | None) -> None:
        """Keep tensors for ``backward`` (``ctx.saved_tensors``); changing one in place
        before backward makes backward raise."""
        for tensor in tensors:
            if tensor is not None and not isinstance(tensor, Tensor):
                raise TypeError(
                    "save_for_backward: only Tensors (or None) can be saved, got "
                    f"{type(tensor).__name__}; keep other values as attributes of ctx"
                )
        self._saved = tensors
        self._saved_versions = tuple(
            None if t is None else (t._version, t._version[0]) for t in tensors
        )

    @property
    def saved_tensors(self) -> tuple[Tensor | None, ...]:
        for entry in self._saved_versions:
            if entry is not None and entry[0][0] != entry[1]:
                raise RuntimeError(
                    "one of the variables needed for gradient computation has been modified "
                    f"by an inplace operation: a tensor saved with save_for_backward was at "
                    f"version {entry[1]} and is now at version {entry[0][0]}"
                )
        return self._saved

    def mark_non_differentiable(self, *tensors: Tensor) -> None:
        """Outputs that get no gradient (e.g. indices); they do not require grad."""
        self._non_differentiable.update(id(t) for t in tensors)

    def set_materialize_grads(self, value: bool) -> None:
        """With False, ``backward`` may receive None for an output that got no gradient
        (scratchnn's Functions have one output, which always gets one)."""
        self.materialize_grads = value

    def mark_dirty(self, *tensors: Tensor) -> None:
        raise NotImplementedError(
            "mark_dirty: custom Functions that change their inputs in place are not supported "
            "by scratchnn; return a new tensor instead"
        )


class _CustomNode(_engine.Function):
    """The graph node of one call of a custom :class:`Function`."""

    saves_inputs = False  # the ctx checks its own saved tensors' versions

    def __init__(self, function: type[Function], ctx: FunctionCtx, positions: list[int],
                 n_args: int) -> None:
        self.function, self.ctx = function, ctx
        self.positions, self.n_args = positions, n_args  # where the Tensor args were

    def backward(self, grad_output: np.ndarray) -> tuple[np.ndarray | None, ...]:
        name = self.function.__name__
        with no_grad():
            grads = self.function.backward(self.ctx, Tensor._make(grad_output))
        if not isinstance(grads, tuple):
            grads = (grads,)
        if len(grads) != self.n_args:
            # PyTorch allows extra trailing Nones; so do we
            if len(grads) < self.n_args or any(g is not None for g in grads[self.n_args:]):
                raise RuntimeError(
                    f"function {name}Backward returned an incorrect number of gradients "
                    f"(expected {self.n_args}, got {len(grads)})"
                )
        arrays = []
        for position, source in zip(self.positions, self.inputs, strict=True):
            value = grads[position]
            if value is None:
                arrays.append(None)
                continue
            array = value.data if isinstance(value, Tensor) else np.asarray(value)
            if array.shape != source.shape:
                raise RuntimeError(
                    f"function {name}Backward returned an invalid gradient at index "
                    f"{position} - got shape {array.shape} but expected shape {source.shape}"
                )
            arrays.append(array.astype(source.dtype, copy=False))
        return tuple(arrays)

    def __repr__(self) -> str:
        return f"<{self.function.__name__}Backward>"


class Function:
    """Base class of ops defined by the user with ``forward(ctx, *args)`` and
    ``backward(ctx, *grad_outputs)`` as static methods, called with ``MyOp.apply(*args)``.

    ``forward`` receives Tensors (and any other arguments as they were given) with gradient
    recording off, and returns one Tensor. ``backward`` receives d(loss)/d(output) as a
    Tensor and returns one gradient (a Tensor, or None) per argument of ``forward``.
    """

    @staticmethod
    def forward(ctx: FunctionCtx, *args: Any, **kwargs: Any) -> Tensor:
        raise NotImplementedError("a custom Function must define a static forward(ctx, ...)")

    @staticmethod
    def backward(ctx: FunctionCtx, *grad_outputs: Tensor) -> Any:
        raise NotImplementedError("a custom Function must define a static backward(ctx, ...)")

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Tensor:
        positions = [i for i, arg in enumerate(args) if isinstance(arg, Tensor)]
        inputs = tuple(args[i] for i in positions)
        needs = tuple(isinstance(arg, Tensor) and arg.requires_grad for arg in args)
        ctx = FunctionCtx(needs)
        with no_grad():
            result = cls.forward(ctx, *args, **kwargs)
        if isinstance(result, tuple | list):
            raise NotImplementedError(
                f"{cls.__name__}.forward returned {len(result)} outputs; scratchnn's custom "
                "Functions return one Tensor (return the outputs from separate Functions)"
            )
        if not isinstance(result, Tensor):
            raise TypeError(
                f"{cls.__name__}.forward must return a Tensor, got {type(result).__name__}"
            )
        requires_grad = (is_grad_enabled() and any(needs)
                         and id(result) not in ctx._non_differentiable)
        if not requires_grad:
            return result
        if result.dtype.kind != "f":
            raise RuntimeError(
                f"{cls.__name__}.forward returned a {result.dtype} tensor, which cannot "
                "require grad; mark it with ctx.mark_non_differentiable(...)"
            )
        # a fresh Tensor, so an input returned as is does not become its own graph node
        out = Tensor._make(result.data, True)
        node = _CustomNode(cls, ctx, positions, len(args))
        node.needs_input_grad = tuple(needs[i] for i in positions)
        node._record(inputs, out, kwargs)
        return out


def grad(outputs: Tensor | Sequence[Tensor], inputs: Tensor | Sequence[Tensor],
         grad_outputs: Tensor | Sequence[Tensor | None] | None = None,
         retain_graph: bool | None = None, create_graph: bool = False,
         allow_unused: bool = False) -> tuple[Tensor | None, ...]:
    """d(sum of outputs)/d(inputs), returned as a tuple of Tensors; ``.grad`` is untouched.

    ``grad_outputs`` weights each output (needed when an output has more than one element).
    """
    if create_graph:
        raise NotImplementedError(
            "autograd.grad: create_graph=True (gradients of gradients) is not supported by "
            "scratchnn"
        )
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is None or isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs] * len(outputs) if grad_outputs is None else [grad_outputs]
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"autograd.grad: {len(outputs)} outputs but {len(grad_outputs)} "
                         "grad_outputs")
    for i, tensor in enumerate(inputs):
        if not tensor.requires_grad:
            raise RuntimeError(f"autograd.grad: input {i} does not require grad")
    totals: list[np.ndarray | None] = [None] * len(inputs)
    for output, weight in zip(outputs, grad_outputs, strict=True):
        if not output.requires_grad:
            raise RuntimeError("autograd.grad: an output does not require grad and has no "
                               "grad_fn")
        root = _engine._root_gradient(output, weight, "autograd.grad")
        captured = run_backward(output, root, bool(retain_graph), capture=inputs)
        for i, value in enumerate(captured):
            if value is not None:
                totals[i] = value if totals[i] is None else totals[i] + value
    for i, value in enumerate(totals):
        if value is None and not allow_unused:
            raise RuntimeError(
                f"autograd.grad: input {i} was not used to compute the outputs (pass "
                "allow_unused=True to get None for it)"
            )
    return tuple(None if value is None else Tensor._make(value) for value in totals)
