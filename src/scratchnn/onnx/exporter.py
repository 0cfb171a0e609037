"""Trace a model on an example input and write the recorded graph as an ONNX model.

How it works: the example input is copied into a fresh tensor that requires a gradient, so that
every op applied to it (or to the parameters) is recorded as a graph node (``out.grad_fn``,
with ``node.inputs`` and ``node.options``, see :mod:`scratchnn.tensor`). The nodes reachable
from the outputs are visited inputs-first and each is turned into ONNX nodes by its converter
(:mod:`scratchnn.onnx.converters`). Leaves become the graph's inputs (the example input),
initializers named by their ``state_dict`` key (parameters and buffers) or constants. The model
is checked with ``onnx.checker.check_model(full_check=True)`` and written atomically.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from scratchnn.onnx.converters import CONVERTERS, UnsupportedOperatorError
from scratchnn.tensor import Function, Tensor, enable_grad

INSTALL_HINT = "install the optional extra: pip install 'scratchnn[onnx]' (onnx, onnxruntime)"
MIN_OPSET = 13
DEFAULT_OPSET = 17


def import_onnx() -> Any:
    """The ``onnx`` package, or an ImportError saying how to install it."""
    try:
        import onnx
    except ImportError:
        raise ImportError(f"scratchnn.onnx needs the onnx package: {INSTALL_HINT}") from None
    return onnx


class GraphBuilder:
    """Collects ONNX nodes and initializers while the converters run."""

    def __init__(self, onnx: Any, opset: int, array_names: Mapping[int, str]) -> None:
        self.onnx = onnx
        self.helper = onnx.helper
        self.opset = opset
        self.nodes: list[Any] = []
        self.initializers: dict[str, np.ndarray] = {}
        self.array_names = array_names  # id(ndarray) -> state_dict key
        self.used_names: set[str] = set()
        self.counts: dict[str, int] = {}
        self.current: Function | None = None
        self.output_arrays: dict[int, np.ndarray] = {}

    # ------------------------------------------------------------------- names
    def fresh(self, hint: str) -> str:
        """A value name not used yet: ``hint``, ``hint_1``, ..."""
        count = self.counts.get(hint, 0)
        name = hint if count == 0 else f"{hint}_{count}"
        while name in self.used_names:
            count += 1
            name = f"{hint}_{count}"
        self.counts[hint] = count + 1
        self.used_names.add(name)
        return name

    # ------------------------------------------------------------------- values
    def node(self, op_type: str, inputs: Sequence[str], outputs: Sequence[str] | None = None,
             **attributes: Any) -> str:
        """Append a node; returns its (first) output name (a fresh one unless given)."""
        if outputs is None:
            outputs = [self.fresh(op_type.lower())]
        name = self.fresh(f"/{op_type}")
        self.nodes.append(self.helper.make_node(op_type, list(inputs), list(outputs),
                                                name=name, **attributes))
        return outputs[0]

    def constant(self, array: np.ndarray, hint: str) -> str:
        """A constant as a new initializer."""
        name = self.fresh(f"const_{hint}")
        self.initializers[name] = np.asarray(array)
        return name

    def array(self, array: Any, hint: str, dtype: np.dtype | None = None) -> str:
        """An array the forward took as an option: the initializer of the state_dict entry it
        is (a BatchNorm running buffer), else a constant."""
        array = array.data if isinstance(array, Tensor) else array
        key = self.array_names.get(id(array))
        value = np.asarray(array) if dtype is None else np.asarray(array, dtype)
        if key is not None and value.dtype == np.asarray(array).dtype:
            if key not in self.initializers:
                self.used_names.add(key)
                self.initializers[key] = value
            return key
        return self.constant(value, hint)

    def squeeze(self, name: str, axes: list[int]) -> str:
        axes_name = self.constant(np.asarray(axes, np.int64), "axes")
        return self.node("Squeeze", [name, axes_name])

    def unsqueeze(self, name: str, axes: list[int]) -> str:
        axes_name = self.constant(np.asarray(axes, np.int64), "axes")
        return self.node("Unsqueeze", [name, axes_name])

    def onnx_dtype(self, dtype: np.dtype) -> int:
        return self.helper.np_dtype_to_tensor_dtype(np.dtype(dtype))

    # --------------------------------------------------------- node information
    @staticmethod
    def options(node: Function) -> dict[str, Any]:
        options = getattr(node, "options", None)
        if options is None:
            raise RuntimeError(
                f"scratchnn.onnx.export: the {type(node).__name__} node did not keep its "
                "forward options (node.options); this scratchnn is too old to export"
            )
        return options

    def output_shape(self, node: Function) -> tuple[int, ...]:
        return tuple(self.output_arrays[id(node)].shape)


def _as_inputs(args: Any) -> tuple[Any, ...]:
    if isinstance(args, tuple):
        return args
    if isinstance(args, list):
        return tuple(args)
    return (args,)


def _traced_input(value: Any, position: int) -> Tensor:
    """A new leaf tensor with the example's data, recording every op applied to it."""
    if isinstance(value, Tensor):
        data = value.data
    elif isinstance(value, np.ndarray | np.generic):
        data = np.asarray(value)
    else:
        raise TypeError(
            f"scratchnn.onnx.export: example input {position} is a {type(value).__name__}; "
            "pass a Tensor or np.ndarray (or a tuple of them)"
        )
    tensor = Tensor._make(np.array(data, copy=True))
    if np.issubdtype(tensor.dtype, np.floating):
        tensor.requires_grad_(True)
    return tensor


