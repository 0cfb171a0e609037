"""Whole training runs against PyTorch: same initial weights, same batches, 200 steps each.

If any op's gradient, a loss's reduction or an optimizer's update rule differed from
PyTorch's, the two loss curves would drift apart within a few steps.
"""

from __future__ import annotations

import numpy as np
import pytest

import scratchnn as sn
from scratchnn import nn, optim

torch = pytest.importorskip("torch")

STEPS = 200
BATCH = 32


def _data(n_classes: int | None, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((256, 20)).astype(np.float32)
    if n_classes is None:  # regression target
        w = rng.standard_normal((20, 3)).astype(np.float32)
        return x, (np.tanh(x @ w) + 0.1 * rng.standard_normal((256, 3))).astype(np.float32)
    if n_classes == 1:  # binary labels as float column
        return x, (x[:, :1] + x[:, 1:2] ** 2 > 0.5).astype(np.float32)
    return x, np.argmax(x[:, :n_classes] + 0.5 * x[:, n_classes:2 * n_classes], axis=1)


def _twin_mlps(sizes: list[int]) -> tuple[nn.Sequential, torch.nn.Sequential]:
    """A scratchnn MLP and a torch MLP with identical weights."""
    sn.manual_seed(1)
    ours_layers, torch_layers = [], []
    for i, (fan_in, fan_out) in enumerate(zip(sizes, sizes[1:], strict=False)):
        ours_layers.append(nn.Linear(fan_in, fan_out))
        torch_layers.append(torch.nn.Linear(fan_in, fan_out))
        if i < len(sizes) - 2:
            ours_layers += [nn.ReLU()]
            torch_layers += [torch.nn.ReLU()]
    ours, theirs = nn.Sequential(*ours_layers), torch.nn.Sequential(*torch_layers)
    theirs.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in ours.state_dict().items()})
    return ours, theirs


def _train_both(ours, theirs, our_loss, their_loss, our_opt, their_opt, x, y):
    """Run STEPS mini-batch steps on both; returns the two loss curves."""
    order = np.random.default_rng(2).permutation(np.tile(np.arange(len(x)), 40))
    ours_losses, theirs_losses = [], []
    target_dtype = torch.long if y.dtype.kind == "i" else torch.float32
    for step in range(STEPS):
        batch = order[step * BATCH:(step + 1) * BATCH]
        xb, yb = x[batch], y[batch]

        our_opt.zero_grad()
        loss = our_loss(ours(sn.tensor(xb)), sn.tensor(yb))
        loss.backward()
        our_opt.step()
        ours_losses.append(loss.item())

        their_opt.zero_grad()
        their_target = torch.as_tensor(yb, dtype=target_dtype)
        reference = their_loss(theirs(torch.from_numpy(xb)), their_target)
        reference.backward()
        their_opt.step()
        theirs_losses.append(reference.item())
    return np.array(ours_losses), np.array(theirs_losses)


def _assert_same_curve(ours: np.ndarray, theirs: np.ndarray) -> None:
    assert ours[-1] < 0.7 * ours[0], "the run did not learn, so agreement proves little"
    relative = np.abs(ours - theirs) / np.abs(theirs)
    worst = int(np.argmax(relative))
    assert relative.max() <= 1e-4, (
        f"step {worst}: scratchnn {ours[worst]:.8g} vs torch {theirs[worst]:.8g}"
    )


def test_mlp_cross_entropy_sgd_momentum_matches_torch():
    x, y = _data(n_classes=4)
    ours, theirs = _twin_mlps([20, 32, 16, 4])
    curves = _train_both(
        ours, theirs, nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss(),
        optim.SGD(ours.parameters(), lr=0.05, momentum=0.9),
        torch.optim.SGD(theirs.parameters(), lr=0.05, momentum=0.9), x, y,
    )
    _assert_same_curve(*curves)


def test_mlp_bce_with_logits_adam_matches_torch():
    x, y = _data(n_classes=1)
    ours, theirs = _twin_mlps([20, 32, 1])
    curves = _train_both(
        ours, theirs, nn.BCEWithLogitsLoss(), torch.nn.BCEWithLogitsLoss(),
        optim.Adam(ours.parameters(), lr=1e-3), torch.optim.Adam(theirs.parameters(), lr=1e-3),
        x, y,
    )
    _assert_same_curve(*curves)


def test_mse_sgd_weight_decay_matches_torch():
    x, y = _data(n_classes=None)
    ours, theirs = _twin_mlps([20, 16, 3])
    curves = _train_both(
        ours, theirs, nn.MSELoss(), torch.nn.MSELoss(),
        optim.SGD(ours.parameters(), lr=0.05, weight_decay=1e-3),
        torch.optim.SGD(theirs.parameters(), lr=0.05, weight_decay=1e-3), x, y,
    )
    _assert_same_curve(*curves)
