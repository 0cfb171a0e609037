"""Export scratchnn models to ONNX, to run them in ONNX Runtime (servers, phones, browsers).

    import scratchnn.onnx
    scratchnn.onnx.export(model, example_input, "model.onnx",
                          input_names=["input"], output_names=["logits"],
                          dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})

PyTorch's signature and behaviour: the model is put in eval mode for the export (Dropout is the
identity, BatchNorm uses its running statistics; the modes are restored afterwards), run once
on the example input, and the recorded graph is converted node by node (Linear -> Gemm, or
MatMul + Add for inputs with more than two dims; ReLU -> Relu, Softmax, Reshape/Flatten,
Conv2d -> Conv, BatchNorm -> BatchNormalization, ...; see :mod:`scratchnn.onnx.converters`).
Parameters and buffers become initializers named by their ``state_dict`` keys. An op without
an ONNX mapping raises :class:`UnsupportedOperatorError` naming it. The model is validated
with ``onnx.checker.check_model(full_check=True)`` before it is written (atomically).

``onnx`` (and ``onnxruntime``, to run the result) are the optional extra ``onnx``:
``pip install 'scratchnn[onnx]'``. Importing this module works without them.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from scratchnn.onnx.converters import UnsupportedOperatorError
from scratchnn.onnx.exporter import (
    DEFAULT_OPSET,
    INSTALL_HINT,
    build_model,
    import_onnx,
    write_model,
)
from scratchnn.tensor import Tensor

__all__ = ["DEFAULT_OPSET", "INSTALL_HINT", "UnsupportedOperatorError", "export",
           "export_with_preprocessing"]


@contextlib.contextmanager
def _eval_mode(model: Any) -> Iterator[None]:
    """Every sub-module in eval mode inside; each one's own mode restored afterwards."""
    modules = list(model.modules()) if hasattr(model, "modules") else []
    modes = [module.training for module in modules]
    for module in modules:
        module.training = False
    try:
        yield
    finally:
        for module, mode in zip(modules, modes, strict=True):
            module.training = mode


def _check_model(model: Any) -> None:
    if not callable(model):
        raise TypeError(
            f"scratchnn.onnx.export: model must be an nn.Module (or a callable), got "
            f"{type(model).__name__}"
        )


def export(
    model: Any,
    args: Any,
    f: str | os.PathLike[str] | Any,
    *,
    export_params: bool = True,
    verbose: bool = False,
    input_names: Sequence[str] | None = None,
    output_names: Sequence[str] | None = None,
    opset_version: int | None = None,
    dynamic_axes: Mapping[str, Mapping[int, str] | Sequence[int]] | None = None,
    do_constant_folding: bool = True,
) -> Any:
    """Export ``model`` (an ``nn.Module``) traced on ``args`` (a Tensor/array, or a tuple of
    them for several inputs) to ``f`` (a path or a binary file object) as ONNX.

    ``input_names``/``output_names`` name the graph's inputs/outputs (default ``input``,
    ``output``; ``input_0``, ... when there are several); ``dynamic_axes`` marks axes whose
    size may change, e.g. ``{"input": {0: "batch"}, "output": {0: "batch"}}`` (or lists of
    axes); ``opset_version`` defaults to 17 (13 is the oldest supported). Returns the
    ``onnx.ModelProto`` that was written. ``do_constant_folding`` is accepted for PyTorch
    compatibility (the traced graph has no constant subgraphs to fold).
    """
    _check_model(model)
    if not export_params:
        raise NotImplementedError(
            "scratchnn.onnx.export: export_params=False (weights as graph inputs) is not "
            "supported; the parameters are always stored as initializers"
        )
    with _eval_mode(model):
        onnx_model = build_model(
            model, args, state_owner=model, input_names=input_names,
            output_names=output_names,
            opset_version=DEFAULT_OPSET if opset_version is None else opset_version,
            dynamic_axes=dynamic_axes,
        )
    if verbose:
        import onnx

        print(onnx.helper.printable_graph(onnx_model.graph))
    write_model(onnx_model, f)
    return onnx_model


def export_with_preprocessing(
    model: Any,
    args: Any,
    f: str | os.PathLike[str] | Any,
    *,
    mean: Any = None,
    std: Any = None,
    scale: float = 1.0,
    input_shape: Sequence[int] | None = None,
    target_mean: float = 0.0,
    target_std: float = 1.0,
    metadata: Mapping[str, str] | None = None,
    input_names: Sequence[str] | None = None,
    output_names: Sequence[str] | None = None,
    opset_version: int | None = None,
    dynamic_axes: Mapping[str, Mapping[int, str] | Sequence[int]] | None = None,
) -> Any:
    """:func:`export` with the input preprocessing folded into the graph, so the exported
    model takes raw features: ``model(((raw * scale) - mean) / std)`` (the standardisation of
    ``scratchnn train``; ``mean``/``std`` per feature, both or neither). ``args`` is an example
    of *raw* input. The constants are initializers ``preprocess.scale``, ``preprocess.mean``,
    ``preprocess.std``. ``input_shape`` reshapes the standardised (N, features) rows to
    (N, *input_shape) before the model (image models); ``target_mean``/``target_std`` undo a
    standardised regression target: ``output * target_std + target_mean``. ``metadata``
    (str -> str) goes into the model's ``metadata_props`` (e.g. class names)."""
    _check_model(model)
    if (mean is None) != (std is None):
        raise ValueError("export_with_preprocessing: give both mean and std, or neither")
    example = args[0] if isinstance(args, tuple | list) else args
    dtype = np.asarray(example.data if isinstance(example, Tensor) else example).dtype
    if not np.issubdtype(dtype, np.floating):
        dtype = np.dtype(np.float32)
    names: dict[str, Tensor] = {}
    scale_t = Tensor._make(np.asarray(scale, dtype))
    if scale != 1.0:
        names["preprocess.scale"] = scale_t
    mean_t = std_t = None
    if mean is not None:
        mean_t = Tensor._make(np.asarray(mean, dtype))
        std_t = Tensor._make(np.asarray(std, dtype))
        if np.any(std_t.data == 0):
            raise ValueError("export_with_preprocessing: std has zeros (division by zero)")
        names["preprocess.mean"], names["preprocess.std"] = mean_t, std_t
    target_std_t = Tensor._make(np.asarray(target_std, dtype))
    target_mean_t = Tensor._make(np.asarray(target_mean, dtype))
    if target_std != 1.0:
        names["postprocess.target_std"] = target_std_t
    if target_mean != 0.0:
        names["postprocess.target_mean"] = target_mean_t

    def forward(raw: Tensor) -> Any:
        x = raw.to(dtype) if raw.dtype != dtype else raw
        if scale != 1.0:
            x = x * scale_t
        if mean_t is not None:
            x = (x - mean_t) / std_t
        if input_shape is not None:
            x = x.reshape(x.shape[0], *input_shape)
        out = model(x)
        if target_std != 1.0:
            out = out * target_std_t
        if target_mean != 0.0:
            out = out + target_mean_t
        return out

    with _eval_mode(model):
        onnx_model = build_model(
            forward, args, state_owner=model, extra_names=names, input_names=input_names,
            output_names=output_names,
            opset_version=DEFAULT_OPSET if opset_version is None else opset_version,
            dynamic_axes=dynamic_axes,
            doc_string="input: raw features; preprocessing (scale, standardisation) included",
        )
    if metadata:
        onnx = import_onnx()
        onnx.helper.set_model_props(onnx_model, dict(metadata))
        onnx.checker.check_model(onnx_model, full_check=True)
    write_model(onnx_model, f)
    return onnx_model