def _default_names(given: Sequence[str] | None, count: int, stem: str, what: str) -> list[str]:
    if given is None:
        return [stem] if count == 1 else [f"{stem}_{i}" for i in range(count)]
    given = list(given)
    if len(given) != count or len(set(given)) != count:
        raise ValueError(
            f"scratchnn.onnx.export: {what} has {len(given)} name(s) {given}, but the model has "
            f"{count} {what.split('_')[0]}(s) (names must be distinct)"
        )
    return given


def _dynamic_dims(dynamic_axes: Mapping[str, Any] | None, names: list[str],
                  shapes: dict[str, tuple[int, ...]]) -> dict[str, dict[int, str]]:
    """``{value name: {axis: dim name}}`` from PyTorch's dynamic_axes (dicts or lists)."""
    result: dict[str, dict[int, str]] = {}
    for name, axes in (dynamic_axes or {}).items():
        if name not in names:
            raise ValueError(
                f"scratchnn.onnx.export: dynamic_axes names {name!r}, which is neither an "
                f"input nor an output (those are {names})"
            )
        if isinstance(axes, Mapping):
            pairs = [(int(axis), str(dim)) for axis, dim in axes.items()]
        else:
            pairs = [(int(axis), f"{name}_dynamic_axes_{i + 1}") for i, axis in enumerate(axes)]
        ndim = len(shapes[name])
        for axis, _ in pairs:
            if not -ndim <= axis < ndim:
                raise ValueError(
                    f"scratchnn.onnx.export: dynamic_axes[{name!r}] has axis {axis}, but "
                    f"{name!r} has {ndim} dimension(s)"
                )
        result[name] = {axis % ndim: dim for axis, dim in pairs}
    return result


def _nodes_in_order(outputs: Sequence[Tensor]) -> list[Tensor]:
    """Every computed tensor the outputs depend on, each after the tensors it came from."""
    order: list[Tensor] = []
    seen: set[int] = set()
    stack: list[tuple[Tensor, bool]] = [(t, False) for t in reversed(outputs)]
    while stack:
        tensor, done = stack.pop()
        if done:
            order.append(tensor)
            continue
        if id(tensor) in seen or tensor.grad_fn is None:
            continue
        seen.add(id(tensor))
        stack.append((tensor, True))
        for source in reversed(tensor.grad_fn.inputs):
            if source.grad_fn is not None and id(source) not in seen:
                stack.append((source, False))
    return order


def _state_names(model: Any) -> tuple[dict[int, str], dict[int, str]]:
    """id(tensor) -> key and id(array) -> key for every parameter and buffer of a Module."""
    tensors: dict[int, str] = {}
    arrays: dict[int, str] = {}
    items = model._state_items() if hasattr(model, "_state_items") else []
    for key, value in items:
        if isinstance(value, Tensor):
            tensors.setdefault(id(value), key)
            arrays.setdefault(id(value.data), key)
        else:
            arrays.setdefault(id(value), key)
    return tensors, arrays


