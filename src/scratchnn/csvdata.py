"""Read a numeric CSV file into features and class labels, with errors that name the place.

    >>> table = load_csv("admissions.csv", target_column="admit")     # doctest: +SKIP
    >>> table.features.shape, table.labels[:5]                        # doctest: +SKIP
    ((400, 3), array([0, 1, 1, 1, 0]))

Rules:

* The first row is a **header** when none of its cells is a number (``admit,gre,gpa,rank``);
  otherwise every row is data and columns are called ``column 1``, ``column 2``, ...
* **Rows** are numbered as lines of the file, starting at 1 (the header, if any, is row 1),
  so an error's row number is the line to look at in an editor. Blank lines are skipped.
* Every value must be a finite number; the **target** column must hold class indices (whole
  numbers >= 0, written ``3`` or ``3.0``). Each problem raises
  :class:`scratchnn.data.DataError` naming the file, row and column, e.g.
  ``data.csv: row 17, column 'gpa': 'abc' is not a number``.
* ``target_column`` is a header name or a 0-based index (negative counts from the end; the
  default ``-1`` is the last column), or ``None`` for a file with features only.
"""

from __future__ import annotations

import csv
import math
import os
from dataclasses import dataclass

import numpy as np

from scratchnn.data import DataError

TargetColumn = str | int | None


@dataclass
class CsvTable:
    """A loaded CSV file: ``features`` (N, F) float32, ``labels`` (N,) int64 or None."""

    path: str
    features: np.ndarray
    labels: np.ndarray | None
    feature_names: list[str]
    target_name: str | None
    target_index: int | None  # 0-based column of the target in the file
    rows: np.ndarray  # (N,) int64: the file row (line) of each sample, for error messages
    has_header: bool


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _is_header(cells: list[str]) -> bool:
    """The rule for a header row: none of its cells is a number."""
    return not any(_is_number(cell) for cell in cells)


def _read_rows(path: str) -> tuple[list[list[str]], list[int]]:
    """All non-blank records of the file with the line number where each ends."""
    records: list[list[str]] = []
    line_numbers: list[int] = []
    try:
        with open(path, newline="", encoding="utf-8-sig") as file:
            reader = csv.reader(file)
            try:
                for record in reader:
                    if not record or all(not cell.strip() for cell in record):
                        continue
                    records.append([cell.strip() for cell in record])
                    line_numbers.append(reader.line_num)
            except csv.Error as error:
                raise DataError(f"{path}: row {reader.line_num}: {error}") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a directory, not a CSV file") from None
    except UnicodeDecodeError:
        raise DataError(f"{path}: not a text (UTF-8) CSV file") from None
    except OSError as error:
        raise DataError(f"{path}: cannot read file: {error.strerror or error}") from None
    return records, line_numbers


def read_header(path: str | os.PathLike[str]) -> list[str] | None:
    """The header row of a CSV file (its column names), or None when it has none."""
    name = os.fspath(path)
    try:
        with open(name, newline="", encoding="utf-8-sig") as file:
            for record in csv.reader(file):
                cells = [cell.strip() for cell in record]
                if any(cells):
                    return cells if _is_header(cells) else None
    except (OSError, UnicodeDecodeError, csv.Error):
        return None  # load_csv reports the problem properly
    return None


def _target_index(target_column: str | int, header: list[str] | None, width: int,
                  path: str) -> int:
    """The 0-based index of the target column, from a header name or an index."""
    if isinstance(target_column, str):
        if header is not None and target_column in header:
            return header.index(target_column)
        try:
            target_column = int(target_column)
        except ValueError:
            if header is None:
                raise DataError(
                    f"{path}: the file has no header row, so the target column must be given "
                    f"as an index (0 to {width - 1}, or -1 for the last), not {target_column!r}"
                ) from None
            raise DataError(
                f"{path}: no column named {target_column!r} (columns: {', '.join(header)})"
            ) from None
    if not -width <= target_column < width:
        raise DataError(
            f"{path}: target column {target_column} is out of range for {width} columns "
            f"(0 to {width - 1}, or -1 for the last)"
        )
    return target_column % width


