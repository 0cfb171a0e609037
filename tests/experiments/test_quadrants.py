"""quadrants (seed 002): the seed's hand-written run, the same run by autograd, and the
nn.Module version."""

import json

import numpy as np

from scratchnn.experiments import quadrants


def test_seed_figures_and_autograd_agreement(tmp_path, capsys):
    metrics = quadrants.run(out=tmp_path)
    hand, auto, module = metrics["hand"], metrics["autograd"], metrics["module"]

    # the seed's figures: its last printed loss and its accuracy
    assert f"{hand['final_loss']:.4f}" == "0.0892"
    assert f"{hand['accuracy']:.4f}" == "0.9960"
    assert len(hand["losses"]) == 2000 and len(hand["loss_log"]) == 20
    printed = capsys.readouterr().out
    assert "Epoch [2000/2000], Loss: 0.0892" in printed
    assert "Accuracy: 0.9960" in printed

    # scratchnn autograd from the same init: the same loss at every epoch
    assert metrics["autograd_vs_hand_max_loss_difference"] <= 1e-6
    np.testing.assert_allclose(auto["losses"], hand["losses"], rtol=0, atol=1e-6)
    assert auto["accuracy"] == hand["accuracy"]

    # the nn.Module version with the seed's lr 0.01 learns, slowly
    assert len(module["losses"]) == 1000
    assert module["losses"][-1] < module["losses"][0]
    assert module["accuracy"] > 0.75

    written = json.loads((tmp_path / "metrics.json").read_text())
    assert written["hand"]["loss_log"][-1] == 0.0892
    for plot in metrics["plots"]:
        assert (tmp_path / plot).stat().st_size > 0
    if metrics["plots"]:
        assert set(metrics["plots"]) == {"loss.png", "decision_boundary.png"}
