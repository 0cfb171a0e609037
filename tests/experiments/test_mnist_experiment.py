"""mnist (seed 002, section 5): the 784-128-10 MLP. Needs the IDX files: Fashion-MNIST from
Debian's dataset-fashion-mnist, MNIST from --data or the cache; tests skip without them."""

import json

import pytest
from mnist_files import needs_fashion, needs_mnist

import scratchnn.data.mnist as mnist_data
from scratchnn.cli import main
from scratchnn.experiments import mnist


@needs_fashion
def test_short_run(tmp_path, capsys):
    metrics = mnist.run(epochs=1, train_size=10000, out=tmp_path)
    assert metrics["n_train"] == 10000 and metrics["n_test"] == 10000
    assert [entry["batch"] for entry in metrics["loss_log"]] == [100]
    assert metrics["test_accuracy"] >= 70.0
    printed = capsys.readouterr().out
    assert "Epoch 1, Batch 100: Loss " in printed
    assert "Finished Training" in printed
    assert f"Accuracy on test set: {metrics['test_accuracy']:.2f}%" in printed
    written = json.loads((tmp_path / "metrics.json").read_text())
    assert written["test_accuracy"] == metrics["test_accuracy"]
    assert len(written["sample_predictions"]) == 10
    if metrics["plots"]:
        assert set(metrics["plots"]) == {"loss.png", "predictions.png"}


def test_missing_data_set_is_a_usage_error(tmp_path, monkeypatch, capsys):
    def offline(url):
        raise OSError("no network in this test")

    monkeypatch.setattr(mnist_data, "_fetch", offline)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(mnist_data, "SYSTEM_DIRS", {})
    status = main(["run", "mnist", "--dataset", "mnist", "--out", str(tmp_path / "out")])
    assert status == 2
    err = capsys.readouterr().err
    assert "scratchnn run: error: could not download MNIST" in err
    assert "Traceback" not in err


def test_data_directory_without_the_files_is_a_usage_error(tmp_path, capsys):
    status = main(["run", "mnist", "--data", str(tmp_path / "none"),
                   "--out", str(tmp_path / "out")])
    assert status == 2
    err = capsys.readouterr().err
    assert "none: no Fashion-MNIST train files there" in err
    assert "Traceback" not in err


@pytest.mark.slow
@needs_fashion
def test_full_fashion_mnist(tmp_path):
    metrics = mnist.run(out=tmp_path)
    assert metrics["epochs"] == 3 and metrics["n_train"] == 60000
    assert len(metrics["loss_log"]) == 18
    assert metrics["test_accuracy"] >= 84.0


@pytest.mark.slow
@needs_mnist
def test_full_mnist(tmp_path):
    metrics = mnist.run(dataset="mnist", out=tmp_path)
    assert metrics["test_accuracy"] >= 97.0
