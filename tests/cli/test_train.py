"""``scratchnn train`` end to end, as subprocesses on small generated data: tasks, defaults,
checkpoint and history, resuming, plots, the epoch display."""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from cli_support import (
    SRC,
    bar_images,
    blobs,
    ok,
    run,
    tabular_classes,
    tabular_regression,
    usage_error,
    write_csv,
)

from scratchnn.cli import build_parser, main
from scratchnn.data import write_idx
from scratchnn.serialization import load


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


def table_rows(stdout: str) -> list[list[str]]:
    """The epoch table's rows (first cell ``k/N``)."""
    return [line.split() for line in stdout.splitlines() if re.match(r"^\s*\d+/\d+\s", line)]


def header_of(stdout: str) -> list[str]:
    line = next(line for line in stdout.splitlines() if line.split()[:1] == ["epoch"])
    return line.split()


# ------------------------------------------------------------------- classification
def test_train_csv_prints_every_epoch_writes_checkpoint_history_and_plots(work: Path) -> None:
    out = ok(run("train", "--data", "data.csv", "--target-column", "label", "--layers",
                 "4,8,3", "--activation", "tanh", "--optimizer", "sgd", "--lr", "0.1",
                 "--momentum", "0.9", "--batch-size", "16", "--epochs", "4", "--val-split",
                 "0.2", "--seed", "3", "--checkpoint", "run/ck.npz", "--plots", "plots",
                 cwd=work))
    rows = table_rows(out)
    assert [row[0] for row in rows] == [f"{i}/4" for i in range(1, 5)]
    assert header_of(out)[:5] == ["epoch", "loss", "acc", "val", "loss"]
    assert "240 training and 60 validation samples, 4 features, 3 classes" in out
    assert float(rows[-1][4]) > 0.9  # val accuracy: three well separated blobs
    assert all(len(line) <= 80 for line in out.splitlines() if line.strip()[:1].isdigit())
    for name in ("history.png", "confusion_matrix.png", "network.png"):
        assert (work / "plots" / name).stat().st_size > 1000

    checkpoint = load(work / "run" / "ck.npz")
    extra = checkpoint["extra"]
    assert extra["architecture"] == {"kind": "mlp", "layers": [4, 8, 3], "activation": "tanh"}
    assert extra["optimizer"]["name"] == "sgd"
    assert extra["data"]["target_name"] == "label" and extra["task"] == "classification"
    assert extra["classes"] == [0, 1, 2]
    # the best epoch's weights: the one with the lowest validation loss
    val_losses = [float(row[3]) for row in rows]
    assert checkpoint["epoch"] == int(np.argmin(val_losses)) + 1
    history = json.loads((work / "run" / "ck.history.json").read_text())
    assert len(history["history"]["loss"]) == 4
    csv_rows = (work / "run" / "ck.history.csv").read_text().splitlines()
    assert csv_rows[0].startswith("epoch,loss,accuracy,val_loss,val_accuracy")
    assert [float(line.split(",")[3]) for line in csv_rows[1:]] == \
        pytest.approx(val_losses, abs=1e-4)


def test_defaults_standardize_stop_early_and_save_where_they_say(tmp_path: Path) -> None:
    x, y = tabular_classes(300)
    write_csv(tmp_path / "patients.csv", x, y, [f"f{i}" for i in range(8)] + ["outcome"])
    out = ok(run("train", "--data", "patients.csv", cwd=tmp_path))
    assert "task: classification (auto: 3 distinct whole-number labels" in out
    assert "standardized features" in out
    assert "model: 8 -> 100 -> 3 (relu)" in out
    assert re.search(r"best epoch (\d+) \(val_loss", out)
    assert "checkpoint: patients.model.npz" in out
    saved = load(tmp_path / "patients.model.npz")
    mean = saved["extra"]["preprocess"]["mean"]
    std = saved["extra"]["preprocess"]["std"]
    # statistics of the raw features (the training 90 %)
    assert mean.shape == std.shape == (8,)
    assert np.all(np.abs(mean - x.mean(axis=0)) < 0.2 * x.std(axis=0))
    assert np.allclose(std, x.std(axis=0), rtol=0.1)
    # stopped early: fewer epochs than the limit, and the saved epoch is the best one
    limit = int(re.search(r"epochs: up to (\d+)", out)[1])
    history = json.loads((tmp_path / "patients.model.history.json").read_text())
    val_loss = history["history"]["val_loss"]
    assert len(val_loss) < limit
    assert saved["epoch"] == int(np.argmin(val_loss)) + 1


