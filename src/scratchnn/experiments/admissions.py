"""Seed 003 ("1-Layer Neural Network"), example 2: one sigmoid neuron predicts graduate
admissions from GRE score, GPA and the rank of the undergraduate school.

Same neuron, loss and training loop as ``logical_and`` (the seed's two examples share them),
on the UCLA admissions data shipped with scratchnn (400 students). Preprocessing as the seed
does it with pandas, here with the csv module and NumPy: rank one-hot encoded (columns gre,
gpa, rank_1..rank_4), gre and gpa standardised with the *sample* standard deviation (pandas'
``.std()`` has ``ddof=1``), and the seed's split: ``np.random.seed(0)`` then 360 training rows
from ``np.random.choice(400, 360, replace=False)``, the other 40 for testing. Before training,
``scratchnn.gradcheck`` checks the first step's gradient against finite differences, as the
seed's ``numerical_gradient`` does. Run it with ``scratchnn run admissions``.
"""

from __future__ import annotations

import csv
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

import scratchnn
from scratchnn import plot
from scratchnn.experiments.common import Report
from scratchnn.experiments.logical_and import forward, loss, train_classifier

NAME = "admissions"
DEFAULT_SEED = 0
FEATURES = ["gre", "gpa", "rank_1", "rank_2", "rank_3", "rank_4"]


def load_admissions() -> dict[str, np.ndarray]:
    """The CSV's columns ``admit, gre, gpa, rank`` as NumPy arrays (400 rows)."""
    text = resources.files("scratchnn").joinpath("datasets/college_admissions.csv").read_text()
    rows = list(csv.DictReader(text.splitlines()))
    return {
        "admit": np.array([int(row["admit"]) for row in rows]),
        "gre": np.array([float(row["gre"]) for row in rows]),
        "gpa": np.array([float(row["gpa"]) for row in rows]),
        "rank": np.array([int(row["rank"]) for row in rows]),
    }


