"""scratchnn.onnx.export: every seed experiment's model, the CLI's MLP and a CNN exported and run
in ONNX Runtime with batch sizes 1 and 37 at opsets 13 and 17; outputs equal to scratchnn's to
1e-5. Plus the op coverage, naming, errors and the export-time eval mode."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import scratchnn as sn
import scratchnn.onnx as sonnx
from scratchnn import nn
from scratchnn import nn as snn
from scratchnn.nn import functional as F
from scratchnn.onnx import UnsupportedOperatorError

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

OPSETS = [13, 17]
BATCHES = [1, 37]
SRC = Path(__file__).resolve().parents[2] / "src"


def reference(model, x: np.ndarray) -> np.ndarray:
    with sn.no_grad():
        return np.asarray(model(sn.tensor(x, dtype=x.dtype)).numpy())


def exported_matches(model, sample, tmp_path, opset, batches=BATCHES, tol=1e-5, **kwargs):
    """Export with a dynamic batch axis; run each batch size in ONNX Runtime and compare."""
    path = tmp_path / f"model_{opset}.onnx"
    sonnx.export(model, sample(2), path, input_names=["input"], output_names=["output"],
                 dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
                 opset_version=opset, **kwargs)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    model.eval()
    for batch in batches:
        x = sample(batch)
        (got,) = session.run(None, {"input": x})
        expected = reference(model, x)
        assert got.shape == expected.shape and got.dtype == expected.dtype
        np.testing.assert_allclose(got, expected, rtol=tol, atol=tol)
    return onnx.load(str(path))


def normal(shape_tail, dtype=np.float32, seed=0, scale=1.0):
    def sample(batch):
        rng = np.random.default_rng(seed + batch)
        return (rng.standard_normal((batch, *shape_tail)) * scale).astype(dtype)

    return sample


class Raw(nn.Module):
    """A raw-tensor seed experiment's parameters as a Module, around its forward function."""

    def __init__(self, forward, **params):
        super().__init__()
        for name, value in params.items():
            data = value.data if isinstance(value, sn.Tensor) else value
            setattr(self, name, nn.Parameter(sn.tensor(data, dtype=np.asarray(data).dtype)))
        self._forward = forward

    def forward(self, x):
        return self._forward(self, x)


# ------------------------------------------------------------------ seed experiments
def circle_model():
    from scratchnn.experiments import circle

    sn.manual_seed(circle.DEFAULT_SEED)
    names = ["W1", "b1", "W2", "b2", "W3", "b3"]
    params = dict(zip(names, circle.init_network(), strict=True))
    return Raw(lambda m, x: circle.forward_pass(tuple(getattr(m, n) for n in names), x),
               **params), normal((2,), scale=3.0)


def logical_and_model():
    from scratchnn.experiments.logical_and import forward

    rng = np.random.default_rng(0)
    model = Raw(lambda m, x: forward(x, m.W, m.b), W=rng.normal(size=(2, 1)),
                b=np.zeros((1, 1)))
    return model, lambda n: np.random.default_rng(n).integers(0, 2, (n, 2)).astype(np.float64)


def admissions_model():
    from scratchnn.experiments.admissions import load_admissions, preprocess
    from scratchnn.experiments.logical_and import forward

    features, _ = preprocess(load_admissions())
    rng = np.random.default_rng(1)
    model = Raw(lambda m, x: forward(x, m.W, m.b), W=rng.normal(scale=0.5, size=(6, 1)),
                b=np.zeros((1, 1)))
    return model, lambda n: features[:n].copy()


def quadrants_model():
    from scratchnn.experiments.quadrants import SimpleNN

    sn.manual_seed(0)
    return SimpleNN(2, 10, 1), normal((2,))


def quadrants_autograd_model():
    rng = np.random.default_rng(2)
    return Raw(lambda m, x: ((x @ m.W1 + m.b1).relu() @ m.W2 + m.b2).sigmoid(),
               W1=rng.normal(size=(2, 10)).astype(np.float32),
               b1=np.zeros((1, 10), np.float32), W2=rng.normal(size=(10, 1)).astype(np.float32),
               b2=np.zeros((1, 1), np.float32)), normal((2,))


def manual_backprop_model():
    from scratchnn.experiments.manual_backprop import initial_parameters

    p = initial_parameters()
    params = {k: p[k] for k in ("W1", "b1", "W2", "b2")}
    return Raw(lambda m, x: ((x @ m.W1 + m.b1).sigmoid() @ m.W2 + m.b2).sigmoid(),
               **params), normal((2,), dtype=np.float64)


