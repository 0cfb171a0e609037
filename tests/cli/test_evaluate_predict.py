"""``scratchnn evaluate`` and ``predict``: columns matched by header name, the classification
report, predictions written as CSV, and the checkpoint as a Python object (load_model)."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np
import pytest
from cli_support import blobs, ok, run, usage_error, write_csv

import scratchnn

HEADER = ["x1", "x2", "x3", "x4", "label"]


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """data.csv (300 blobs, header x1..x4,label; features on different scales) and
    model.npz trained on it with the defaults (standardized) for 40 epochs."""
    root = tmp_path_factory.mktemp("evaluate")
    x, y = blobs(300)
    x = x * np.array([1.0, 100.0, 0.01, 10.0]) + np.array([0, 500, 0, -30])
    write_csv(root / "data.csv", x, y, HEADER)
    ok(run("train", "--data", "data.csv", "--epochs", "40", "--checkpoint", "model.npz",
           cwd=root))
    return root


def _reorder(src: Path, dst: Path, order: list[str]) -> None:
    rows = list(csv.reader(src.read_text().splitlines()))
    index = [rows[0].index(name) for name in order]
    dst.write_text("\n".join(",".join(row[i] for i in index) for row in rows) + "\n")


def _predict_table(stdout: str) -> list[list[str]]:
    return [line.split() for line in stdout.splitlines()[1:]]


# ------------------------------------------------------------- columns matched by name
def test_reordered_columns_give_the_same_predictions_and_metrics(work: Path) -> None:
    """The issue's first silent-wrong case: columns were used by position."""
    _reorder(work / "data.csv", work / "shuffled.csv", ["label", "x3", "x1", "x4", "x2"])
    same = ok(run("predict", "--checkpoint", "model.npz", "data.csv", cwd=work))
    shuffled = ok(run("predict", "--checkpoint", "model.npz", "shuffled.csv", cwd=work))
    assert _predict_table(same) == _predict_table(shuffled)
    evaluated = ok(run("evaluate", "--checkpoint", "model.npz", "--data", "data.csv", cwd=work))
    evaluated_shuffled = ok(run("evaluate", "--checkpoint", "model.npz", "--data",
                                "shuffled.csv", cwd=work))
    assert evaluated.splitlines()[1:] == evaluated_shuffled.splitlines()[1:]
    accuracy = float(re.search(r"^accuracy: ([\d.]+)", evaluated, re.M)[1])
    assert accuracy > 0.9


def test_missing_and_unexpected_columns_are_named(work: Path) -> None:
    _reorder(work / "data.csv", work / "no_x2.csv", ["x1", "x3", "x4", "label"])
    usage_error(run("predict", "--checkpoint", "model.npz", "no_x2.csv", cwd=work), "predict",
                r"no_x2\.csv: missing feature column\(s\) 'x2'; the model takes x1, x2, x3, x4")
    text = (work / "data.csv").read_text().splitlines()
    extra = [text[0] + ",notes"] + [line + ",7" for line in text[1:]]
    (work / "extra.csv").write_text("\n".join(extra) + "\n")
    usage_error(run("evaluate", "--checkpoint", "model.npz", "--data", "extra.csv", cwd=work),
                "evaluate", r"extra\.csv: unexpected column\(s\) 'notes'")
    renamed = ["X1"] + text[0].split(",")[1:]
    (work / "renamed.csv").write_text("\n".join([",".join(renamed)] + text[1:]) + "\n")
    usage_error(run("predict", "--checkpoint", "model.npz", "renamed.csv", cwd=work),
                "predict", r"missing feature column\(s\) 'x1' and unexpected column\(s\) 'X1'")
    _reorder(work / "data.csv", work / "no_label.csv", ["x1", "x2", "x3", "x4"])
    usage_error(run("evaluate", "--checkpoint", "model.npz", "--data", "no_label.csv",
                    cwd=work), "evaluate", r"no column named 'label', the model's target")


def test_headerless_files_are_read_by_position_with_the_count_checked(work: Path) -> None:
    lines = (work / "data.csv").read_text().splitlines()[1:]
    (work / "plain.csv").write_text("\n".join(lines) + "\n")
    (work / "plain_x.csv").write_text("\n".join(line.rsplit(",", 1)[0] for line in lines)
                                      + "\n")
    with_names = _predict_table(ok(run("predict", "--checkpoint", "model.npz", "data.csv",
                                       cwd=work)))
    by_position = _predict_table(ok(run("predict", "--checkpoint", "model.npz", "plain_x.csv",
                                        cwd=work)))
    assert [row[2:] for row in by_position] == [row[2:] for row in with_names]
    ok(run("evaluate", "--checkpoint", "model.npz", "--data", "plain.csv", cwd=work))
    (work / "three.csv").write_text("1,2,3\n4,5,6\n")
    usage_error(run("predict", "--checkpoint", "model.npz", "three.csv", cwd=work), "predict",
                r"three\.csv has 3 feature columns, but the model takes 4 features per sample "
                r"\(a headerless file is read by position\)")