def preprocess(df: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Features (400, 6) in the seed's column order and targets (400, 1)."""
    columns = {}
    for col in ["gre", "gpa"]:
        mean, std = df[col].mean(), df[col].std(ddof=1)  # pandas' std is the sample std
        columns[col] = (df[col] - mean) / std
    for rank in [1, 2, 3, 4]:  # pd.get_dummies(df['rank'], prefix='rank')
        columns[f"rank_{rank}"] = (df["rank"] == rank).astype(np.float64)
    features = np.column_stack([columns[name] for name in FEATURES])
    targets = df["admit"].astype(np.float64)[:, None]
    return features, targets


def split(features: np.ndarray, targets: np.ndarray, seed: int
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The seed's split: 90% sampled without replacement (in the order drawn) for training,
    the rest (in file order) for testing."""
    n = len(features)
    np.random.seed(seed)
    sample = np.random.choice(n, size=int(n * 0.9), replace=False)
    test = np.setdiff1d(np.arange(n), sample)
    return features[sample], targets[sample], features[test], targets[test]


def check_first_step(x: np.ndarray, y: np.ndarray, W: np.ndarray, b: np.ndarray
                     ) -> dict[str, Any]:
    """Check the gradient of the first step three ways: autograd, ``scratchnn.gradcheck``
    (central differences), and the seed's hand-derived formulas (eq 5-8)."""
    x_t = scratchnn.tensor(x, dtype=scratchnn.float64)
    y_t = scratchnn.tensor(y, dtype=scratchnn.float64)
    W_t = scratchnn.tensor(W, dtype=scratchnn.float64, requires_grad=True)
    b_t = scratchnn.tensor(b, dtype=scratchnn.float64, requires_grad=True)

    # raises GradcheckError, naming the worst element, if autograd disagrees
    passed = scratchnn.gradcheck(lambda W, b: loss(y_t, forward(x_t, W, b)), [W_t, b_t])

    W_t.grad = b_t.grad = None
    loss(y_t, forward(x_t, W_t, b_t)).backward()

    z = x @ W + b                                         # the seed's backward, by hand
    sigmoid = 1 / (1 + np.exp(-z))
    rho = (sigmoid - y) / len(x) * sigmoid * (1 - sigmoid)
    dW, db = x.T @ rho, np.sum(rho, axis=0, keepdims=True)
    difference = max(np.abs(W_t.grad.data - dW).max(), np.abs(b_t.grad.data - db).max())

    print("gradient check of the first step (scratchnn.gradcheck): passed")
    print(f"autograd vs the seed's hand-derived gradient: max difference {difference:.2e}")
    return {"gradcheck_passed": bool(passed), "autograd_vs_hand_max_difference": float(difference),
            "first_step_dW": W_t.grad.data.ravel(), "first_step_db": b_t.grad.data.ravel()}


def rank_panels(df: dict[str, np.ndarray]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The seed's 2x2 scatter of GPA vs GRE, one panel per rank (admitted: class 1)."""
    panels = {}
    for rank in [1, 2, 3, 4]:
        students = df["rank"] == rank
        points = np.column_stack([df["gpa"][students], df["gre"][students]])
        panels["Rank " + str(rank)] = (points, df["admit"][students])
    return panels


def run(seed: int = DEFAULT_SEED, epochs: int = 2000, out: str | Path | None = None,
        lr: float = 1.0) -> dict[str, Any]:
    """Train the admissions neuron, print the seed's report, write ``metrics.json``,
    ``ranks.png`` and ``loss.png``."""
    report = Report(NAME, out)
    df = load_admissions()
    print(f"{len(df['admit'])} students, {int(df['admit'].sum())} admitted")

    features, targets = preprocess(df)
    x_train, y_train, x_test, y_test = split(features, targets, seed)
    assert x_train.shape == (360, 6) and y_train.shape == (360, 1)
    assert x_test.shape == (40, 6) and y_test.shape == (40, 1)

    # Xavier init from NumPy's legacy generator, as the seed.
    np.random.seed(seed)
    n_inputs, n_outputs = x_train.shape[1], 1
    W0 = np.random.normal(scale=n_inputs**-.5, size=[n_inputs, n_outputs])
    b0 = np.zeros(shape=[1, n_outputs])

    check = check_first_step(x_train, y_train, W0, b0)

    x = scratchnn.tensor(x_train, dtype=scratchnn.float64)
    y = scratchnn.tensor(y_train, dtype=scratchnn.float64)
    W = scratchnn.tensor(W0, dtype=scratchnn.float64, requires_grad=True)
    b = scratchnn.tensor(b0, dtype=scratchnn.float64, requires_grad=True)
    losses, loss_log = train_classifier(x, y, epochs, lr, W, b)

    with scratchnn.no_grad():
        pred = forward(x, W, b).numpy() > 0.5
        train_accuracy = float(np.mean(pred == y_train))
        pred = forward(scratchnn.tensor(x_test, dtype=scratchnn.float64), W, b).numpy() > 0.5
        test_accuracy = float(np.mean(pred == y_test))
    print("Accuracy on training set (expected ~0.71):", np.round(train_accuracy, 2))
    print("Accuracy on test set (expected ~0.75):", np.round(test_accuracy, 2))

    report.plot("ranks.png", plot.plot_scatter, rank_panels(df), class_names=["rejected",
                "admitted"], colors=["red", "green"], xlabel="gpa", ylabel="gre")
    report.plot("loss.png", plot.plot_curves, {"train": losses},
                title="College admissions: training loss")
    return report.finish({
        "seed": seed,
        "epochs": epochs,
        "lr": lr,
        "features": FEATURES,
        "n_train": len(x_train),
        "n_test": len(x_test),
        **check,
        "loss_log": loss_log,
        "final_loss": losses[-1] if losses else None,
        "train_accuracy": round(train_accuracy, 2),
        "test_accuracy": round(test_accuracy, 2),
        "train_accuracy_unrounded": train_accuracy,
        "test_accuracy_unrounded": test_accuracy,
        "weights": W.numpy().ravel(),
        "bias": b.numpy().ravel(),
        "losses": losses,
    })
