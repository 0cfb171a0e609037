"""Samples for a model from files: a CSV table or a directory of images, as one shape.

:func:`load_samples` reads ``--data`` for ``scratchnn train | evaluate | predict``:

* a CSV file (``.csv``, ``.tsv``, ``.txt``, optionally ``.gz``; see
  :mod:`scratchnn.data.csv`): one sample per row, one column the target;
* a directory holding an IDX pair in the MNIST layout (``train-images-idx3-ubyte[.gz]`` +
  ``train-labels-idx1-ubyte[.gz]``; evaluation prefers the ``t10k-*`` pair), or one folder
  per class of grayscale PNG images (``DIR/cat/*.png``: class ``cat``). Pixels are scaled
  to [0, 1] by the model's preprocessing.

For a model that already exists, :func:`match_columns` picks its feature columns from a CSV
file **by header name** (any order; missing or unexpected columns are an error naming them),
or by position for a headerless file, with the count checked.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from scratchnn.data.csv import CsvTable, read_csv
from scratchnn.data.dataset import DataError
from scratchnn.data.idx import read_idx
from scratchnn.data.images import load_png_folders, png_folders

__all__ = ["Samples", "load_idx_pair", "load_image_directory", "load_samples", "match_columns",
           "read_table"]


@dataclass
class Samples:
    """Samples as read from a file, before preprocessing.

    ``features`` (N, F): float32 from a CSV file, uint8 0..255 for images. ``target`` (N,):
    the raw target column (numbers or strings), or None. ``scale``: multiply features by it
    (1/255 for uint8 images)."""

    source: str
    kind: str  # "csv" or "idx"
    features: np.ndarray
    target: np.ndarray | None
    feature_names: list[str] | None = None
    target_name: str | None = None
    target_index: int | None = None
    image_shape: tuple[int, ...] | None = None
    scale: float = 1.0
    table: CsvTable | None = None
    notices: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.features)

    def where(self, i: int) -> str:
        """How messages name sample ``i``: ``row 17`` (a line of the CSV file) or
        ``sample 5``."""
        if self.table is not None:
            return f"row {int(self.table.line_numbers()[i])}"
        return f"sample {i + 1}"

    def row_ids(self) -> list[str]:
        """Ids for output rows: the CSV file's index column or line numbers, else 1..N."""
        if self.table is not None:
            return self.table.row_ids()
        return [str(i + 1) for i in range(len(self))]


# ------------------------------------------------------------------------------- IDX
def _idx_files(directory: Path, prefixes: Sequence[str]) -> tuple[Path, Path]:
    files = sorted(p for p in directory.iterdir() if p.is_file())
    for prefix in prefixes:
        images = [p for p in files if p.name.startswith(prefix) and "images" in p.name
                  and "idx" in p.name]
        labels = [p for p in files if p.name.startswith(prefix) and "labels" in p.name
                  and "idx" in p.name]
        if images and labels:
            return images[0], labels[0]
    wanted = " or ".join(f"{p}-images-idx3-ubyte + {p}-labels-idx1-ubyte" for p in prefixes)
    raise DataError(f"{directory}: no IDX pair found (expected {wanted}, optionally .gz)")


def load_idx_pair(directory: str | os.PathLike[str], prefixes: Sequence[str] = ("train",)
                  ) -> Samples:
    """Images and labels from the first ``PREFIX-images-idx*`` + ``PREFIX-labels-idx*`` pair
    in ``directory`` (checked: integer labels >= 0, one per image)."""
    directory = Path(directory)
    images_path, labels_path = _idx_files(directory, prefixes)
    images, labels = read_idx(images_path), read_idx(labels_path)
    if images.ndim < 2:
        raise DataError(f"{images_path}: expected images of shape (N, ...), got {images.shape}")
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise DataError(f"{labels_path}: expected integer labels of shape (N,), "
                        f"got {labels.dtype} {labels.shape}")
    if len(labels) != len(images):
        raise DataError(f"{labels_path}: {len(labels)} labels for {len(images)} images "
                        f"in {images_path.name}")
    if len(images) == 0:
        raise DataError(f"{images_path}: no images")
    negative = np.flatnonzero(labels < 0)
    if negative.size:
        raise DataError(f"{labels_path}: label {labels[negative[0]]} of sample "
                        f"{negative[0] + 1} is negative")
    shape = tuple(int(s) for s in images.shape[1:])
    return Samples(
        source=f"{directory} ({images_path.name})", kind="idx",
        features=images.reshape(len(images), -1), target=labels.astype(np.int64),
        image_shape=shape if len(shape) == 2 else None,
        scale=1 / 255 if images.dtype == np.uint8 else 1.0,
    )


def load_image_directory(directory: str | os.PathLike[str], prefixes: Sequence[str]
                         ) -> Samples:
    """An IDX pair when the directory has IDX files, else PNG images in class folders
    (``DIR/CLASS/*.png``, see :mod:`scratchnn.data.images`)."""
    directory = Path(directory)
    has_idx = any("idx" in p.name and "ubyte" in p.name for p in directory.iterdir())
    if not has_idx and png_folders(directory):
        features, target, shape, n_folders = load_png_folders(directory)
        return Samples(source=f"{directory} ({len(features)} PNG images in {n_folders} folders)",
                       kind="png", features=features, target=target, image_shape=shape,
                       scale=1 / 255)
    return load_idx_pair(directory, prefixes)


