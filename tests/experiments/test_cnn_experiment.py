"""cnn: the benchmark CNN on Fashion-MNIST, on a slice of the data (the full run, 3 epochs on
60,000 images, is what README reports; here a few hundred steps must already learn)."""

import json

import numpy as np
import pytest
from mnist_files import needs_fashion

from scratchnn.experiments import cnn, names
from scratchnn.tensor import Tensor


def test_listed():
    assert "cnn" in names()


def test_build_cnn_shapes_and_parameter_count():
    model = cnn.build_cnn()
    out = model(Tensor(np.zeros((2, 1, 28, 28), dtype=np.float32)))
    assert out.shape == (2, 10)
    # 320 + 18,496 + 401,536 + 1,290: the two convs, then the two Linear layers
    assert sum(p.numel() for p in model.parameters()) == 421_642
    wide = cnn.build_cnn(in_channels=3, num_classes=5, image_size=(32, 16))
    assert wide(Tensor(np.zeros((1, 3, 32, 16), dtype=np.float32))).shape == (1, 5)
    with pytest.raises(ValueError, match="divisible by 4"):
        cnn.build_cnn(image_size=30)
    normed = cnn.build_cnn(batch_norm=True)  # + 2 x (32 + 64) BatchNorm weights and biases
    assert sum(p.numel() for p in normed.parameters()) == 421_642 + 192
    assert [type(m).__name__ for m in normed][:4] == ["Conv2d", "BatchNorm2d", "ReLU",
                                                        "MaxPool2d"]


@needs_fashion
def test_short_run(tmp_path, capsys):
    metrics = cnn.run(epochs=1, train_size=3000, test_size=1000, out=tmp_path)
    assert metrics["n_train"] == 3000 and metrics["n_test"] == 1000
    assert metrics["test_accuracy"] >= 55.0  # chance is 10%; the full run reaches 91%
    history = metrics["history"]["history"]
    assert len(history["loss"]) == 1 and len(history["val_accuracy"]) == 1
    assert abs(history["val_accuracy"][0] * 100 - metrics["test_accuracy"]) < 1e-6
    matrix = np.array(metrics["confusion_matrix"])
    assert matrix.shape == (10, 10) and matrix.sum() == 1000
    assert np.trace(matrix) / 10 == pytest.approx(metrics["test_accuracy"])
    printed = capsys.readouterr().out
    assert f"Test accuracy after 1 epochs: {metrics['test_accuracy']:.2f}%" in printed
    assert "Conv2d(1, 32, kernel_size=(3, 3)" in printed
    written = json.loads((tmp_path / "metrics.json").read_text())
    assert written["test_accuracy"] == metrics["test_accuracy"]
    if metrics["plots"]:
        assert {"history.png", "predictions.png", "confusion_matrix.png",
                "filters.png"} <= set(metrics["plots"])
        for name in metrics["plots"]:
            assert (tmp_path / name).stat().st_size > 1000


def test_unknown_optimizer_is_named():
    with pytest.raises(ValueError, match="'adam' or 'sgd'"):
        cnn.run(optimizer="lbfgs")
