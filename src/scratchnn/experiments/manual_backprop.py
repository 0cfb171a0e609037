"""Seed 002 ("Neural Networks Tutorial"), section 4: one step of backpropagation by hand.

A 2-2-1 network with sigmoid activations, fixed weights, one input ``[1, 2]`` with target 1,
binary cross-entropy. The seed computes the loss, the gradients ``dW1, db1, dW2, db2`` with the
chain rule written out, takes one gradient-descent step (learning rate 0.1) and shows that the
loss went down. Here the same step is done twice: by hand exactly as the seed, and by scratchnn
autograd in float64 (``loss.backward()``), and the two are compared. They agree to rounding
error. Run it with ``scratchnn run manual-backprop``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

import scratchnn
from scratchnn import Tensor
from scratchnn.experiments.common import Report

NAME = "manual-backprop"
LEARNING_RATE = 0.1


def initial_parameters() -> dict[str, np.ndarray]:
    """The seed's fixed weights and its single training example."""
    return {
        "W1": np.array([[0.1, 0.2], [0.3, 0.4]]),  # Input -> Hidden
        "b1": np.array([[0.1, 0.1]]),
        "W2": np.array([[0.5], [0.6]]),  # Hidden -> Output
        "b2": np.array([[0.1]]),
        "X": np.array([[1.0, 2.0]]),
        "y": np.array([[1.0]]),
    }


def by_hand() -> dict[str, Any]:
    """The seed's ``manual_backprop_example``, returning what it prints."""
    p = initial_parameters()
    W1, b1, W2, b2, X, y = p["W1"], p["b1"], p["W2"], p["b2"], p["X"], p["y"]

    # Forward pass
    Z1 = np.dot(X, W1) + b1
    A1 = 1 / (1 + np.exp(-Z1))
    Z2 = np.dot(A1, W2) + b2
    A2 = 1 / (1 + np.exp(-Z2))
    loss = -np.mean(y * np.log(A2) + (1 - y) * np.log(1 - A2))

    # Backward pass: output layer, then hidden layer
    dZ2 = A2 - y
    dW2 = np.dot(A1.T, dZ2)
    db2 = np.sum(dZ2, axis=0, keepdims=True)
    dZ1 = np.dot(dZ2, W2.T) * A1 * (1 - A1)  # sigmoid derivative
    dW1 = np.dot(X.T, dZ1)
    db1 = np.sum(dZ1, axis=0, keepdims=True)

    # Update, then forward again
    W1 -= LEARNING_RATE * dW1
    b1 -= LEARNING_RATE * db1
    W2 -= LEARNING_RATE * dW2
    b2 -= LEARNING_RATE * db2
    A1_new = 1 / (1 + np.exp(-(np.dot(X, W1) + b1)))
    A2_new = 1 / (1 + np.exp(-(np.dot(A1_new, W2) + b2)))
    new_loss = -np.mean(y * np.log(A2_new) + (1 - y) * np.log(1 - A2_new))

    return {"loss": float(loss), "dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2,
            "new_loss": float(new_loss)}


def bce(A2: Tensor, y: Tensor) -> Tensor:
    return -(y * A2.log() + (1 - y) * (1 - A2).log()).mean()


def by_autograd() -> dict[str, Any]:
    """The same step with scratchnn tensors: forward, ``loss.backward()``, update."""
    p = initial_parameters()
    W1, b1, W2, b2 = (scratchnn.tensor(p[k], dtype=scratchnn.float64, requires_grad=True)
                      for k in ("W1", "b1", "W2", "b2"))
    X = scratchnn.tensor(p["X"], dtype=scratchnn.float64)
    y = scratchnn.tensor(p["y"], dtype=scratchnn.float64)

    def forward() -> Tensor:
        A1 = (X @ W1 + b1).sigmoid()
        return (A1 @ W2 + b2).sigmoid()

    loss = bce(forward(), y)
    loss.backward()
    grads = {"dW1": W1.grad.data.copy(), "db1": b1.grad.data.copy(),
             "dW2": W2.grad.data.copy(), "db2": b2.grad.data.copy()}

    for param in (W1, b1, W2, b2):
        param.data -= LEARNING_RATE * param.grad.data
        param.grad = None

    with scratchnn.no_grad():
        new_loss = bce(forward(), y)
    return {"loss": loss.item(), **grads, "new_loss": new_loss.item()}


def show(title: str, result: dict[str, Any]) -> None:
    """Print as the seed prints."""
    print(f"--- {title} ---")
    print(f"Loss: {result['loss']}")
    print(f"dW1:\n{result['dW1']}")
    print(f"db1: {result['db1']}")
    print(f"dW2:\n{result['dW2']}")
    print(f"db2: {result['db2']}")
    print(f"New Loss: {result['new_loss']}")
    print(f"Loss decreased: {result['loss'] > result['new_loss']}")


def run(out: str | Path | None = None) -> dict[str, Any]:
    """Do the step both ways, print both, compare, write ``metrics.json``."""
    report = Report(NAME, out)
    hand = by_hand()
    auto = by_autograd()
    show("by hand (the seed's code)", hand)
    show("by scratchnn autograd (float64)", auto)

    differences = {key: float(np.max(np.abs(np.asarray(hand[key]) - np.asarray(auto[key]))))
                   for key in hand}
    max_difference = max(differences.values())
    print(f"largest difference, autograd vs hand: {max_difference:.2e}")

    return report.finish({
        "learning_rate": LEARNING_RATE,
        "hand": hand,
        "autograd": auto,
        "loss_decreased": hand["new_loss"] < hand["loss"],
        "differences": differences,
        "max_difference": max_difference,
    })