def mnist_model():
    from scratchnn.experiments.mnist import MNISTNetwork

    sn.manual_seed(0)
    return MNISTNetwork(), normal((1, 28, 28))


def mlp_classifier_model():
    from scratchnn.experiments.mlp_classifier import ClassificationNeuralNetwork

    return ClassificationNeuralNetwork([784, 64, 10], seed=0).model, normal((784,))


def cnn_model():
    from scratchnn.experiments.cnn import build_cnn

    sn.manual_seed(0)
    return build_cnn(), normal((1, 28, 28))


def cli_mlp_model(activation="relu"):
    try:
        from scratchnn.predictor import build_mlp
    except ImportError:
        from scratchnn.commands import build_mlp
    sn.manual_seed(0)
    return build_mlp([4, 16, 8, 3], activation), normal((4,))


SEED_MODELS = {
    "circle": circle_model,
    "logical-and": logical_and_model,
    "admissions": admissions_model,
    "quadrants (nn.Module)": quadrants_model,
    "quadrants (autograd)": quadrants_autograd_model,
    "manual-backprop": manual_backprop_model,
    "mnist": mnist_model,
    "mlp-classifier": mlp_classifier_model,
    "cnn": cnn_model,
    "cli mlp relu": cli_mlp_model,
    "cli mlp tanh": lambda: cli_mlp_model("tanh"),
    "cli mlp sigmoid": lambda: cli_mlp_model("sigmoid"),
}


@pytest.mark.parametrize("opset", OPSETS)
@pytest.mark.parametrize("name", list(SEED_MODELS))
def test_seed_experiment_models_run_in_onnx_runtime(tmp_path, name, opset):
    model, sample = SEED_MODELS[name]()
    exported = exported_matches(model, sample, tmp_path, opset)
    assert exported.opset_import[0].version == opset
    # parameters are initializers named by their state_dict keys, with the same values
    initializers = {t.name: onnx.numpy_helper.to_array(t) for t in exported.graph.initializer}
    for key, value in model.state_dict().items():
        assert key in initializers, key
        assert np.array_equal(initializers[key], value)


def test_seed_experiments_are_all_covered():
    from scratchnn.experiments import names

    covered = {name.split(" ")[0] for name in SEED_MODELS}
    assert set(names()) <= covered


def test_linear_layers_become_gemm_and_the_graph_is_minimal(tmp_path):
    model, sample = mnist_model()
    exported = exported_matches(model, sample, tmp_path, 17)
    assert [n.op_type for n in exported.graph.node] == ["Flatten", "Gemm", "Relu", "Gemm"]
    assert [i.name for i in exported.graph.input] == ["input"]
    dims = exported.graph.input[0].type.tensor_type.shape.dim
    assert dims[0].dim_param == "batch" and [d.dim_value for d in dims[1:]] == [1, 28, 28]


# -------------------------------------------------------------------------------- CNN
@pytest.mark.parametrize("opset", OPSETS)
def test_cnn_runs_in_onnx_runtime(tmp_path, opset):
    if not hasattr(snn, "Conv2d") or not hasattr(snn, "BatchNorm2d"):
        pytest.skip("the CNN layers are not in this scratchnn yet")
    sn.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 6, 3, stride=1, padding=(1, 2), dilation=1, groups=2), nn.Tanh(),
        nn.ConvTranspose2d(6, 6, 3, stride=2, padding=1, output_padding=1, groups=3),
        nn.AvgPool2d(2), nn.Conv2d(6, 8, 2), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        nn.Linear(8, 5),
    )
    # give BatchNorm real running statistics
    model.train()
    with sn.no_grad():
        for seed in range(3):
            model(sn.tensor(normal((1, 12, 12), seed=seed)(16)))
    exported = exported_matches(model, normal((1, 12, 12)), tmp_path, opset)
    ops = [n.op_type for n in exported.graph.node]
    for op in ("Conv", "BatchNormalization", "MaxPool", "AveragePool", "GlobalAveragePool",
               "ConvTranspose"):
        assert op in ops
    names = {t.name for t in exported.graph.initializer}
    assert {"1.running_mean", "1.running_var", "1.weight", "1.bias"} <= names


