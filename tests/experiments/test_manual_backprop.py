"""manual-backprop (seed 002, section 4): the seed's printed step, by hand and by autograd."""

import json

import numpy as np

from scratchnn.experiments import manual_backprop

# What the seed's manual_backprop_example() prints
SEED = {
    "loss": 0.3425601304225264,
    "dW1": [[-0.03102221, -0.03260793], [-0.06204442, -0.06521586]],
    "db1": [[-0.03102221, -0.03260793]],
    "dW2": [[-0.2001268], [-0.21761262]],
    "db2": [[-0.29004957]],
    "new_loss": 0.3245614552572158,
}


def test_hand_and_autograd_agree_with_the_seed(tmp_path, capsys):
    metrics = manual_backprop.run(out=tmp_path)
    for way in ("hand", "autograd"):
        result = metrics[way]
        assert abs(result["loss"] - SEED["loss"]) < 1e-15
        assert abs(result["new_loss"] - SEED["new_loss"]) < 1e-15
        for key in ("dW1", "db1", "dW2", "db2"):
            np.testing.assert_allclose(result[key], SEED[key], rtol=0, atol=5e-9)
    assert metrics["max_difference"] <= 1e-6
    assert metrics["loss_decreased"] is True

    printed = capsys.readouterr().out
    assert printed.count("Loss: 0.3425601304225264") == 2
    assert printed.count("New Loss: 0.3245614552572158") == 2
    assert printed.count("Loss decreased: True") == 2

    written = json.loads((tmp_path / "metrics.json").read_text())
    assert written["max_difference"] == metrics["max_difference"]
