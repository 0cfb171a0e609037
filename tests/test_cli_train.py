"""``scratchnn train | evaluate | predict`` end to end, as subprocesses on small generated data.

Every bad input must end in one line on stderr (``scratchnn COMMAND: error: ...``) and exit
status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from scratchnn.cli import build_parser, main
from scratchnn.commands import CHECKPOINT_FORMAT, build_mlp
from scratchnn.data import write_idx
from scratchnn.serialization import load, save_checkpoint

SRC = Path(__file__).resolve().parents[1] / "src"


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(SRC), MPLBACKEND="Agg")
    return subprocess.run([sys.executable, "-m", "scratchnn.cli", *map(str, args)], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=120)


def ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


def usage_error(result: subprocess.CompletedProcess, command: str, pattern: str) -> str:
    """Exit status 2 and exactly one line on stderr matching ``pattern``."""
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"scratchnn {command}: error: "), lines[0]
    assert re.search(pattern, lines[0]), lines[0]
    return lines[0]


# --------------------------------------------------------------------------------- data
def write_csv(path: Path, features: np.ndarray, labels: np.ndarray,
              header: list[str] | None = None) -> Path:
    lines = [",".join(header)] if header else []
    lines += [",".join([*(f"{v:.4f}" for v in row), str(label)])
              for row, label in zip(features, labels, strict=True)]
    path.write_text("\n".join(lines) + "\n")
    return path


def blobs(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Three well separated Gaussian blobs in 4-D."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, n)
    centers = np.array([[2, 0, 0, 0], [0, 2, 0, 0], [0, 0, 2, 0]], dtype=float)
    return centers[labels] + 0.4 * rng.normal(size=(n, 4)), labels


def bar_images(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """28x28 uint8 noise with a bright bar whose height depends on the class (3 classes)."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, n).astype(np.uint8)
    images = rng.integers(0, 60, size=(n, 28, 28)).astype(np.uint8)
    for image, label in zip(images, labels, strict=True):
        image[2 + 8 * label:10 + 8 * label, 5:23] = 220
    return images, labels


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory with: data.csv (300 rows, header x1..x4,label), idx/ (an IDX pair of 200
    images), big.csv (unscaled features around 5000) and model.npz (trained on data.csv)."""
    root = tmp_path_factory.mktemp("cli")
    x, y = blobs(300)
    write_csv(root / "data.csv", x, y, ["x1", "x2", "x3", "x4", "label"])
    images, labels = bar_images(200)
    (root / "idx").mkdir()
    write_idx(root / "idx" / "train-images-idx3-ubyte.gz", images)
    write_idx(root / "idx" / "train-labels-idx1-ubyte.gz", labels)
    rng = np.random.default_rng(1)
    big = rng.normal(size=(200, 3)) * 1000 + 5000
    write_csv(root / "big.csv", big, (big[:, 0] > 5000).astype(int), ["a", "b", "c", "label"])
    ok(run("train", "--data", "data.csv", "--target-column", "label", "--layers", "4,16,3",
           "--epochs", "3", "--lr", "0.01", "--checkpoint", "model.npz", cwd=root))
    return root


@pytest.fixture(scope="module")
def image_model(work: Path) -> Path:
    ok(run("train", "--data", "idx", "--layers", "784,16,3", "--epochs", "3",
           "--checkpoint", "images.npz", cwd=work))
    return work / "images.npz"


def epoch_lines(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if line.startswith("Epoch ")]


# ---------------------------------------------------------------------------- train
def test_train_csv_prints_every_epoch_writes_checkpoint_and_plots(work: Path) -> None:
    out = ok(run("train", "--data", "data.csv", "--target-column", "label", "--layers",
                 "4,8,3", "--activation", "tanh", "--optimizer", "sgd", "--lr", "0.1",
                 "--momentum", "0.9", "--batch-size", "16", "--epochs", "4", "--val-split",
                 "0.2", "--seed", "3", "--checkpoint", "run/ck.npz", "--plots", "plots",
                 cwd=work))
    lines = epoch_lines(out)
    assert [line.split(" - ")[0] for line in lines] == [f"Epoch {i}/4" for i in range(1, 5)]
    assert all("loss: " in line and "val_accuracy: " in line for line in lines)
    assert "240 training and 60 validation samples, 4 features, 3 classes" in out
    final = float(re.search(r"val_accuracy: ([\d.]+)", lines[-1])[1])
    assert final > 0.9  # three well separated blobs
    for name in ("history.png", "confusion_matrix.png", "network.png"):
        assert (work / "plots" / name).stat().st_size > 1000

    checkpoint = load(work / "run" / "ck.npz")
    assert checkpoint["epoch"] == 4
    extra = checkpoint["extra"]
    assert extra["architecture"] == {"layers": [4, 8, 3], "activation": "tanh"}
    assert extra["optimizer"]["name"] == "sgd"
    assert extra["data"]["target_name"] == "label"
    assert len(extra["history"]["history"]["loss"]) == 4


def test_train_defaults_infer_the_layers(work: Path) -> None:
    out = ok(run("train", "--data", "data.csv", "--epochs", "1", "--val-split", "0", cwd=work))
    assert "model: 4 -> 64 -> 3 (relu)" in out
    assert "val_loss" not in out


def test_evaluate_prints_loss_accuracy_and_confusion_matrix(work: Path) -> None:
    out = ok(run("evaluate", "--checkpoint", "model.npz", "--data", "data.csv", cwd=work))
    loss = re.search(r"^loss: (\d+\.\d{4})$", out, re.M)
    assert float(loss[1]) == pytest.approx(_library_loss(work / "model.npz", work / "data.csv"),
                                           abs=1e-4)
    accuracy = re.search(r"^accuracy: ([\d.]+) \((\d+)/300\)$", out, re.M)
    assert float(accuracy[1]) > 0.9
    matrix_lines = out.split("columns: predicted class):\n")[1].splitlines()[1:]
    matrix = np.array([[int(v) for v in line.split()[1:]] for line in matrix_lines])
    assert matrix.shape == (3, 3)
    _, labels = blobs(300)
    assert matrix.sum(axis=1).tolist() == np.bincount(labels, minlength=3).tolist()
    assert int(np.trace(matrix)) == int(accuracy[2])


def _library_loss(checkpoint: Path, data: Path) -> float:
    """The checkpoint's mean cross-entropy on the CSV, computed with scratchnn.train.evaluate."""
    from scratchnn import nn
    from scratchnn.data import DataLoader, TensorDataset
    from scratchnn.serialization import load_checkpoint
    from scratchnn.train import evaluate

    extra = load(checkpoint)["extra"]
    model = build_mlp(extra["architecture"]["layers"], extra["architecture"]["activation"])
    load_checkpoint(checkpoint, model)
    table = np.loadtxt(data, delimiter=",", skiprows=1, dtype=np.float32)
    x, y = table[:, :-1] * np.float32(extra["preprocess"]["scale"]), table[:, -1].astype(int)
    if extra["preprocess"]["mean"] is not None:
        x = (x - extra["preprocess"]["mean"]) / extra["preprocess"]["std"]
    loader = DataLoader(TensorDataset(x, y), batch_size=64)
    return evaluate(model, loader, metrics=(), loss_fn=nn.CrossEntropyLoss())["loss"]


