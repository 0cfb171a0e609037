"""Read a CSV file of samples at C speed, with errors that name the row and the column.

    >>> table = read_csv("admissions.csv")                    # doctest: +SKIP
    >>> table.names                                           # doctest: +SKIP
    ['admit', 'gre', 'gpa', 'rank']
    >>> table.column("admit")[:5], table.numbers(["gre", "gpa"]).shape   # doctest: +SKIP
    (array([0., 1., 1., 1., 0.], dtype=float32), (400, 2))

Rules:

* The **delimiter** is sniffed from the first lines (``,`` ``;`` or tab) unless given.
  ``.gz`` files are decompressed on the fly. A UTF-8 byte-order mark is ignored.
* The first row is a **header** when none of its cells is a number (``admit,gre,gpa,rank``);
  otherwise every row is data and columns are called ``column 1``, ``column 2``, ...
* A first column whose header is empty or ``Unnamed: 0`` (what ``pandas.DataFrame.to_csv``
  writes for the index) is an **index column**: it is dropped from the data, kept as
  ``index`` (the row ids) and reported in ``notices``.
* Columns whose first rows are all numbers are parsed by NumPy's C reader into one float32
  array (one pass over the file, no Python object per cell); other columns (class names such
  as ``setosa``) are read as strings. Only when the fast reader fails is the file scanned
  again in Python, to name the problem: ``data.csv: row 17, column 'gpa': 'abc' is not a
  number``. **Rows** are numbered as lines of the file, starting at 1 (the header is row 1).
"""

from __future__ import annotations

import csv
import gzip
import io
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO

import numpy as np

from scratchnn.data.dataset import DataError

DELIMITERS = (",", ";", "\t")
_SNIFF_BYTES = 1 << 16
_TYPE_ROWS = 200  # data rows looked at to tell numeric columns from text columns
_INDEX_NAME = re.compile(r"^(|Unnamed: 0)$")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _is_header(cells: Sequence[str]) -> bool:
    """The rule for a header row: none of its cells is a number."""
    return not any(_is_number(cell) for cell in cells)


def _open_text(path: str) -> IO[str]:
    """The file as text (UTF-8, byte-order mark dropped), gunzipped if it ends in .gz."""
    if path.endswith(".gz"):
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8-sig", newline="")
    return open(path, encoding="utf-8-sig", newline="")


def _read_error(path: str, error: BaseException) -> DataError:
    if isinstance(error, IsADirectoryError):
        return DataError(f"{path}: is a directory, not a CSV file")
    if isinstance(error, UnicodeDecodeError):
        return DataError(f"{path}: not a text (UTF-8) CSV file")
    if isinstance(error, gzip.BadGzipFile | EOFError):
        return DataError(f"{path}: corrupt or truncated gzip file")
    if isinstance(error, FileNotFoundError):
        return DataError(f"{path}: no such file")
    if isinstance(error, OSError):
        return DataError(f"{path}: cannot read file: {error.strerror or error}")
    return DataError(f"{path}: {error}")


def _head(path: str) -> str:
    """The first 64 KiB of text (whole lines only, unless the first line is longer)."""
    try:
        with _open_text(path) as file:
            text = file.read(_SNIFF_BYTES)
    except (OSError, UnicodeDecodeError, EOFError) as error:
        raise _read_error(path, error) from None
    if len(text) == _SNIFF_BYTES and "\n" in text:
        text = text[: text.rindex("\n") + 1]
    return text


