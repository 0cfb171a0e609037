"""Metrics against values computed by hand (scikit-learn's definitions, no scikit-learn)."""

from __future__ import annotations

import numpy as np
import pytest

import scratchnn as sn
from scratchnn import nn
from scratchnn.metrics import (
    accuracy,
    confusion_matrix,
    get_metric,
    mae,
    mse,
    precision_recall_f1,
    predicted_classes,
    resolve_metrics,
    top_k_accuracy,
)

LOGITS = np.array([[2.0, 1.0, 0.0], [0.0, 3.0, 1.0], [1.0, 0.0, 4.0], [5.0, 2.0, 1.0]])
# argmax:            0                 1                 2                 0


def test_accuracy_multiclass_uses_argmax():
    assert accuracy(LOGITS, np.array([0, 1, 1, 2])) == 0.5  # hits: samples 0 and 1
    assert accuracy(sn.tensor(LOGITS), sn.tensor([0, 1, 2, 0])) == 1.0
    one_hot = np.eye(3)[[0, 1, 1, 2]]
    assert accuracy(LOGITS, one_hot) == 0.5


def test_accuracy_binary_logits_threshold_zero_and_probabilities_threshold_half():
    logits = np.array([[-1.0], [0.5], [2.0], [-0.2]])  # > 0: [0, 1, 1, 0]
    assert accuracy(logits, np.array([[0.0], [1.0], [0.0], [0.0]])) == 0.75
    probs = np.array([0.2, 0.6, 0.4, 0.9])  # > 0.5: [0, 1, 0, 1]
    target = np.array([0, 1, 1, 1])
    assert accuracy(probs, target, threshold=0.5) == 0.75
    # Default threshold 0 reads scores as logits: every probability counts as class 1.
    assert accuracy(probs, [0, 0, 0, 1]) == 0.25
    assert accuracy(np.array([0, 2, 1]), np.array([0, 2, 2])) == pytest.approx(2 / 3)


def test_accuracy_name_picks_the_threshold_from_the_loss():
    probs = np.array([[0.2], [0.6], [0.4]])
    target = np.array([[0.0], [1.0], [0.0]])
    name, fn = get_metric("accuracy", loss_fn=nn.BCELoss())
    assert name == "accuracy" and fn(probs, target) == 1.0  # threshold 0.5
    _, fn = get_metric("accuracy", loss_fn=nn.BCEWithLogitsLoss())
    assert fn(probs, target) == pytest.approx(1 / 3)  # threshold 0: all predicted 1
    assert fn(np.array([[-0.1], [0.1], [-0.3]]), target) == 1.0


def test_predicted_classes_rules():
    assert predicted_classes(LOGITS).tolist() == [0, 1, 2, 0]
    assert predicted_classes(np.array([-0.3, 0.2])).tolist() == [0, 1]
    assert predicted_classes(np.array([0.3, 0.7]), threshold=0.5).tolist() == [0, 1]
    assert predicted_classes(np.array([3, 1])).tolist() == [3, 1]
    with pytest.raises(ValueError):
        predicted_classes(np.zeros((2, 2, 2)))


def test_top_k_accuracy():
    scores = np.array(
        [[0.1, 0.5, 0.3, 0.0], [0.7, 0.1, 0.1, 0.1], [0.2, 0.3, 0.4, 0.1]]
    )
    target = np.array([2, 1, 0])  # ranks of the target: 1, 1 (ties count for it), 2
    assert top_k_accuracy(scores, target, k=1) == 0.0
    assert top_k_accuracy(scores, target, k=2) == pytest.approx(2 / 3)
    assert top_k_accuracy(scores, target, k=3) == 1.0
    assert top_k_accuracy(scores, target, k=10) == 1.0
    assert top_k_accuracy(LOGITS, [0, 1, 2, 0], k=1) == accuracy(LOGITS, [0, 1, 2, 0])
    with pytest.raises(ValueError):
        top_k_accuracy(scores, target, k=0)
    with pytest.raises(ValueError, match="classes"):
        top_k_accuracy(scores, [0, 1, 4], k=1)


TRUE = np.array([0, 0, 1, 1, 2, 2, 2])
PRED = np.array([0, 1, 1, 1, 2, 0, 1])


def test_confusion_matrix_rows_are_truth_columns_are_predictions():
    expected = np.array([[1, 1, 0], [0, 2, 0], [1, 1, 1]])
    matrix = confusion_matrix(PRED, TRUE)
    assert matrix.dtype == np.int64 and np.array_equal(matrix, expected)
    padded = confusion_matrix(PRED, TRUE, num_classes=4)
    assert padded.shape == (4, 4) and np.array_equal(padded[:3, :3], expected)
    assert padded[3].sum() == padded[:, 3].sum() == 0
    scores = np.eye(3)[PRED] * 5.0  # scores whose argmax is PRED
    assert np.array_equal(confusion_matrix(scores, TRUE), expected)
    with pytest.raises(ValueError):
        confusion_matrix(PRED, TRUE, num_classes=2)


