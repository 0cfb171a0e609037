"""circle (seed 000): the seed's outcome (not its torch draws) from scratchnn's generator."""

import json

import numpy as np
import pytest

from scratchnn.experiments import circle


def check_outcome(metrics):
    assert metrics["n_train"] + metrics["n_dev"] == 10000
    assert 0.77 < metrics["n_train"] / 10000 < 0.83
    assert metrics["dev_accuracy"] >= 0.995
    assert metrics["dev_loss"] < 0.01
    counts = [metrics[k] for k in ("true_positives", "false_positives", "true_negatives",
                                   "false_negatives")]
    assert sum(counts) == metrics["n_dev"]
    mistakes = metrics["false_positive_samples"].tolist() + metrics[
        "false_negative_samples"].tolist()
    assert len(mistakes) == metrics["false_positives"] + metrics["false_negatives"]
    for point in mistakes:  # every misclassified point hugs the circle
        assert abs(np.hypot(*point) - 1.0) <= 0.25


def test_default_seed(tmp_path, capsys):
    metrics = circle.run(out=tmp_path)
    check_outcome(metrics)
    printed = capsys.readouterr().out
    for name in ("dev_loss=tensor(", "true_positives=", "false_positives=", "true_negatives=",
                 "false_negatives=", "false_positive_samples=", "false_negative_samples="):
        assert name in printed
    written = json.loads((tmp_path / "metrics.json").read_text())
    assert written["dev_accuracy"] == metrics["dev_accuracy"]
    if metrics["plots"]:
        assert (tmp_path / "decision_boundary.png").stat().st_size > 0


@pytest.mark.slow
@pytest.mark.parametrize("seed", [5, 9])
def test_other_seeds(tmp_path, seed, capsys):
    check_outcome(circle.run(seed=seed, out=tmp_path))