def sniff_delimiter(sample: str) -> str:
    """``,``, ``;`` or tab: the candidate that splits the sample's lines into the same number
    (> 1) of cells most often; ``,`` when none does (a one-column file)."""
    lines = [line for line in sample.splitlines() if line.strip()][:50]
    best, best_score = ",", 0
    for delimiter in DELIMITERS:
        counts = [len(row) for row in csv.reader(lines, delimiter=delimiter)]
        if not counts or max(counts) < 2:
            continue
        common = max(set(counts), key=counts.count)
        score = counts.count(common) * (common > 1)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _records(path: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """``(line number, stripped cells)`` of every non-blank record, in Python (the slow path
    that names problems)."""
    try:
        with _open_text(path) as file:
            reader = csv.reader(file, delimiter=delimiter)
            try:
                for record in reader:
                    if not record or all(not cell.strip() for cell in record):
                        continue
                    yield reader.line_num, [cell.strip() for cell in record]
            except csv.Error as error:
                raise DataError(f"{path}: row {reader.line_num}: {error}") from None
    except (OSError, UnicodeDecodeError, EOFError) as error:
        raise _read_error(path, error) from None


@dataclass
class CsvTable:
    """A CSV file's columns. ``names``: every column but the dropped index column;
    ``numeric``: (N, K) float32 holding the numeric columns (``numeric_columns[j]`` is the
    position in ``names`` of column ``j`` of ``numeric``); ``text``: the other columns as
    string arrays, by position in ``names``; ``index``: the dropped index column's values
    (strings), or None."""

    path: str
    names: list[str]
    has_header: bool
    delimiter: str
    numeric: np.ndarray
    numeric_columns: list[int]
    text: dict[int, np.ndarray] = field(default_factory=dict)
    index: np.ndarray | None = None
    notices: list[str] = field(default_factory=list)
    _skip: int = 0  # records before the data (header)
    _index_offset: int = 0  # 1 when an index column was dropped
    _lines: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.numeric.shape[0]) if self.numeric.size or not self.text \
            else len(next(iter(self.text.values())))

    # ------------------------------------------------------------------ columns
    def position(self, column: str | int) -> int:
        """The position in ``names`` of a column given by header name or 0-based index
        (negative counts from the end; strings of digits are indices unless a header name)."""
        width = len(self.names)
        if isinstance(column, str):
            if self.has_header and column in self.names:
                return self.names.index(column)
            try:
                column = int(column)
            except ValueError:
                if not self.has_header:
                    raise DataError(
                        f"{self.path}: the file has no header row, so a column must be given "
                        f"as an index (0 to {width - 1}, or -1 for the last), not {column!r}"
                    ) from None
                raise DataError(f"{self.path}: no column named {column!r} (columns: "
                                f"{', '.join(self.names)})") from None
        if not -width <= column < width:
            raise DataError(f"{self.path}: column {column} is out of range for {width} "
                            f"columns (0 to {width - 1}, or -1 for the last)")
        return column % width

    def shown(self, position: int) -> str:
        """How messages name a column: ``'gpa'`` with a header, ``3`` (1-based) without."""
        if self.has_header:
            return repr(self.names[position])
        return str(position + 1 + self._index_offset)

    def is_numeric(self, position: int) -> bool:
        return position not in self.text

    def column(self, column: str | int) -> np.ndarray:
        """One column: float32 (a view into ``numeric``) or strings."""
        position = self.position(column)
        if position in self.text:
            return self.text[position]
        return self.numeric[:, self.numeric_columns.index(position)]

    def numbers(self, columns: Sequence[str | int], what: str = "feature") -> np.ndarray:
        """The given columns as one (N, len(columns)) float32 array (a view when they are
        consecutive in the file), checked: every value finite, else a ``DataError`` naming the
        first bad row and column."""
        positions = [self.position(c) for c in columns]
        for p in positions:
            if p in self.text:
                self._raise_not_a_number(p, what)
        numeric = [self.numeric_columns.index(p) for p in positions]
        if numeric and numeric == list(range(numeric[0], numeric[0] + len(numeric))):
            values = self.numeric[:, numeric[0]:numeric[0] + len(numeric)]
        else:
            values = self.numeric[:, numeric]
        finite = np.isfinite(values)
        if not finite.all():
            i, k = np.argwhere(~finite)[0]
            self._raise_bad_cell(int(i), positions[int(k)])
        return values

    # ------------------------------------------------------------------- rows
    def line_numbers(self) -> np.ndarray:
        """(N,) int64: the file line of every data row (scans the file once, on demand)."""
        if self._lines is None:
            lines = [line for line, _ in _records(self.path, self.delimiter)]
            self._lines = np.asarray(lines[self._skip:], dtype=np.int64)
        return self._lines

    def row_ids(self) -> list[str]:
        """How to name each row in an output: the index column's values when the file had
        one, else the file line number."""
        if self.index is not None:
            return [str(v) for v in self.index]
        return [str(line) for line in self.line_numbers()]

    def _cell(self, i: int, position: int) -> tuple[int, str]:
        """The line number and raw text of data row ``i``'s cell in column ``position``."""
        for n, (line, cells) in enumerate(_records(self.path, self.delimiter)):
            if n == i + self._skip:
                j = position + self._index_offset
                return line, cells[j] if j < len(cells) else ""
        raise AssertionError("row not found")  # pragma: no cover

    def _raise_bad_cell(self, i: int, position: int) -> None:
        line, text = self._cell(i, position)
        raise _bad_value(self.path, line, self.shown(position), text)

    def _raise_not_a_number(self, position: int, what: str) -> None:
        values = self.text[position]
        bad = next(i for i, v in enumerate(values) if not _is_number(v) or v == "")
        line, text = self._cell(bad, position)
        raise _bad_value(self.path, line, self.shown(position), text)


