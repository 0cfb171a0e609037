"""Tests for scratchnn.optim.lr_scheduler: lr sequences equal torch's, checkpoints."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from scratchnn.optim import SGD, lr_scheduler

N_STEPS = 30
GROUP_LRS = [0.1, 0.03]


class P:
    def __init__(self, data: np.ndarray) -> None:
        self.data = data
        self.grad: np.ndarray | None = None


def decay_095(epoch: int) -> float:
    return 0.95**epoch


def warmup(epoch: int) -> float:
    return min(1.0, (epoch + 1) / 5)


# (scheduler name, keyword arguments); the same names exist in torch.optim.lr_scheduler.
SCHEDULERS: list[tuple[str, dict[str, Any]]] = [
    ("StepLR", {"step_size": 7}),
    ("StepLR", {"step_size": 4, "gamma": 0.5}),
    ("ExponentialLR", {"gamma": 0.9}),
    ("MultiStepLR", {"milestones": [3, 10, 10, 20], "gamma": 0.5}),
    ("MultiStepLR", {"milestones": [5, 15]}),
    ("CosineAnnealingLR", {"T_max": 10, "eta_min": 0.001}),  # passes the restart at epoch 11
    ("CosineAnnealingLR", {"T_max": 30}),
    ("LambdaLR", {"lr_lambda": decay_095}),
    ("LambdaLR", {"lr_lambda": [warmup, lambda epoch: 1.0 / (epoch + 1)]}),
]
IDS = [f"{name}-{kwargs}" for name, kwargs in SCHEDULERS]


def ours(name: str, kwargs: dict[str, Any]) -> tuple[SGD, lr_scheduler.LRScheduler]:
    optimizer = SGD([{"params": [P(np.zeros(1))], "lr": lr} for lr in GROUP_LRS])
    return optimizer, getattr(lr_scheduler, name)(optimizer, **kwargs)


def ours_lr_sequence(name: str, kwargs: dict[str, Any]) -> list[list[float]]:
    optimizer, scheduler = ours(name, kwargs)
    lrs = [scheduler.get_last_lr()]
    for _ in range(N_STEPS):
        optimizer.step()
        scheduler.step()
        lrs.append(scheduler.get_last_lr())
        assert lrs[-1] == [group["lr"] for group in optimizer.param_groups]
    assert scheduler.last_epoch == N_STEPS
    return lrs


@pytest.mark.parametrize(("name", "kwargs"), SCHEDULERS, ids=IDS)
def test_lr_sequence_equals_torch(name, kwargs):
    torch = pytest.importorskip("torch")
    torch_optimizer = torch.optim.SGD(
        [{"params": [torch.zeros(1, requires_grad=True)], "lr": lr} for lr in GROUP_LRS]
    )
    torch_scheduler = getattr(torch.optim.lr_scheduler, name)(torch_optimizer, **kwargs)
    expected = [torch_scheduler.get_last_lr()]
    for _ in range(N_STEPS):
        torch_optimizer.step()
        torch_scheduler.step()
        expected.append(torch_scheduler.get_last_lr())

    assert ours_lr_sequence(name, kwargs) == expected  # exact, float for float


def test_chained_schedulers_equal_torch():
    torch = pytest.importorskip("torch")
    torch_optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    torch_schedulers = [
        torch.optim.lr_scheduler.ExponentialLR(torch_optimizer, gamma=0.95),
        torch.optim.lr_scheduler.StepLR(torch_optimizer, step_size=5, gamma=0.5),
    ]
    optimizer = SGD([P(np.zeros(1))], lr=0.1)
    schedulers = [
        lr_scheduler.ExponentialLR(optimizer, gamma=0.95),
        lr_scheduler.StepLR(optimizer, step_size=5, gamma=0.5),
    ]
    for _ in range(N_STEPS):
        torch_optimizer.step()
        for s in [*torch_schedulers, *schedulers]:
            s.step()
        assert optimizer.param_groups[0]["lr"] == torch_optimizer.param_groups[0]["lr"]


def test_construction_records_initial_lr_and_starts_at_epoch_0():
    optimizer, scheduler = ours("StepLR", {"step_size": 3})
    assert scheduler.last_epoch == 0
    assert scheduler.base_lrs == GROUP_LRS
    assert [group["initial_lr"] for group in optimizer.param_groups] == GROUP_LRS
    assert scheduler.get_last_lr() == GROUP_LRS


def test_closed_forms():
    _, step_lr = ours("StepLR", {"step_size": 4, "gamma": 0.5})
    _, cosine = ours("CosineAnnealingLR", {"T_max": 8, "eta_min": 0.01})
    for epoch in range(1, 9):
        step_lr.step()
        cosine.step()
        assert step_lr.get_last_lr()[0] == pytest.approx(0.1 * 0.5 ** (epoch // 4), rel=1e-12)
        expected = 0.01 + (0.1 - 0.01) * (1 + np.cos(np.pi * epoch / 8)) / 2
        assert cosine.get_last_lr()[0] == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(("name", "kwargs"), SCHEDULERS, ids=IDS)
def test_state_dict_round_trip(name, kwargs):
    straight = ours_lr_sequence(name, kwargs)

    optimizer, scheduler = ours(name, kwargs)
    for _ in range(12):
        scheduler.step()
    optimizer_state, scheduler_state = optimizer.state_dict(), scheduler.state_dict()
    assert "optimizer" not in scheduler_state

    # Resume as in torch: build both fresh, then load the optimizer and the scheduler.
    optimizer, scheduler = ours(name, kwargs)
    optimizer.load_state_dict(optimizer_state)
    scheduler.load_state_dict(scheduler_state)
    assert scheduler.last_epoch == 12
    resumed = [scheduler.get_last_lr()]
    for _ in range(12, N_STEPS):
        scheduler.step()
        resumed.append(scheduler.get_last_lr())
    assert resumed == straight[12:]


class ScaledDecay:
    """A callable object: LambdaLR saves and restores its attributes."""

    def __init__(self, scale: float) -> None:
        self.scale = scale

    def __call__(self, epoch: int) -> float:
        return self.scale * 0.9**epoch


def test_lambda_lr_state_dict_omits_functions():
    optimizer = SGD([{"params": [P(np.zeros(1))]}, {"params": [P(np.zeros(1))]}], lr=0.1)
    scheduler = lr_scheduler.LambdaLR(optimizer, [lambda epoch: 1.0, ScaledDecay(0.5)])
    state = scheduler.state_dict()
    assert state["lr_lambdas"] == [None, {"scale": 0.5}]
    assert all(not callable(value) for value in state.values())

    other_optimizer = SGD([{"params": [P(np.zeros(1))]}, {"params": [P(np.zeros(1))]}], lr=0.1)
    other_object = ScaledDecay(2.0)
    other = lr_scheduler.LambdaLR(other_optimizer, [lambda epoch: 1.0, other_object])
    other.load_state_dict(state)
    assert other_object.scale == 0.5
    assert state["lr_lambdas"] == [None, {"scale": 0.5}]  # the argument is not consumed


def test_lambda_lr_needs_one_function_per_group():
    optimizer = SGD([P(np.zeros(1))], lr=0.1)
    with pytest.raises(ValueError, match="Expected 1 lr_lambdas, but got 2"):
        lr_scheduler.LambdaLR(optimizer, [decay_095, decay_095])


def test_scheduler_requires_an_optimizer():
    with pytest.raises(TypeError, match="not an Optimizer"):
        lr_scheduler.StepLR(object(), step_size=1)  # type: ignore[arg-type]


def test_optimizer_uses_the_scheduled_lr():
    p = P(np.array([1.0]))
    optimizer = SGD([p], lr=1.0)
    scheduler = lr_scheduler.ExponentialLR(optimizer, gamma=0.5)
    for _ in range(3):
        p.grad = np.array([1.0])
        optimizer.step()
        scheduler.step()
    np.testing.assert_array_equal(p.data, [1.0 - 1.0 - 0.5 - 0.25])
