"""admissions (seed 003, example 2): preprocessing as pandas does it, the seed's split and
accuracies, and the gradient check of the first step."""

import json

import numpy as np

from scratchnn.experiments import admissions


def test_data_is_the_seeds():
    df = admissions.load_admissions()
    assert len(df["admit"]) == 400
    assert int(df["admit"].sum()) == 127
    assert round(df["gre"].mean(), 1) == 587.7
    assert round(df["gpa"].mean(), 4) == 3.3899
    assert [int((df["rank"] == r).sum()) for r in (1, 2, 3, 4)] == [61, 151, 121, 67]
    assert df["gre"][:5].tolist() == [380, 660, 800, 640, 520]


def test_preprocess_matches_pandas_conventions():
    df = admissions.load_admissions()
    features, targets = admissions.preprocess(df)
    assert features.shape == (400, 6) and targets.shape == (400, 1)
    # gre, gpa standardised with the sample std (ddof=1), then rank_1..rank_4
    np.testing.assert_allclose(features[:, :2].mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(features[:, :2].std(axis=0, ddof=1), 1, atol=1e-12)
    assert features[0, 2:].tolist() == [0, 0, 1, 0]  # first student: rank 3
    np.testing.assert_array_equal(features[:, 2:].sum(axis=1), 1)


def test_reproduces_the_seed(tmp_path, capsys):
    metrics = admissions.run(out=tmp_path)
    assert metrics["gradcheck_passed"] is True
    assert metrics["autograd_vs_hand_max_difference"] < 1e-12
    assert metrics["loss_log"] == [0.1524, 0.0974, 0.0973] + [0.0972] * 7
    assert metrics["train_accuracy"] == 0.71
    assert metrics["test_accuracy"] == 0.75
    assert metrics["n_train"] == 360 and metrics["n_test"] == 40

    printed = capsys.readouterr().out
    assert "Accuracy on training set (expected ~0.71): 0.71" in printed
    assert "Accuracy on test set (expected ~0.75): 0.75" in printed

    written = json.loads((tmp_path / "metrics.json").read_text())
    assert (written["train_accuracy"], written["test_accuracy"]) == (0.71, 0.75)
    if metrics["plots"]:
        assert "ranks.png" in metrics["plots"]
        assert (tmp_path / "ranks.png").stat().st_size > 0
