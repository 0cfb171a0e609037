"""Make the README's pictures in docs/img/: one of each kind scratchnn can draw.

    python scripts/make_readme_figures.py            # writes docs/img/*.png (+ graph.svg)

* ``history.png`` and ``decision_boundary.png``: an MLP learning the unit-circle task of
  seed 000 (points inside a circle of radius 2 are class 1) from 1,000 generated points;
* ``confusion_matrix.png`` and ``image_grid.png``: an MLP on 28x28 images, Fashion-MNIST's
  test split when Debian's ``dataset-fashion-mnist`` package is installed
  (``/usr/share/datasets/fashion-mnist``), else generated blob images (nothing is downloaded);
* ``network.png``: a drawing of that image MLP;
* ``graph.svg``: the computation graph of a small MLP's loss, when Graphviz's ``dot`` is
  installed (else its DOT text as ``graph.dot``).

Everything is seeded, small and fast (well under a minute on one core).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

import numpy as np

import scratchnn as sn
from scratchnn import functional as F
from scratchnn import nn, optim, plot, viz
from scratchnn.data import DataLoader, TensorDataset
from scratchnn.metrics import confusion_matrix
from scratchnn.summary import summary
from scratchnn.train import fit

ROOT = Path(__file__).resolve().parents[1]
FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
FASHION_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                   "Sneaker", "Bag", "Ankle boot"]


def probabilities(model: nn.Module, x: np.ndarray) -> np.ndarray:
    """Softmax of the model's scores for a float32 array of inputs."""
    model.eval()
    with sn.no_grad():
        return F.softmax(model(sn.tensor(x.astype(np.float32))), dim=1).numpy()


def split_loaders(x: np.ndarray, y: np.ndarray, n_train: int,
                  batch_size: int) -> tuple[DataLoader, DataLoader]:
    train = DataLoader(TensorDataset(x[:n_train], y[:n_train]), batch_size=batch_size,
                       shuffle=True)
    val = DataLoader(TensorDataset(x[n_train:], y[n_train:]), batch_size=512)
    return train, val


# ------------------------------------------------------------------ the circle task
def circle_figures(out: Path) -> None:
    rng = np.random.default_rng(0)
    x = rng.uniform(-3, 3, size=(1000, 2)).astype(np.float32)
    y = ((x**2).sum(axis=1) < 4).astype(np.int64)
    sn.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(),
                          nn.Linear(16, 2))
    train, val = split_loaders(x, y, 800, batch_size=32)
    history = fit(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=0.01),
                  train, epochs=40, val_loader=val, verbose=0)
    print(f"circle: val_accuracy {history.history['val_accuracy'][-1]:.3f}")
    plot.plot_history(history, out / "history.png", title="2-16-16-2 MLP on the circle task")
    plot.plot_decision_boundary(lambda points: probabilities(model, points), x[800:], y[800:],
                                out / "decision_boundary.png",
                                title="decision boundary (validation points)")


# ------------------------------------------------------------------------- images
def blob_images(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Digit-like stand-ins: class k is a bright blob around the k-th of 10 spots."""
    labels = rng.integers(0, 10, n)
    spots = np.array([(6 + 8 * (k % 3), 5 + 6 * (k // 3)) for k in range(10)], dtype=float)
    rows, cols = np.mgrid[0:28, 0:28]
    centers = spots[labels] + rng.normal(0, 1.2, size=(n, 2))
    distance = (rows - centers[:, 1, None, None]) ** 2 + (cols - centers[:, 0, None, None]) ** 2
    images = 230 * np.exp(-distance / 18) + rng.normal(0, 18, size=(n, 28, 28))
    return np.clip(images, 0, 255).astype(np.uint8), labels.astype(np.int64)


def load_images() -> tuple[np.ndarray, np.ndarray, list[str], str]:
    if FASHION_DIR.is_dir():
        from scratchnn.data import load_mnist

        images, labels = load_mnist("fashion-mnist", root=FASHION_DIR, train=False)
        return images, labels, FASHION_CLASSES, "Fashion-MNIST"
    images, labels = blob_images(6000, np.random.default_rng(1))
    return images, labels, [str(k) for k in range(10)], "generated blobs"


def image_figures(out: Path) -> list[int]:
    images, labels, names, source = load_images()
    n_train = int(len(images) * 0.8)
    x = images.reshape(len(images), -1).astype(np.float32) / 255
    layers = [784, 128, 10]
    sn.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
    print(summary(model, (784,)))
    train, val = split_loaders(x, labels, n_train, batch_size=64)
    history = fit(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=1e-3),
                  train, epochs=3, val_loader=val, verbose=0)
    print(f"{source}: val_accuracy {history.history['val_accuracy'][-1]:.3f}")
    predicted = probabilities(model, x[n_train:]).argmax(axis=1)
    true = labels[n_train:]
    plot.plot_confusion_matrix(confusion_matrix(predicted, true, num_classes=10), names,
                               out / "confusion_matrix.png",
                               title=f"{source}: confusion matrix (held-out images)")
    plot.plot_image_grid(images[n_train:], predicted, true, out / "image_grid.png",
                         class_names=names, figsize=(11, 5),
                         title=f"{source}: predicted vs true class")
    return layers


def network_figure(out: Path, layers: list[int]) -> None:
    plot.plot_network(layers, out / "network.png",
                      layer_names=["input\n28x28 pixels", "hidden\nReLU", "output\nscores"])


def graph_figure(out: Path) -> None:
    sn.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 2))
    x = sn.randn(8, 2)
    target = sn.tensor(np.array([0, 1, 1, 0, 1, 0, 0, 1]))
    loss = nn.CrossEntropyLoss()(model(x), target)
    params = dict(model.named_parameters())
    if shutil.which("dot") is None:
        (out / "graph.dot").write_text(viz.graph(loss, params=params))
        print("graph.svg skipped: Graphviz's dot is not installed (wrote graph.dot instead)")
        return
    viz.graph_svg(loss, out / "graph.svg", params=params)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img",
                        help="output directory (default: docs/img/)")
    out = parser.parse_args(argv).out
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    circle_figures(out)
    layers = image_figures(out)
    network_figure(out, layers)
    graph_figure(out)
    written = sorted(p.name for p in out.iterdir() if p.suffix in (".png", ".svg", ".dot"))
    print(f"wrote {', '.join(written)} to {out} in {time.perf_counter() - started:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
