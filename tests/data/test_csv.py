"""scratchnn.data.csv: the fast CSV reader, its rules (header, delimiter, index column, gzip)
and its errors naming file, row and column; scratchnn.data.samples: choosing columns."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import numpy as np
import pytest

from scratchnn.data import DataError
from scratchnn.data.csv import read_csv, read_header, sniff_delimiter
from scratchnn.data.samples import load_samples, match_columns


def test_header_indices_blank_lines_and_spaces(tmp_path: Path) -> None:
    path = tmp_path / "plain.csv"
    path.write_text("1,0.5,2\n\n3, 1.5 ,0\n")  # no header; a blank line; spaces
    samples = load_samples(path)  # last column by default
    table = samples.table
    assert not table.has_header and read_header(path) is None
    assert samples.features.dtype == np.float32
    assert samples.features.tolist() == [[1, 0.5], [3, 1.5]]
    assert samples.target.tolist() == [2, 0] and table.line_numbers().tolist() == [1, 3]
    assert table.names == ["column 1", "column 2", "column 3"]
    assert samples.feature_names is None and samples.target_index == 2
    first = load_samples(path, "0")
    assert first.target.tolist() == [1, 3] and first.target_index == 0
    assert load_samples(path, None).target is None
    assert load_samples(path, None).features.shape == (2, 3)

    named = tmp_path / "named.csv"
    named.write_text("\ufeffy,a,b\n1,2,3\n")  # a byte-order mark is fine
    samples = load_samples(named, "y")
    assert read_header(named) == ["y", "a", "b"]
    assert samples.target.tolist() == [1] and samples.feature_names == ["a", "b"]


def test_whitespace_only_lines_and_quotes_take_the_python_path(tmp_path: Path) -> None:
    path = tmp_path / "odd.csv"
    path.write_text('a,b,kind\n1,2,"x, y"\n   \n3,4,z\n')
    table = read_csv(path)
    assert table.numbers(["a", "b"]).tolist() == [[1, 2], [3, 4]]
    assert table.column("kind").tolist() == ["x, y", "z"]
    assert table.line_numbers().tolist() == [2, 4]


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_delimiter_is_sniffed(tmp_path: Path, delimiter: str) -> None:
    rows = [["a", "b", "c"], ["1.5", "2", "x"], ["3", "4e2", "y"]]
    path = tmp_path / "d.csv"
    path.write_text("\n".join(delimiter.join(r) for r in rows) + "\n")
    table = read_csv(path)
    assert table.delimiter == delimiter and table.names == ["a", "b", "c"]
    assert table.numbers(["a", "b"]).tolist() == [[1.5, 2], [3, 400]]
    assert table.column("c").tolist() == ["x", "y"]
    assert sniff_delimiter("\n".join(delimiter.join(r) for r in rows)) == delimiter


def test_decimal_commas_with_semicolons_and_an_explicit_delimiter(tmp_path: Path) -> None:
    path = tmp_path / "semi.csv"
    path.write_text("a;b\n1;2\n3;4\n")
    assert read_csv(path, delimiter=";").numbers(["a", "b"]).tolist() == [[1, 2], [3, 4]]
    one_column = read_csv(path, delimiter=",")  # forced: one column named "a;b"
    assert one_column.names == ["a;b"]


def test_gzip_and_a_pandas_index_column(tmp_path: Path) -> None:
    text = ",height,weight,kind\n0,1.5,60,a\n1,1.7,80,b\n2,1.6,70,a\n"
    (tmp_path / "t.csv.gz").write_bytes(gzip.compress(text.encode()))
    table = read_csv(tmp_path / "t.csv.gz")
    assert table.names == ["height", "weight", "kind"]
    assert table.index.tolist() == ["0", "1", "2"] and table.row_ids() == ["0", "1", "2"]
    assert len(table.notices) == 1 and "pandas index" in table.notices[0]
    expected = np.array([[60, 1.5], [80, 1.7], [70, 1.6]], dtype=np.float32)
    assert np.array_equal(table.numbers(["weight", "height"]), expected)
    unnamed = tmp_path / "u.csv"
    unnamed.write_text("Unnamed: 0,x,y\n5,1,2\n6,3,4\n")
    assert read_csv(unnamed).names == ["x", "y"]


def test_the_fast_path_equals_numpy_loadtxt(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    data = rng.normal(size=(2000, 7)) * np.logspace(-3, 4, 7)
    path = tmp_path / "big.csv"
    np.savetxt(path, data, delimiter=",", header=",".join(f"c{i}" for i in range(7)),
               comments="")
    table = read_csv(path)
    expected = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float32)
    assert np.array_equal(table.numeric, expected)
    features = table.numbers([f"c{i}" for i in range(6)])
    assert np.shares_memory(features, table.numeric)  # consecutive columns: a view, no copy
    assert np.array_equal(table.numbers(["c6", "c0"]), expected[:, [6, 0]])


@pytest.mark.parametrize(("text", "target", "message"), [
    ("", -1, r"no data rows \(the file is empty\)"),
    ("a,b\n", -1, r"no data rows \(only a header row\)"),
    ("1,2\n3,4\n", "label", r"the file has no header row, so a column must be given"),
    ("1,2\n3,4\n", 5, r"column 5 is out of range for 2 columns"),
    ("1,2\n3,nan\n", 0, r"row 2, column 2: 'nan' is not a finite float32 number"),
    ("1,2\n3,1e39\n", 0, r"row 2, column 2: '1e39' is not a finite float32 number"),
    ("a,b\n1,\n", 0, r"row 2, column 'b': empty value"),
    ("a,b\n1,x\n", 0, r"row 2, column 'b': 'x' is not a number"),
    ("a,b\n" + "1,2\n" * 300 + "1,oops\n", 0, r"row 302, column 'b': 'oops' is not a number"),
    ("a,b\n1,\n2,x\n", "b", r"row 2, column 'b': empty label"),
    ("label\n1\n", -1, r"the file has only the target column, no feature columns"),
    ("1,2,3\n4,5\n", -1, r"row 2 has 2 values, but row 1 has 3"),
    ("a,b,c\n" + "1,2,3\n" * 250 + "4,5\n", -1, r"row 252 has 2 values, but the header has 3"),
])
def test_errors_name_file_row_and_column(tmp_path: Path, text: str, target,
                                         message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(DataError, match=f"^{re.escape(str(path))}: {message}"):
        load_samples(path, target)


def test_match_columns_by_name_and_by_position(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text("c,target,a,b\n3,0,1,2\n6,1,4,5\n")
    samples = match_columns(read_csv(path), ["a", "b", "c"], 3, target="target",
                            target_required=True)
    assert samples.features.tolist() == [[1, 2, 3], [4, 5, 6]]
    assert samples.target.tolist() == [0, 1]
    predict = match_columns(read_csv(path), ["a", "b", "c"], 3, target="target",
                            target_required=False)
    assert predict.features.tolist() == [[1, 2, 3], [4, 5, 6]]
    with pytest.raises(DataError, match=r"unexpected column\(s\) 'target'; the model takes"):
        match_columns(read_csv(path), ["a", "b", "c"], 3, target="label",
                      target_required=False)
    plain = tmp_path / "p.csv"
    plain.write_text("1,2,3\n4,5,6\n")
    samples = match_columns(read_csv(plain), None, 3, target=None, target_required=False)
    assert samples.features.tolist() == [[1, 2, 3], [4, 5, 6]]
    with pytest.raises(DataError, match="has 3 feature columns, but the model takes 2"):
        match_columns(read_csv(plain), None, 2, target=None, target_required=False)
    samples = match_columns(read_csv(plain), None, 2, target=None, target_index=0,
                            target_required=True)
    assert samples.target.tolist() == [1, 4] and samples.features.tolist() == [[2, 3], [5, 6]]