def test_predict_csv_prints_class_and_probabilities_per_row(work: Path) -> None:
    x, y = blobs(5, seed=7)
    write_csv(work / "new.csv", x, y, ["x1", "x2", "x3", "x4", "label"])  # label is ignored
    out = ok(run("predict", "--checkpoint", "model.npz", "new.csv", cwd=work))
    header, *rows = out.splitlines()
    assert header.split() == ["input", "class", "p(0)", "p(1)", "p(2)"]
    assert len(rows) == 5
    for row_number, line, label in zip(range(2, 7), rows, y, strict=True):
        fields = line.split()
        assert fields[:2] == ["row", str(row_number)]
        probabilities = [float(p) for p in fields[3:]]
        assert sum(probabilities) == pytest.approx(1, abs=1e-3)
        assert int(fields[2]) == int(np.argmax(probabilities)) == label


def test_resume_continues_up_to_the_total_number_of_epochs(work: Path) -> None:
    shutil.copy(work / "model.npz", work / "resume.npz")
    out = ok(run("train", "--data", "data.csv", "--target-column", "label", "--resume",
                 "resume.npz", "--checkpoint", "resume.npz", "--epochs", "5", cwd=work))
    assert "resuming after epoch 3" in out
    assert [line.split(" - ")[0] for line in epoch_lines(out)] == ["Epoch 4/5", "Epoch 5/5"]
    checkpoint = load(work / "resume.npz")
    assert checkpoint["epoch"] == 5
    assert len(checkpoint["extra"]["history"]["history"]["loss"]) == 5