def _bad_value(path: str, line: int, column: str, text: str) -> DataError:
    if text == "":
        return DataError(f"{path}: row {line}, column {column}: empty value")
    if _is_number(text):
        return DataError(
            f"{path}: row {line}, column {column}: {text!r} is not a finite float32 number")
    return DataError(f"{path}: row {line}, column {column}: {text!r} is not a number")


def _scan_for_problem(path: str, delimiter: str, width: int, skip: int,
                      numeric: list[int], names: list[str] | None) -> None:
    """The slow path: walk the records in Python and raise a DataError for the first ragged
    row or non-number in a numeric column. Returns if there is none."""
    reference = None
    for n, (line, cells) in enumerate(_records(path, delimiter)):
        if reference is None:
            reference = "the header" if names is not None else f"row {line}"
        if len(cells) != width:
            raise DataError(f"{path}: row {line} has {len(cells)} values, but {reference} "
                            f"has {width}")
        if n < skip:
            continue
        for j in numeric:
            if not _is_number(cells[j]):
                column = repr(names[j]) if names is not None else str(j + 1)
                raise _bad_value(path, line, column, cells[j])


def _python_columns(path: str, delimiter: str, skip: int, numeric: list[int],
                    text: list[int]) -> tuple[np.ndarray, dict[int, np.ndarray]]:
    """The fallback reader for what NumPy's reader refuses but is fine (whitespace-only lines,
    text cells with delimiters inside quotes NumPy cannot handle...)."""
    rows = [cells for n, (_, cells) in enumerate(_records(path, delimiter)) if n >= skip]
    values = np.array([[float(r[j]) for j in numeric] for r in rows], dtype=np.float32)
    values = values.reshape(len(rows), len(numeric))
    return values, {j: np.array([r[j] for r in rows], dtype=str) for j in text}