# ----------------------------------------------------------------------------- reports
def test_evaluate_prints_a_classification_report_with_class_names(tmp_path: Path) -> None:
    x, y = blobs(240, seed=3)
    names = np.array(["low", "mid", "high"])[y]
    write_csv(tmp_path / "grades.csv", x, names, HEADER[:4] + ["grade"])
    ok(run("train", "--data", "grades.csv", "--epochs", "30", "--checkpoint", "g.npz",
           cwd=tmp_path))
    out = ok(run("evaluate", "--checkpoint", "g.npz", "--data", "grades.csv", cwd=tmp_path))
    model = scratchnn.load_model(tmp_path / "g.npz")
    predicted = model.predict(x)
    report = {line.split()[0]: line.split()[1:] for line in out.splitlines()
              if line.split()[:1] and line.split()[0] in ("low", "mid", "high")
              and len(line.split()) == 5}
    assert set(report) == {"high", "low", "mid"}
    for name, (precision, recall, f1, support) in report.items():
        truth, guess = names == name, predicted == name
        tp = np.sum(truth & guess)
        assert float(precision) == pytest.approx(tp / max(guess.sum(), 1), abs=1e-4)
        assert float(recall) == pytest.approx(tp / truth.sum(), abs=1e-4)
        assert float(f1) == pytest.approx(2 * tp / (truth.sum() + guess.sum()), abs=1e-4)
        assert int(support) == truth.sum()
    assert re.search(r"^true\\pred\s+high\s+low\s+mid$", out, re.M)  # sorted class names
    accuracy = float(re.search(r"^accuracy: ([\d.]+)", out, re.M)[1])
    assert accuracy == pytest.approx(np.mean(predicted == names), abs=1e-4)


def test_predict_writes_a_csv_with_ids_predictions_and_probabilities(tmp_path: Path) -> None:
    x, y = blobs(120, seed=4)
    names = np.array(["a", "b", "c"])[y]
    lines = [",x1,x2,x3,x4,kind"] + [f"{100 + i}," + ",".join(f"{v:.5f}" for v in row)
                                     + f",{names[i]}" for i, row in enumerate(x)]
    (tmp_path / "indexed.csv").write_text("\n".join(lines) + "\n")  # pandas' to_csv layout
    result = run("train", "--data", "indexed.csv", "--epochs", "30", "--checkpoint", "k.npz",
                 cwd=tmp_path)
    assert "index" in ok(result) and "note:" in result.stdout
    assert "4 features" in result.stdout
    out = ok(run("predict", "--checkpoint", "k.npz", "indexed.csv", "--output", "preds.csv",
                 cwd=tmp_path))
    assert "preds.csv (120 rows)" in out
    rows = list(csv.reader((tmp_path / "preds.csv").read_text().splitlines()))
    assert rows[0] == ["id", "kind", "p(a)", "p(b)", "p(c)"]
    assert [row[0] for row in rows[1:]] == [str(100 + i) for i in range(120)]
    probabilities = np.array([[float(v) for v in row[2:]] for row in rows[1:]])
    assert np.allclose(probabilities.sum(axis=1), 1, atol=1e-5)
    predicted = np.array([row[1] for row in rows[1:]])
    assert np.array_equal(predicted, np.array(["a", "b", "c"])[probabilities.argmax(axis=1)])
    assert np.mean(predicted == names) > 0.9
    model = scratchnn.load_model(tmp_path / "k.npz")
    assert np.allclose(model.predict_proba(x), probabilities, atol=1e-5)


def test_load_model_returns_a_ready_predictor(work: Path) -> None:
    model = scratchnn.load_model(work / "model.npz")
    assert model.task == "classification" and model.classes == [0, 1, 2]
    assert model.feature_names == HEADER[:4] and model.target_name == "label"
    table = np.loadtxt(work / "data.csv", delimiter=",", skiprows=1)
    x, y = table[:, :4], table[:, 4].astype(int)
    assert np.mean(model.predict(x) == y) > 0.9
    by_name = model.predict({name: x[:, i] for i, name in reversed(list(enumerate(HEADER[:4])))})
    assert np.array_equal(by_name, model.predict(x))
    with pytest.raises(ValueError, match="missing feature column"):
        model.predict({"x1": x[:, 0]})
    with pytest.raises(scratchnn.CheckpointError, match="not a checkpoint written by"):
        scratchnn.save({"weights": np.zeros(3)}, work / "plain.npz")
        scratchnn.load_model(work / "plain.npz")
