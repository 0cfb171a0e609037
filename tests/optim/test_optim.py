"""Tests for scratchnn.optim optimizers: parity with torch.optim, checkpoints, validation."""

from __future__ import annotations

import tracemalloc
from typing import Any

import numpy as np
import pytest

from scratchnn.optim import SGD, Adam, AdamW, Optimizer, RMSprop


class P:
    """Minimal stand-in for nn.Parameter: the optimizers only use .data and .grad."""

    def __init__(self, data: np.ndarray) -> None:
        self.data = data
        self.grad: np.ndarray | None = None


SHAPES = [(3, 4), (5,), ()]
N_STEPS = 50

# (optimizer class, its torch.optim name, keyword arguments); every option combination that
# changes the update rule. Group 1 always overrides lr (see make_groups).
CONFIGS: list[tuple[type[Optimizer], str, dict[str, Any]]] = [
    (SGD, "SGD", {"lr": 0.05}),
    (SGD, "SGD", {"lr": 0.05, "momentum": 0.9}),
    (SGD, "SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.3}),
    (SGD, "SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    (SGD, "SGD", {"lr": 0.05, "weight_decay": 0.1}),
    (SGD, "SGD", {"lr": 0.05, "momentum": 0.8, "weight_decay": 0.1, "nesterov": True}),
    (SGD, "SGD", {"lr": 0.02, "momentum": 0.5, "weight_decay": 0.1, "maximize": True}),
    (Adam, "Adam", {"lr": 0.05}),
    (Adam, "Adam", {"lr": 0.05, "betas": (0.8, 0.99), "eps": 1e-6}),
    (Adam, "Adam", {"lr": 0.05, "amsgrad": True}),
    (Adam, "Adam", {"lr": 0.05, "weight_decay": 0.1}),
    (Adam, "Adam", {"lr": 0.05, "weight_decay": 0.1, "amsgrad": True, "maximize": True}),
    (AdamW, "AdamW", {"lr": 0.05}),
    (AdamW, "AdamW", {"lr": 0.05, "weight_decay": 0.1, "amsgrad": True}),
    (AdamW, "AdamW", {"lr": 0.05, "weight_decay": 0.1, "maximize": True}),
    (RMSprop, "RMSprop", {"lr": 0.01}),
    (RMSprop, "RMSprop", {"lr": 0.01, "centered": True}),
    (RMSprop, "RMSprop", {"lr": 0.01, "momentum": 0.9}),
    (RMSprop, "RMSprop", {"lr": 0.01, "weight_decay": 0.1}),
    (
        RMSprop,
        "RMSprop",
        {"lr": 0.01, "alpha": 0.9, "centered": True, "momentum": 0.5, "weight_decay": 0.1},
    ),
    (RMSprop, "RMSprop", {"lr": 0.01, "momentum": 0.5, "maximize": True}),
]
CONFIG_IDS = [f"{name}-{'-'.join(f'{k}={v}' for k, v in kw.items())}" for _, name, kw in CONFIGS]


def initial_arrays(dtype: type) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [np.array(rng.standard_normal(shape), dtype=dtype) for shape in SHAPES]


def make_gradient_fn(dtype: type):
    """Gradient of sum_i c_i/2 ||p_i - target_i||^2, plus fixed noise; None on some steps.

    Computed with NumPy from each framework's own current values, so the two runs see the
    same function of their parameters. Gradients are read-only, which makes any in-place
    write to p.grad by an optimizer fail loudly.
    """
    rng = np.random.default_rng(1)
    targets = [rng.standard_normal(shape) for shape in SHAPES]
    curvatures = [0.5, 2.0, 1.0]
    noise = [[rng.standard_normal(shape) for shape in SHAPES] for _ in range(N_STEPS)]

    def gradients(step: int, values: list[np.ndarray]) -> list[np.ndarray | None]:
        grads: list[np.ndarray | None] = []
        for i, value in enumerate(values):
            if i == 2 and step % 7 == 3:  # sometimes no gradient: the parameter is skipped
                grads.append(None)
                continue
            grad = np.asarray(curvatures[i] * (value - targets[i]) + noise[step][i], dtype=dtype)
            grad.flags.writeable = False
            grads.append(grad)
        return grads

    return gradients


def make_groups(params: list[Any]) -> list[dict[str, Any]]:
    return [{"params": params[:2]}, {"params": params[2:], "lr": 0.003}]


def run_scratchnn(cls, kwargs, dtype, n_steps=N_STEPS):
    params = [P(a) for a in initial_arrays(dtype)]
    arrays = [p.data for p in params]
    optimizer = cls(make_groups(params), **kwargs)
    gradients = make_gradient_fn(dtype)
    for step in range(n_steps):
        for p, g in zip(params, gradients(step, [p.data for p in params]), strict=True):
            p.grad = g
        optimizer.step()
    assert all(p.data is a for p, a in zip(params, arrays, strict=True)), "must update in place"
    return params, optimizer


def run_torch(torch, name, kwargs, dtype, n_steps=N_STEPS):
    params = [torch.tensor(a, requires_grad=True) for a in initial_arrays(dtype)]
    optimizer = getattr(torch.optim, name)(make_groups(params), **kwargs)
    gradients = make_gradient_fn(dtype)
    for step in range(n_steps):
        values = [p.detach().numpy() for p in params]
        for p, g in zip(params, gradients(step, values), strict=True):
            p.grad = None if g is None else torch.tensor(g)
        optimizer.step()
    return [p.detach().numpy() for p in params]


@pytest.mark.parametrize(("cls", "torch_name", "kwargs"), CONFIGS, ids=CONFIG_IDS)
def test_trajectory_matches_torch_float64(cls, torch_name, kwargs):
    torch = pytest.importorskip("torch")
    ours, _ = run_scratchnn(cls, kwargs, np.float64)
    theirs = run_torch(torch, torch_name, kwargs, np.float64)
    for p, expected in zip(ours, theirs, strict=True):
        assert p.data.dtype == np.float64
        np.testing.assert_allclose(p.data, expected, rtol=0, atol=1e-10)
    # The run actually moved the parameters (the comparison is not vacuous).
    assert not np.allclose(ours[0].data, initial_arrays(np.float64)[0], atol=1e-3)


@pytest.mark.parametrize(("cls", "torch_name", "kwargs"), CONFIGS, ids=CONFIG_IDS)
def test_trajectory_matches_torch_float32(cls, torch_name, kwargs):
    torch = pytest.importorskip("torch")
    ours, optimizer = run_scratchnn(cls, kwargs, np.float32)
    theirs = run_torch(torch, torch_name, kwargs, np.float32)
    for p, expected in zip(ours, theirs, strict=True):
        assert p.data.dtype == np.float32
        scale = np.max(np.abs(expected))
        np.testing.assert_allclose(p.data, expected, rtol=1e-6, atol=1e-6 * scale)
    for param_state in optimizer.state.values():
        for name, value in param_state.items():
            if isinstance(value, np.ndarray):
                assert value.dtype == np.float32, name


@pytest.mark.parametrize(("cls", "torch_name", "kwargs"), CONFIGS, ids=CONFIG_IDS)
def test_state_dict_round_trip_is_exact(cls, torch_name, kwargs):
    straight, _ = run_scratchnn(cls, kwargs, np.float64, n_steps=10)

    params = [P(a) for a in initial_arrays(np.float64)]
    optimizer = cls(make_groups(params), **kwargs)
    gradients = make_gradient_fn(np.float64)

    def run(optimizer, params, steps):
        for step in steps:
            for p, g in zip(params, gradients(step, [p.data for p in params]), strict=True):
                p.grad = g
            optimizer.step()

    run(optimizer, params, range(5))
    saved = optimizer.state_dict()
    values_at_5 = [p.data.copy() for p in params]
    run(optimizer, params, range(5, 7))  # the saved dict is a snapshot, not a live view

    resumed_params = [P(a) for a in values_at_5]
    resumed = cls(resumed_params, lr=123.0)  # hyperparameters come from the state dict
    resumed.param_groups = []
    resumed.add_param_group({"params": resumed_params[:2]})
    resumed.add_param_group({"params": resumed_params[2:]})
    resumed.load_state_dict(saved)
    assert resumed.param_groups[1]["lr"] == 0.003
    run(resumed, resumed_params, range(5, 10))

    for p, q in zip(resumed_params, straight, strict=True):
        np.testing.assert_array_equal(p.data, q.data)


def test_state_dict_layout():
    params = [P(np.zeros((2, 3))), P(np.zeros(4)), P(np.zeros(1))]
    optimizer = Adam([{"params": params[:2]}, {"params": params[2:], "lr": 0.1}], amsgrad=True)
    params[1].grad = np.ones(4)
    optimizer.step()
    state = optimizer.state_dict()
    assert [g["params"] for g in state["param_groups"]] == [[0, 1], [2]]
    assert state["param_groups"][1]["lr"] == 0.1
    assert list(state["state"]) == [1]  # only parameters that have state
    entry = state["state"][1]
    assert entry["step"] == 1 and isinstance(entry["step"], int)
    assert set(entry) == {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"}
    assert entry["exp_avg"] is not optimizer.state[params[1]]["exp_avg"]


def _adam_with_state(shapes=((2, 3), (4,))) -> tuple[Adam, list[P]]:
    params = [P(np.zeros(s)) for s in shapes]
    optimizer = Adam(params)
    for p in params:
        p.grad = np.ones(p.data.shape)
    optimizer.step()
    return optimizer, params


def test_load_state_dict_rejects_wrong_group_count():
    optimizer, _ = _adam_with_state()
    saved = optimizer.state_dict()
    other = Adam([{"params": [P(np.zeros((2, 3)))]}, {"params": [P(np.zeros(4))]}])
    with pytest.raises(ValueError, match="1 parameter groups, but the optimizer has 2"):
        other.load_state_dict(saved)


def test_load_state_dict_rejects_wrong_group_size():
    optimizer, _ = _adam_with_state()
    saved = optimizer.state_dict()
    other = Adam([P(np.zeros((2, 3)))])
    with pytest.raises(ValueError, match="parameter group 0 has 2 parameters .* but 1"):
        other.load_state_dict(saved)


def test_load_state_dict_rejects_wrong_shape_and_changes_nothing():
    optimizer, _ = _adam_with_state()
    saved = optimizer.state_dict()
    other, other_params = _adam_with_state(shapes=((2, 3), (5,)))
    before = other.state_dict()
    with pytest.raises(ValueError, match=r"state\[1\]\['exp_avg'\] has shape \(4,\).*\(5,\)"):
        other.load_state_dict(saved)
    after = other.state_dict()
    assert after["param_groups"] == before["param_groups"]
    np.testing.assert_array_equal(after["state"][1]["exp_avg"], before["state"][1]["exp_avg"])


def test_load_state_dict_rejects_missing_hyperparameter_and_bad_index():
    optimizer, _ = _adam_with_state()
    saved = optimizer.state_dict()
    sgd = SGD([P(np.zeros((2, 3))), P(np.zeros(4))], momentum=0.9)
    with pytest.raises(ValueError, match="lacks hyperparameters.*momentum"):
        sgd.load_state_dict(saved)
    saved["state"][7] = saved["state"].pop(1)
    with pytest.raises(ValueError, match="state entry 7"):
        optimizer.load_state_dict(saved)


def test_load_state_dict_casts_to_parameter_dtype_and_accepts_string_keys():
    optimizer, _ = _adam_with_state()
    saved = optimizer.state_dict()
    saved["state"] = {str(k): v for k, v in saved["state"].items()}
    saved["state"]["0"]["step"] = np.int64(1)
    params32 = [P(np.zeros((2, 3), np.float32)), P(np.zeros(4, np.float32))]
    other = Adam(params32)
    other.load_state_dict(saved)
    assert other.state[params32[0]]["exp_avg"].dtype == np.float32
    assert type(other.state[params32[0]]["step"]) is int


def test_zero_grad_set_to_none():
    p = P(np.zeros(3))
    p.grad = np.ones(3)
    SGD([p]).zero_grad()
    assert p.grad is None


def test_zero_grad_in_place():
    p, q, r = P(np.zeros(3)), P(np.zeros(2)), P(np.zeros(2))
    grad = np.ones(3)
    p.grad = grad
    q.grad = np.ones(2)
    q.grad.flags.writeable = False
    optimizer = SGD([p, q, r])
    optimizer.zero_grad(set_to_none=False)
    assert p.grad is grad and np.all(grad == 0)
    np.testing.assert_array_equal(q.grad, np.zeros(2))  # read-only: replaced by new zeros
    assert r.grad is None


@pytest.mark.parametrize(
    ("cls", "kwargs"),
    [
        (SGD, {"momentum": 0.9, "weight_decay": 0.1}),
        (Adam, {}),
        (AdamW, {}),
        (RMSprop, {"momentum": 0.9, "centered": True}),
    ],
)
def test_parameters_without_grad_are_skipped(cls, kwargs):
    with_grad, without_grad = P(np.ones(3)), P(np.ones(3))
    with_grad.grad = np.ones(3)
    optimizer = cls([with_grad, without_grad], lr=0.1, **kwargs)
    optimizer.step()
    np.testing.assert_array_equal(without_grad.data, np.ones(3))
    assert without_grad not in optimizer.state
    assert not np.array_equal(with_grad.data, np.ones(3))


def test_plain_sgd_step_and_closure():
    p = P(np.array([1.0, 2.0]))
    p.grad = np.array([0.5, -1.0])
    optimizer = SGD([p], lr=0.1)
    assert optimizer.step(lambda: 3.5) == 3.5
    np.testing.assert_array_equal(p.data, [1.0 - 0.1 * 0.5, 2.0 + 0.1 * 1.0])
    assert len(optimizer.state) == 0


def test_default_hyperparameters_match_torch():
    p = [P(np.zeros(1))]
    assert SGD(p).defaults["lr"] == 1e-3
    adam = Adam(p).defaults
    expected = {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0}
    assert {name: adam[name] for name in expected} == expected
    assert AdamW(p).defaults["weight_decay"] == 1e-2
    rmsprop = RMSprop(p).defaults
    assert (rmsprop["lr"], rmsprop["alpha"], rmsprop["eps"]) == (1e-2, 0.99, 1e-8)


@pytest.mark.parametrize(
    ("cls", "kwargs", "message"),
    [
        (SGD, {"lr": -0.1}, "learning rate"),
        (SGD, {"momentum": -0.5}, "momentum"),
        (SGD, {"weight_decay": -1.0}, "weight_decay"),
        (SGD, {"nesterov": True}, "Nesterov"),
        (SGD, {"nesterov": True, "momentum": 0.9, "dampening": 0.1}, "Nesterov"),
        (Adam, {"lr": -1e-3}, "learning rate"),
        (Adam, {"eps": -1e-8}, "epsilon"),
        (Adam, {"betas": (1.0, 0.999)}, "beta parameter at index 0"),
        (Adam, {"betas": (0.9, -0.1)}, "beta parameter at index 1"),
        (Adam, {"weight_decay": -0.1}, "weight_decay"),
        (AdamW, {"betas": (0.9, 1.5)}, "beta parameter at index 1"),
        (RMSprop, {"alpha": -0.1}, "alpha"),
        (RMSprop, {"momentum": -0.1}, "momentum"),
        (RMSprop, {"eps": -1.0}, "epsilon"),
        (RMSprop, {"lr": float("nan")}, "learning rate"),
    ],
)
def test_bad_hyperparameters_raise(cls, kwargs, message):
    with pytest.raises(ValueError, match=message):
        cls([P(np.zeros(2))], **kwargs)


def test_bad_group_hyperparameter_raises():
    with pytest.raises(ValueError, match="learning rate"):
        SGD([{"params": [P(np.zeros(2))]}, {"params": [P(np.zeros(2))], "lr": -1.0}])


def test_bad_params_argument():
    p = P(np.zeros(2))
    with pytest.raises(ValueError, match="empty parameter list"):
        SGD([])
    with pytest.raises(TypeError, match="single"):
        SGD(p)
    with pytest.raises(TypeError, match="set"):
        SGD({p})
    with pytest.raises(ValueError, match="more than once"):
        SGD([p, p])
    with pytest.raises(ValueError, match="more than one parameter group"):
        SGD([{"params": [p]}, {"params": [p]}])
    with pytest.raises(TypeError, match=".data and .grad"):
        SGD([np.zeros(2)])


def _peak_allocation_of(call: Any) -> int:
    """Bytes allocated at the peak of ``call()`` (NumPy reports its arrays to tracemalloc)."""
    tracemalloc.start()
    try:
        call()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize(
    "options", [{}, {"momentum": 0.9}, {"momentum": 0.9, "nesterov": True}], ids=str
)
def test_sgd_steps_allocate_no_parameter_sized_temporaries(options):
    """After the first step (which creates the momentum buffer and a reusable work array),
    an update computes in place: less memory traffic per step, no allocation."""
    param = P(np.ones((256, 256), dtype=np.float32))  # 256 KiB
    optimizer = SGD([param], lr=0.1, **options)
    param.grad = np.full((256, 256), 0.5, dtype=np.float32)
    optimizer.step()
    expected = param.data.copy()
    assert _peak_allocation_of(optimizer.step) < param.data.nbytes // 4
    # and the update is still right: one more step of the same rule
    velocity = 0.5 if not options else (0.9 * 0.5 + 0.5)
    step = 0.5 + 0.9 * velocity if options.get("nesterov") else velocity
    np.testing.assert_allclose(param.data, expected - 0.1 * step, rtol=1e-6)


@pytest.mark.parametrize(
    "make",
    [
        lambda params: Adam(params, lr=0.1),
        lambda params: AdamW(params, lr=0.1, amsgrad=True),
        lambda params: RMSprop(params, lr=0.1, momentum=0.9, centered=True),
    ],
    ids=["Adam", "AdamW-amsgrad", "RMSprop-centered-momentum"],
)
def test_adaptive_optimizer_steps_reuse_their_work_array(make):
    param = P(np.ones((256, 256), dtype=np.float32))  # 256 KiB
    optimizer = make([param])
    param.grad = np.full((256, 256), 0.5, dtype=np.float32)
    optimizer.step()
    before = param.data.copy()
    assert _peak_allocation_of(optimizer.step) < param.data.nbytes // 4
    assert not np.array_equal(param.data, before)  # it did take a step
