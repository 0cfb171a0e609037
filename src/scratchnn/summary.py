"""A Keras-style summary of a model: each layer's output shape and parameter count.

    >>> from scratchnn.summary import summary
    >>> print(summary(model, (784,)))                                   # doctest: +SKIP
    Layer (type)        Output Shape    Param #
    =============================================
    0 (Linear)          (None, 128)     100,480
    1 (ReLU)            (None, 128)     0
    2 (Linear)          (None, 10)      1,290
    =============================================
    Total params: 101,770
    ...

How the shapes are found: one forward pass on a batch of zeros of shape ``(1, *input_shape)``
under ``no_grad``, with the ``forward`` of every leaf module (one without children, or one
holding parameters of its own) wrapped for the duration of that call to record what comes out.
``Module.__call__`` runs ``self.forward``, so an instance attribute ``forward`` takes the
place of the class's method for that one module; the wrappers are removed and the modules'
train/eval modes restored afterwards, also when the forward pass fails. The batch dimension
is shown as ``None``, as Keras does: the model takes any batch size.

This module is a leaf: nothing in scratchnn imports it (``scratchnn/__init__.py`` only makes
it reachable as ``scratchnn.summary``), and it reaches the model through the ``Module``
methods alone. As in PyTorch, ``Module`` has no ``summary`` method; the function lives here
(as ``torchinfo.summary`` does for PyTorch).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from scratchnn.tensor import Tensor, no_grad

if TYPE_CHECKING:
    from scratchnn.nn.module import Module


@dataclass
class LayerInfo:
    """One row of the summary: a leaf module as it was called in the forward pass."""

    name: str  # dotted name in the model, e.g. "0" or "encoder.fc1"
    type: str  # class name, e.g. "Linear"
    output_shape: tuple[Any, ...] | None  # None if the module returned no tensor
    params: int  # parameters counted in this row (0 for a second call of a shared module)


class _LayerFailed(ValueError):
    """A leaf module's forward raised ValueError; the message names the layer."""


def _output_shape(value: Any) -> Any:
    """The shape of a Tensor or array output (batch dim as None), or a list/tuple of those."""
    if isinstance(value, Tensor | np.ndarray):
        return (None, *value.shape[1:]) if value.ndim else ()
    if isinstance(value, list | tuple):
        return [_output_shape(item) for item in value]
    return None


def _input_description(args: tuple[Any, ...]) -> str:
    shapes = [str(tuple(a.shape)) for a in args if isinstance(a, Tensor | np.ndarray)]
    return "input of shape " + " and ".join(shapes) if shapes else "its input"


def _recorded_modules(model: Module) -> list[tuple[str, Module]]:
    """Leaf modules, plus any container with parameters of its own, once each."""
    chosen = []
    for name, module in model.named_modules():
        has_children = any(True for _ in module.children())
        has_own_params = any(True for _ in module.parameters(recurse=False))
        if not has_children or has_own_params:
            chosen.append((name or type(module).__name__, module))
    return chosen


def layer_table(model: Module, input_shape: int | Sequence[int]) -> list[LayerInfo]:
    """The summary's rows: every leaf module called by ``model`` on zeros of shape
    ``(1, *input_shape)``, in call order, with its output shape and parameter count.

    Raises ``ValueError`` naming the layer when a layer cannot take what the previous one
    produced (e.g. ``Linear(64, 10)`` after a layer of 128 outputs).
    """
    if isinstance(input_shape, int | np.integer):
        input_shape = (int(input_shape),)
    input_shape = tuple(int(size) for size in input_shape)
    if any(size < 0 for size in input_shape):
        raise ValueError(f"summary: input_shape must be non-negative sizes, got {input_shape}")

    rows: list[LayerInfo] = []
    counted: set[int] = set()
    patched: list[tuple[Module, bool, Any]] = []  # (module, had own forward, that forward)
    modes = {id(module): (module, module.training) for module in model.modules()}

    def wrap(name: str, module: Module) -> Any:
        original = module.forward  # the bound method (or an instance attribute)

        def recording_forward(*args: Any, **kwargs: Any) -> Any:
            row = LayerInfo(name, type(module).__name__, None, 0)
            if id(module) not in counted:
                counted.add(id(module))
                row.params = sum(p.numel() for p in module.parameters(recurse=False))
            rows.append(row)
            try:
                output = original(*args, **kwargs)
            except _LayerFailed:
                raise
            except ValueError as error:
                raise _LayerFailed(
                    f"summary: layer '{name}' ({type(module).__name__}) cannot take "
                    f"{_input_description(args)}: {error}"
                ) from None
            row.output_shape = _output_shape(output)
            return output

        return recording_forward

    try:
        for name, module in _recorded_modules(model):
            had_own = "forward" in module.__dict__
            patched.append((module, had_own, module.__dict__.get("forward")))
            object.__setattr__(module, "forward", wrap(name, module))
        model.eval()  # Dropout off; no running statistics updated
        with no_grad():
            model(Tensor(np.zeros((1, *input_shape), dtype=np.float32)))
    except _LayerFailed as error:
        raise ValueError(str(error)) from None
    finally:
        for module, had_own, own_forward in patched:
            if had_own:
                object.__setattr__(module, "forward", own_forward)
            else:
                module.__dict__.pop("forward", None)
        for module, training in modes.values():
            module.training = training
    return rows


