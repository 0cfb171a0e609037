"""Layers: Linear (vs PyTorch, default init), containers, activations, Flatten, Dropout."""

from __future__ import annotations

import math
from collections import OrderedDict

import numpy as np
import pytest

import scratchnn.random
from scratchnn import nn
from scratchnn.tensor import Tensor

RTOL, ATOL = 1e-5, 1e-6  # float32


@pytest.fixture(autouse=True)
def _fixed_draws():
    """Statistical checks run on fixed draws; the global generator is restored afterwards."""
    state = scratchnn.random.get_rng_state()
    scratchnn.random.manual_seed(2024)
    yield
    scratchnn.random.set_rng_state(state)


@pytest.fixture
def torch():
    """PyTorch, for the parity checks (skipped without it: pip install 'scratchnn[parity]')."""
    return pytest.importorskip("torch")


def _pair(array: np.ndarray, torch):
    """The same float32 data as a scratchnn Tensor and a torch tensor, both requiring grad."""
    array = np.asarray(array, dtype=np.float32)
    return Tensor(array.copy(), requires_grad=True), torch.tensor(array, requires_grad=True)


def _close(ours, theirs) -> None:
    ours = ours.data if isinstance(ours, Tensor) else ours
    np.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=RTOL, atol=ATOL)


# --------------------------------------------------------------------- Linear
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("batch_shape", [(5,), (2, 3), ()])
def test_linear_forward_and_backward_equal_torch(bias, batch_shape, torch):
    ours, theirs = nn.Linear(7, 4, bias=bias), torch.nn.Linear(7, 4, bias=bias)
    theirs.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()})
    rng = np.random.default_rng(0)
    x, tx = _pair(rng.standard_normal((*batch_shape, 7)), torch)
    upstream = rng.standard_normal((*batch_shape, 4)).astype(np.float32)

    y, ty = ours(x), theirs(tx)
    (y * Tensor(upstream)).sum().backward()
    (ty * torch.tensor(upstream)).sum().backward()

    assert y.shape == tuple(ty.shape)
    _close(y, ty)
    _close(x.grad, tx.grad)
    _close(ours.weight.grad, theirs.weight.grad)
    if bias:
        _close(ours.bias.grad, theirs.bias.grad)
    else:
        assert ours.bias is None and [n for n, _ in ours.named_parameters()] == ["weight"]


def test_linear_shapes_dtype_and_repr(torch):
    layer = nn.Linear(784, 128)
    assert layer.weight.shape == (128, 784) and layer.bias.shape == (128,)
    assert layer.weight.dtype == np.float32 and layer.weight.requires_grad
    assert repr(layer) == repr(torch.nn.Linear(784, 128))
    assert repr(nn.Linear(3, 2, bias=False)) == repr(torch.nn.Linear(3, 2, bias=False))


@pytest.mark.parametrize("in_features, out_features", [(400, 300), (3, 2000), (1, 1000)])
def test_linear_default_init_is_uniform_with_bound_one_over_sqrt_fan_in(in_features, out_features):
    bound = 1 / math.sqrt(in_features)
    layer = nn.Linear(in_features, out_features)
    for array in (layer.weight.data, layer.bias.data):
        assert np.all(np.abs(array) <= bound)
    w = layer.weight.data.astype(np.float64)
    # U(-b, b): mean 0, std b/sqrt(3); with >= 1000 draws these hold with a wide margin
    assert abs(w.mean()) < 5 * bound / math.sqrt(3 * w.size)
    assert w.std() == pytest.approx(bound / math.sqrt(3), rel=0.1)
    assert np.abs(w).max() > 0.95 * bound  # and it does use the whole interval


def test_linear_bias_uses_the_same_bound_as_torch(torch):
    # weight and bias bounds from torch itself, on a wide layer
    theirs = torch.nn.Linear(16, 5000)
    ours = nn.Linear(16, 5000)
    for name in ("weight", "bias"):
        their_max = getattr(theirs, name).detach().abs().max().item()
        our_max = np.abs(getattr(ours, name).data).max()
        assert our_max == pytest.approx(their_max, rel=0.01)


def test_linear_init_draws_from_the_global_generator():
    scratchnn.random.manual_seed(42)
    first = nn.Linear(5, 3).state_dict()
    scratchnn.random.manual_seed(42)
    second = nn.Linear(5, 3).state_dict()
    third = nn.Linear(5, 3).state_dict()
    np.testing.assert_array_equal(first["weight"], second["weight"])
    np.testing.assert_array_equal(first["bias"], second["bias"])
    assert not np.array_equal(second["weight"], third["weight"])