def test_precision_recall_f1_per_class_and_macro():
    # TP = [1, 2, 1]; predicted (TP+FP) = column sums [2, 4, 1]; support = row sums [2, 2, 3].
    result = precision_recall_f1(PRED, TRUE)
    np.testing.assert_allclose(result["precision"], [1 / 2, 2 / 4, 1 / 1])
    np.testing.assert_allclose(result["recall"], [1 / 2, 2 / 2, 1 / 3])
    np.testing.assert_allclose(result["f1"], [2 / 4, 4 / 6, 2 / 4])  # 2TP / (2TP + FP + FN)
    assert result["support"].tolist() == [2, 2, 3]
    assert result["macro_precision"] == pytest.approx((0.5 + 0.5 + 1.0) / 3)
    assert result["macro_recall"] == pytest.approx((0.5 + 1.0 + 1 / 3) / 3)
    assert result["macro_f1"] == pytest.approx((0.5 + 2 / 3 + 0.5) / 3)  # mean of per-class F1


def test_precision_recall_f1_zero_division_and_absent_classes():
    # Class 1 occurs but is never predicted: precision 0/0; class 2 absent everywhere.
    result = precision_recall_f1(np.array([0, 0]), np.array([0, 1]), num_classes=3)
    np.testing.assert_allclose(result["precision"], [0.5, 0.0, 0.0])
    np.testing.assert_allclose(result["recall"], [1.0, 0.0, 0.0])
    np.testing.assert_allclose(result["f1"], [2 / 3, 0.0, 0.0])
    assert result["macro_precision"] == pytest.approx(0.25)  # classes 0 and 1 only
    assert result["macro_f1"] == pytest.approx(1 / 3)
    ones = precision_recall_f1(np.array([0, 0]), np.array([0, 1]), zero_division=1.0)
    np.testing.assert_allclose(ones["precision"], [0.5, 1.0])
    # TP = 0 with FP, FN > 0: P = R = 0 and F1 = 0 / (0 + FP + FN) = 0, not a 0/0.
    swapped = precision_recall_f1(np.array([1, 0]), np.array([0, 1]), zero_division=1.0)
    np.testing.assert_allclose(swapped["f1"], [0.0, 0.0])


def test_binary_precision_recall_from_logits():
    logits = np.array([2.0, -1.0, 0.5, -3.0, 1.0])  # predicted [1, 0, 1, 0, 1]
    target = np.array([1, 1, 0, 0, 1])
    result = precision_recall_f1(logits, target)
    # class 1: TP 2, FP 1, FN 1
    assert result["precision"][1] == pytest.approx(2 / 3)
    assert result["recall"][1] == pytest.approx(2 / 3)
    assert result["f1"][1] == pytest.approx(2 / 3)


def test_mse_and_mae():
    output = np.array([1.0, 2.0, 3.0])
    target = np.array([2.0, 2.0, 5.0])
    assert mse(output, target) == pytest.approx(5 / 3)
    assert mae(output, target) == pytest.approx(1.0)
    # (N, 1) against (N,): element by element, never broadcast to (N, N)
    assert mse(output[:, None], target) == pytest.approx(5 / 3)
    assert mae(sn.tensor(output[:, None]), sn.tensor(target)) == pytest.approx(1.0)
    with pytest.raises(ValueError):
        mse(np.ones(3), np.ones(4))


def test_metric_names_resolve():
    names = [name for name, _ in resolve_metrics(("accuracy", "top5_accuracy", "mse", "mae"))]
    assert names == ["accuracy", "top5_accuracy", "mse", "mae"]
    _, top2 = get_metric("top2_accuracy")
    scores = np.array([[0.1, 0.5, 0.3, 0.0]])
    assert top2(scores, [2]) == 1.0 and get_metric("top1_accuracy")[1](scores, [2]) == 0.0

    def my_metric(output, target):
        return 1.0

    assert get_metric(my_metric) == ("my_metric", my_metric)
    assert resolve_metrics("mse")[0][0] == "mse" and resolve_metrics(None) == []
    with pytest.raises(ValueError, match="unknown metric"):
        get_metric("f1_scoore")
    with pytest.raises(ValueError, match="unique"):
        resolve_metrics(["mse", "mse"])
