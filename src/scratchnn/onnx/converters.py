"""One converter per scratchnn op: a recorded graph node -> ONNX nodes.

A converter is ``convert(graph, node, inputs, output)``: ``graph`` is the
:class:`~scratchnn.onnx.exporter.GraphBuilder` being filled, ``node`` the recorded
:class:`~scratchnn.tensor.Function` (its input tensors in ``node.inputs``, its forward's
keyword options in ``node.options``), ``inputs`` the ONNX names of its input values and
``output`` the name its result must get. Shapes come from the traced arrays, so a converter
can check what ONNX can express and raise :class:`UnsupportedOperatorError` when it cannot.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from scratchnn.onnx.exporter import GraphBuilder
    from scratchnn.tensor import Function

INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)


class UnsupportedOperatorError(ValueError):
    """An op (or an op's setting) has no ONNX equivalent; the message names it."""


Converter = Callable[["GraphBuilder", "Function", list[str], str], None]
CONVERTERS: dict[str, Converter] = {}


def converts(*op_names: str) -> Callable[[Converter], Converter]:
    def register(function: Converter) -> Converter:
        for name in op_names:
            CONVERTERS[name] = function
        return function

    return register


def _shape(node: Function, index: int = 0) -> tuple[int, ...]:
    return tuple(node.inputs[index].data.shape)


def _unsupported(node: Function, why: str) -> UnsupportedOperatorError:
    return UnsupportedOperatorError(
        f"scratchnn.onnx.export: op {type(node).__name__} {why}"
    )


# ------------------------------------------------------------------------- elementwise
_SAME_NAME = {
    "Add": "Add", "Sub": "Sub", "Mul": "Mul", "Div": "Div", "Pow": "Pow", "Neg": "Neg",
    "Exp": "Exp", "Log": "Log", "Sqrt": "Sqrt", "Abs": "Abs", "ReLU": "Relu",
    "Sigmoid": "Sigmoid", "Tanh": "Tanh", "Maximum": "Max", "Minimum": "Min", "MatMul": "MatMul",
    "Sin": "Sin", "Cos": "Cos", "Tan": "Tan", "Asin": "Asin", "Acos": "Acos", "Atan": "Atan",
    "Sinh": "Sinh", "Cosh": "Cosh", "Erf": "Erf", "Clone": "Identity",
}


def _same(op_type: str) -> Converter:
    def convert(graph: GraphBuilder, node: Function, inputs: list[str], output: str) -> None:
        graph.node(op_type, inputs, [output])

    return convert


for _name, _op_type in _SAME_NAME.items():
    CONVERTERS[_name] = _same(_op_type)


@converts("Dropout")
def _dropout(graph: GraphBuilder, node: Function, inputs: list[str], output: str) -> None:
    # only recorded for dropout in training mode; the exported graph is for inference
    graph.node("Identity", inputs[:1], [output])


@converts("LeakyReLU")
def _leaky_relu(graph: GraphBuilder, node: Function, inputs: list[str], output: str) -> None:
    slope = float(graph.options(node).get("negative_slope", 0.01))
    graph.node("LeakyRelu", inputs, [output], alpha=slope)


@converts("Softmax", "LogSoftmax")
def _softmax(graph: GraphBuilder, node: Function, inputs: list[str], output: str) -> None:
    axis = int(graph.options(node).get("axis", -1))
    graph.node(type(node).__name__, inputs, [output], axis=axis)


@converts("Clip")
def _clip(graph: GraphBuilder, node: Function, inputs: list[str], output: str) -> None:
    options = graph.options(node)
    dtype = node.inputs[0].data.dtype
    bounds = []
    for key in ("low", "high"):
        value = options.get(key)
        bounds.append("" if value is None else graph.constant(np.asarray(value, dtype), key))
    while bounds and bounds[-1] == "":
        bounds.pop()
    graph.node("Clip", inputs + bounds, [output])


@converts("Where")
def _where(graph: GraphBuilder, node: Function, inputs: list[str], output: str) -> None:
    condition = np.asarray(graph.options(node)["condition"], dtype=bool)
    graph.node("Where", [graph.constant(condition, "condition"), *inputs], [output])


@converts("Cast")
def _cast(graph: GraphBuilder, node: Function, inputs: list[str], output: str) -> None:
    dtype = np.dtype(graph.options(node)["dtype"])
    graph.node("Cast", inputs, [output], to=graph.onnx_dtype(dtype))


@converts("Log1p")
def _log1p(graph: GraphBuilder, node: Function, inputs: list[str], output: str) -> None:
    one = graph.constant(np.ones((), node.inputs[0].data.dtype), "one")
    graph.node("Log", [graph.node("Add", [inputs[0], one])], [output])


# ------------------------------------------------------------------------------ linear
@converts("Linear")
def _linear(graph: GraphBuilder, node: Function, inputs: list[str], output: str) -> None:
    """y = x W^T + b: Gemm for a (batch, features) input, else MatMul(x, W^T) + b."""
    if len(_shape(node)) == 2:
        graph.node("Gemm", inputs, [output], transB=1)
        return
    weight_t = graph.node("Transpose", [inputs[1]], perm=[1, 0])
    if len(inputs) == 2:
        graph.node("MatMul", [inputs[0], weight_t], [output])
        return
    graph.node("Add", [graph.node("MatMul", [inputs[0], weight_t]), inputs[2]], [output])


# -------------------------------------------------------------------------- reductions
def _reduce(op_type: str, axes_as_input_since: int) -> Converter:
    def convert(graph: GraphBuilder, node: Function, inputs: list[str], output: str) -> None:
        options = graph.options(node)
        axis = options.get("axis")
        keepdims = int(bool(options.get("keepdims", False)))
        if axis is None:  # every axis: ONNX reduces all when no axes are given
            graph.node(op_type, inputs, [output], keepdims=keepdims)
            return
        axes = [int(a) for a in (axis if isinstance(axis, tuple | list) else (axis,))]
        if graph.opset >= axes_as_input_since:
            axes_name = graph.constant(np.asarray(axes, np.int64), "axes")
            graph.node(op_type, [inputs[0], axes_name], [output], keepdims=keepdims)
        else:
            graph.node(op_type, inputs, [output], keepdims=keepdims, axes=axes)

    return convert


CONVERTERS["Sum"] = _reduce("ReduceSum", 13)
CONVERTERS["Mean"] = _reduce("ReduceMean", 18)
CONVERTERS["Amax"] = _reduce("ReduceMax", 18)
CONVERTERS["Amin"] = _reduce("ReduceMin", 18)


@converts("Gather")
def _gather(graph: GraphBuilder, node: Function, inputs: list[str], output: str) -> None:
    options = graph.options(node)
    index = graph.constant(np.asarray(options["index"], np.int64), "index")
    graph.node("GatherElements", [inputs[0], index], [output], axis=int(options.get("axis", 0)))


# ------------------------------------------------------------------------------ shapes
@converts("Reshape")
def _reshape(graph: GraphBuilder, node: Function, inputs: list[str], output: str) -> None:
    """Flatten when the result is (N, rest); otherwise Reshape, with the leading sizes that
    the input keeps written as 0 ("copy from the input") so a dynamic batch axis stays so."""
    before = _shape(node)
    after = graph.output_shape(node)
    if len(before) >= 2 and after == (before[0], math.prod(before[1:])):
        graph.node("Flatten", inputs, [output], axis=1)
        return
    target = list(after)
    for i, size in enumerate(after):
        if i < len(before) and before[i] == size:
            target[i] = 0
        else:
            break
    requested = graph.options(node).get("shape")
    if isinstance(requested, tuple | list) and -1 in requested:
        where = list(requested).index(-1)
        if where < len(target) and target[where] != 0:
            target[where] = -1
    shape = graph.constant(np.asarray(target, np.int64), "shape")
    graph.node("Reshape", [inputs[0], shape], [output])


@converts("Permute")
def _permute(graph: GraphBuilder, node: Function, inputs: list[str], output: str) -> None:
    axes = graph.options(node).get("axes")
    if axes is None:
        axes = tuple(reversed(range(len(_shape(node)))))
    graph.node("Transpose", inputs, [output], perm=[int(a) for a in axes])


@converts("Cat")
def _cat(graph: GraphBuilder, node: Function, inputs: list[str], output: str) -> None:
    graph.node("Concat", inputs, [output], axis=int(graph.options(node).get("axis", 0)))


@converts("Stack")
def _stack(graph: GraphBuilder, node: Function, inputs: list[str], output: str) -> None:
    axis = int(graph.options(node).get("axis", 0))
    expanded = [graph.unsqueeze(name, [axis]) for name in inputs]
    graph.node("Concat", expanded, [output], axis=axis)


@converts("GetItem")
def _getitem(graph: GraphBuilder, node: Function, inputs: list[str], output: str) -> None:
    """Basic indexing (ints, slices, None, Ellipsis) as Slice + Squeeze + Unsqueeze; one
    integer array on one axis as Gather."""
    index = graph.options(node).get("index")
    parts = list(index) if isinstance(index, tuple) else [index]
    shape = _shape(node)
    arrays = [p for p in parts if isinstance(p, np.ndarray | list)]
    if arrays:
        if len(parts) != 1 or np.asarray(parts[0]).dtype.kind not in "iu":
            raise _unsupported(node, f"index {index!r}: only one integer array, on the first "
                               "axis, has an ONNX equivalent here (Gather)")
        indices = graph.constant(np.asarray(parts[0], np.int64), "indices")
        graph.node("Gather", [inputs[0], indices], [output], axis=0)
        return
    n_real = sum(p is not None and p is not Ellipsis for p in parts)
    if parts.count(Ellipsis) > 1:
        raise _unsupported(node, f"index {index!r} has more than one Ellipsis")
    if Ellipsis in parts:
        at = parts.index(Ellipsis)
        parts[at:at + 1] = [slice(None)] * (len(shape) - n_real)
    parts += [slice(None)] * (len(shape) - sum(p is not None for p in parts))
    starts, ends, axes, steps, squeeze, new_axes = [], [], [], [], [], []
    axis = out_axis = 0
    for part in parts:
        if part is None:
            new_axes.append(out_axis)
            out_axis += 1
            continue
        if isinstance(part, bool) or not isinstance(part, int | np.integer | slice):
            raise _unsupported(node, f"index {index!r}: part {part!r} has no ONNX equivalent")
        if isinstance(part, slice):
            step = 1 if part.step is None else int(part.step)
            if part != slice(None) and part != slice(None, None, 1):
                low, high = (INT64_MAX, INT64_MIN) if step < 0 else (0, INT64_MAX)
                starts.append(low if part.start is None else int(part.start))
                ends.append(high if part.stop is None else int(part.stop))
                axes.append(axis)
                steps.append(step)
            out_axis += 1
        else:
            position = int(part)
            starts.append(position)
            ends.append(INT64_MAX if position == -1 else position + 1)
            axes.append(axis)
            steps.append(1)
            squeeze.append(axis)
        axis += 1
    current = inputs[0]
    if axes:
        arrays_in = [graph.constant(np.asarray(v, np.int64), hint)
                     for v, hint in ((starts, "starts"), (ends, "ends"), (axes, "axes"),
                                     (steps, "steps"))]
        current = graph.node("Slice", [current, *arrays_in])
    if squeeze:
        current = graph.squeeze(current, squeeze)
    if new_axes:
        current = graph.unsqueeze(current, new_axes)
    graph.node("Identity", [current], [output])


@converts("Pad")
def _pad(graph: GraphBuilder, node: Function, inputs: list[str], output: str) -> None:
    options = graph.options(node)
    widths = [(int(a), int(b)) for a, b in options.get("widths", ())]
    mode = {"constant": "constant", "reflect": "reflect", "replicate": "edge"}.get(
        options.get("mode", "constant"))
    if mode is None or any(a < 0 or b < 0 for a, b in widths):
        raise _unsupported(node, f"mode {options.get('mode')!r} with widths {widths} has no "
                           "ONNX Pad equivalent")
    pads = graph.constant(np.asarray([a for a, _ in widths] + [b for _, b in widths],
                                     np.int64), "pads")
    extra = []
    if mode == "constant":
        value = np.asarray(options.get("value", 0.0), node.inputs[0].data.dtype)
        extra = [graph.constant(value, "pad_value")]
    graph.node("Pad", [inputs[0], pads, *extra], [output], mode=mode)


# --------------------------------------------------------------------------------- CNN
@converts("Conv2d")
def _conv(graph: GraphBuilder, node: Function, inputs: list[str], output: str) -> None:
    options = graph.options(node)
    top, bottom, left, right = (int(p) for p in options.get("padding", (0, 0, 0, 0)))
    kernel = _shape(node, 1)[2:]
    graph.node(
        "Conv", inputs, [output],
        kernel_shape=[int(k) for k in kernel],
        strides=[int(s) for s in options.get("stride", (1, 1))],
        dilations=[int(d) for d in options.get("dilation", (1, 1))],
        pads=[top, left, bottom, right],
        group=int(options.get("groups", 1)),
    )


@converts("ConvTranspose2d")
def _conv_transpose(graph: GraphBuilder, node: Function, inputs: list[str], output: str) -> None:
    options = graph.options(node)
    top, bottom, left, right = (int(p) for p in options.get("padding", (0, 0, 0, 0)))
    graph.node(
        "ConvTranspose", inputs, [output],
        kernel_shape=[int(k) for k in _shape(node, 1)[2:]],
        strides=[int(s) for s in options.get("stride", (1, 1))],
        dilations=[int(d) for d in options.get("dilation", (1, 1))],
        pads=[top, left, bottom, right],
        output_padding=[int(o) for o in options.get("output_padding", (0, 0))],
        group=int(options.get("groups", 1)),
    )


def _pool_geometry(node: Function, options: dict[str, Any]) -> tuple[list[int], ...]:
    kernel = [int(k) for k in options.get("kernel_size", (1, 1))]
    stride = [int(s) for s in options.get("stride", kernel)]
    padding = [int(p) for p in options.get("padding", (0, 0))]
    dilation = [int(d) for d in options.get("dilation", (1, 1))]
    return kernel, stride, padding, dilation


def _ceil_mode(node: Function, kernel: list[int], stride: list[int], padding: list[int],
               dilation: list[int], out_size: tuple[int, ...]) -> int:
    size = _shape(node)[2:]
    floor = tuple(
        (size[a] + 2 * padding[a] - dilation[a] * (kernel[a] - 1) - 1) // stride[a] + 1
        for a in (0, 1)
    )
    return int(tuple(out_size) != floor)


@converts("MaxPool2d")
def _max_pool(graph: GraphBuilder, node: Function, inputs: list[str], output: str) -> None:
    options = graph.options(node)
    kernel, stride, padding, dilation = _pool_geometry(node, options)
    out_size = graph.output_shape(node)[2:]
    graph.node(
        "MaxPool", inputs, [output], kernel_shape=kernel, strides=stride,
        pads=padding + padding, dilations=dilation,
        ceil_mode=_ceil_mode(node, kernel, stride, padding, dilation, out_size),
    )


@converts("AvgPool2d")
def _avg_pool(graph: GraphBuilder, node: Function, inputs: list[str], output: str) -> None:
    from scratchnn.ops.pool import avg_pool_divisor

    options = graph.options(node)
    kernel, stride, padding, _ = _pool_geometry(node, options)
    out_size = tuple(graph.output_shape(node)[2:])
    divisor = np.asarray(options.get("divisor"))
    in_size = _shape(node)[2:]
    include_pad = None
    for candidate in (False, True):
        expected = avg_pool_divisor(in_size, out_size, kernel, stride, padding, candidate)
        if divisor.shape == expected.shape and np.array_equal(divisor, expected):
            include_pad = candidate
            break
    if include_pad is None:
        raise _unsupported(node, "with divisor_override has no ONNX AveragePool equivalent")
    graph.node(
        "AveragePool", inputs, [output], kernel_shape=kernel, strides=stride,
        pads=padding + padding, count_include_pad=int(include_pad),
        ceil_mode=_ceil_mode(node, kernel, stride, padding, [1, 1], out_size),
    )


@converts("AdaptiveAvgPool2d")
def _adaptive_avg_pool(graph: GraphBuilder, node: Function, inputs: list[str],
                       output: str) -> None:
    out_size = tuple(graph.output_shape(node)[2:])
    if out_size == (1, 1):
        graph.node("GlobalAveragePool", inputs, [output])
        return
    in_size = _shape(node)[2:]
    if any(i % o for i, o in zip(in_size, out_size, strict=True)):
        raise _unsupported(node, f"from {in_size} to {out_size} (sizes that do not divide) "
                           "has no ONNX equivalent")
    kernel = [i // o for i, o in zip(in_size, out_size, strict=True)]
    graph.node("AveragePool", inputs, [output], kernel_shape=kernel, strides=kernel)


@converts("BatchNorm")
def _batch_norm(graph: GraphBuilder, node: Function, inputs: list[str], output: str) -> None:
    options = graph.options(node)
    if options.get("training", True):
        raise _unsupported(node, "in training mode (batch statistics) is not exported: call "
                           "model.eval() (export does) so BatchNorm uses its running stats")
    mean, var = options.get("running_mean"), options.get("running_var")
    if mean is None or var is None:
        raise _unsupported(node, "without running statistics (track_running_stats=False) "
                           "has no ONNX equivalent in eval mode")
    dtype = node.inputs[0].data.dtype
    channels = _shape(node)[1]
    scale = inputs[1] if len(inputs) > 1 else graph.constant(np.ones(channels, dtype), "scale")
    bias = inputs[2] if len(inputs) > 2 else graph.constant(np.zeros(channels, dtype), "bias")
    graph.node(
        "BatchNormalization",
        [inputs[0], scale, bias, graph.array(mean, "running_mean", dtype),
         graph.array(var, "running_var", dtype)],
        [output],
        epsilon=float(options.get("eps", 1e-5)),
    )


@converts("LayerNorm")
def _layer_norm(graph: GraphBuilder, node: Function, inputs: list[str], output: str) -> None:
    if graph.opset < 17:
        raise _unsupported(node, "needs opset_version >= 17 (LayerNormalization)")
    options = graph.options(node)
    n_dims = int(options.get("n_dims", 1))
    shape = _shape(node)
    dtype = node.inputs[0].data.dtype
    normalized = shape[len(shape) - n_dims:]
    scale = inputs[1] if len(inputs) > 1 else graph.constant(np.ones(normalized, dtype), "scale")
    extra = inputs[2:3]
    graph.node("LayerNormalization", [inputs[0], scale, *extra], [output],
               axis=-n_dims, epsilon=float(options.get("eps", 1e-5)))