@pytest.mark.parametrize("opset", [13, 17, 18])
def test_pooling_variants(tmp_path, opset):
    if not hasattr(snn, "MaxPool2d"):
        pytest.skip("the CNN layers are not in this scratchnn yet")

    class Pools(nn.Module):
        def forward(self, x):
            a = F.max_pool2d(x, 3, stride=2, padding=1, ceil_mode=True)
            b = F.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False)
            c = F.avg_pool2d(x, 2, stride=2, padding=1)
            d = F.adaptive_avg_pool2d(x, (3, 2))
            return sn.cat([a.flatten(1), b.flatten(1), c.flatten(1), d.flatten(1)], dim=1)

    exported_matches(Pools(), normal((2, 9, 6)), tmp_path, opset)


# ---------------------------------------------------------------------- op coverage
class ManyOps(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(6, 6)
        self.scale = nn.Parameter(sn.tensor(np.linspace(0.5, 1.5, 6, dtype=np.float32)))

    def forward(self, x):  # x: (N, 6)
        h = self.fc(x)
        a = F.leaky_relu(h, 0.2) + F.sigmoid(h) * F.tanh(h) - F.softmax(h, dim=1)
        b = F.log_softmax(h, dim=-1) / (1.0 + sn.exp(-sn.abs(h)))
        c = sn.sqrt(h * h + 1.0) ** 2 - sn.log(1.0 + h * h) + sn.clamp(h, -0.5, 0.5)
        d = sn.maximum(a, b) - sn.minimum(a, c) + (-h) * self.scale
        stacked = sn.stack([a, b, c, d], dim=1)                       # (N, 4, 6)
        e = stacked.transpose(1, 2).reshape(-1, 24)                  # (N, 24)
        f = sn.cat([e[:, :6], e[:, 6:12] * 2, e[:, ::4]], dim=1)     # (N, 18)
        g = f.sum(dim=1, keepdim=True) + f.mean(dim=1, keepdim=True) + sn.amax(f, dim=1)[:, None]
        linear3d = self.fc(stacked)                                   # MatMul + Add
        return sn.cat([f - g, linear3d.mean(dim=(1,)), sn.amin(f, dim=1).unsqueeze(1)], dim=1)


@pytest.mark.parametrize("opset", [13, 17, 18])
def test_many_ops_match(tmp_path, opset):
    sn.manual_seed(0)
    exported_matches(ManyOps(), normal((6,)), tmp_path, opset)


def test_batch_first_reshape_and_transpose_stay_dynamic(tmp_path):
    class Shapes(nn.Module):
        def forward(self, x):  # (N, 3, 4)
            y = x.permute(0, 2, 1).reshape(x.shape[0], 2, 6)
            return y[:, 1, :] + y[:, 0, ::-1].sum(dim=1, keepdim=True)

    exported_matches(Shapes(), normal((3, 4)), tmp_path, 17)


# ------------------------------------------------------------------ modes and errors
def test_export_is_in_eval_mode_and_restores_the_modes(tmp_path):
    sn.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 5), nn.Dropout(0.5), nn.Linear(5, 2))
    model.train()
    model[1].eval()  # a mixed state is restored as it was
    exported = sonnx.export(model, normal((5,))(3), tmp_path / "m.onnx")
    assert model.training and model[0].training and not model[1].training
    assert "Dropout" not in [n.op_type for n in exported.graph.node]
    exported_matches(model, normal((5,)), tmp_path, 17)  # = the model in eval mode


def test_an_op_without_mapping_is_named(tmp_path):
    class WithLoss(nn.Module):
        def forward(self, x):
            return F.cross_entropy(x, sn.tensor([0] * x.shape[0]))

    with pytest.raises(UnsupportedOperatorError, match=r"op CrossEntropy \(scratchnn.ops.loss\)"
                       r" has no ONNX mapping; supported ops: .*Linear"):
        sonnx.export(WithLoss(), np.ones((2, 3), np.float32), tmp_path / "x.onnx")
    assert not (tmp_path / "x.onnx").exists()


@pytest.mark.parametrize("kwargs, message", [
    ({"opset_version": 9}, "opset_version must be an int from 13"),
    ({"input_names": ["a", "b"]}, "input_names has 2 name"),
    ({"output_names": ["y", "y"]}, "names must be distinct"),
    ({"dynamic_axes": {"x": {0: "batch"}}}, "names 'x', which is neither an input"),
    ({"dynamic_axes": {"input": {3: "batch"}}}, "has axis 3, but 'input' has 2"),
])
def test_bad_arguments_are_named(tmp_path, kwargs, message):
    model = nn.Linear(3, 2)
    with pytest.raises(ValueError, match=message):
        sonnx.export(model, np.ones((2, 3), np.float32), tmp_path / "x.onnx", **kwargs)


