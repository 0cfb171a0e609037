"""Loss modules equal PyTorch's (value and input gradient) for every reduction."""

from __future__ import annotations

import numpy as np
import pytest

from scratchnn import nn
from scratchnn.tensor import Tensor

REDUCTIONS = ["mean", "sum", "none"]
N, C = 6, 4


@pytest.fixture
def torch():
    """PyTorch, for the parity checks (skipped without it: pip install 'scratchnn[parity]')."""
    return pytest.importorskip("torch")


def _data():
    rng = np.random.default_rng(0)
    f32 = np.float32
    logits = rng.standard_normal((N, C)).astype(f32) * 2
    return {
        "real": logits,
        "real_target": rng.standard_normal((N, C)).astype(f32),
        "probs": (1 / (1 + np.exp(-logits))).astype(f32),
        "binary_target": rng.integers(0, 2, (N, C)).astype(f32),
        "soft_target": rng.uniform(0, 1, (N, C)).astype(f32),
        "log_probs": (logits - np.log(np.exp(logits).sum(1, keepdims=True))).astype(f32),
        "classes": np.array([0, 3, 1, 1, 2, 3], dtype=np.int64),
        "classes_minus_100": np.array([0, 3, -100, 1, 2, -100], dtype=np.int64),  # default
        "classes_7": np.array([0, 7, 2, 1, 7, 3], dtype=np.int64),  # with ignore_index=7
        "class_weight": rng.uniform(0.5, 2, C).astype(f32),
        "elem_weight": rng.uniform(0.5, 2, (N, C)).astype(f32),
        "pos_weight": rng.uniform(0.5, 3, C).astype(f32),
    }


# name, constructor kwargs (arrays named by key), input key, target key
CASES = [
    ("MSELoss", {}, "real", "real_target"),
    ("L1Loss", {}, "real", "real_target"),
    ("BCELoss", {}, "probs", "binary_target"),
    ("BCELoss", {}, "probs", "soft_target"),
    ("BCELoss", {"weight": "class_weight"}, "probs", "binary_target"),
    ("BCELoss", {"weight": "elem_weight"}, "probs", "soft_target"),
    ("BCEWithLogitsLoss", {}, "real", "binary_target"),
    ("BCEWithLogitsLoss", {"weight": "class_weight"}, "real", "soft_target"),
    ("BCEWithLogitsLoss", {"pos_weight": "pos_weight"}, "real", "binary_target"),
    ("BCEWithLogitsLoss", {"weight": "elem_weight", "pos_weight": "pos_weight"}, "real",
     "soft_target"),
    ("CrossEntropyLoss", {}, "real", "classes"),
    ("CrossEntropyLoss", {"weight": "class_weight"}, "real", "classes"),
    ("CrossEntropyLoss", {"label_smoothing": 0.1}, "real", "classes"),
    ("CrossEntropyLoss", {"weight": "class_weight", "label_smoothing": 0.2}, "real", "classes"),
    ("CrossEntropyLoss", {"weight": "class_weight"}, "real", "classes_minus_100"),
    ("CrossEntropyLoss", {"ignore_index": 7, "label_smoothing": 0.1}, "real", "classes_7"),
    ("NLLLoss", {}, "log_probs", "classes"),
    ("NLLLoss", {"weight": "class_weight"}, "log_probs", "classes"),
    ("NLLLoss", {}, "log_probs", "classes_minus_100"),
    ("NLLLoss", {"ignore_index": 7, "weight": "class_weight"}, "log_probs", "classes_7"),
]


def _case_id(case) -> str:
    name, kwargs, input_key, target_key = case
    options = ",".join(f"{k}={v}" for k, v in kwargs.items())
    return f"{name}({options})-{input_key}-{target_key}"


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", CASES, ids=[_case_id(case) for case in CASES])
def test_loss_module_equals_torch(case, reduction, torch):
    name, kwargs, input_key, target_key = case
    data = _data()

    def options(wrap):  # array options are named by their key in data
        return {k: wrap(data[v]) if isinstance(v, str) else v for k, v in kwargs.items()}

    ours = getattr(nn, name)(reduction=reduction, **options(Tensor))
    theirs = getattr(torch.nn, name)(reduction=reduction, **options(torch.tensor))
    x = Tensor(data[input_key].copy(), requires_grad=True)
    tx = torch.tensor(data[input_key], requires_grad=True)
    y, ty = ours(x, Tensor(data[target_key])), theirs(tx, torch.tensor(data[target_key]))

    assert y.shape == tuple(ty.shape)
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-5, atol=1e-6)
    upstream = np.random.default_rng(1).standard_normal(y.shape).astype(np.float32)
    y.backward(upstream)
    ty.backward(torch.tensor(upstream))
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-5, atol=1e-6)


LOSSES = ["MSELoss", "L1Loss", "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "NLLLoss"]


@pytest.mark.parametrize("name", LOSSES)
@pytest.mark.parametrize("reduction", ["avg", "Mean", None, "elementwise_mean"])
def test_bad_reduction_is_rejected_with_the_valid_values(name, reduction):
    with pytest.raises(ValueError) as info:
        getattr(nn, name)(reduction=reduction)
    for valid in ("'mean'", "'sum'", "'none'", repr(reduction), name):
        assert valid in str(info.value)


@pytest.mark.parametrize("name", LOSSES)
def test_defaults_and_repr_equal_torch(name, torch):
    ours, theirs = getattr(nn, name)(), getattr(torch.nn, name)()
    assert repr(ours) == repr(theirs)
    assert ours.reduction == theirs.reduction == "mean"
    for option in ("ignore_index", "label_smoothing"):
        assert getattr(ours, option, None) == getattr(theirs, option, None)


def test_weights_are_buffers_saved_in_the_state_dict_like_torch(torch):
    w = np.array([1.0, 2.0, 3.0], dtype=np.float32)
    ours = nn.BCEWithLogitsLoss(weight=w, pos_weight=w * 2)
    theirs = torch.nn.BCEWithLogitsLoss(weight=torch.tensor(w), pos_weight=torch.tensor(w * 2))
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight", "pos_weight"]
    np.testing.assert_array_equal(ours.state_dict()["pos_weight"], w * 2)
    assert list(nn.CrossEntropyLoss(weight=w).state_dict()) == ["weight"]
    assert list(nn.CrossEntropyLoss().state_dict()) == []
    assert list(ours.parameters()) == []


def test_loss_modules_inside_a_model_follow_train_and_eval():
    model = nn.Sequential(nn.Linear(3, 2))
    model.loss = nn.MSELoss()
    model.eval()
    assert not model.loss.training
