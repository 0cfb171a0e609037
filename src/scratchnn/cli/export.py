"""``scratchnn export``: a checkpoint of ``scratchnn train`` as ONNX or safetensors.

``--format onnx``: the network with its preprocessing folded in (``x * scale``, then the
standardisation with the training statistics; image models also get the reshape to
(N, 1, H, W); regression models the target's de-standardisation), so ONNX Runtime is given the
raw feature columns, in the training order, as ``features`` (float32, any batch size) and
returns ``scores`` (class scores: softmax gives the probabilities; the class names are in the
model's metadata) or ``values`` (regression, in the target's units).

``--format safetensors``: the weights under their ``state_dict`` names (what
``safetensors.torch.load_file`` + ``load_state_dict`` take in PyTorch) with the training record
(architecture, preprocessing, classes) in the metadata, so ``evaluate``/``predict`` work on it.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from scratchnn.cli.common import (
    check_output_file,
    make_parent,
    read_checkpoint,
    say,
    usage_error,
    user_errors,
    wrap,
)

FORMATS = {"onnx": ".onnx", "safetensors": ".safetensors"}


def add_commands(subparsers: Any) -> None:
    """Add ``export`` to the ``scratchnn`` parser."""
    export = subparsers.add_parser(
        "export", help="write a checkpoint as ONNX (for ONNX Runtime) or safetensors (PyTorch)",
        description=wrap(
            "Export a checkpoint written by 'scratchnn train'. ONNX: the network with its "
            "preprocessing folded in, so the model takes the raw feature columns (input "
            "'features', float32, any batch size) and returns 'scores' (classes) or 'values' "
            "(regression); needs scratchnn[onnx]. safetensors: the weights under their "
            "state_dict names, loadable by safetensors.torch, with the training record in the "
            "metadata (evaluate and predict accept the file)."
        ) + "\n\nexamples:\n  scratchnn export --checkpoint model.npz --format onnx "
            "--output model.onnx\n  scratchnn export --checkpoint model.npz --output "
            "model.safetensors",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    export.add_argument("--checkpoint", metavar="PATH", required=True,
                        help="checkpoint written by 'scratchnn train'")
    export.add_argument("--format", choices=sorted(FORMATS),
                        help="output format (default: from the --output extension)")
    export.add_argument("--output", metavar="PATH",
                        help="file to write (default: the checkpoint's name with .onnx or "
                             ".safetensors)")
    export.add_argument("--opset", type=int, default=17, metavar="N",
                        help="ONNX opset version, 13 or newer (default: 17)")
    export.set_defaults(handler=export_command)


def _resolve(args: argparse.Namespace) -> tuple[str, Path]:
    output = Path(args.output).expanduser() if args.output else None
    fmt = args.format
    if fmt is None:
        suffix = output.suffix.lower() if output is not None else ""
        fmt = next((name for name, ext in FORMATS.items() if ext == suffix), None)
        if fmt is None:
            raise usage_error("give --format onnx or --format safetensors (or an --output "
                              "ending in .onnx or .safetensors)")
    if output is None:
        checkpoint = Path(args.checkpoint)
        stem = checkpoint.name.removesuffix(".npz").removesuffix(".safetensors")
        output = checkpoint.with_name(stem + FORMATS[fmt])
    if output.resolve() == Path(args.checkpoint).expanduser().resolve():
        raise usage_error(f"--output {output}: is the checkpoint itself; choose another file")
    return fmt, output


def export_command(args: argparse.Namespace) -> int:
    fmt, output = _resolve(args)
    check_output_file("--output", output)
    if fmt == "onnx":
        try:
            import onnx  # noqa: F401
        except ImportError:
            raise usage_error("--format onnx needs the onnx package: pip install "
                              "'scratchnn[onnx]'") from None
    predictor, extra = read_checkpoint(args.checkpoint)
    make_parent(output)
    if fmt == "safetensors":
        from scratchnn.serialization import save_checkpoint

        record = {key: value for key, value in extra.items() if key != "epoch"}
        with user_errors(str(output)):
            save_checkpoint(output, predictor.network, epoch=extra.get("epoch", 0),
                            extra=record)
        keys = list(predictor.network.state_dict())
        say(f"exported: {output} (safetensors: {len(keys)} tensors, {', '.join(keys[:4])}"
            f"{', ...' if len(keys) > 4 else ''}; the training record in the metadata)")
        return 0
    return _export_onnx(args, predictor, output)


def _export_onnx(args: argparse.Namespace, predictor: Any, output: Path) -> int:
    from scratchnn.onnx import UnsupportedOperatorError, export_with_preprocessing

    pre = predictor.preprocess
    n_features = predictor.n_features
    regression = predictor.task == "regression"
    # the network's input layout, e.g. (1, 28, 28) for an image model: what transform() makes
    network_input = predictor.transform(np.zeros((1, n_features), np.float32)).shape[1:]
    input_shape = None if tuple(network_input) == (n_features,) else tuple(network_input)
    output_name = "values" if regression else "scores"
    metadata = {"task": predictor.task,
                "feature_names": json.dumps(predictor.feature_names),
                "classes": json.dumps(None if regression else [str(c)
                                                               for c in predictor.classes])}
    try:
        export_with_preprocessing(
            predictor.network, np.zeros((2, n_features), np.float32), output,
            mean=pre.get("mean"), std=pre.get("std"), scale=float(pre.get("scale") or 1.0),
            input_shape=input_shape,
            target_mean=float(pre.get("target_mean", 0.0)) if regression else 0.0,
            target_std=float(pre.get("target_std", 1.0)) if regression else 1.0,
            metadata=metadata, input_names=["features"], output_names=[output_name],
            dynamic_axes={"features": {0: "batch"}, output_name: {0: "batch"}},
            opset_version=args.opset,
        )
    except (UnsupportedOperatorError, ValueError) as error:
        raise usage_error(str(error)) from None
    except OSError as error:
        raise usage_error(f"{output}: {error.strerror or error}") from None
    what = "values in the target's units" if regression else (
        f"class scores for {predictor.classes} (softmax: probabilities)")
    given = "raw feature columns" + _names(predictor) if input_shape is None else (
        f"raw pixel values of {'x'.join(map(str, input_shape[1:]))} images, row by row")
    say(f"exported: {output} (ONNX opset {args.opset}; input 'features' (batch, {n_features}): "
        f"{given}; output '{output_name}': {what})")
    _check_with_onnxruntime(predictor, output, n_features, output_name)
    return 0


def _names(predictor: Any) -> str:
    names = predictor.feature_names
    if not names:
        return ""
    shown = ", ".join(map(str, names[:6])) + (", ..." if len(names) > 6 else "")
    return f" {shown}"


def _check_with_onnxruntime(predictor: Any, output: Path, n_features: int,
                            output_name: str) -> None:
    """Run the exported model on random rows and compare with scratchnn (when ONNX Runtime
    is installed)."""
    try:
        import onnxruntime
    except ImportError:
        say("(install onnxruntime to check the exported model)")
        return
    rng = np.random.default_rng(0)
    pre = predictor.preprocess
    mean = np.zeros(n_features) if pre.get("mean") is None else pre["mean"]
    std = np.ones(n_features) if pre.get("std") is None else pre["std"]
    mean, std = np.asarray(mean, np.float32), np.asarray(std, np.float32)
    scale = float(pre.get("scale") or 1.0)
    raw = ((rng.standard_normal((7, n_features)) * std + mean) / scale).astype(np.float32)
    session = onnxruntime.InferenceSession(str(output), providers=["CPUExecutionProvider"])
    (got,) = session.run([output_name], {"features": raw})
    expected = predictor.outputs(predictor.transform(raw))
    if predictor.task == "regression":
        expected = predictor.values(expected).reshape(got.shape)
    difference = float(np.max(np.abs(got - expected))) if got.size else 0.0
    size = float(np.max(np.abs(expected))) if expected.size else 0.0
    relative = f" (relative {difference / size:.1e})" if size > 0 else ""
    say(f"checked with ONNX Runtime {onnxruntime.__version__}: 7 random rows, largest "
        f"difference from scratchnn {difference:.1e}{relative}")