def test_model_loaded_from_a_torch_state_dict_computes_the_same(torch):
    def build(lib):
        return lib.Sequential(
            lib.Linear(12, 16), lib.Tanh(), lib.Linear(16, 8), lib.LeakyReLU(0.1),
            lib.Linear(8, 3), lib.LogSoftmax(dim=1),
        )

    ours, theirs = build(nn), build(torch.nn)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x, tx = _pair(np.random.default_rng(1).standard_normal((6, 12)), torch)
    _close(ours(x), theirs(tx))


# ----------------------------------------------------------------- containers
def test_sequential_indexing_and_composition():
    a, b, c = nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2)
    seq = nn.Sequential(a, b, c)
    assert len(seq) == 3 and list(seq) == [a, b, c]
    assert seq[0] is a and seq[-1] is c
    tail = seq[1:]
    assert isinstance(tail, nn.Sequential) and list(tail) == [b, c]
    assert [n for n, _ in tail.named_children()] == ["1", "2"]  # names are kept (as torch)
    with pytest.raises(IndexError):
        seq[3]
    x = Tensor(np.random.default_rng(0).standard_normal((5, 3)))
    np.testing.assert_array_equal(seq(x).data, c(b(a(x))).data)


def test_sequential_from_an_ordered_dict_append_set_and_delete():
    seq = nn.Sequential(OrderedDict(fc=nn.Linear(2, 2), act=nn.ReLU()))
    assert [n for n, _ in seq.named_parameters()] == ["fc.weight", "fc.bias"]
    assert seq.fc is seq[0]
    assert seq.append(nn.Tanh()) is seq
    assert [n for n, _ in seq.named_children()] == ["fc", "act", "2"]
    seq[1] = nn.Sigmoid()
    assert isinstance(seq.act, nn.Sigmoid)
    del seq[0]
    assert [n for n, _ in seq.named_children()] == ["0", "1"]  # renumbered, as torch
    assert isinstance(seq[0], nn.Sigmoid) and isinstance(seq[1], nn.Tanh)


def test_module_list_registers_its_modules():
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(2)])
    layers.append(nn.Linear(2, 3))
    layers.extend([nn.ReLU()])
    layers.insert(0, nn.Identity())
    assert len(layers) == 5
    assert [type(m).__name__ for m in layers] == ["Identity", "Linear", "Linear", "Linear", "ReLU"]
    assert len(list(layers.parameters())) == 6
    assert [n for n, _ in layers.named_parameters()][:2] == ["1.weight", "1.bias"]
    assert isinstance(layers[1:3], nn.ModuleList) and len(layers[1:3]) == 2
    assert layers[-1] is list(layers)[-1]
    del layers[0]
    assert [n for n, _ in layers.named_children()] == ["0", "1", "2", "3"]
    with pytest.raises(NotImplementedError):
        layers(Tensor(np.ones(2)))
    with pytest.raises(TypeError):
        layers.extend(nn.ReLU())


def test_module_list_repr_folds_repeats_like_torch(torch):
    def build(lib):
        return lib.ModuleList(
            [lib.Linear(4, 4) for _ in range(3)] + [lib.ReLU(), lib.Linear(4, 4), lib.ReLU()]
        )

    assert repr(build(nn)) == repr(build(torch.nn))
    assert repr(nn.ModuleList()) == repr(torch.nn.ModuleList())


# ---------------------------------------------------------------- activations
ACTIVATIONS = [
    ("ReLU", (), {}),
    ("LeakyReLU", (), {}),
    ("LeakyReLU", (0.2,), {}),
    ("Sigmoid", (), {}),
    ("Tanh", (), {}),
    ("Softmax", (), {"dim": 1}),
    ("Softmax", (), {"dim": 0}),
    ("LogSoftmax", (), {"dim": 1}),
    ("LogSoftmax", (), {"dim": -1}),
    ("Identity", (), {}),
    ("Flatten", (), {}),
    ("Flatten", (0, 1), {}),
    ("Flatten", (), {"start_dim": 2}),
]