def read_csv(path: str | os.PathLike[str], delimiter: str | None = None) -> CsvTable:
    """Read a CSV (or ``.csv.gz``) file: numeric columns into one float32 array by NumPy's C
    reader, other columns as strings. See the module docstring for the rules.

    Raises :class:`scratchnn.data.DataError` naming the file (and row and column) for a file
    that cannot be read, has no data rows or rows of different lengths, or a column that
    starts numeric and later holds something else.
    """
    name = os.fspath(path)
    if os.path.isdir(name):
        raise DataError(f"{name}: is a directory, not a CSV file")
    head = _head(name)
    if delimiter is None:
        delimiter = sniff_delimiter(head)
    first: list[list[str]] = []
    for cells in csv.reader(head.splitlines(), delimiter=delimiter):
        if cells and any(c.strip() for c in cells):
            first.append([c.strip() for c in cells])
        if len(first) > _TYPE_ROWS:
            break
    if not first:
        raise DataError(f"{name}: no data rows (the file is empty)")
    has_header = _is_header(first[0])
    header = first[0] if has_header else None
    data_rows = first[1:] if has_header else first
    if not data_rows:
        raise DataError(f"{name}: no data rows (only a header row)")
    width = len(first[0])
    for row in data_rows:
        if len(row) != width:
            _scan_for_problem(name, delimiter, width, int(has_header), [], header)

    # a pandas index column: an unnamed first column
    notices: list[str] = []
    drop_index = header is not None and width > 1 and bool(_INDEX_NAME.match(header[0]))
    offset = int(drop_index)
    all_names = list(header) if header is not None else [f"column {i + 1}"
                                                         for i in range(width)]
    names = all_names[offset:]
    if drop_index:
        notices.append(f"{name}: the first column has no name ({header[0]!r}), as in a pandas "
                       "index: dropped from the data and used as the row ids")

    def numeric_in_sample(j: int) -> bool:
        return all(_is_number(row[j]) or row[j] == "" for row in data_rows)

    numeric = [j for j in range(offset, width) if numeric_in_sample(j)]
    text = [j for j in range(offset, width) if j not in numeric]
    skip = int(has_header)
    table_text: dict[int, np.ndarray] = {}
    index: np.ndarray | None = None
    try:
        with _open_text(name) as file:
            if not text and not drop_index:
                values = np.loadtxt(file, delimiter=delimiter, dtype=np.float32, skiprows=skip,
                                    quotechar='"', ndmin=2)
            else:
                values = np.loadtxt(file, delimiter=delimiter, dtype=np.float32, skiprows=skip,
                                    quotechar='"', ndmin=2, usecols=numeric) if numeric \
                    else None
        if text or drop_index:
            wanted = text + ([0] if drop_index else [])
            with _open_text(name) as file:
                strings = np.loadtxt(file, delimiter=delimiter, dtype=str, skiprows=skip,
                                     quotechar='"', ndmin=2, usecols=wanted)
            strings = np.char.strip(strings)
            for k, j in enumerate(text):
                table_text[j - offset] = strings[:, k]
            if drop_index:
                index = strings[:, -1]
            if values is None:
                values = np.zeros((len(strings), 0), dtype=np.float32)
    except (OSError, UnicodeDecodeError, EOFError) as error:
        raise _read_error(name, error) from None
    except ValueError:
        # find and name the problem; if the Python reader finds none, it reads the file
        _scan_for_problem(name, delimiter, width, skip, numeric, header)
        values, columns = _python_columns(name, delimiter, skip, numeric, text +
                                          ([0] if drop_index else []))
        table_text = {j - offset: columns[j] for j in text}
        index = columns[0] if drop_index else None
    if len(values) == 0 and not table_text:
        raise DataError(f"{name}: no data rows (only a header row)")
    return CsvTable(
        path=name, names=names, has_header=has_header, delimiter=delimiter, numeric=values,
        numeric_columns=[j - offset for j in numeric], text=table_text, index=index,
        notices=notices, _skip=skip, _index_offset=offset,
    )


def read_header(path: str | os.PathLike[str], delimiter: str | None = None
                ) -> list[str] | None:
    """The header row of a CSV file (its column names), or None when it has none."""
    name = os.fspath(path)
    try:
        head = _head(name)
    except DataError:
        return None
    delimiter = delimiter or sniff_delimiter(head)
    for cells in csv.reader(head.splitlines(), delimiter=delimiter):
        cells = [c.strip() for c in cells]
        if any(cells):
            return cells if _is_header(cells) else None
    return None


__all__ = ["DELIMITERS", "CsvTable", "read_csv", "read_header", "sniff_delimiter"]
