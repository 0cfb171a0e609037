"""What ``scratchnn train``, ``evaluate`` and ``predict`` share: one-line errors, option
checks, output-path checks, reading a checkpoint's :class:`~scratchnn.predictor.Predictor`
and reading data for an existing model (columns matched by name)."""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import re
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from scratchnn.cli import UsageError


def usage_error(message: str) -> UsageError:
    """A ``UsageError`` (one line on stderr, exit status 2) with ``message`` on one line."""
    return UsageError(re.sub(r"\s*\n\s*", "; ", str(message).strip()))


@contextlib.contextmanager
def user_errors(what: str = "") -> Iterator[None]:
    """Turn data, checkpoint and file errors into one-line ``UsageError``s."""
    from scratchnn.data import DataError
    from scratchnn.serialization import CheckpointError

    try:
        yield
    except (DataError, CheckpointError) as error:
        raise usage_error(str(error)) from None
    except OSError as error:
        raise usage_error(f"{error.filename or what}: {error.strerror or error}") from None


def wrap(text: str) -> str:
    """A description for the raw help formatter (which keeps the examples' line breaks)."""
    return textwrap.fill(text, width=79)


def say(text: str = "") -> None:
    print(text, flush=True)


def check_positive(name: str, value: float | int | None, allow_zero: bool = False) -> None:
    if value is None:
        return
    ok = value >= 0 if allow_zero else value > 0
    if not ok or (isinstance(value, float) and not math.isfinite(value)):
        bound = "non-negative" if allow_zero else "positive"
        raise usage_error(f"{name} must be {bound}, got {value}")


def require_matplotlib(option: str) -> None:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise usage_error(f"{option} needs matplotlib: install scratchnn[plot]") from None


def delimiter_option(text: str | None) -> str | None:
    """``--delimiter``: one character, or ``tab`` / ``\\t``."""
    if text is None:
        return None
    if text in ("tab", "\\t", "\t"):
        return "\t"
    if len(text) != 1:
        raise usage_error(f"--delimiter must be one character (or 'tab'), got {text!r}")
    return text


def add_delimiter_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--delimiter", metavar="CHAR",
                        help="CSV only: the column separator (default: sniffed from the "
                             "first lines among ',', ';' and tab; 'tab' for a tab)")


# ----------------------------------------------------------------------- output paths
def _nearest_existing(path: Path) -> Path:
    for parent in [path, *path.parents]:
        if parent.exists():
            return parent
    return Path(".")


def check_output_file(option: str, path: Path) -> None:
    """Fail now, not after training, if ``path`` cannot be written: it is a directory, or
    its nearest existing parent is not a writable directory."""
    if path.is_dir():
        raise usage_error(f"{option} {path}: is a directory; give a file name")
    if path.exists() and not os.access(path, os.W_OK):
        raise usage_error(f"{option} {path}: the file is not writable")
    base = _nearest_existing(path.parent)
    if not base.is_dir():
        raise usage_error(f"{option} {path}: {base} is a file, not a directory")
    if not os.access(base, os.W_OK | os.X_OK):
        raise usage_error(f"{option} {path}: cannot write in {base} (permission denied)")


def check_output_dir(option: str, path: Path) -> None:
    if path.exists() and not path.is_dir():
        raise usage_error(f"{option} {path}: exists and is not a directory")
    base = _nearest_existing(path)
    if not base.is_dir():
        raise usage_error(f"{option} {path}: {base} is a file, not a directory")
    if not os.access(base, os.W_OK | os.X_OK):
        raise usage_error(f"{option} {path}: cannot write in {base} (permission denied)")


def make_parent(path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise usage_error(f"{path.parent}: cannot create the directory: "
                          f"{error.strerror or error}") from None


# ----------------------------------------------------------------------- checkpoints
def read_checkpoint(path_text: str) -> tuple[Any, dict[str, Any]]:
    """``(predictor, extra)`` from a checkpoint written by ``scratchnn train``; the extra
    also gets ``'epoch'``."""
    from scratchnn.predictor import Predictor
    from scratchnn.serialization import CheckpointError, load_checkpoint
    from scratchnn.serialization import load_checkpoint_record as load  # npz or safetensors

    try:
        checkpoint = load(path_text)
    except CheckpointError as error:
        raise usage_error(str(error)) from None
    extra = checkpoint.get("extra") if isinstance(checkpoint, dict) else None
    try:
        predictor = Predictor.from_record(extra or {}, path_text)
    except ValueError as error:
        raise usage_error(str(error)) from None
    try:
        load_checkpoint(path_text, predictor.network)
    except CheckpointError as error:
        raise usage_error(str(error)) from None
    predictor.network.eval()
    extra = dict(extra)
    extra["epoch"] = int(checkpoint.get("epoch", 0))
    return predictor, extra


def describe(predictor: Any) -> str:
    architecture = predictor.architecture
    if architecture.get("kind", "mlp") == "mlp":
        return (f"--layers {','.join(map(str, architecture['layers']))} "
                f"--activation {architecture['activation']}")
    return f"--model {architecture.get('name') or architecture.get('kind')}"


# --------------------------------------------------------------------------- data
def samples_for_model(data: str, predictor: Any, extra: dict[str, Any], *,
                      target_column: str | None, target_required: bool,
                      delimiter: str | None, checkpoint: str) -> Any:
    """The samples in ``data`` (a CSV file or an IDX directory) arranged for the model:
    feature columns matched by header name, target found by name (or the training
    position in a headerless file)."""
    from scratchnn.data.samples import load_image_directory, match_columns, read_table

    path = Path(data).expanduser()
    n_features = predictor.n_features
    with user_errors(data):
        if path.is_dir():
            if target_column is not None:
                raise usage_error("--target-column applies to CSV files, not image "
                                  "directories")
            samples = load_image_directory(path, ("t10k", "test", "train"))
        else:
            table = read_table(path, delimiter)
            target: str | int | None = target_column
            if target is None:
                target = predictor.target_name if predictor.target_name is not None \
                    and table.has_header else (extra.get("data") or {}).get("target_index")
            samples = match_columns(
                table, predictor.feature_names if table.has_header else None, n_features,
                target=target, target_index=(extra.get("data") or {}).get("target_index"),
                target_required=target_required)
    for notice in samples.notices:
        print(f"note: {notice}", file=sys.stderr)
    if samples.features.shape[1] != n_features:
        raise usage_error(f"{checkpoint} holds a model for {n_features} features per sample "
                          f"({describe(predictor)}), but {samples.source} has "
                          f"{samples.features.shape[1]}")
    return samples


def encode_target(samples: Any, predictor: Any) -> np.ndarray:
    """The samples' target as the model's training target: class indices, or numbers."""
    from scratchnn.predictor import encode_labels

    if predictor.task == "regression":
        if samples.target.dtype.kind in "US":
            raise usage_error(f"{samples.source}: the target column holds text, but the model "
                              "regresses numbers")
        return samples.target.astype(np.float64)
    try:
        return encode_labels(samples.target, predictor.classes)[0]
    except ValueError as error:
        message = str(error)
        match = re.search(r"\(sample (\d+)\)", message)
        if match:
            where = samples.where(int(match.group(1)) - 1)
            message = message.replace(match.group(0), f"in {where}")
        raise usage_error(f"{samples.source}: {message}") from None