def test_resume_gives_the_same_weights_as_training_straight(work: Path) -> None:
    common = ("--data", "data.csv", "--layers", "4,8,3", "--optimizer", "sgd", "--lr", "0.05",
              "--momentum", "0.9", "--batch-size", "16", "--seed", "4")
    ok(run("train", *common, "--epochs", "4", "--checkpoint", "straight4.npz", cwd=work))
    ok(run("train", *common, "--epochs", "2", "--checkpoint", "half.npz", cwd=work))
    ok(run("train", "--data", "data.csv", "--resume", "half.npz", "--epochs", "4",
           "--checkpoint", "resumed4.npz", cwd=work))
    straight, resumed = load(work / "straight4.npz"), load(work / "resumed4.npz")
    assert straight["epoch"] == resumed["epoch"] == 4
    assert list(resumed["model"]) == list(straight["model"])
    for key, value in straight["model"].items():
        assert np.array_equal(resumed["model"][key], value), key  # bit for bit
    assert resumed["extra"]["history"]["history"]["loss"] == \
        straight["extra"]["history"]["history"]["loss"]
    # Control: a different seed gives other weights, so the comparison can fail.
    ok(run("train", *common[:-1], "5", "--epochs", "4", "--checkpoint", "other.npz", cwd=work))
    other = load(work / "other.npz")["model"]
    assert not np.array_equal(other["0.weight"], straight["model"]["0.weight"])


def test_train_on_idx_and_predict_a_png(work: Path, image_model: Path) -> None:
    import matplotlib.image as mpimg

    images, labels = bar_images(3, seed=5)
    for i, image in enumerate(images):
        mpimg.imsave(work / f"digit{i}.png", image, cmap="gray", vmin=0, vmax=255)
    out = ok(run("predict", "--checkpoint", image_model, "digit0.png", "digit1.png",
                 "digit2.png", cwd=work))
    rows = out.splitlines()[1:]
    assert [row.split()[0] for row in rows] == ["digit0.png", "digit1.png", "digit2.png"]
    assert [int(row.split()[1]) for row in rows] == labels.tolist()


def test_evaluate_idx_prefers_the_test_pair(work: Path, image_model: Path) -> None:
    test_dir = work / "idx_test"
    test_dir.mkdir()
    for prefix, n in (("train", 200), ("t10k", 30)):
        write_idx(test_dir / f"{prefix}-images-idx3-ubyte", bar_images(n, seed=9)[0])
        write_idx(test_dir / f"{prefix}-labels-idx1-ubyte", bar_images(n, seed=9)[1])
    out = ok(run("evaluate", "--checkpoint", image_model, "--data", test_dir, cwd=work))
    assert "t10k-images-idx3-ubyte): 30 samples" in out