def test_dynamic_axes_as_lists_and_file_objects(tmp_path):
    model = nn.Linear(3, 2)
    buffer = io.BytesIO()
    sonnx.export(model, np.ones((2, 3), np.float32), buffer, dynamic_axes={"input": [0]})
    session = ort.InferenceSession(buffer.getvalue())
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    np.testing.assert_allclose(session.run(None, {"input": x})[0], reference(model, x),
                               rtol=1e-5, atol=1e-5)


def test_write_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "m.onnx"
    path.write_bytes(b"old")

    def crash(*args):
        raise OSError("disk gone")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk gone"):
        sonnx.export(nn.Linear(3, 2), np.ones((1, 3), np.float32), path)
    monkeypatch.undo()
    assert path.read_bytes() == b"old" and os.listdir(tmp_path) == ["m.onnx"]


def test_without_onnx_importing_works_and_export_says_how_to_install(tmp_path):
    code = (
        "import sys; sys.modules['onnx'] = None\n"
        "import scratchnn, scratchnn.onnx, numpy as np\n"
        "try:\n"
        "    scratchnn.onnx.export(scratchnn.nn.Linear(2, 2), np.ones((1, 2), np.float32), "
        "'m.onnx')\n"
        "except ImportError as error:\n"
        "    print(error)\n"
    )
    env = dict(os.environ, PYTHONPATH=str(SRC))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=tmp_path, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "pip install 'scratchnn[onnx]'" in result.stdout
    check = subprocess.run(
        [sys.executable, "-c", "import sys, scratchnn, scratchnn.onnx; "
         "print('onnx' in sys.modules, 'onnxruntime' in sys.modules)"],
        capture_output=True, text=True, env=env, timeout=120)
    assert check.stdout.split() == ["False", "False"], check.stderr


# ------------------------------------------------------------------- preprocessing
@pytest.mark.parametrize("opset", OPSETS)
def test_preprocessing_is_folded_into_the_graph(tmp_path, opset):
    model, _ = cli_mlp_model()
    model.eval()
    rng = np.random.default_rng(0)
    mean = rng.normal(size=4).astype(np.float32) * 100
    std = rng.uniform(1, 50, size=4).astype(np.float32)
    path = tmp_path / "pre.onnx"
    exported = sonnx.export_with_preprocessing(
        model, np.ones((2, 4), np.float32), path, mean=mean, std=std, scale=0.5,
        dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}}, opset_version=opset)
    names = {t.name for t in exported.graph.initializer}
    assert {"preprocess.mean", "preprocess.std", "preprocess.scale", "0.weight"} <= names
    session = ort.InferenceSession(str(path))
    for batch in BATCHES:
        raw = (rng.normal(size=(batch, 4)) * 80 + 30).astype(np.float32)
        expected = reference(model, ((raw * np.float32(0.5)) - mean) / std)
        np.testing.assert_allclose(session.run(None, {"input": raw})[0], expected,
                                   rtol=1e-5, atol=1e-5)


def test_conv1d_and_layer_norm(tmp_path):
    if not hasattr(snn, "Conv1d") or not hasattr(snn, "LayerNorm"):
        pytest.skip("the CNN layers are not in this scratchnn yet")
    sn.manual_seed(0)
    model = nn.Sequential(nn.Conv1d(3, 5, 3, padding=1, stride=2), nn.LayerNorm(4), nn.ReLU(),
                          nn.Flatten(), nn.Linear(20, 2))
    exported_matches(model, normal((3, 8)), tmp_path, 17)
    with pytest.raises(UnsupportedOperatorError, match="LayerNorm needs opset_version >= 17"):
        sonnx.export(model, normal((3, 8))(2), tmp_path / "old.onnx", opset_version=13)


def test_a_model_that_drops_its_input_from_the_graph_is_refused(tmp_path):
    class Detached(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 2)

        def forward(self, x):
            with sn.no_grad():
                return self.fc(x)

    with pytest.raises(ValueError, match="do not depend on input 'input'.*no_grad"):
        sonnx.export(Detached(), np.ones((2, 3), np.float32), tmp_path / "x.onnx")
