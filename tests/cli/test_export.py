"""``scratchnn export`` (ONNX with the preprocessing folded in, safetensors with the training
record) and ``scratchnn train --checkpoint model.safetensors``: the exported files run in ONNX
Runtime on raw features / load in PyTorch, and evaluate/predict accept the safetensors file."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from cli_support import bar_images, blobs, ok, run, usage_error, write_csv

import scratchnn
from scratchnn.serialization import load_safetensors_metadata

HEADER = ["x1", "x2", "x3", "x4", "label"]
SCALES = np.array([1.0, 100.0, 0.01, 10.0])
OFFSETS = np.array([0, 500, 0, -30])


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """data.csv (features on very different scales), model.npz (standardized classifier) and
    reg.npz (a regression of x4 on the others, standardized target)."""
    root = tmp_path_factory.mktemp("export")
    x, y = blobs(240)
    x = x * SCALES + OFFSETS
    write_csv(root / "data.csv", x, y, HEADER)
    ok(run("train", "--data", "data.csv", "--epochs", "5", "--checkpoint", "model.npz",
           cwd=root))
    ok(run("train", "--data", "data.csv", "--epochs", "5", "--task", "regression",
           "--target-column", "x4", "--checkpoint", "reg.npz", cwd=root))
    return root


def raw_rows(work: Path, columns: list[str]) -> np.ndarray:
    table = np.genfromtxt(work / "data.csv", delimiter=",", names=True)
    return np.column_stack([table[c] for c in columns]).astype(np.float32)


@pytest.mark.parametrize("opset", [13, 17])
def test_onnx_export_takes_raw_features_and_matches_the_predictor(work, opset):
    ort = pytest.importorskip("onnxruntime")
    out = ok(run("export", "--checkpoint", "model.npz", "--format", "onnx", "--output",
                 f"m{opset}.onnx", "--opset", opset, cwd=work))
    assert f"exported: m{opset}.onnx (ONNX opset {opset}" in out
    assert "checked with ONNX Runtime" in out
    predictor = scratchnn.load_model(work / "model.npz")
    session = ort.InferenceSession(str(work / f"m{opset}.onnx"))
    assert [i.name for i in session.get_inputs()] == ["features"]
    meta = session.get_modelmeta().custom_metadata_map
    assert json.loads(meta["classes"]) == ["0", "1", "2"]
    raw = raw_rows(work, HEADER[:4])
    for batch in (1, 37):
        (scores,) = session.run(None, {"features": raw[:batch]})
        expected = predictor.outputs(predictor.transform(raw[:batch]))
        np.testing.assert_allclose(scores, expected, rtol=1e-5, atol=1e-5)
        assert np.array_equal(scores.argmax(1), predictor.predict_proba(raw[:batch]).argmax(1))


def test_onnx_export_of_a_regression_gives_values_in_target_units(work):
    ort = pytest.importorskip("onnxruntime")
    ok(run("export", "--checkpoint", "reg.npz", "--output", "reg.onnx", cwd=work))
    predictor = scratchnn.load_model(work / "reg.npz")
    session = ort.InferenceSession(str(work / "reg.onnx"))
    raw = raw_rows(work, predictor.feature_names)[:37]
    (values,) = session.run(["values"], {"features": raw})
    expected = predictor.predict(raw)
    assert abs(np.mean(expected)) > 10  # in x4's units (offset -30), not standardized
    np.testing.assert_allclose(values.reshape(expected.shape), expected, rtol=1e-5, atol=1e-4)


def test_safetensors_export_loads_in_torch_and_in_evaluate(work):
    torch = pytest.importorskip("torch")
    st_torch = pytest.importorskip("safetensors.torch")
    out = ok(run("export", "--checkpoint", "model.npz", "--output", "w.safetensors", cwd=work))
    assert "exported: w.safetensors (safetensors: 4 tensors, 0.weight" in out
    predictor = scratchnn.load_model(work / "model.npz")
    layers = predictor.architecture["layers"]
    twin = torch.nn.Sequential(torch.nn.Linear(layers[0], layers[1]), torch.nn.ReLU(),
                               torch.nn.Linear(layers[1], layers[2]))
    twin.load_state_dict(st_torch.load_file(str(work / "w.safetensors")))
    x = predictor.transform(raw_rows(work, HEADER[:4])[:20])
    with torch.no_grad():
        np.testing.assert_allclose(twin(torch.from_numpy(x)).numpy(), predictor.outputs(x),
                                   rtol=1e-5, atol=1e-5)
    both = [ok(run("evaluate", "--checkpoint", name, "--data", "data.csv", cwd=work))
            for name in ("model.npz", "w.safetensors")]
    assert both[0] == both[1]


def test_train_writes_a_safetensors_checkpoint_that_evaluate_and_predict_use(work):
    out = ok(run("train", "--data", "data.csv", "--epochs", "3", "--checkpoint",
                 "direct.safetensors", cwd=work))
    assert "direct.safetensors" in out
    assert (work / "direct.history.json").exists()
    metadata = load_safetensors_metadata(work / "direct.safetensors")
    assert metadata["format"] == "pt"
    record = json.loads(metadata["scratchnn.checkpoint"])
    assert record["kind"] == "scratchnn.checkpoint" and record["epoch"] >= 1
    evaluated = ok(run("evaluate", "--checkpoint", "direct.safetensors", "--data", "data.csv",
                       cwd=work))
    assert "accuracy: " in evaluated and "confusion matrix" in evaluated
    predicted = ok(run("predict", "--checkpoint", "direct.safetensors", "data.csv", cwd=work))
    assert len(predicted.strip().splitlines()) > 100
    predictor = scratchnn.load_model(work / "direct.safetensors")
    assert predictor.classes == [0, 1, 2] and predictor.feature_names == HEADER[:4]
    # resuming needs the optimizer state, which a safetensors checkpoint does not hold
    usage_error(run("train", "--data", "data.csv", "--epochs", "4", "--resume",
                    "direct.safetensors", "--checkpoint", "again.npz", cwd=work),
                "train", r"holds the weights only, no optimizer state")


def test_export_errors_are_one_line(work):
    usage_error(run("export", "--checkpoint", "model.npz", "--output", "x.bin", cwd=work),
                "export", r"give --format onnx or --format safetensors")
    usage_error(run("export", "--checkpoint", "missing.npz", "--format", "onnx", cwd=work),
                "export", r"missing\.npz: no such file")
    usage_error(run("export", "--checkpoint", "model.npz", "--format", "onnx", "--opset", "9",
                    cwd=work), "export", r"opset_version must be an int from 13")
    usage_error(run("export", "--checkpoint", "model.npz", "--format", "safetensors",
                    "--output", "model.npz", cwd=work), "export", r"is the checkpoint itself")
    (work / "weights.safetensors").write_bytes(b"\x08" + b"\0" * 7 + b"{}      ")
    usage_error(run("export", "--checkpoint", "weights.safetensors", "--format", "onnx",
                    cwd=work), "export", r"not a scratchnn checkpoint")


def test_onnx_export_of_an_image_cnn_takes_raw_pixels(work):
    ort = pytest.importorskip("onnxruntime")
    from scratchnn.data import write_idx

    images, labels = bar_images(90)
    (work / "idx").mkdir(exist_ok=True)
    write_idx(work / "idx" / "train-images-idx3-ubyte.gz", images)
    write_idx(work / "idx" / "train-labels-idx1-ubyte.gz", labels)
    trained = run("train", "--data", "idx", "--model", "cnn", "--epochs", "1", "--checkpoint",
                  "cnn.npz", cwd=work)
    if trained.returncode == 2 and "--model" in trained.stderr:
        pytest.skip("this scratchnn train has no --model cnn")
    ok(trained)
    out = ok(run("export", "--checkpoint", "cnn.npz", "--output", "cnn.onnx", cwd=work))
    assert "raw pixel values of 28x28 images" in out
    predictor = scratchnn.load_model(work / "cnn.npz")
    session = ort.InferenceSession(str(work / "cnn.onnx"))
    pixels = images.reshape(len(images), -1).astype(np.float32)  # 0..255, as in the files
    for batch in (1, 37):
        (scores,) = session.run(None, {"features": pixels[:batch]})
        expected = predictor.outputs(predictor.transform(pixels[:batch]))
        np.testing.assert_allclose(scores, expected, rtol=1e-5, atol=1e-5)
