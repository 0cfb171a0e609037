"""Seed 002 ("Neural Networks Tutorial"), section 5: a complete example on MNIST.

A 784-128-10 ReLU network (``nn.Module`` with ``nn.Flatten``), cross-entropy loss, SGD with
learning rate 0.01 and momentum 0.9, mini-batches of 100 in a fresh random order each epoch,
3 epochs, pixels scaled to [-1, 1] as the seed's ``Normalize((0.5,), (0.5,))`` does. It prints
the running loss every 100 batches, the test accuracy, and saves the loss curve and a 2x5 grid
of test images with predicted and true labels.

The seed's training loop (``zero_grad``, forward, loss, ``backward``, ``step``) is what
:func:`scratchnn.train.fit` runs; its running-loss report becomes a small callback
(:class:`RunningLoss`), which is how anything is added to ``fit``.

The default data set is Fashion-MNIST (harder: ~85% instead of ~97%), because Debian packages
it (``apt-get install dataset-fashion-mnist``); ``--dataset mnist`` uses MNIST, ``--data DIR``
a directory holding the IDX files. Run it with ``scratchnn run mnist``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

import scratchnn
from scratchnn import Tensor, nn, optim, plot
from scratchnn.callbacks import Callback
from scratchnn.data import DataLoader, TensorDataset, load_mnist
from scratchnn.experiments.common import Report
from scratchnn.train import fit

NAME = "mnist"
DEFAULT_SEED = 1
FASHION_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                   "Sneaker", "Bag", "Ankle boot"]


def load_dataset(dataset: str, data: str | Path | None, train: bool,
                 limit: int | None = None) -> TensorDataset:
    """Images as float32 in [-1, 1], shape (N, 28, 28), with their int64 labels."""
    images, labels = load_mnist(dataset, root=data, train=train)
    if limit is not None:
        images, labels = images[:limit], labels[:limit]
    x = images.astype(np.float32) / 255.0  # ToTensor(): [0, 1]
    x -= 0.5                                # Normalize((0.5,), (0.5,)): (x - 0.5) / 0.5
    x /= 0.5
    return TensorDataset(x, labels)


class MNISTNetwork(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(28 * 28, 128)
        self.relu = nn.ReLU()
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x: Tensor) -> Tensor:
        x = self.flatten(x)
        x = self.fc1(x)
        x = self.relu(x)
        x = self.fc2(x)
        return x


class RunningLoss(Callback):
    """The seed's report during training: every ``every`` batches, the mean loss of those
    batches, printed and kept (``losses``; ``log`` says where each one was)."""

    def __init__(self, every: int = 100) -> None:
        self.every = every
        self.losses: list[float] = []
        self.log: list[dict[str, Any]] = []

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any]) -> None:
        self.epoch = epoch
        self.running_loss = 0.0

    def on_batch_end(self, step: int, logs: dict[str, Any]) -> None:
        self.running_loss += logs["loss"]
        i = logs["batch"]
        if i % self.every == self.every - 1:
            avg_loss = self.running_loss / self.every
            self.losses.append(avg_loss)
            self.log.append({"epoch": self.epoch + 1, "batch": i + 1, "loss": avg_loss})
            print(f"Epoch {self.epoch+1}, Batch {i+1}: Loss {avg_loss:.3f}")
            self.running_loss = 0.0


def train(model: nn.Module, train_loader: DataLoader, criterion: nn.Module,
          optimizer: optim.Optimizer, epochs: int) -> tuple[list[float], list[dict[str, Any]]]:
    """The seed's training; returns the running losses (one per 100 batches) and where each
    was."""
    running = RunningLoss(every=100)
    fit(model, criterion, optimizer, train_loader, epochs=epochs, metrics=None,
        callbacks=[running], verbose=0)
    print("Finished Training")
    return running.losses, running.log


def evaluate(model: nn.Module, test_loader: DataLoader) -> float:
    """Test accuracy in percent."""
    correct = 0
    total = 0
    model.eval()
    with scratchnn.no_grad():
        for images, labels in test_loader:
            outputs = model(images)
            predicted = outputs.argmax(dim=1)
            total += labels.size(0)
            correct += (predicted == labels).sum().item()

    accuracy = 100 * correct / total
    print(f"Accuracy on test set: {accuracy:.2f}%")
    return accuracy


def run(seed: int = DEFAULT_SEED, epochs: int = 3, out: str | Path | None = None,
        lr: float = 0.01, dataset: str = "fashion-mnist", data: str | Path | None = None,
        train_size: int | None = None) -> dict[str, Any]:
    """Train and evaluate; write ``metrics.json``, ``loss.png`` and ``predictions.png``.
    ``train_size`` trains on only the first N training images (for quick checks)."""
    report = Report(NAME, out)
    scratchnn.manual_seed(seed)

    train_dataset = load_dataset(dataset, data, train=True, limit=train_size)
    test_dataset = load_dataset(dataset, data, train=False)
    train_loader = DataLoader(train_dataset, batch_size=100, shuffle=True)
    test_loader = DataLoader(test_dataset, batch_size=100, shuffle=False)
    print(f"{dataset}: {len(train_dataset)} training images, {len(test_dataset)} test images")

    # Initialize model, loss function, and optimizer
    model = MNISTNetwork()
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.SGD(model.parameters(), lr=lr, momentum=0.9)

    losses, loss_log = train(model, train_loader, criterion, optimizer, epochs)
    accuracy = evaluate(model, test_loader)

    # The first test batch's first ten images, with predicted and true labels
    images, labels = next(iter(test_loader))
    with scratchnn.no_grad():
        predicted = model(images).argmax(dim=1).numpy()[:10]
    true = labels.numpy()[:10]
    class_names = FASHION_CLASSES if dataset == "fashion-mnist" else None

    report.plot("loss.png", plot.plot_curves, {"train": losses}, xlabel="Mini-batch (x100)",
                title=f"Training loss ({dataset})")
    report.plot("predictions.png", plot.plot_image_grid, images.numpy()[:10], predicted, true,
                class_names=class_names)

    return report.finish({
        "dataset": dataset,
        "seed": seed,
        "epochs": epochs,
        "lr": lr,
        "momentum": 0.9,
        "batch_size": 100,
        "n_train": len(train_dataset),
        "n_test": len(test_dataset),
        "loss_log": loss_log,
        "test_accuracy": accuracy,
        "sample_predictions": predicted,
        "sample_labels": true,
    })