@pytest.mark.parametrize("name, args, kwargs", ACTIVATIONS)
def test_activation_and_shape_modules_equal_torch(name, args, kwargs, torch):
    ours = getattr(nn, name)(*args, **kwargs)
    theirs = getattr(torch.nn, name)(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    rng = np.random.default_rng(3)
    x, tx = _pair(rng.standard_normal((3, 4, 2, 2)) * 3, torch)
    upstream = rng.standard_normal(tuple(theirs(tx).shape)).astype(np.float32)
    y, ty = ours(x), theirs(tx)
    assert y.shape == tuple(ty.shape)
    _close(y, ty)
    (y * Tensor(upstream)).sum().backward()
    (ty * torch.tensor(upstream)).sum().backward()
    _close(x.grad, tx.grad)


def test_softmax_needs_a_dim():
    with pytest.raises(TypeError):
        nn.Softmax()


# -------------------------------------------------------------------- Dropout
def test_dropout_in_eval_mode_is_the_identity():
    drop = nn.Dropout(0.5).eval()
    x = Tensor(np.random.default_rng(0).standard_normal((10, 10)), requires_grad=True)
    y = drop(x)
    np.testing.assert_array_equal(y.data, x.data)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, np.ones((10, 10)))


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_in_training_zeroes_a_fraction_p_and_scales_survivors(p):
    n = 200_000
    drop = nn.Dropout(p)
    assert drop.training
    x = Tensor(np.random.default_rng(0).uniform(1, 2, n), requires_grad=True)
    y = drop(x)
    zeros = y.data == 0
    assert abs(zeros.mean() - p) < 5 * math.sqrt(p * (1 - p) / n)
    np.testing.assert_allclose(y.data[~zeros], x.data[~zeros] / (1 - p), rtol=1e-6)
    y.sum().backward()
    np.testing.assert_allclose(x.grad, np.where(zeros, 0, 1 / (1 - p)), rtol=1e-6)


def test_dropout_edge_probabilities():
    x = Tensor(np.ones(1000))
    np.testing.assert_array_equal(nn.Dropout(0.0)(x).data, x.data)
    np.testing.assert_array_equal(nn.Dropout(1.0)(x).data, np.zeros(1000))


def test_dropout_is_reproducible_under_manual_seed():
    x = Tensor(np.ones((50, 50)))
    drop = nn.Dropout(0.3)
    scratchnn.random.manual_seed(7)
    first = drop(x).data
    scratchnn.random.manual_seed(7)
    second = drop(x).data
    third = drop(x).data
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(second, third)


@pytest.mark.parametrize("p", [-0.1, 1.5, float("nan")])
def test_dropout_rejects_probabilities_outside_zero_one(p):
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(p)


def test_dropout_repr_equals_torch_and_inplace_is_accepted(torch):
    assert repr(nn.Dropout(0.25)) == repr(torch.nn.Dropout(0.25))
    assert repr(nn.Dropout(0.5, inplace=True)) == repr(torch.nn.Dropout(0.5, inplace=True))


@pytest.mark.parametrize(("name", "kwargs"), [
    ("GELU", {}), ("GELU", {"approximate": "tanh"}), ("SiLU", {}), ("ELU", {"alpha": 0.7}),
    ("Softplus", {"beta": 2.0, "threshold": 5.0}), ("ReLU", {"inplace": True}),
    ("LeakyReLU", {"negative_slope": 0.2, "inplace": True}),
])
def test_activation_modules_match_torch(torch, name, kwargs):
    values = np.linspace(-4, 4, 17, dtype=np.float64)
    ours = getattr(nn, name)(**kwargs)
    theirs = getattr(torch.nn, name)(**kwargs)
    assert repr(ours) == repr(theirs)
    x = Tensor(values, dtype=np.float64, requires_grad=True)
    t = torch.tensor(values, requires_grad=True)
    x_in, t_in = x * 1.0, t * 1.0
    ours(x_in).sum().backward()
    theirs(t_in).sum().backward()
    np.testing.assert_allclose(x.grad.data, t.grad.numpy(), rtol=1e-6, atol=1e-12)


def test_identity_ignores_its_arguments():
    x = Tensor(np.ones(3))
    assert nn.Identity(54, unused="argument")(x) is x


def test_sequential_names_the_layer_whose_input_does_not_fit():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Sequential(nn.Linear(5, 2)))
    with pytest.raises(ValueError) as caught:
        model(Tensor(np.zeros((2, 3), dtype=np.float32)))
    message = str(caught.value)
    assert message.startswith("Sequential layer 2 (Sequential): Sequential layer 0 (Linear): ")
    assert "(2, 4)" in message and "(2, 5)" in message  # the input's and the weight's shapes