def test_output_piped_into_a_reader_that_stops_early_is_not_a_traceback(work: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(SRC), MPLBACKEND="Agg")
    process = subprocess.Popen(
        [sys.executable, "-m", "scratchnn.cli", "train", "--data", "data.csv", "--epochs", "500",
         "--val-split", "0"], cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout.readline().startswith(b"data: data.csv")  # like `| head -1`
    process.stdout.close()
    _, stderr = process.communicate(timeout=120)
    assert b"Traceback" not in stderr and b"BrokenPipe" not in stderr, stderr.decode()
    assert process.returncode == 141


# ---------------------------------------------------------------------------- help
@pytest.mark.parametrize("command", ["train", "evaluate", "predict"])
def test_help_is_complete(command: str, capsys: pytest.CaptureFixture) -> None:
    parser = build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    subparser = subparsers.choices[command]
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    assert subparser.description and text.startswith(f"usage: scratchnn {command}")
    for action in subparser._actions:
        assert action.help and action.help != argparse.SUPPRESS, action.option_strings
        for option in action.option_strings:
            assert option in text
    expected = {
        "train": ["--data", "--target-column", "--layers", "--activation", "--optimizer",
                  "--lr", "--momentum", "--batch-size", "--epochs", "--val-split", "--seed",
                  "--checkpoint", "--resume", "--plots"],
        "evaluate": ["--checkpoint", "--data", "--target-column"],
        "predict": ["--checkpoint", "INPUT"],
    }[command]
    assert all(option in text for option in expected)


def test_help_through_a_subprocess(work: Path) -> None:
    out = ok(run("train", "--help", cwd=work))
    assert "--layers N,N,..." in out and "examples:" in out


# ------------------------------------------------------------------------ bad input
def test_missing_data_file(work: Path) -> None:
    usage_error(run("train", "--data", "nope.csv", cwd=work), "train",
                r"nope\.csv: no such file or directory")


def test_unreadable_data_files(work: Path) -> None:
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


def test_csv_with_a_non_numeric_value_names_row_and_column(work: Path) -> None:
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
    path = work / "ragged.csv"
    path.write_text("a,b,label\n1,2,0\n3,4,1\n5,1\n")
    usage_error(run("train", "--data", "ragged.csv", cwd=work), "train",
                r"ragged\.csv: row 4 has 2 values, but the header has 3")


def test_csv_label_that_is_not_a_class_index(work: Path) -> None:
    (work / "half.csv").write_text("a,b,label\n1,2,0\n3,4,0.5\n")
    usage_error(run("train", "--data", "half.csv", cwd=work), "train",
                r"row 3, column 'label': label '0\.5' is not a class index")


def test_label_outside_the_outputs_of_layers(work: Path) -> None:
    x, y = blobs(20)
    y[3] = 12
    write_csv(work / "labels.csv", x, y, ["x1", "x2", "x3", "x4", "label"])
    usage_error(run("train", "--data", "labels.csv", "--layers", "4,8,10", cwd=work), "train",
                r"label 12 in row 5 of labels\.csv is outside the 10 outputs of --layers "
                r"4,8,10")


def test_layers_that_do_not_chain_with_the_data(work: Path) -> None:
    usage_error(run("train", "--data", "data.csv", "--layers", "5,8,3", cwd=work), "train",
                r"--layers 5,8,3 starts with 5 inputs, but data\.csv has 4 features")
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
                r"data\.csv: not a (readable )?scratchnn file")
    save_checkpoint(work / "plain.npz", build_mlp([4, 3], "relu"), epoch=0, extra=None)
    usage_error(run("evaluate", "--checkpoint", "plain.npz", "--data", "data.csv", cwd=work),
                "evaluate", r"not a checkpoint written by 'scratchnn train'")
    assert CHECKPOINT_FORMAT not in (load(work / "plain.npz")["extra"] or "")


def test_predict_rejects_images_it_cannot_use(work: Path, image_model: Path) -> None:
    import matplotlib.image as mpimg

    image = bar_images(1)[0][0]
    mpimg.imsave(work / "color.png", image, vmin=0, vmax=255)  # viridis colours
    mpimg.imsave(work / "small.png", image[:20, :20], cmap="gray", vmin=0, vmax=255)
    usage_error(run("predict", "--checkpoint", image_model, "color.png", cwd=work), "predict",
                r"color\.png: a color image; the model takes grayscale 28x28 images")
    usage_error(run("predict", "--checkpoint", image_model, "small.png", cwd=work), "predict",
                r"small\.png: is 20x20 pixels; the model takes grayscale 28x28 images")
    usage_error(run("predict", "--checkpoint", "model.npz", "small.png", cwd=work), "predict",
                r"model\.npz was trained on CSV data \(4 features\), not images")


def test_without_matplotlib_plots_and_pngs_say_what_to_install(work: Path,
                                                               image_model: Path) -> None:
    code = ("import sys; sys.modules['matplotlib'] = None; from scratchnn.cli import main; "
            "sys.exit(main(sys.argv[1:]))")
    env = dict(os.environ, PYTHONPATH=str(SRC))

    def run_without(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-c", code, *map(str, args)], cwd=work, env=env,
                              capture_output=True, text=True, timeout=120)

    usage_error(run_without("train", "--data", "data.csv", "--plots", "p"), "train",
                r"--plots needs matplotlib: install scratchnn\[plot\]")
    (work / "any.png").write_bytes(b"")
    usage_error(run_without("predict", "--checkpoint", image_model, "any.png"), "predict",
                r"reading PNG images needs matplotlib: install scratchnn\[plot\]")