def _shape_text(shape: Any) -> str:
    if shape is None:
        return "?"
    if isinstance(shape, list):
        return ", ".join(_shape_text(item) for item in shape)
    return str(tuple(shape))


class ModelSummary:
    """What :func:`summary` returns: ``str(it)`` (or ``print(it)``) is the table.

    Attributes: ``model_name``, ``rows`` (:class:`LayerInfo` per recorded layer call),
    ``total_params``, ``trainable_params``, ``non_trainable_params``.
    """

    def __init__(self, model_name: str, rows: list[LayerInfo], total: int, trainable: int):
        self.model_name = model_name
        self.rows = rows
        self.total_params = total
        self.trainable_params = trainable
        self.non_trainable_params = total - trainable

    def __str__(self) -> str:
        table = [("Layer (type)", "Output Shape", "Param #")]
        table += [(f"{r.name} ({r.type})", _shape_text(r.output_shape), f"{r.params:,}")
                  for r in self.rows]
        widths = [max(len(row[i]) for row in table) + 4 for i in range(3)]
        width = sum(widths)

        def line(row: tuple[str, str, str]) -> str:
            return "".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()

        size_mb = self.total_params * 4 / 2**20  # float32
        lines = [
            f'Model: "{self.model_name}"',
            "_" * width,
            line(table[0]),
            "=" * width,
            *(line(row) for row in table[1:]),
            "=" * width,
            f"Total params: {self.total_params:,} ({size_mb:.2f} MB as float32)",
            f"Trainable params: {self.trainable_params:,}",
            f"Non-trainable params: {self.non_trainable_params:,}",
            "_" * width,
        ]
        return "\n".join(lines)

    __repr__ = __str__  # the REPL shows the table

    def _repr_html_(self) -> str:
        """Jupyter's rich display: the same table as HTML (names escaped)."""
        from html import escape

        size_mb = self.total_params * 4 / 2**20
        cells = "".join(
            f"<tr><td>{escape(r.name)}</td><td>{escape(r.type)}</td>"
            f"<td>{escape(_shape_text(r.output_shape))}</td>"
            f"<td style='text-align:right'>{r.params:,}</td></tr>"
            for r in self.rows)
        return (f"<div><b>Model: {escape(self.model_name)}</b><table>"
                "<thead><tr><th>Layer</th><th>Type</th><th>Output Shape</th>"
                f"<th>Param #</th></tr></thead><tbody>{cells}</tbody></table>"
                f"<p>Total params: {self.total_params:,} ({size_mb:.2f} MB as float32)<br>"
                f"Trainable params: {self.trainable_params:,}<br>"
                f"Non-trainable params: {self.non_trainable_params:,}</p></div>")


def summary(model: Module, input_shape: int | Sequence[int]) -> ModelSummary:
    """A Keras-like table of ``model``: Layer (type), Output Shape, Param #, then the total,
    trainable and non-trainable parameter counts; ``print`` it. ``input_shape`` excludes the
    batch dimension (``(784,)`` for an MLP on flattened MNIST)."""
    rows = layer_table(model, input_shape)
    params = list(model.parameters())
    total = sum(p.numel() for p in params)
    trainable = sum(p.numel() for p in params if p.requires_grad)
    return ModelSummary(type(model).__name__, rows, total, trainable)


def print_summary(model: Module, input_shape: int | Sequence[int],
                  print_fn: Callable[[str], Any] = print) -> None:
    """``print_fn(str(summary(model, input_shape)))`` (Keras' ``model.summary()``)."""
    print_fn(str(summary(model, input_shape)))


def count_parameters(model: Module, trainable_only: bool = False) -> int:
    """Number of scalar parameters in ``model`` (each shared parameter once)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


__all__ = [
    "LayerInfo", "ModelSummary", "count_parameters", "layer_table", "print_summary", "summary"
]
