"""Seed 002 ("Neural Networks Tutorial"), sections 2-3: a 2-10-1 network learns which points
lie in the first or third quadrant (an XOR-like problem a single neuron cannot solve).

Three versions of the same network on the same 1,000 points:

1. **by hand**: the seed's NumPy class with its explicit backward pass, exactly as written
   (data from ``np.random.seed(42)``, ``np.random.randn(1000, 2)``; weights ``randn * 0.01``
   drawn right after from the same legacy generator; BCE with the seed's ``+ 1e-15``; learning
   rate 0.1; 2,000 epochs). This prints the seed's figures.
2. **by autograd**: the same network from the same initial weights, trained with scratchnn
   tensors in float64 and ``loss.backward()`` instead of the hand-written backward. The loss
   agrees with version 1 at every epoch (to ~1e-12).
3. **nn.Module**: the seed's PyTorch version on scratchnn: ``nn.Linear`` layers (default init),
   ``BCEWithLogitsLoss`` and ``optim.SGD`` with the seed's defaults (learning rate 0.01, 1,000
   epochs), which learns much more slowly.

Run it with ``scratchnn run quadrants``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

import scratchnn
import scratchnn.functional as F
from scratchnn import Tensor, nn, optim, plot
from scratchnn.experiments.common import Report

NAME = "quadrants"
DEFAULT_SEED = 42


def generate_data(samples: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    """Points from a standard normal; label 1 in the first and third quadrants."""
    X = np.random.randn(samples, 2)
    y = np.zeros((samples, 1))
    y[(X[:, 0] > 0) & (X[:, 1] > 0)] = 1
    y[(X[:, 0] < 0) & (X[:, 1] < 0)] = 1
    return X, y


# ----------------------------------------------------------------- 1. by hand (the seed)
class NeuralNetwork:
    """The seed's from-scratch network (only ``print`` became ``say`` and the epoch loop got
    a progress bar)."""

    def __init__(self, input_size: int, hidden_size: int, output_size: int) -> None:
        # Initialize weights and biases
        self.W1 = np.random.randn(input_size, hidden_size) * 0.01
        self.b1 = np.zeros((1, hidden_size))
        self.W2 = np.random.randn(hidden_size, output_size) * 0.01
        self.b2 = np.zeros((1, output_size))

    def relu(self, x: np.ndarray) -> np.ndarray:
        return np.maximum(0, x)

    def relu_derivative(self, x: np.ndarray) -> np.ndarray:
        return np.where(x > 0, 1, 0)

    def sigmoid(self, x: np.ndarray) -> np.ndarray:
        return 1 / (1 + np.exp(-np.clip(x, -500, 500)))  # Clip to avoid overflow

    def forward(self, X: np.ndarray) -> np.ndarray:
        self.z1 = np.dot(X, self.W1) + self.b1
        self.a1 = self.relu(self.z1)
        self.z2 = np.dot(self.a1, self.W2) + self.b2
        self.a2 = self.sigmoid(self.z2)
        return self.a2

    def backward(self, X: np.ndarray, y: np.ndarray, output: np.ndarray,
                 learning_rate: float = 0.01) -> None:
        m = X.shape[0]

        # Calculate gradients
        dz2 = output - y
        dW2 = (1 / m) * np.dot(self.a1.T, dz2)
        db2 = (1 / m) * np.sum(dz2, axis=0, keepdims=True)

        dz1 = np.dot(dz2, self.W2.T) * self.relu_derivative(self.z1)
        dW1 = (1 / m) * np.dot(X.T, dz1)
        db1 = (1 / m) * np.sum(dz1, axis=0, keepdims=True)

        # Update parameters
        self.W2 -= learning_rate * dW2
        self.b2 -= learning_rate * db2
        self.W1 -= learning_rate * dW1
        self.b1 -= learning_rate * db1

    def train(self, X: np.ndarray, y: np.ndarray, epochs: int = 1000,
              learning_rate: float = 0.01) -> list[float]:
        losses = []
        for epoch in range(epochs):
            output = self.forward(X)
            loss = -np.mean(y * np.log(output + 1e-15) + (1 - y) * np.log(1 - output + 1e-15))
            losses.append(float(loss))
            self.backward(X, y, output, learning_rate)
            if (epoch + 1) % 100 == 0:
                print(f"Epoch [{epoch+1}/{epochs}], Loss: {loss:.4f}")
        return losses


# ------------------------------------------------------ 2. the same network by autograd
def train_autograd(params: list[Tensor], X: Tensor, y: Tensor, epochs: int,
                   learning_rate: float) -> list[float]:
    """Same forward and loss as ``NeuralNetwork``; the gradients come from ``backward()``."""
    W1, b1, W2, b2 = params
    losses = []
    for epoch in range(epochs):
        output = ((X @ W1 + b1).relu() @ W2 + b2).sigmoid()
        loss = -(y * (output + 1e-15).log() + (1 - y) * (1 - output + 1e-15).log()).mean()
        loss.backward()
        for param in params:
            param.data -= learning_rate * param.grad.data
            param.grad = None
        losses.append(loss.item())
        if (epoch + 1) % 100 == 0:
            print(f"Epoch [{epoch+1}/{epochs}], Loss: {loss.item():.4f}")
    return losses


# ------------------------------------------------------- 3. the seed's nn.Module version
class SimpleNN(nn.Module):
    def __init__(self, input_size: int, hidden_size: int, output_size: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(input_size, hidden_size)
        self.fc2 = nn.Linear(hidden_size, output_size)

    def forward(self, x: Tensor) -> Tensor:
        x = F.relu(self.fc1(x))
        return self.fc2(x)  # logits: the sigmoid lives in the loss


def train_model(model: nn.Module, X_train: Tensor, y_train: Tensor, epochs: int = 1000,
                lr: float = 0.01) -> list[float]:
    criterion = nn.BCEWithLogitsLoss()  # binary cross entropy with sigmoid
    optimizer = optim.SGD(model.parameters(), lr=lr)
    losses = []
    for epoch in range(epochs):
        outputs = model(X_train)
        loss = criterion(outputs, y_train)

        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

        losses.append(loss.item())
        if (epoch + 1) % 100 == 0:
            print(f"Epoch [{epoch+1}/{epochs}], Loss: {loss.item():.4f}")
    return losses


def run(seed: int = DEFAULT_SEED, epochs: int = 2000, out: str | Path | None = None,
        lr: float = 0.1, module_epochs: int = 1000, module_lr: float = 0.01) -> dict[str, Any]:
    """Train the three versions, print their reports, write ``metrics.json``, ``loss.png``
    and ``decision_boundary.png``. ``epochs``/``lr`` are for versions 1 and 2,
    ``module_epochs``/``module_lr`` for version 3 (the seed's defaults)."""
    report = Report(NAME, out)

    # 1. By hand, exactly as the seed: data and weights from NumPy's legacy generator.
    np.random.seed(seed)
    X, y = generate_data(1000)
    net = NeuralNetwork(input_size=2, hidden_size=10, output_size=1)
    initial = [net.W1.copy(), net.b1.copy(), net.W2.copy(), net.b2.copy()]

    print("--- 1. by hand (the seed's NumPy class) ---")
    hand_losses = net.train(X, y, epochs=epochs, learning_rate=lr)
    predictions = net.forward(X)
    hand_accuracy = float(np.mean((predictions >= 0.5) == y))
    print(f"Accuracy: {hand_accuracy:.4f}")

    # 2. The same network, the same initial weights, scratchnn autograd in float64.
    print("--- 2. by scratchnn autograd (float64, same initial weights) ---")
    params = [scratchnn.tensor(p, dtype=scratchnn.float64, requires_grad=True) for p in initial]
    X64 = scratchnn.tensor(X, dtype=scratchnn.float64)
    y64 = scratchnn.tensor(y, dtype=scratchnn.float64)
    auto_losses = train_autograd(params, X64, y64, epochs, lr)
    W1, b1, W2, b2 = params

    def autograd_proba(points: np.ndarray) -> np.ndarray:
        with scratchnn.no_grad():
            x = scratchnn.tensor(points, dtype=scratchnn.float64)
            return ((x @ W1 + b1).relu() @ W2 + b2).sigmoid().numpy().ravel()

    auto_accuracy = float(np.mean((autograd_proba(X) >= 0.5) == y.ravel()))
    print(f"Accuracy: {auto_accuracy:.4f}")
    gap = float(np.max(np.abs(np.array(hand_losses) - np.array(auto_losses)))) if epochs else 0.0
    print(f"largest per-epoch loss difference, autograd vs hand: {gap:.2e}")

    # 3. The seed's nn.Module version (float32, nn.Linear's default init, seeded here).
    print("--- 3. nn.Module + BCEWithLogitsLoss + SGD (the seed's PyTorch version) ---")
    scratchnn.manual_seed(seed)
    model = SimpleNN(input_size=2, hidden_size=10, output_size=1)
    X_train, y_train = Tensor(X), Tensor(y)  # float32, like torch.FloatTensor
    module_losses = train_model(model, X_train, y_train, epochs=module_epochs, lr=module_lr)

    def module_proba(points: np.ndarray) -> np.ndarray:
        with scratchnn.no_grad():
            return model(Tensor(points)).sigmoid().numpy().ravel()

    module_accuracy = float(np.mean((module_proba(X) >= 0.5) == y.ravel()))
    print(f"Accuracy: {module_accuracy:.4f}")

    report.plot("loss.png", plot.plot_curves, {
        "1. by hand": hand_losses,
        "2. scratchnn autograd (same init)": auto_losses,
        "3. nn.Module + BCEWithLogitsLoss + SGD": module_losses,
    }, title="Training loss")
    report.plot("decision_boundary.png", plot.plot_decision_boundaries, {
        f"1. by hand (accuracy {hand_accuracy:.4f})":
            lambda points: net.forward(points.astype(np.float64)).ravel(),
        f"2. scratchnn autograd (accuracy {auto_accuracy:.4f})": autograd_proba,
        f"3. nn.Module (accuracy {module_accuracy:.4f})": module_proba,
    }, X, y)

    def log(losses: list[float]) -> list[float]:
        return [round(loss, 4) for loss in losses[99::100]]

    return report.finish({
        "seed": seed,
        "hand": {"epochs": epochs, "lr": lr, "loss_log": log(hand_losses),
                 "final_loss": hand_losses[-1] if hand_losses else None,
                 "accuracy": hand_accuracy, "losses": hand_losses},
        "autograd": {"epochs": epochs, "lr": lr, "loss_log": log(auto_losses),
                     "final_loss": auto_losses[-1] if auto_losses else None,
                     "accuracy": auto_accuracy, "losses": auto_losses},
        "autograd_vs_hand_max_loss_difference": gap,
        "module": {"epochs": module_epochs, "lr": module_lr, "loss_log": log(module_losses),
                   "final_loss": module_losses[-1] if module_losses else None,
                   "accuracy": module_accuracy, "losses": module_losses},
    })