# ------------------------------------------------------------------------------- CSV
def read_table(path: str | os.PathLike[str], delimiter: str | None = None) -> CsvTable:
    """:func:`scratchnn.data.csv.read_csv`, with a missing file named as such."""
    name = os.fspath(path)
    if not os.path.exists(name):
        raise DataError(f"{name}: no such file or directory")
    return read_csv(name, delimiter)


def _csv_samples(table: CsvTable, features: list[int], target: int | None) -> Samples:
    x = table.numbers(features)
    return Samples(
        source=table.path, kind="csv", features=x,
        target=None if target is None else _target_values(table, target),
        feature_names=[table.names[j] for j in features] if table.has_header else None,
        target_name=None if target is None or not table.has_header else table.names[target],
        target_index=target, table=table, notices=list(table.notices),
    )


def _target_values(table: CsvTable, position: int) -> np.ndarray:
    """The target column: numbers (float64 from the float32 read, checked finite) or
    strings (empty ones refused)."""
    if table.is_numeric(position):
        values = table.numbers([position], what="target")[:, 0]
        return values.astype(np.float64)
    values = table.column(position)
    empty = np.flatnonzero(values == "")
    if empty.size:
        line = int(table.line_numbers()[empty[0]])
        raise DataError(f"{table.path}: row {line}, column {table.shown(position)}: empty label")
    return values


def load_samples(path: str | os.PathLike[str], target_column: str | int | None = -1, *,
                 delimiter: str | None = None, prefixes: Sequence[str] = ("train",)
                 ) -> Samples:
    """Training samples from ``path``: a CSV file (``target_column`` by header name or
    0-based index, default the last; ``None`` for features only) or a directory with an IDX
    pair. Raises :class:`DataError` naming the file for anything unusable."""
    name = os.fspath(path)
    p = Path(name).expanduser()
    if p.is_dir():
        if target_column not in (None, -1):
            raise DataError("--target-column applies to CSV files, not image directories")
        return load_image_directory(p, prefixes)
    if not p.exists():
        raise DataError(f"{name}: no such file or directory")
    if "idx" in p.name and "ubyte" in p.name:
        raise DataError(f"{name}: pass the directory that holds the IDX pair (images and "
                        "labels), not one IDX file")
    table = read_table(name, delimiter)
    target = None if target_column is None else table.position(target_column)
    features = [j for j in range(len(table.names)) if j != target]
    if not features:
        raise DataError(f"{name}: the file has only the target column, no feature columns")
    return _csv_samples(table, features, target)


def match_columns(table: CsvTable, feature_names: Sequence[str] | None, n_features: int, *,
                  target: str | int | None, target_index: int | None = None,
                  target_required: bool) -> Samples:
    """The samples of ``table`` for an existing model: its ``feature_names`` matched by header
    name in any order (a column not a feature and not the target is an error, as is a missing
    one), or, for a headerless file or a model trained without names, ``n_features`` columns
    by position (plus the target column at ``target_index``).

    ``target``: the target column's name or index, if the file should or may have it.
    ``target_required``: the target must be there (evaluation) or may be absent (prediction).
    """
    path = table.path
    names = table.names
    if table.has_header and feature_names is not None:
        target_position = None
        if target is not None and (not isinstance(target, str) or target in names
                                   or target.lstrip("-").isdigit()):
            target_position = table.position(target)
        elif target_required:
            raise DataError(f"{path}: no column named {target!r}, the model's target "
                            f"(columns: {', '.join(names)}); name it with --target-column")
        missing = [n for n in feature_names if n not in names]
        extra = [n for i, n in enumerate(names)
                 if n not in feature_names and i != target_position]
        if missing or extra:
            parts = []
            if missing:
                parts.append(f"missing feature column(s) {', '.join(map(repr, missing))}")
            if extra:
                parts.append(f"unexpected column(s) {', '.join(map(repr, extra))}")
            raise DataError(f"{path}: {' and '.join(parts)}; the model takes "
                            f"{', '.join(feature_names)}"
                            + (f" (target {names[target_position]!r})"
                               if target_position is not None else ""))
        features = [names.index(n) for n in feature_names]
        return _csv_samples(table, features, target_position)

    # by position: the count must fit
    width = len(names)
    target_position = None
    if target is not None and (isinstance(target, int) or not table.has_header
                               or target in names):
        if isinstance(target, str) and not table.has_header and not target.lstrip("-").isdigit():
            target = target_index
        if target is not None and (target_required or width == n_features + 1):
            target_position = table.position(target)
    elif target_required and target_index is not None and width == n_features + 1:
        target_position = target_index % width
    features = [j for j in range(width) if j != target_position]
    if len(features) != n_features:
        what = "" if target_position is None else " besides the target"
        raise DataError(f"{path} has {len(features)} feature columns{what}, but the model "
                        f"takes {n_features} features per sample"
                        + ("" if table.has_header else " (a headerless file is read by "
                           "position)"))
    return _csv_samples(table, features, target_position)
