"""scratchnn.plot: every plot writes a PNG of exactly figsize * dpi pixels that is not blank."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("matplotlib")

import matplotlib.image as mpimg  # noqa: E402

from scratchnn import plot  # noqa: E402
from scratchnn.train import History  # noqa: E402

SRC = Path(__file__).resolve().parents[1] / "src"


def check_png(path: Path, fig, figsize: tuple[float, float], dpi: int) -> np.ndarray:
    """The PNG exists, has figsize * dpi pixels, matches the returned figure, is not blank."""
    assert path.is_file()
    image = mpimg.imread(path)
    width, height = figsize
    assert image.shape[:2] == (round(height * dpi), round(width * dpi))
    assert tuple(fig.get_size_inches()) == pytest.approx(figsize)
    pixels = image[..., :3].reshape(-1, 3)
    assert len(np.unique(pixels, axis=0)) > 10, "the picture is (nearly) a single colour"
    assert (pixels < 0.5).any(), "nothing dark drawn (no text, lines or markers)"
    return image


@pytest.fixture
def history() -> History:
    history = History()
    for epoch, (loss, acc) in enumerate([(1.0, 0.5), (0.6, 0.7), (0.4, 0.8), (0.35, 0.85)]):
        history.append_epoch(epoch, {"loss": loss, "accuracy": acc, "val_loss": loss + 0.1,
                                     "val_accuracy": acc - 0.05, "lr": 0.01, "time": 0.1})
        history.step_loss.extend([loss + 0.1, loss, loss - 0.05])
    return history


def test_plot_history_of_a_history_object(tmp_path: Path, history: History) -> None:
    fig = plot.plot_history(history, tmp_path / "history.png", figsize=(8, 3), dpi=50)
    check_png(tmp_path / "history.png", fig, (8, 3), 50)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["loss", "accuracy"]  # lr and time are not plotted
    loss_axes = fig.axes[0]
    assert [line.get_label() for line in loss_axes.get_lines()] == [
        "train (per step)", "train", "validation"]


def test_plot_history_of_a_dict_without_validation(tmp_path: Path) -> None:
    fig = plot.plot_history({"loss": [1.0, 0.5, 0.2]}, tmp_path / "h.png")
    check_png(tmp_path / "h.png", fig, (5, 4), 100)  # default: 5 inches per panel
    assert [line.get_label() for line in fig.axes[0].get_lines()] == ["train"]


def test_plot_history_rejects_an_empty_history() -> None:
    with pytest.raises(ValueError, match="no curves"):
        plot.plot_history({})


def test_plot_decision_boundary_two_classes(tmp_path: Path, rng: np.random.Generator) -> None:
    X = rng.normal(size=(200, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(int)
    seen = {}

    def predict(points: np.ndarray) -> np.ndarray:
        seen["shape"], seen["dtype"] = points.shape, points.dtype
        return 1 / (1 + np.exp(-4 * points[:, 0] * points[:, 1]))

    fig = plot.plot_decision_boundary(predict, X, y, tmp_path / "db.png", resolution=50,
                                      figsize=(4, 4), dpi=60)
    check_png(tmp_path / "db.png", fig, (4, 4), 60)
    assert seen == {"shape": (2500, 2), "dtype": np.float32}


def test_plot_decision_boundary_many_classes(tmp_path: Path, rng: np.random.Generator) -> None:
    X = rng.normal(size=(90, 2))
    y = np.repeat([0, 1, 2], 30)

    def predict(points: np.ndarray) -> np.ndarray:  # (M, 3) scores
        return np.stack([points[:, 0], points[:, 1], -points[:, 0] - points[:, 1]], axis=1)

    fig = plot.plot_decision_boundary(predict, X, y, tmp_path / "db3.png", resolution=40)
    check_png(tmp_path / "db3.png", fig, (6, 5), 100)


def test_plot_decision_boundary_checks_shapes() -> None:
    with pytest.raises(ValueError, match=r"X must have shape \(N, 2\)"):
        plot.plot_decision_boundary(lambda p: p[:, 0], np.zeros((5, 3)), np.zeros(5))
    with pytest.raises(ValueError, match="predict_fn returned shape"):
        plot.plot_decision_boundary(lambda p: np.zeros(3), np.zeros((5, 2)), np.zeros(5),
                                    resolution=10)


def test_plot_decision_boundaries_side_by_side_with_limits_and_extra(
        tmp_path: Path, rng: np.random.Generator) -> None:
    X = rng.normal(size=(100, 2))
    y = (X[:, 0] > 0).astype(np.int64)
    seen_axes = []

    def extra(ax):
        seen_axes.append(ax)
        ax.plot([0, 0], [-1, 1], "g--")

    panels = {"sharp": lambda p: (p[:, 0] > 0).astype(np.float32),
              "soft": lambda p: 1 / (1 + np.exp(-p[:, 0]))}
    fig = plot.plot_decision_boundaries(panels, X, y, tmp_path / "b.png", limits=(-1.0, 1.0),
                                        extra=extra, figsize=(8.0, 3.0), dpi=50)
    check_png(tmp_path / "b.png", fig, (8.0, 3.0), 50)
    panel_axes = [ax for ax in fig.axes if ax.get_title() in panels]
    assert [ax.get_title() for ax in panel_axes] == ["sharp", "soft"]
    assert seen_axes == panel_axes
    assert all(ax.get_xlim() == (-1.0, 1.0) == ax.get_ylim() for ax in panel_axes)
    with pytest.raises(ValueError, match="no classifier"):
        plot.plot_decision_boundaries({}, X, y)


def test_plot_curves_and_scatter(tmp_path: Path, rng: np.random.Generator) -> None:
    curves = {"a": [3.0, 2.0, 1.0], "b": [3.0, 2.5, 2.0, 1.5]}
    fig = plot.plot_curves(curves, tmp_path / "c.png", title="t", figsize=(4.0, 3.0), dpi=50)
    check_png(tmp_path / "c.png", fig, (4.0, 3.0), 50)
    lines = fig.axes[0].get_lines()
    assert [list(line.get_xdata()) for line in lines] == [[1, 2, 3], [1, 2, 3, 4]]
    assert [line.get_label() for line in lines] == ["a", "b"]

    X = rng.normal(size=(30, 2))
    panels = {"one": (X, np.arange(30) % 2), "two": (X[:10], np.zeros(10, np.int64)),
              "three": (X, np.ones(30, np.int64))}
    fig = plot.plot_scatter(panels, tmp_path / "s.png", class_names=["no", "yes"],
                            colors=["red", "green"], figsize=(6.0, 5.0), dpi=50)
    check_png(tmp_path / "s.png", fig, (6.0, 5.0), 50)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[:3] == ["one", "two", "three"] and not fig.axes[3].axison
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["no", "yes"]
    with pytest.raises(ValueError, match="panel 'bad'"):
        plot.plot_scatter({"bad": (X, np.zeros(3))})


def test_plot_confusion_matrix(tmp_path: Path) -> None:
    matrix = np.array([[50, 2, 3], [4, 40, 6], [0, 7, 45]])
    fig = plot.plot_confusion_matrix(matrix, ["cat", "dog", "bird"], tmp_path / "cm.png",
                                     figsize=(5, 4), dpi=80)
    check_png(tmp_path / "cm.png", fig, (5, 4), 80)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts == ["50", "2", "3", "4", "40", "6", "0", "7", "45"]
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["cat", "dog", "bird"]


def test_plot_confusion_matrix_normalized_and_checked(tmp_path: Path) -> None:
    fig = plot.plot_confusion_matrix(np.array([[3, 1], [0, 0]]), path=tmp_path / "n.png",
                                     normalize=True)
    assert [t.get_text() for t in fig.axes[0].texts] == ["0.75", "0.25", "0.00", "0.00"]
    with pytest.raises(ValueError, match="square"):
        plot.plot_confusion_matrix(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="3 class names for 2 classes"):
        plot.plot_confusion_matrix(np.zeros((2, 2)), ["a", "b", "c"])


def test_plot_image_grid(tmp_path: Path, rng: np.random.Generator) -> None:
    images = rng.integers(0, 256, size=(12, 28, 28)).astype(np.uint8)
    predicted = np.arange(12) % 10
    true = predicted.copy()
    true[3] = 9
    fig = plot.plot_image_grid(images, predicted, true, tmp_path / "grid.png",
                               figsize=(10, 4), dpi=50)
    check_png(tmp_path / "grid.png", fig, (10, 4), 50)
    axes = fig.axes
    assert len(axes) == 10  # rows=2, cols=5: the first 10 images
    assert axes[0].get_title() == "pred: 0\ntrue: 0"
    assert axes[3].get_title() == "pred: 3\ntrue: 9"
    assert axes[3].title.get_color() != axes[0].title.get_color()  # wrong ones stand out


def test_plot_image_grid_of_flat_rows_with_class_names(tmp_path: Path,
                                                       rng: np.random.Generator) -> None:
    names = [f"class {i}" for i in range(3)]
    fig = plot.plot_image_grid(rng.random((4, 64)), [0, 1, 2, 0], [0, 1, 1, 0],
                               tmp_path / "flat.png", rows=1, cols=4, class_names=names)
    check_png(tmp_path / "flat.png", fig, (7.2, 2.0), 100)
    assert fig.axes[2].get_title() == "pred: class 2\ntrue: class 1"
    with pytest.raises(ValueError, match="not square"):
        plot.plot_image_grid(np.zeros((2, 10)), None, None)


def test_plot_network_small_draws_every_neuron_and_weight(tmp_path: Path) -> None:
    from matplotlib.patches import Circle

    fig = plot.plot_network([3, 4, 2], tmp_path / "net.png", figsize=(6, 4), dpi=70)
    check_png(tmp_path / "net.png", fig, (6, 4), 70)
    ax = fig.axes[0]
    assert sum(isinstance(p, Circle) for p in ax.patches) == 3 + 4 + 2
    assert len(ax.get_lines()) == 3 * 4 + 4 * 2
    assert "26 parameters" in ax.get_title()


def test_plot_network_elides_large_layers(tmp_path: Path) -> None:
    from matplotlib.patches import Circle

    fig = plot.plot_network([784, 128, 10], tmp_path / "big.png")  # max_neurons=10
    check_png(tmp_path / "big.png", fig, tuple(fig.get_size_inches()), 100)
    ax = fig.axes[0]
    texts = [t.get_text() for t in ax.texts]
    assert texts.count("\u22ee") == 2  # the two large layers
    assert "input\n784" in texts and "output\n10" in texts
    drawn = 9 + 9 + 10  # 10 slots, one of them the '...'; the output layer fits
    assert sum(isinstance(p, Circle) for p in ax.patches) == drawn
    assert "101,770 parameters" in ax.get_title()


def test_plot_network_checks_its_arguments() -> None:
    with pytest.raises(ValueError, match="at least two layers"):
        plot.plot_network([5])
    with pytest.raises(ValueError, match="2 names for 3 layers"):
        plot.plot_network([2, 3, 1], layer_names=["a", "b"])


def test_missing_matplotlib_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    with pytest.raises(ImportError, match=r"install scratchnn\[plot\]"):
        plot.plot_network([2, 2])


def test_headless_process_uses_agg(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "MPLBACKEND")}
    env["PYTHONPATH"] = str(SRC)
    code = ("import matplotlib, sys; from scratchnn import plot; "
            "plot.plot_network([2, 3, 1], sys.argv[1]); print(matplotlib.get_backend())")
    result = subprocess.run([sys.executable, "-c", code, str(tmp_path / "n.png")], env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().lower() == "agg"
    assert (tmp_path / "n.png").is_file()
