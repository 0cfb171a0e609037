"""mlp-classifier (seed 001): the scikit-learn-like ClassificationNeuralNetwork, on small
synthetic data, then on (Fashion-)MNIST when the files are there."""

import math

import numpy as np
import pytest
from mnist_files import needs_fashion, needs_mnist

import scratchnn
from scratchnn.experiments import mlp_classifier
from scratchnn.experiments.mlp_classifier import ClassificationNeuralNetwork


def blobs(n: int = 600, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centers = np.array([[0.0, 3.0], [3.0, -2.0], [-3.0, -2.0]])
    labels = rng.integers(0, 3, n)
    return centers[labels] + rng.standard_normal((n, 2)), labels


@pytest.mark.parametrize("activation", ["relu", "sigmoid"])
def test_fit_predict_score(activation):
    X, y = blobs()
    names = np.array(["cat", "dog", "emu"])[y]  # any sortable labels
    clf = ClassificationNeuralNetwork([2, 16, 3], lr=0.1, activation=activation,
                                      batch_size=32, epochs=20, seed=0)
    assert clf.fit(X, names) is clf
    assert clf.classes_.tolist() == ["cat", "dog", "emu"]
    proba = clf.predict_proba(X)
    assert proba.shape == (600, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)
    assert set(clf.predict(X)) <= {"cat", "dog", "emu"}
    assert clf.score(X, names) > 0.95
    assert len(clf.loss_curve_) == 20 and clf.loss_curve_[-1] < clf.loss_curve_[0]


@pytest.mark.parametrize("activation, gain", [("relu", math.sqrt(2)), ("sigmoid", 1.0)])
def test_init_follows_the_seeds_gain_rule(activation, gain):
    scratchnn.manual_seed(0)
    clf = ClassificationNeuralNetwork([784, 256, 10], activation=activation)
    linears = [m for m in clf.model if isinstance(m, scratchnn.nn.Linear)]
    assert [tuple(m.weight.shape) for m in linears] == [(256, 784), (10, 256)]
    for layer in linears:
        fan_in = layer.weight.shape[1]
        assert layer.weight.numpy().std() == pytest.approx(gain / math.sqrt(fan_in), rel=0.05)
        assert not layer.bias.numpy().any()


def test_bad_arguments():
    with pytest.raises(ValueError, match="activation"):
        ClassificationNeuralNetwork([2, 3], activation="tanh")
    clf = ClassificationNeuralNetwork([2, 3])
    with pytest.raises(RuntimeError, match="fit"):
        clf.predict(np.zeros((1, 2)))
    with pytest.raises(ValueError, match="features"):
        clf.fit(np.zeros((4, 5)), np.array([0, 1, 2, 0]))


@needs_fashion
def test_short_run(tmp_path, capsys):
    metrics = mlp_classifier.run(epochs=1, train_size=10000, out=tmp_path)
    assert metrics["lr"] == 0.1 and metrics["layer_sizes"] == [784, 64, 10]
    assert len(metrics["test_accuracies"]) == 1
    assert metrics["test_accuracy"] >= 0.70
    assert "Test accuracy: " in capsys.readouterr().out
    assert (tmp_path / "metrics.json").is_file()


@pytest.mark.slow
@needs_fashion
def test_full_fashion_mnist(tmp_path):
    metrics = mlp_classifier.run(out=tmp_path)
    assert metrics["epochs"] == 5
    assert metrics["test_accuracy"] >= 0.83


@pytest.mark.slow
@needs_mnist
def test_full_mnist(tmp_path):
    metrics = mlp_classifier.run(dataset="mnist", out=tmp_path)
    assert metrics["test_accuracy"] >= 0.96
