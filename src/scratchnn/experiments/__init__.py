"""The seed experiments: each one a small module, written with scratchnn's public API, that
reproduces what one of the course's seed documents shows and prints.

``scratchnn list`` shows them, ``scratchnn run NAME`` runs one; from Python, every module has
``run(...) -> dict`` returning the figures it printed (also written to ``metrics.json``)::

    from scratchnn.experiments import load
    metrics = load("logical-and").run(out="runs/logical-and")
"""

from __future__ import annotations

import importlib
from types import ModuleType

# name -> (module in this package, one-line description)
EXPERIMENTS: dict[str, tuple[str, str]] = {
    "circle": (
        "circle",
        "seed 000: raw tensors learn the inside of the unit circle (2-10-5-1, MSE, full-batch GD)",
    ),
    "mlp-classifier": (
        "mlp_classifier",
        "seed 001: scikit-learn-style ClassificationNeuralNetwork on Fashion-MNIST/MNIST",
    ),
    "quadrants": (
        "quadrants",
        "seed 002: 2-10-1 net on two-quadrant data, by hand vs autograd vs nn.Module",
    ),
    "manual-backprop": (
        "manual_backprop",
        "seed 002: one backprop step through a 2-2-1 sigmoid net, by hand and by autograd",
    ),
    "mnist": (
        "mnist",
        "seed 002: 784-128-10 ReLU MLP, SGD with momentum, on Fashion-MNIST/MNIST",
    ),
    "cnn": (
        "cnn",
        "after seed 002: a convolutional network (2 conv + pool blocks) on Fashion-MNIST/MNIST",
    ),
    "logical-and": (
        "logical_and",
        "seed 003: one sigmoid neuron learns logical AND (MSE, full-batch GD)",
    ),
    "admissions": (
        "admissions",
        "seed 003: logistic neuron on UCLA college admissions, with a gradient check",
    ),
}


def names() -> list[str]:
    """The experiment names, in the order ``scratchnn list`` shows them."""
    return list(EXPERIMENTS)


def describe(name: str) -> str:
    """The one-line description of experiment ``name``."""
    return EXPERIMENTS[name][1]


def load(name: str) -> ModuleType:
    """The module of experiment ``name`` (imported on first use); KeyError if unknown."""
    module, _ = EXPERIMENTS[name]
    return importlib.import_module(f"{__name__}.{module}")