def _label(text: str, row: int, column: str, path: str) -> int:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value >= 0 and value == int(value)):
        what = "empty" if text == "" else repr(text)
        raise DataError(
            f"{path}: row {row}, column {column}: label {what} is not a class index "
            "(a whole number >= 0)"
        )
    return int(value)


def _bad_value(text: str, row: int, column: str, path: str) -> DataError:
    if text == "":
        return DataError(f"{path}: row {row}, column {column}: empty value")
    if _is_number(text):
        return DataError(
            f"{path}: row {row}, column {column}: {text!r} is not a finite float32 number"
        )
    return DataError(f"{path}: row {row}, column {column}: {text!r} is not a number")


def load_csv(
    path: str | os.PathLike[str],
    target_column: TargetColumn = -1,
    *,
    ignore_target: bool = False,
) -> CsvTable:
    """Load a numeric CSV file: the ``target_column`` becomes integer ``labels``, every
    other column a float32 feature. ``target_column=None``: all columns are features and
    ``labels`` is None. ``ignore_target=True``: the target column is dropped unread (for
    prediction on files that still carry it) and ``labels`` is None.

    Raises :class:`scratchnn.data.DataError` naming the file (and row and column) for a file
    that cannot be read, has no data rows, has rows of different lengths, or holds a value
    that is not a (finite) number or a label that is not a class index.
    """
    name = os.fspath(path)
    records, line_numbers = _read_rows(name)
    if not records:
        raise DataError(f"{name}: no data rows (the file is empty)")
    header: list[str] | None = None
    if _is_header(records[0]):
        header = records[0]
        records, line_numbers = records[1:], line_numbers[1:]
        if not records:
            raise DataError(f"{name}: no data rows (only a header row)")
    width = len(header) if header is not None else len(records[0])
    reference = "the header" if header is not None else f"row {line_numbers[0]}"
    for record, row in zip(records, line_numbers, strict=True):
        if len(record) != width:
            raise DataError(
                f"{name}: row {row} has {len(record)} values, but {reference} has {width}"
            )

    names = list(header) if header is not None else [f"column {i + 1}" for i in range(width)]
    # how messages name a column: "column 'gpa'" with a header, "column 3" without
    shown = [repr(n) for n in names] if header is not None else [str(i + 1) for i in range(width)]
    target = None if target_column is None else _target_index(target_column, header, width, name)
    feature_columns = [i for i in range(width) if i != target]
    if not feature_columns:
        raise DataError(f"{name}: the file has only the target column, no feature columns")

    features = np.empty((len(records), len(feature_columns)), dtype=np.float64)
    labels = np.empty(len(records), dtype=np.int64)
    for i, (record, row) in enumerate(zip(records, line_numbers, strict=True)):
        try:
            values = [float(record[j]) for j in feature_columns]
        except ValueError:
            j = next(j for j in feature_columns if not _is_number(record[j]))
            raise _bad_value(record[j], row, shown[j], name) from None
        features[i] = values
        if target is not None and not ignore_target:
            labels[i] = _label(record[target], row, shown[target], name)
    with np.errstate(over="ignore"):
        features32 = features.astype(np.float32)  # 1e39 overflows float32 to inf
    if not np.isfinite(features32).all():
        i, k = np.argwhere(~np.isfinite(features32))[0]
        j = feature_columns[k]
        raise _bad_value(records[i][j], line_numbers[i], shown[j], name)
    return CsvTable(
        path=name,
        features=features32,
        labels=labels if target is not None and not ignore_target else None,
        feature_names=[names[j] for j in feature_columns],
        target_name=None if target is None else names[target],
        target_index=target,
        rows=np.asarray(line_numbers, dtype=np.int64),
        has_header=header is not None,
    )


__all__ = ["CsvTable", "load_csv", "read_header"]