def test_predict_csv_with_the_wrong_number_of_columns(work: Path) -> None:
    (work / "three.csv").write_text("1,2,3\n4,5,6\n")
    usage_error(run("predict", "--checkpoint", "model.npz", "three.csv", cwd=work), "predict",
                r"model\.npz holds a model for 4 features per sample .* but three\.csv has 3")


def test_nan_loss_stops_training_and_keeps_the_last_good_checkpoint(work: Path) -> None:
    ok(run("train", "--data", "big.csv", "--epochs", "1", "--checkpoint", "good.npz",
           cwd=work))
    before = (work / "good.npz").read_bytes()
    result = run("train", "--data", "big.csv", "--resume", "good.npz", "--checkpoint",
                 "good.npz", "--epochs", "3", "--lr", "1e30", cwd=work)
    usage_error(result, "train",
                r"training diverged at step \d+ \(epoch 2, batch \d+\): the loss is nan; "
                r"good\.npz keeps the last good checkpoint \(epoch 1\); try a smaller --lr")
    assert "Epoch 2/3" not in result.stdout
    assert (work / "good.npz").read_bytes() == before
    ok(run("evaluate", "--checkpoint", "good.npz", "--data", "big.csv", cwd=work))

    fresh = run("train", "--data", "big.csv", "--optimizer", "sgd", "--lr", "1e30",
                "--checkpoint", "never.npz", cwd=work)
    usage_error(fresh, "train", r"training diverged at step \d+ \(epoch 1, batch \d+\): .*"
                                r"no epoch completed, so nothing was written to never\.npz; "
                                r"try a smaller --lr or --standardize")
    assert not (work / "never.npz").exists()


# ------------------------------------------------------------------ csvdata in-process
def test_load_csv_headers_indices_and_blank_lines(tmp_path: Path) -> None:
    from scratchnn.csvdata import load_csv, read_header

    path = tmp_path / "plain.csv"
    path.write_text("1,0.5,2\n\n3, 1.5 ,0\n")  # no header; a blank line; spaces
    table = load_csv(path)  # last column by default
    assert not table.has_header and read_header(path) is None
    assert table.features.dtype == np.float32 and table.features.tolist() == [[1, 0.5],
                                                                              [3, 1.5]]
    assert table.labels.tolist() == [2, 0] and table.rows.tolist() == [1, 3]
    assert table.feature_names == ["column 1", "column 2"] and table.target_name == "column 3"
    first = load_csv(path, "0")
    assert first.labels.tolist() == [1, 3] and first.target_index == 0
    assert load_csv(path, None).labels is None and load_csv(path, None).features.shape == (2, 3)

    named = tmp_path / "named.csv"
    named.write_text("\ufeffy,a,b\n1,2,3\n")  # a byte-order mark is fine
    table = load_csv(named, "y")
    assert read_header(named) == ["y", "a", "b"]
    assert table.labels.tolist() == [1] and table.feature_names == ["a", "b"]
    assert load_csv(named, "y", ignore_target=True).labels is None


@pytest.mark.parametrize(("text", "target", "message"), [
    ("", -1, r"no data rows \(the file is empty\)"),
    ("a,b\n", -1, r"no data rows \(only a header row\)"),
    ("1,2\n3,4\n", "label", r"the file has no header row, so the target column must be given"),
    ("1,2\n3,4\n", 5, r"target column 5 is out of range for 2 columns"),
    ("1,2\n3,nan\n", 0, r"row 2, column 2: 'nan' is not a finite float32 number"),
    ("1,2\n3,1e39\n", 0, r"row 2, column 2: '1e39' is not a finite float32 number"),
    ("a,b\n1,\n", 0, r"row 2, column 'b': empty value"),
    ("a,b\n-1,2\n", "a", r"row 2, column 'a': label '-1' is not a class index"),
    ("label\n1\n", -1, r"the file has only the target column, no feature columns"),
    ("1,2,3\n4,5\n", -1, r"row 2 has 2 values, but row 1 has 3"),
])
def test_load_csv_errors_name_file_row_and_column(tmp_path: Path, text: str, target,
                                                  message: str) -> None:
    from scratchnn.csvdata import load_csv
    from scratchnn.data import DataError

    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(DataError, match=f"^{re.escape(str(path))}: {message}"):
        load_csv(path, target)
