"""Bad input to ``scratchnn train | evaluate | predict``: one line on stderr naming the problem
(``scratchnn COMMAND: error: ...``), exit status 2, never a traceback."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from cli_support import SRC, bar_images, blobs, ok, run, usage_error, write_csv

from scratchnn.data import write_idx
from scratchnn.predictor import build_mlp
from scratchnn.serialization import load, save_checkpoint


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("errors")
    x, y = blobs(300)
    write_csv(root / "data.csv", x, y, ["x1", "x2", "x3", "x4", "label"])
    images, labels = bar_images(200)
    (root / "idx").mkdir()
    write_idx(root / "idx" / "train-images-idx3-ubyte.gz", images)
    write_idx(root / "idx" / "train-labels-idx1-ubyte.gz", labels)
    ok(run("train", "--data", "data.csv", "--layers", "4,16,3", "--epochs", "3",
           "--checkpoint", "model.npz", cwd=root))
    ok(run("train", "--data", "idx", "--layers", "784,16,3", "--epochs", "2",
           "--checkpoint", "images.npz", cwd=root))
    return root


def test_missing_and_unreadable_data(work: Path) -> None:
    usage_error(run("train", "--data", "nope.csv", cwd=work), "train",
                r"nope\.csv: no such file or directory")
    (work / "binary.csv").write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe\x00\x01")
    usage_error(run("train", "--data", "binary.csv", cwd=work), "train",
                r"binary\.csv: not a text \(UTF-8\) CSV file")
    (work / "empty_dir").mkdir(exist_ok=True)
    usage_error(run("train", "--data", "empty_dir", cwd=work), "train",
                r"empty_dir: no IDX pair found \(expected train-images-idx3-ubyte")
    truncated = work / "truncated"
    truncated.mkdir(exist_ok=True)
    write_idx(truncated / "train-labels-idx1-ubyte", np.zeros(10, np.uint8))
    raw = (work / "idx" / "train-images-idx3-ubyte.gz").read_bytes()
    (truncated / "train-images-idx3-ubyte.gz").write_bytes(raw[: len(raw) // 2])
    usage_error(run("train", "--data", "truncated", cwd=work), "train",
                r"train-images-idx3-ubyte\.gz: (truncated|corrupt)")
    whole = gzip.compress(b"a,b\n" + b"1,2\n" * 20000)
    (work / "broken.csv.gz").write_bytes(whole[: len(whole) // 2])
    usage_error(run("train", "--data", "broken.csv.gz", cwd=work), "train",
                r"broken\.csv\.gz: corrupt or truncated gzip file")


def test_csv_with_a_non_numeric_feature_names_row_and_column(work: Path) -> None:
    x, y = blobs(30)
    path = write_csv(work / "typo.csv", x, y, ["x1", "gpa", "x3", "x4", "label"])
    lines = path.read_text().splitlines()
    cells = lines[16].split(",")
    cells[1] = "abc"
    lines[16] = ",".join(cells)  # the 17th line of the file
    path.write_text("\n".join(lines) + "\n")
    usage_error(run("train", "--data", "typo.csv", cwd=work), "train",
                r"typo\.csv: row 17, column 'gpa': 'abc' is not a number$")


def test_csv_with_a_ragged_row(work: Path) -> None:
    (work / "ragged.csv").write_text("a,b,label\n1,2,0\n3,4,1\n5,1\n")
    usage_error(run("train", "--data", "ragged.csv", cwd=work), "train",
                r"ragged\.csv: row 4 has 2 values, but the header has 3")


def test_label_not_among_the_models_classes(work: Path) -> None:
    x, y = blobs(20)
    y[3] = 12
    write_csv(work / "labels.csv", x, y, ["x1", "x2", "x3", "x4", "label"])
    usage_error(run("evaluate", "--checkpoint", "model.npz", "--data", "labels.csv",
                    cwd=work), "evaluate",
                r"labels\.csv: label '12' in row 5 is not one of the model's classes: 0, 1, 2")


def test_layers_that_do_not_chain_with_the_data(work: Path) -> None:
    usage_error(run("train", "--data", "data.csv", "--layers", "5,8,3", cwd=work), "train",
                r"--layers 5,8,3 starts with 5 inputs, but data\.csv has 4 features")
    usage_error(run("train", "--data", "data.csv", "--layers", "4,8,10", cwd=work), "train",
                r"--layers 4,8,10 ends with 10 outputs, but the data has 3 classes")
    usage_error(run("train", "--data", "idx", "--layers", "100,3", cwd=work), "train",
                r"starts with 100 inputs, but idx .* has 784 features")


def test_bad_option_values(work: Path) -> None:
    usage_error(run("train", "--data", "data.csv", "--layers", "4,x,3", cwd=work), "train",
                r"--layers must be comma-separated whole numbers")
    usage_error(run("train", "--data", "data.csv", "--val-split", "1.5", cwd=work), "train",
                r"--val-split must be at least 0 and below 1")
    usage_error(run("train", "--data", "data.csv", "--target-column", "grade", cwd=work),
                "train", r"no column named 'grade' \(columns: x1, x2, x3, x4, label\)")
    usage_error(run("train", "--data", "data.csv", "--momentum", "0.9", "--optimizer", "adam",
                    cwd=work), "train", r"--momentum applies to --optimizer sgd only")
    usage_error(run("train", "--data", "data.csv", "--delimiter", "ab", cwd=work), "train",
                r"--delimiter must be one character")
    usage_error(run("train", "--data", "data.csv", "--patience", "-1", cwd=work), "train",
                r"--patience must be non-negative")


def test_one_class_only(work: Path) -> None:
    (work / "one.csv").write_text("a,b,kind\n1,2,x\n3,4,x\n5,6,x\n")
    usage_error(run("train", "--data", "one.csv", cwd=work), "train",
                r"the target has one class only \('x'\)")


def test_regression_on_a_text_target(work: Path) -> None:
    (work / "text.csv").write_text("a,b,kind\n1,2,x\n3,4,y\n5,6,x\n")
    usage_error(run("train", "--data", "text.csv", "--task", "regression", cwd=work), "train",
                r"--task regression: the target column kind of text\.csv holds text")


def test_resume_with_a_different_architecture(work: Path) -> None:
    usage_error(run("train", "--data", "data.csv", "--resume", "model.npz", "--layers",
                    "4,32,3", "--epochs", "5", cwd=work), "train",
                r"--resume model\.npz was trained with --layers 4,16,3 --activation relu, "
                r"not --layers 4,32,3")
    usage_error(run("train", "--data", "data.csv", "--resume", "model.npz", "--activation",
                    "tanh", "--epochs", "5", cwd=work), "train", r"--activation tanh")


def test_evaluate_with_a_checkpoint_of_a_different_architecture(work: Path) -> None:
    usage_error(run("evaluate", "--checkpoint", "model.npz", "--data", "idx", cwd=work),
                "evaluate", r"model\.npz holds a model for 4 features per sample "
                            r"\(--layers 4,16,3 --activation relu\), but idx .* has 784")
    # a checkpoint whose weights do not fit the architecture it records
    extra = dict(load(work / "model.npz")["extra"])
    save_checkpoint(work / "liar.npz", build_mlp([4, 8, 3], "relu"), epoch=1, extra=extra)
    line = usage_error(run("evaluate", "--checkpoint", "liar.npz", "--data", "data.csv",
                           cwd=work), "evaluate", r"liar\.npz: the checkpoint does not fit")
    assert "size mismatch for 0.weight" in line


def test_checkpoint_files_that_are_not_training_checkpoints(work: Path) -> None:
    usage_error(run("evaluate", "--checkpoint", "missing.npz", "--data", "data.csv",
                    cwd=work), "evaluate", r"missing\.npz: no such file")
    usage_error(run("predict", "--checkpoint", "data.csv", "data.csv", cwd=work), "predict",
                r"data\.csv: not an? (readable )?(scratchnn file|\.npz archive)")
    save_checkpoint(work / "plain.npz", build_mlp([4, 3], "relu"), epoch=0, extra=None)
    usage_error(run("evaluate", "--checkpoint", "plain.npz", "--data", "data.csv", cwd=work),
                "evaluate", r"not a checkpoint written by 'scratchnn train'")


def test_predict_rejects_images_it_cannot_use(work: Path) -> None:
    import matplotlib.image as mpimg

    image = bar_images(1)[0][0]
    mpimg.imsave(work / "color.png", image, vmin=0, vmax=255)  # viridis colours
    mpimg.imsave(work / "small.png", image[:20, :20], cmap="gray", vmin=0, vmax=255)
    usage_error(run("predict", "--checkpoint", "images.npz", "color.png", cwd=work), "predict",
                r"color\.png: a color image; the model takes grayscale 28x28 images")
    usage_error(run("predict", "--checkpoint", "images.npz", "small.png", cwd=work), "predict",
                r"small\.png: is 20x20 pixels; the model takes grayscale 28x28 images")
    usage_error(run("predict", "--checkpoint", "model.npz", "small.png", cwd=work), "predict",
                r"model\.npz was trained on CSV data \(4 features\), not images")


def test_predict_output_path_checked_first(work: Path) -> None:
    usage_error(run("predict", "--checkpoint", "model.npz", "data.csv", "--output", "idx",
                    cwd=work), "predict", r"--output idx: is a directory")


def test_without_matplotlib_plots_and_pngs_say_what_to_install(work: Path) -> None:
    code = ("import sys; sys.modules['matplotlib'] = None; from scratchnn.cli import main; "
            "sys.exit(main(sys.argv[1:]))")
    env = dict(os.environ, PYTHONPATH=str(SRC))

    def run_without(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-c", code, *map(str, args)], cwd=work, env=env,
                              capture_output=True, text=True, timeout=120)

    usage_error(run_without("train", "--data", "data.csv", "--plots", "p"), "train",
                r"--plots needs matplotlib: install scratchnn\[plot\]")
    (work / "any.png").write_bytes(b"")
    usage_error(run_without("predict", "--checkpoint", "images.npz", "any.png"), "predict",
                r"reading PNG images needs matplotlib: install scratchnn\[plot\]")