def test_validation_split_is_stratified(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    y = np.array([0] * 180 + [1] * 20)
    x = rng.normal(size=(200, 2)) + y[:, None]
    write_csv(tmp_path / "rare.csv", x, y, ["a", "b", "y"])
    out = ok(run("train", "--data", "rare.csv", "--epochs", "1", "--val-split", "0.1",
                 "--checkpoint", "m.npz", cwd=tmp_path))
    assert "180 training and 20 validation samples" in out
    from scratchnn.predictor import stratified_split

    train, val = stratified_split(y, 200, 0.1, 0)
    assert np.bincount(y[val]).tolist() == [18, 2]
    assert len(np.intersect1d(train, val)) == 0 and len(train) + len(val) == 200


def test_string_and_bool_labels_become_named_classes(tmp_path: Path) -> None:
    x, y = blobs(150, seed=2)
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    write_csv(tmp_path / "flowers.csv", x, names, ["a", "b", "c", "d", "species"])
    out = ok(run("train", "--data", "flowers.csv", "--epochs", "30", cwd=tmp_path))
    assert "classes: setosa, versicolor, virginica" in out
    assert "task: classification (auto: 3 distinct labels, not numbers" in out
    extra = load(tmp_path / "flowers.model.npz")["extra"]
    assert extra["classes"] == ["setosa", "versicolor", "virginica"]
    out = ok(run("predict", "--checkpoint", "flowers.model.npz", "flowers.csv", cwd=tmp_path))
    predicted = [line.split()[2] for line in out.splitlines()[1:]]
    assert np.mean(np.array(predicted) == names) > 0.9

    flags = np.where(x[:, 0] > 1, "True", "False")
    write_csv(tmp_path / "flags.csv", x[:, 1:], flags, ["b", "c", "d", "flag"])
    out = ok(run("train", "--data", "flags.csv", "--epochs", "2", cwd=tmp_path))
    assert "classes: False, True" in out


def test_defaults_match_scikit_learn_on_a_small_table(tmp_path: Path) -> None:
    """The issue's bar: with nothing but --data, test accuracy within 2 points of
    scikit-learn's default MLPClassifier after a StandardScaler (same rows)."""
    sklearn = pytest.importorskip("sklearn")
    del sklearn
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    import scratchnn

    x, y = tabular_classes(600, seed=5)
    header = [f"f{i}" for i in range(8)] + ["label"]
    write_csv(tmp_path / "train.csv", x[:450], y[:450], header)
    write_csv(tmp_path / "test.csv", x[450:], y[450:], header)
    ok(run("train", "--data", "train.csv", "--checkpoint", "m.npz", cwd=tmp_path))
    out = ok(run("evaluate", "--checkpoint", "m.npz", "--data", "test.csv", cwd=tmp_path))
    ours = float(re.search(r"^accuracy: ([\d.]+)", out, re.M)[1])
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reference = make_pipeline(StandardScaler(), MLPClassifier(random_state=0))
        theirs = reference.fit(x[:450], y[:450]).score(x[450:], y[450:])
    assert theirs > 0.6  # the data is learnable but not trivial
    assert ours >= theirs - 0.02, (ours, theirs)
    predicted = scratchnn.load_model(tmp_path / "m.npz").predict(x[450:])
    assert np.mean(predicted == y[450:]) == pytest.approx(ours, abs=1e-4)


# ----------------------------------------------------------------------- regression
def test_a_numeric_target_is_regression_with_scaled_target(tmp_path: Path) -> None:
    """The issue's second silent-wrong case: a 25..346 target was a 347-class classifier."""
    pytest.importorskip("sklearn")
    from sklearn.linear_model import LinearRegression

    import scratchnn

    x, y = tabular_regression(600, seed=2)
    header = [f"x{i}" for i in range(10)] + ["progression"]
    write_csv(tmp_path / "train.csv", x[:480], y[:480], header)
    write_csv(tmp_path / "test.csv", x[480:], y[480:], header)
    out = ok(run("train", "--data", "train.csv", "--checkpoint", "m.npz", cwd=tmp_path))
    assert re.search(r"task: regression \(auto: \d+ distinct whole numbers, more than 20 "
                     r"classes; --task to override\); loss: mse", out)
    assert "model: 10 -> 100 -> 1 (relu)" in out
    model = scratchnn.load_model(tmp_path / "m.npz")
    assert model.task == "regression" and model.classes is None
    predicted = model.predict(x[480:])
    assert 50 < predicted.mean() < 250  # in the target's units, not standardized ones
    ss = np.sum((y[480:] - y[480:].mean()) ** 2)
    ours = 1 - np.sum((y[480:] - predicted) ** 2) / ss
    theirs = LinearRegression().fit(x[:480], y[:480]).score(x[480:], y[480:])
    assert ours >= theirs - 0.05, (ours, theirs)

    out = ok(run("evaluate", "--checkpoint", "m.npz", "--data", "test.csv", cwd=tmp_path))
    metrics = dict(re.findall(r"^(mse|mae|r2): (\S+)$", out, re.M))
    assert float(metrics["r2"]) == pytest.approx(ours, abs=1e-3)
    assert float(metrics["mae"]) == pytest.approx(np.mean(np.abs(y[480:] - predicted)),
                                                  rel=1e-3)
    assert "precision" not in out


def test_task_and_loss_options(tmp_path: Path) -> None:
    x, y = tabular_regression(120, seed=2)
    write_csv(tmp_path / "r.csv", x, y, [f"x{i}" for i in range(10)] + ["y"])
    out = ok(run("train", "--data", "r.csv", "--loss", "huber", "--epochs", "3", cwd=tmp_path))
    assert "loss: huber" in out and "task: regression" in out
    small = np.array([1, 2, 3, 1, 2, 3] * 10)
    write_csv(tmp_path / "counts.csv", x[:60], small, [f"x{i}" for i in range(10)] + ["y"])
    out = ok(run("train", "--data", "counts.csv", "--epochs", "2", cwd=tmp_path))
    assert "task: classification" in out
    out = ok(run("train", "--data", "counts.csv", "--epochs", "2", "--task", "regression",
                 cwd=tmp_path))
    assert "task: regression (--task)" in out
    usage_error(run("train", "--data", "counts.csv", "--task", "classification", "--loss",
                    "huber", cwd=tmp_path), "train", r"--loss applies to regression")


# --------------------------------------------------------------------------- outputs
def test_output_paths_are_checked_before_training(work: Path, tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("x")
    usage_error(run("train", "--data", work / "data.csv", "--checkpoint", "afile/m.npz",
                    cwd=tmp_path), "train", r"--checkpoint afile/m\.npz: afile is a file")
    usage_error(run("train", "--data", work / "data.csv", "--plots", "afile", cwd=tmp_path),
                "train", r"--plots afile: exists and is not a directory")
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):
            pytest.skip("running as root: permissions are not enforced")
        result = run("train", "--data", work / "data.csv", "--checkpoint", "locked/m.npz",
                     cwd=tmp_path)
        usage_error(result, "train", r"cannot write in locked \(permission denied\)")
        assert "data:" not in result.stdout  # nothing ran
    finally:
        locked.chmod(0o700)


def test_train_defaults_infer_the_layers(work: Path) -> None:
    out = ok(run("train", "--data", "data.csv", "--epochs", "1", "--val-split", "0", cwd=work))
    assert "model: 4 -> 100 -> 3 (relu)" in out
    assert "val" not in header_of(out) and "no early stopping" in out


def test_resume_continues_up_to_the_total_number_of_epochs(work: Path) -> None:
    ok(run("train", "--data", "data.csv", "--val-split", "0", "--epochs", "3",
           "--checkpoint", "resume.npz", cwd=work))
    out = ok(run("train", "--data", "data.csv", "--target-column", "label", "--resume",
                 "resume.npz", "--checkpoint", "resume.npz", "--epochs", "5", cwd=work))
    assert "resuming after epoch 3" in out
    assert [row[0] for row in table_rows(out)] == ["4/5", "5/5"]
    checkpoint = load(work / "resume.npz")
    assert checkpoint["epoch"] == 5
    assert len(checkpoint["extra"]["history"]["history"]["loss"]) == 5


def test_resume_gives_the_same_weights_as_training_straight(work: Path) -> None:
    common = ("--data", "data.csv", "--layers", "4,8,3", "--optimizer", "sgd", "--lr", "0.05",
              "--momentum", "0.9", "--batch-size", "16", "--val-split", "0", "--seed", "4")
    ok(run("train", *common, "--epochs", "4", "--checkpoint", "straight4.npz", cwd=work))
    ok(run("train", *common, "--epochs", "2", "--checkpoint", "half.npz", cwd=work))
    ok(run("train", "--data", "data.csv", "--resume", "half.npz", "--epochs", "4",
           "--checkpoint", "resumed4.npz", cwd=work))
    straight, resumed = load(work / "straight4.npz"), load(work / "resumed4.npz")
    assert straight["epoch"] == resumed["epoch"] == 4
    for key, value in straight["model"].items():
        assert np.array_equal(resumed["model"][key], value), key  # bit for bit
    assert resumed["extra"]["history"]["history"]["loss"] == \
        straight["extra"]["history"]["history"]["loss"]
    # Control: a different seed gives other weights, so the comparison can fail.
    ok(run("train", *common[:-1], "5", "--epochs", "4", "--checkpoint", "other.npz", cwd=work))
    other = load(work / "other.npz")["model"]
    assert not np.array_equal(other["0.weight"], straight["model"]["0.weight"])


def test_train_on_idx_and_predict_a_png(work: Path) -> None:
    import matplotlib.image as mpimg

    ok(run("train", "--data", "idx", "--layers", "784,16,3", "--epochs", "3",
           "--checkpoint", "images.npz", cwd=work))
    images, labels = bar_images(3, seed=5)
    for i, image in enumerate(images):
        mpimg.imsave(work / f"digit{i}.png", image, cmap="gray", vmin=0, vmax=255)
    out = ok(run("predict", "--checkpoint", "images.npz", "digit0.png", "digit1.png",
                 "digit2.png", cwd=work))
    rows = out.splitlines()[1:]
    assert [row.split()[0] for row in rows] == ["digit0.png", "digit1.png", "digit2.png"]
    assert [int(row.split()[1]) for row in rows] == labels.tolist()


def test_png_class_folders_train_evaluate_and_predict(tmp_path: Path) -> None:
    import matplotlib.image as mpimg

    images, labels = bar_images(90, seed=2)
    names = np.array(["top", "middle", "bottom"])[labels]
    for i, (image, name) in enumerate(zip(images, names, strict=True)):
        (tmp_path / "pngs" / name).mkdir(parents=True, exist_ok=True)
        mpimg.imsave(tmp_path / "pngs" / name / f"{i}.png", image, cmap="gray", vmin=0,
                     vmax=255)
    out = ok(run("train", "--data", "pngs", "--epochs", "15", "--checkpoint", "p.npz",
                 cwd=tmp_path))
    assert "90 PNG images in 3 folders" in out and "classes: bottom, middle, top" in out
    assert "784 features" in out and "pixels scaled to [0, 1]" in out
    out = ok(run("evaluate", "--checkpoint", "p.npz", "--data", "pngs", cwd=tmp_path))
    assert float(re.search(r"^accuracy: ([\d.]+)", out, re.M)[1]) > 0.9
    assert re.search(r"^true\\pred\s+bottom\s+middle\s+top$", out, re.M)
    out = ok(run("predict", "--checkpoint", "p.npz", "pngs/top/" +
                 next(p.name for p in (tmp_path / "pngs" / "top").iterdir()), cwd=tmp_path))
    assert out.splitlines()[1].split()[1] == "top"


def test_train_a_cnn_on_idx_images(tmp_path: Path) -> None:
    pytest.importorskip("scratchnn.experiments.cnn")
    import scratchnn

    images, labels = bar_images(120, seed=1)
    write_idx(tmp_path / "train-images-idx3-ubyte", images)
    write_idx(tmp_path / "train-labels-idx1-ubyte", labels)
    out = ok(run("train", "--data", ".", "--model", "cnn", "--epochs", "2", "--checkpoint",
                 "cnn.npz", cwd=tmp_path))
    assert "model: cnn: conv3x3(32) -> maxpool -> conv3x3(64) -> maxpool" in out
    assert "pixels scaled to [0, 1]" in out
    model = scratchnn.load_model(tmp_path / "cnn.npz")
    assert model.architecture["input_shape"] == [1, 28, 28]
    assert type(model.network[0]).__name__ == "Conv2d"
    assert np.mean(model.predict(images.reshape(120, -1)) == labels) > 0.8
    usage_error(run("train", "--data", ".", "--model", "cnn", "--layers", "784,3", cwd=tmp_path),
                "train", r"--layers and --activation apply to --model mlp")
    write_csv(tmp_path / "t.csv", *blobs(30), ["a", "b", "c", "d", "y"])
    usage_error(run("train", "--data", "t.csv", "--model", "cnn", cwd=tmp_path), "train",
                r"--model cnn needs images")


def test_output_piped_into_a_reader_that_stops_early_is_not_a_traceback(work: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(SRC), MPLBACKEND="Agg")
    process = subprocess.Popen(
        [sys.executable, "-m", "scratchnn.cli", "train", "--data", "data.csv", "--epochs", "500",
         "--val-split", "0", "--checkpoint", "pipe.npz"], cwd=work, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout.readline().startswith(b"data: data.csv")  # like `| head -1`
    process.stdout.close()
    _, stderr = process.communicate(timeout=120)
    assert b"Traceback" not in stderr and b"BrokenPipe" not in stderr, stderr.decode()
    assert process.returncode == 141, stderr.decode()


def test_nan_loss_stops_training_and_keeps_the_last_good_checkpoint(work: Path) -> None:
    ok(run("train", "--data", "big.csv", "--epochs", "1", "--val-split", "0",
           "--checkpoint", "good.npz", cwd=work))
    before = (work / "good.npz").read_bytes()
    result = run("train", "--data", "big.csv", "--resume", "good.npz", "--checkpoint",
                 "good.npz", "--epochs", "3", "--lr", "1e30", cwd=work)
    usage_error(result, "train",
                r"training diverged at step \d+ \(epoch 2, batch \d+\): the loss is nan; "
                r"good\.npz keeps the last good checkpoint \(epoch 1\); try a smaller --lr")
    assert (work / "good.npz").read_bytes() == before
    ok(run("evaluate", "--checkpoint", "good.npz", "--data", "big.csv", cwd=work))

    fresh = run("train", "--data", "big.csv", "--optimizer", "sgd", "--lr", "1e30",
                "--no-standardize", "--checkpoint", "never.npz", cwd=work)
    usage_error(fresh, "train", r"training diverged at step \d+ \(epoch 1, batch \d+\): .*"
                                r"no epoch completed, so nothing was written to never\.npz; "
                                r"try a smaller --lr or leave out --no-standardize")
    assert not (work / "never.npz").exists()


# ------------------------------------------------------------------------------ help
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
        "train": ["--data", "--target-column", "--task", "--loss", "--layers", "--activation",
                  "--optimizer", "--lr", "--momentum", "--batch-size", "--epochs",
                  "--patience", "--val-split", "--seed", "--no-standardize", "--checkpoint",
                  "--resume", "--plots", "--delimiter"],
        "evaluate": ["--checkpoint", "--data", "--target-column", "--delimiter"],
        "predict": ["--checkpoint", "INPUT", "--output"],
    }[command]
    assert all(option in text for option in expected)


def test_help_through_a_subprocess_and_python_m_scratchnn(work: Path) -> None:
    out = ok(run("train", "--help", cwd=work))
    assert "--layers N,N,..." in out and "examples:" in out
    env = dict(os.environ, PYTHONPATH=str(SRC))
    result = subprocess.run([sys.executable, "-m", "scratchnn", "list"], env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "mlp-classifier" in result.stdout
    shutil.rmtree(work / "plots", ignore_errors=True)
