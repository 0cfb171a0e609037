"""Seed 003 ("1-Layer Neural Network"), example 1: one sigmoid neuron learns logical AND.

The seed's notebook, on scratchnn tensors: ``y_hat = sigmoid(x @ W + b)``, the mean squared
error with a 1/2 in front (summed over outputs, averaged over the batch), full-batch gradient
descent with learning rate 1 for 2,000 epochs, and Xavier init drawn with NumPy's legacy
generator (``np.random.seed(0)``) so the seed's printed numbers come out exactly. Where the
seed wrote the backward pass by hand (its eq 5-8), ``loss.backward()`` computes the same
gradients. Run it with ``scratchnn run logical-and``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

import scratchnn
from scratchnn import Tensor, plot
from scratchnn.experiments.common import Report

NAME = "logical-and"
DEFAULT_SEED = 0


def forward(x: Tensor, W: Tensor, b: Tensor) -> Tensor:
    """One layer of sigmoid neurons: (n_batch, n_in) -> (n_batch, n_out)."""
    return (x @ W + b).sigmoid()


def loss(y: Tensor, y_hat: Tensor) -> Tensor:
    """1/2 * squared error, summed over outputs, averaged over the batch (the seed's eq 4)."""
    return 0.5 * ((y - y_hat) ** 2).sum(dim=-1).mean()


def train_classifier(x: Tensor, y: Tensor, nb_epochs: int, learning_rate: float,
                     W: Tensor, b: Tensor) -> tuple[list[float], list[float]]:
    """Full-batch gradient descent on ``W`` and ``b`` (updated in place).

    Returns every epoch's loss and the ten logged ones. As in the seed, the loss of an epoch
    is measured before that epoch's update, and logged every ``nb_epochs / 10`` epochs.
    """
    losses, logged = [], []
    for e in range(nb_epochs):
        y_hat = forward(x, W, b)
        loss_train = loss(y, y_hat)

        loss_train.backward()
        for param in (W, b):
            param.data -= learning_rate * param.grad.data
            param.grad = None

        losses.append(loss_train.item())
        if e % (nb_epochs / 10) == 0:
            logged.append(float(np.round(loss_train.item(), 4)))
            print("loss ", logged[-1])
    return losses, logged


def print_outputs(x: Tensor, W: Tensor, b: Tensor) -> list[float]:
    """The seed's little truth table of model outputs (rounded to 2 places)."""
    with scratchnn.no_grad():
        y_hat = forward(x, W, b).numpy().round(2)
    print("x1, x2      target     model ")
    print("[0, 0]   →   [0]      ", y_hat[0])
    print("[0, 1]   →   [0]      ", y_hat[1])
    print("[1, 0]   →   [0]      ", y_hat[2])
    print("[1, 1]   →   [1]      ", y_hat[3])
    return [float(v) for v in y_hat.ravel()]


def run(seed: int = DEFAULT_SEED, epochs: int = 2000, out: str | Path | None = None,
        lr: float = 1.0) -> dict[str, Any]:
    """Train the AND neuron, print the seed's report, write ``metrics.json`` and ``loss.png``."""
    report = Report(NAME, out)

    # training examples   x1   x2
    x_train = scratchnn.tensor([[0.0, 0.0],
                                [0.0, 1.0],
                                [1.0, 0.0],
                                [1.0, 1.0]], dtype=scratchnn.float64)
    # training targets    y
    y_train = scratchnn.tensor([[0.0],
                                [0.0],
                                [0.0],
                                [1.0]], dtype=scratchnn.float64)

    # Xavier init from NumPy's legacy generator, exactly as the seed draws it.
    np.random.seed(seed)
    nb_inputs, nb_outputs = 2, 1
    W = scratchnn.tensor(np.random.normal(scale=1 / nb_inputs**.5, size=[nb_inputs, nb_outputs]),
                         dtype=scratchnn.float64, requires_grad=True)
    b = scratchnn.zeros(1, nb_outputs, dtype=scratchnn.float64, requires_grad=True)

    print("Before training:")
    outputs_before = print_outputs(x_train, W, b)

    losses, loss_log = train_classifier(x_train, y_train, epochs, lr, W, b)

    print("After training:")
    outputs_after = print_outputs(x_train, W, b)

    report.plot("loss.png", plot.plot_curves, {"train": losses},
                title="Logical AND: training loss")
    return report.finish({
        "seed": seed,
        "epochs": epochs,
        "lr": lr,
        "outputs_before": outputs_before,
        "loss_log": loss_log,
        "outputs_after": outputs_after,
        "final_loss": losses[-1] if losses else None,
        "weights": W.numpy().ravel(),
        "bias": b.numpy().ravel(),
        "losses": losses,
    })