def build_model(
    forward: Callable[..., Any],
    args: Any,
    *,
    state_owner: Any = None,
    extra_names: Mapping[str, Tensor] | None = None,
    input_names: Sequence[str] | None = None,
    output_names: Sequence[str] | None = None,
    opset_version: int = DEFAULT_OPSET,
    dynamic_axes: Mapping[str, Any] | None = None,
    doc_string: str = "",
) -> Any:
    """Trace ``forward(*args)`` and return the checked ``onnx.ModelProto``."""
    onnx = import_onnx()
    from scratchnn import __version__

    latest = onnx.defs.onnx_opset_version()
    if isinstance(opset_version, bool) or not isinstance(opset_version, int) or not (
        MIN_OPSET <= opset_version <= latest
    ):
        raise ValueError(
            f"scratchnn.onnx.export: opset_version must be an int from {MIN_OPSET} to {latest} "
            f"(this onnx), got {opset_version!r}"
        )
    examples = _as_inputs(args)
    traced = [_traced_input(value, i) for i, value in enumerate(examples)]
    in_names = _default_names(input_names, len(traced), "input", "input_names")

    with enable_grad():
        result = forward(*traced)
    outputs = list(result) if isinstance(result, tuple | list) else [result]
    for i, out in enumerate(outputs):
        if not isinstance(out, Tensor):
            raise TypeError(
                f"scratchnn.onnx.export: the model returned a {type(out).__name__} as output "
                f"{i}; only Tensors (or a tuple of them) can be exported"
            )
    out_names = _default_names(output_names, len(outputs), "output", "output_names")
    shapes = {name: t.shape for name, t in zip(in_names + out_names, traced + outputs,
                                                strict=True)}
    dynamic = _dynamic_dims(dynamic_axes, in_names + out_names, shapes)

    tensor_keys, array_keys = _state_names(state_owner)
    for key, tensor in (extra_names or {}).items():
        tensor_keys[id(tensor)] = key
        array_keys[id(tensor.data)] = key
    graph = GraphBuilder(onnx, opset_version, array_keys)
    graph.used_names.update(in_names + out_names)
    value_names: dict[int, str] = {id(t): name for t, name in zip(traced, in_names, strict=True)}

    def name_of(tensor: Tensor) -> str:
        known = value_names.get(id(tensor))
        if known is not None:
            return known
        key = tensor_keys.get(id(tensor)) or array_keys.get(id(tensor.data))
        if key is not None:  # a parameter or buffer: an initializer named by its key
            if key not in graph.initializers:
                graph.used_names.add(key)
                graph.initializers[key] = tensor.data
            value_names[id(tensor)] = key
            return key
        name = graph.constant(tensor.data, "tensor")  # any other leaf: a constant
        value_names[id(tensor)] = name
        return name

    final_names = {id(out): name for out, name in zip(outputs, out_names, strict=True)}
    for tensor in _nodes_in_order(outputs):
        node = tensor.grad_fn
        op = type(node).__name__
        converter = CONVERTERS.get(op)
        if converter is None:
            raise UnsupportedOperatorError(
                f"scratchnn.onnx.export: op {op} ({type(node).__module__}) has no ONNX "
                f"mapping; supported ops: {', '.join(sorted(CONVERTERS))}"
            )
        inputs = [name_of(source) for source in node.inputs]
        graph.output_arrays[id(node)] = tensor.data
        target = final_names.pop(id(tensor), None) or graph.fresh(op.lower())
        converter(graph, node, inputs, target)
        value_names[id(tensor)] = target
    for out, name in zip(outputs, out_names, strict=True):
        if id(out) in final_names:  # an output that is an input or a leaf: pass it through
            graph.node("Identity", [name_of(out)], [name])

    consumed = {name for node in graph.nodes for name in node.input}
    for name, tensor in zip(in_names, traced, strict=True):
        if name not in consumed and tensor.requires_grad:
            raise ValueError(
                f"scratchnn.onnx.export: the outputs do not depend on input {name!r} in the "
                "recorded graph (computed under no_grad(), or through .data/.numpy()?); the "
                "exported model would ignore its input"
            )

    helper = onnx.helper

    def value_info(name: str, tensor: Tensor, unknown: bool) -> Any:
        dims = dynamic.get(name, {})
        shape = [
            dims.get(axis, None if unknown and name not in dynamic else size)
            for axis, size in enumerate(tensor.shape)
        ]
        return helper.make_tensor_value_info(name, graph.onnx_dtype(tensor.dtype), shape)

    any_dynamic_input = any(name in dynamic for name in in_names)
    graph_proto = helper.make_graph(
        graph.nodes,
        "scratchnn",
        [value_info(n, t, False) for n, t in zip(in_names, traced, strict=True)],
        [value_info(n, t, any_dynamic_input) for n, t in zip(out_names, outputs, strict=True)],
        initializer=[onnx.numpy_helper.from_array(np.asarray(array), name)
                     for name, array in graph.initializers.items()],
    )
    model = helper.make_model(
        graph_proto,
        opset_imports=[helper.make_opsetid("", opset_version)],
        producer_name="scratchnn",
        producer_version=__version__,
        doc_string=doc_string,
    )
    # the oldest IR version that has this opset: what older ONNX Runtimes can read
    model.ir_version = helper.find_min_ir_version_for(list(model.opset_import))
    try:
        onnx.checker.check_model(model, full_check=True)
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
        raise ValueError(f"scratchnn.onnx.export: the ONNX model is invalid: {first}") from None
    return model


def write_model(model: Any, f: Any) -> None:
    """Write the serialized model to a path (atomically) or a binary file object."""
    data = model.SerializeToString()
    if isinstance(f, io.IOBase) or hasattr(f, "write"):
        f.write(data)
        return
    from scratchnn.serialization import atomic_write

    atomic_write(os.fspath(f), lambda file: file.write(data))
