"""nn.init: gains and fans equal PyTorch's; each initialiser draws the right distribution."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import scratchnn.random
from scratchnn.nn import init
from scratchnn.tensor import Tensor

SHAPE = (300, 200)  # 60,000 draws: std estimates are good to ~0.3%
FAN_IN, FAN_OUT = 200, 300


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


def _empty(shape=SHAPE, dtype=np.float32) -> Tensor:
    return Tensor(np.full(shape, np.nan, dtype=dtype), dtype=dtype)


def _check_normal(t: Tensor, mean: float, std: float) -> None:
    values = t.data.astype(np.float64)
    assert abs(values.mean() - mean) < 5 * std / math.sqrt(values.size)
    assert values.std() == pytest.approx(std, rel=0.02)
    # roughly 0.27% of a normal sample lies beyond 3 std: rules out a uniform (none beyond)
    beyond = np.mean(np.abs(values - mean) > 3 * std)
    assert 0.001 < beyond < 0.005


def _check_uniform(t: Tensor, low: float, high: float) -> None:
    values = t.data.astype(np.float64)
    width = high - low
    assert values.min() >= low and values.max() <= high
    assert values.min() < low + 0.01 * width and values.max() > high - 0.01 * width
    assert abs(values.mean() - (low + high) / 2) < 5 * width / math.sqrt(12 * values.size)
    assert values.std() == pytest.approx(width / math.sqrt(12), rel=0.02)


# ----------------------------------------------------------------- the tables
NONLINEARITIES = [
    ("linear", None), ("conv1d", None), ("conv2d", None), ("conv3d", None),
    ("conv_transpose1d", None), ("conv_transpose2d", None), ("conv_transpose3d", None),
    ("sigmoid", None), ("tanh", None), ("relu", None), ("selu", None),
    ("leaky_relu", None), ("leaky_relu", 0.2), ("leaky_relu", 0), ("leaky_relu", 1),
    ("leaky_relu", math.sqrt(5)),
]


@pytest.mark.parametrize("nonlinearity, param", NONLINEARITIES)
def test_calculate_gain_equals_torch(nonlinearity, param, torch):
    expected = torch.nn.init.calculate_gain(nonlinearity, param)
    assert init.calculate_gain(nonlinearity, param) == pytest.approx(expected, rel=1e-12)


def test_calculate_gain_values_and_errors():
    assert init.calculate_gain("relu") == math.sqrt(2)
    assert init.calculate_gain("tanh") == 5 / 3
    assert init.calculate_gain("leaky_relu") == math.sqrt(2 / (1 + 0.01**2))
    with pytest.raises(ValueError, match="Unsupported nonlinearity"):
        init.calculate_gain("gelu")
    with pytest.raises(ValueError):
        init.calculate_gain("leaky_relu", True)
    with pytest.raises(ValueError):
        init.calculate_gain("leaky_relu", "0.1")


@pytest.mark.parametrize(
    "shape", [(3, 4), (4, 3), (1, 1), (10, 20, 5), (16, 3, 5, 5), (8, 2, 3, 4, 5), (0, 5)]
)
def test_fan_in_and_fan_out_equal_torch(shape, torch):
    expected = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    assert init._calculate_fan_in_and_fan_out(_empty(shape)) == expected


def test_fans_need_two_dimensions():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init._calculate_fan_in_and_fan_out(_empty((5,)))


# ------------------------------------------------------------- distributions
def test_uniform_and_normal():
    _check_uniform(init.uniform_(_empty()), 0, 1)
    _check_uniform(init.uniform_(_empty(), -3, -1), -3, -1)
    _check_normal(init.normal_(_empty()), 0, 1)
    _check_normal(init.normal_(_empty(), mean=2, std=0.1), 2, 0.1)


def test_constants():
    assert np.all(init.constant_(_empty(), 0.5).data == 0.5)
    assert np.all(init.zeros_(_empty()).data == 0)
    assert np.all(init.ones_(_empty()).data == 1)


@pytest.mark.parametrize("gain", [1.0, init.calculate_gain("tanh")])
def test_xavier(gain):
    std = gain * math.sqrt(2 / (FAN_IN + FAN_OUT))
    bound = math.sqrt(3) * std
    _check_uniform(init.xavier_uniform_(_empty(), gain=gain), -bound, bound)
    _check_normal(init.xavier_normal_(_empty(), gain=gain), 0, std)


KAIMING = [
    # a, mode, nonlinearity, expected gain
    (0, "fan_in", "leaky_relu", math.sqrt(2)),
    (0, "fan_in", "relu", math.sqrt(2)),
    (0.2, "fan_out", "leaky_relu", math.sqrt(2 / 1.04)),
    (math.sqrt(5), "fan_in", "leaky_relu", math.sqrt(1 / 3)),
    (0, "FAN_OUT", "tanh", 5 / 3),
    (0, "fan_in", "linear", 1.0),
]


@pytest.mark.parametrize("a, mode, nonlinearity, gain", KAIMING)
def test_kaiming(a, mode, nonlinearity, gain):
    fan = FAN_IN if mode.lower() == "fan_in" else FAN_OUT
    std = gain / math.sqrt(fan)
    t = init.kaiming_uniform_(_empty(), a=a, mode=mode, nonlinearity=nonlinearity)
    _check_uniform(t, -math.sqrt(3) * std, math.sqrt(3) * std)
    t = init.kaiming_normal_(_empty(), a=a, mode=mode, nonlinearity=nonlinearity)
    _check_normal(t, 0, std)


def test_kaiming_on_conv_shaped_weights_uses_the_receptive_field():
    t = init.kaiming_normal_(_empty((64, 32, 3, 3)), nonlinearity="relu")  # fan_in 288
    _check_normal(t, 0, math.sqrt(2 / 288))


def test_kaiming_rejects_a_bad_mode_and_skips_empty_tensors():
    with pytest.raises(ValueError, match="fan_in, fan_out"):
        init.kaiming_uniform_(_empty(), mode="fan_avg")
    with pytest.warns(UserWarning, match="zero-element"):
        init.kaiming_uniform_(_empty((0, 3)))


def test_seed_001_formula_is_kaiming_normal():
    """randn(out, in) * gain / sqrt(fan_in) is kaiming_normal_ with that gain."""
    scratchnn.random.manual_seed(1)
    expected = scratchnn.random.generator().standard_normal((30, 20), dtype=np.float32)
    expected = expected * math.sqrt(2) / math.sqrt(20)
    scratchnn.random.manual_seed(1)
    actual = init.kaiming_normal_(_empty((30, 20)), nonlinearity="relu").data
    np.testing.assert_allclose(actual, expected, rtol=1e-6)


# ------------------------------------------------------------ the mechanics
INITIALISERS = [
    lambda t: init.uniform_(t, -1, 1),
    lambda t: init.normal_(t),
    lambda t: init.xavier_uniform_(t),
    lambda t: init.xavier_normal_(t),
    lambda t: init.kaiming_uniform_(t),
    lambda t: init.kaiming_normal_(t),
]


@pytest.mark.parametrize("fill", INITIALISERS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_in_place_dtype_preserving_and_seeded(fill, dtype):
    t = _empty((40, 30), dtype)
    array = t.data
    scratchnn.random.manual_seed(0)
    assert fill(t) is t
    assert t.data is array and t.dtype == dtype
    assert np.all(np.isfinite(array))
    first = array.copy()
    scratchnn.random.manual_seed(0)
    fill(t)
    np.testing.assert_array_equal(t.data, first)
    fill(t)
    assert not np.array_equal(t.data, first)


def test_works_on_parameters_and_plain_arrays():
    from scratchnn import nn

    p = nn.Parameter(np.zeros((4, 5)))
    assert init.ones_(p) is p and np.all(p.data == 1)
    array = np.zeros((4, 5))
    assert init.uniform_(array, 2, 3) is array and np.all(array >= 2)
    with pytest.raises(TypeError):
        init.zeros_([1.0, 2.0])


def test_init_does_not_touch_gradient_tracking():
    t = Tensor(np.zeros((3, 3)), requires_grad=True)
    init.normal_(t)
    assert t.requires_grad and t.is_leaf and t.grad is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        init.xavier_uniform_(t)
