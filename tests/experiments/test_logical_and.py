"""logical-and (seed 003, example 1): the seed's printed numbers, exactly."""

import json

import numpy as np

from scratchnn.experiments import logical_and

SEED_LOSS_LOG = [0.1513, 0.0271, 0.0153, 0.0103, 0.0077, 0.006, 0.005, 0.0042, 0.0036, 0.0032]


def seed_losses(epochs: int = 2000) -> list[float]:
    """The seed's own NumPy loop with its hand-written backward (eq 5-8)."""
    x = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = np.array([[0.0], [0.0], [0.0], [1.0]])
    np.random.seed(0)
    W = np.random.normal(scale=1 / 2**.5, size=[2, 1])
    b = np.zeros(shape=[1, 1])
    losses = []
    for _ in range(epochs):
        z = x @ W + b
        y_hat = 1 / (1 + np.exp(-z))
        rho = (y_hat - y) / len(x) * y_hat * (1 - y_hat)
        W += -1 * (x.T @ rho)
        b += -1 * np.sum(rho, axis=0, keepdims=True)
        losses.append(.5 * np.mean(np.sum((y - y_hat) ** 2, axis=-1)))
    return losses


def test_reproduces_the_seed(tmp_path, capsys):
    metrics = logical_and.run(out=tmp_path)
    assert metrics["outputs_before"] == [0.5, 0.57, 0.78, 0.82]
    assert metrics["loss_log"] == SEED_LOSS_LOG
    assert metrics["outputs_after"] == [0.0, 0.08, 0.08, 0.9]

    printed = capsys.readouterr().out
    assert [line for line in printed.splitlines() if line.startswith("loss ")] == [
        f"loss  {value}" for value in SEED_LOSS_LOG
    ]
    assert "[1, 1]   →   [1]       [0.9]" in printed

    # autograd gives the seed's hand-derived descent, epoch by epoch
    np.testing.assert_allclose(metrics["losses"], seed_losses(), rtol=0, atol=1e-12)

    written = json.loads((tmp_path / "metrics.json").read_text())
    assert written["loss_log"] == SEED_LOSS_LOG
    assert written["outputs_after"] == [0.0, 0.08, 0.08, 0.9]
    for plot in metrics["plots"]:
        assert (tmp_path / plot).stat().st_size > 0
