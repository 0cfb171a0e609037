"""Plots for training and models: learning curves, decision boundaries, confusion matrices,
image grids with predictions, scatter plots by class, and a drawing of an MLP. This is the
one plotting layer: the experiments and the command line draw through it.

matplotlib is an optional extra (``pip install 'scratchnn[plot]'``): it is imported inside
each function, and a missing matplotlib raises an ``ImportError`` saying what to install.
Without a display (no ``$DISPLAY`` / ``$WAYLAND_DISPLAY``, e.g. on a server or in CI), the
non-interactive Agg backend is selected before pyplot is first imported.

Every function returns the matplotlib ``Figure`` and, when ``path`` is given, also saves it as
a PNG of exactly ``figsize * dpi`` pixels (no tight cropping) and closes it in pyplot so that
scripts making many figures do not keep them all in memory (the returned Figure stays usable).
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

INSTALL_HINT = "plotting needs matplotlib: install scratchnn[plot] (pip install 'scratchnn[plot]')"

PathArg = str | os.PathLike[str] | None


def _pyplot() -> Any:
    """``matplotlib.pyplot``, with the Agg backend when there is no display."""
    try:
        import matplotlib
    except ImportError as error:
        raise ImportError(INSTALL_HINT) from error
    headless = sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    )
    if headless and "matplotlib.pyplot" not in sys.modules and not os.environ.get("MPLBACKEND"):
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _inline_backend() -> bool:
    """True in Jupyter with the inline backend, which draws every open pyplot figure at the
    end of a cell (on top of the returned figure's own display)."""
    import matplotlib

    return "inline" in str(matplotlib.get_backend()).lower()


def _finish(fig: Any, path: PathArg) -> Any:
    """Save ``fig`` to ``path`` (when given) as a PNG at the figure's own size and dpi. In a
    notebook the figure is taken out of pyplot, so that only the returned Figure is shown
    (once, as the cell's value), not a second time by the inline backend."""
    if path is not None:
        path = Path(path)
        if path.parent != Path(""):
            path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=fig.dpi, format="png")
        _pyplot().close(fig)
    elif _inline_backend():
        _pyplot().close(fig)
    return fig


# ---------------------------------------------------------------------------- history
def _history_dict(history: Any) -> dict[str, list[float]]:
    """The per-epoch curves of a ``History`` (its ``.history``) or of a plain dict."""
    curves = getattr(history, "history", history)
    if not isinstance(curves, Mapping):
        raise TypeError(
            f"plot_history: expected a History or a dict of lists, got {type(history).__name__}"
        )
    return {str(k): [math.nan if v is None else float(v) for v in values]
            for k, values in curves.items()
            if isinstance(values, Sequence | np.ndarray) and len(values) > 0}


def _step_losses(history: Any) -> list[float] | None:
    """A ``History``'s per-step losses, or None (a plain dict has none)."""
    values = getattr(history, "step_loss", None)
    if values is not None and len(values) > 0 and np.isscalar(values[0]):
        return [float(v) for v in values]
    return None


def plot_history(
    history: Any,
    path: PathArg = None,
    *,
    figsize: tuple[float, float] | None = None,
    dpi: int = 100,
    title: str | None = None,
) -> Any:
    """Learning curves: one panel per metric (``loss``, ``accuracy``, ...), each with the
    training curve and, when present, the validation curve (``val_<metric>``), per epoch.

    ``history`` is what ``scratchnn.train.fit`` returns (a ``History``) or a dict such as
    ``{"loss": [...], "val_loss": [...], "accuracy": [...]}``. When the History also holds
    per-step losses, they are drawn faintly behind the loss curve.
    """
    curves = _history_dict(history)
    metrics = [k for k in curves if not k.startswith("val_")]
    metrics += [k[4:] for k in curves if k.startswith("val_") and k[4:] not in curves]
    metrics = [m for m in metrics if m not in ("lr", "epoch", "time")] or metrics
    if not metrics:
        raise ValueError("plot_history: the history holds no curves to plot")
    plt = _pyplot()
    if figsize is None:
        figsize = (5.0 * len(metrics), 4.0)
    fig, axes = plt.subplots(1, len(metrics), figsize=figsize, dpi=dpi, squeeze=False,
                             layout="constrained")
    steps = _step_losses(history)
    for ax, metric in zip(axes[0], metrics, strict=True):
        train, val = curves.get(metric), curves.get(f"val_{metric}")
        n_epochs = max(len(train or []), len(val or []))
        if metric == "loss" and steps and train:
            x = np.arange(1, len(steps) + 1) * (len(train) / len(steps))
            ax.plot(x, steps, color="tab:blue", alpha=0.25, linewidth=0.8,
                    label="train (per step)")
        if train:
            ax.plot(range(1, len(train) + 1), train, "o-", color="tab:blue", markersize=3,
                    label="train")
        if val:
            ax.plot(range(1, len(val) + 1), val, "s-", color="tab:orange", markersize=3,
                    label="validation")
        ax.set_title(metric.replace("_", " "))
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        if n_epochs <= 20:
            ax.set_xticks(range(1, n_epochs + 1))
        ax.grid(True, alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    return _finish(fig, path)


# ------------------------------------------------------------------ decision boundary
def _boundary_grid(
    X: np.ndarray, resolution: int, margin: float, limits: tuple[float, float] | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(xs, ys, gx, gy)``: the plane the classifier is evaluated on."""
    if limits is not None:
        low, high = np.full(2, float(limits[0])), np.full(2, float(limits[1]))
        pad = np.zeros(2)
    else:
        low, high = X.min(axis=0), X.max(axis=0)
        pad = (high - low) * margin + 1e-9
    xs = np.linspace(low[0] - pad[0], high[0] + pad[0], resolution)
    ys = np.linspace(low[1] - pad[1], high[1] + pad[1], resolution)
    gx, gy = np.meshgrid(xs, ys)
    return xs, ys, gx, gy


def _draw_boundary(
    plt: Any,
    fig: Any,
    ax: Any,
    predict_fn: Callable[[np.ndarray], Any],
    X: np.ndarray,
    y: np.ndarray,
    grid: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    title: str,
) -> None:
    """One panel of :func:`plot_decision_boundaries`."""
    xs, ys, gx, gy = grid
    points = np.column_stack([gx.ravel(), gy.ravel()]).astype(np.float32)
    probs = np.asarray(predict_fn(points)).astype(np.float64)
    if probs.ndim == 2 and probs.shape[1] == 1:
        probs = probs[:, 0]
    if probs.shape[0] != len(points) or probs.ndim not in (1, 2):
        raise ValueError(
            f"plot_decision_boundary: predict_fn returned shape {probs.shape} for "
            f"{len(points)} points; expected ({len(points)},) or ({len(points)}, K)"
        )
    if probs.ndim == 2 and probs.shape[1] == 2:
        probs = probs[:, 1]
    classes = np.unique(y)
    if probs.ndim == 1:
        filled = ax.contourf(gx, gy, probs.reshape(gx.shape), levels=np.linspace(0, 1, 11),
                             cmap="RdBu_r", alpha=0.45, extend="both")
        ax.contour(gx, gy, probs.reshape(gx.shape), levels=[0.5], colors="black",
                   linewidths=1.5)
        fig.colorbar(filled, ax=ax, label="P(class 1)")
        colors = {c: ("tab:blue" if i == 0 else "tab:red") for i, c in enumerate(classes)}
    else:
        k = probs.shape[1]
        cmap = plt.get_cmap("tab10" if k <= 10 else "tab20")
        region = probs.argmax(axis=1).reshape(gx.shape)
        ax.contourf(gx, gy, region, levels=np.arange(k + 1) - 0.5, cmap=cmap, vmin=-0.5,
                    vmax=cmap.N - 0.5, alpha=0.35)
        colors = {c: cmap(int(c) % cmap.N) for c in classes}
    for c in classes:
        mask = y == c
        ax.scatter(X[mask, 0], X[mask, 1], s=16, color=colors[c], edgecolors="black",
                   linewidths=0.5, label=f"class {c:g}" if np.isreal(c) else f"class {c}")
    ax.set_xlim(xs[0], xs[-1])
    ax.set_ylim(ys[0], ys[-1])
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    ax.legend(loc="upper right", fontsize=8, framealpha=0.8)
    ax.set_title(title)


def plot_decision_boundaries(
    panels: Mapping[str, Callable[[np.ndarray], Any]],
    X: Any,
    y: Any,
    path: PathArg = None,
    *,
    resolution: int = 200,
    margin: float = 0.1,
    limits: tuple[float, float] | None = None,
    extra: Callable[[Any], None] | None = None,
    figsize: tuple[float, float] | None = None,
    dpi: int = 100,
    title: str | None = None,
) -> Any:
    """Side-by-side decision boundaries of several classifiers on the same data: one panel
    per ``title -> predict_fn`` of ``panels`` (see :func:`plot_decision_boundary`).

    ``limits=(lo, hi)`` shows the square ``[lo, hi]^2`` instead of the data's extent plus
    ``margin``; ``extra(ax)`` may draw more on each panel (a matplotlib ``Axes``).
    """
    X, y = np.asarray(X).astype(np.float64), np.asarray(y).reshape(-1)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"plot_decision_boundary: X must have shape (N, 2), got {X.shape}")
    if len(y) != len(X):
        raise ValueError(f"plot_decision_boundary: {len(y)} labels for {len(X)} points")
    if not panels:
        raise ValueError("plot_decision_boundaries: no classifier to draw")
    grid = _boundary_grid(X, resolution, margin, limits)
    plt = _pyplot()
    if figsize is None:
        figsize = (6.0 * len(panels), 5.0)
    fig, axes = plt.subplots(1, len(panels), figsize=figsize, dpi=dpi, squeeze=False,
                             layout="constrained")
    for ax, (name, predict_fn) in zip(axes[0], panels.items(), strict=True):
        _draw_boundary(plt, fig, ax, predict_fn, X, y, grid, name)
        if extra is not None:
            extra(ax)
    if title:
        fig.suptitle(title)
    return _finish(fig, path)


def plot_decision_boundary(
    predict_fn: Callable[[np.ndarray], Any],
    X: Any,
    y: Any,
    path: PathArg = None,
    *,
    resolution: int = 200,
    margin: float = 0.1,
    limits: tuple[float, float] | None = None,
    extra: Callable[[Any], None] | None = None,
    figsize: tuple[float, float] = (6.0, 5.0),
    dpi: int = 100,
    title: str | None = None,
) -> Any:
    """The regions a classifier assigns to each class over the plane, with the data on top.

    ``X`` is (N, 2); ``y`` holds N class labels. ``predict_fn`` maps an (M, 2) float32 array
    of points to probabilities: (M,) or (M, 1) for "probability of class 1", or (M, K) for K
    classes. Two classes are drawn as the probability of class 1 with the 0.5 contour (the
    boundary); more classes as the argmax regions. ``limits`` and ``extra``: see
    :func:`plot_decision_boundaries`.
    """
    return plot_decision_boundaries(
        {title or "decision boundary": predict_fn}, X, y, path, resolution=resolution,
        margin=margin, limits=limits, extra=extra, figsize=figsize, dpi=dpi,
    )


# ------------------------------------------------------------------------ curves, scatter
def plot_curves(
    curves: Mapping[str, Sequence[float]],
    path: PathArg = None,
    *,
    xlabel: str = "epoch",
    ylabel: str = "loss",
    figsize: tuple[float, float] = (8.0, 4.5),
    dpi: int = 100,
    title: str | None = None,
) -> Any:
    """Several named curves on one axes (e.g. the loss of three ways of training the same
    network), one line each; x counts from 1."""
    if not curves:
        raise ValueError("plot_curves: no curve to draw")
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=figsize, dpi=dpi, layout="constrained")
    for label, values in curves.items():
        values = np.asarray(values, dtype=np.float64)
        ax.plot(np.arange(1, len(values) + 1), values, label=label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)
    if len(curves) > 1:
        ax.legend()
    if title:
        ax.set_title(title)
    return _finish(fig, path)


def plot_scatter(
    panels: Mapping[str, tuple[Any, Any]],
    path: PathArg = None,
    *,
    class_names: Sequence[str] | None = None,
    colors: Sequence[str] | None = None,
    xlabel: str = "x1",
    ylabel: str = "x2",
    cols: int = 2,
    figsize: tuple[float, float] | None = None,
    dpi: int = 100,
    title: str | None = None,
) -> Any:
    """Points coloured by class, one panel per ``title -> (X, y)``: ``X`` (N, 2) points,
    ``y`` N class indices 0..K-1 (``class_names`` and ``colors`` per class index)."""
    if not panels:
        raise ValueError("plot_scatter: no panel to draw")
    rows = math.ceil(len(panels) / cols)
    cols = min(cols, len(panels))
    plt = _pyplot()
    if figsize is None:
        figsize = (4.0 * cols, 3.0 * rows + (0.4 if title else 0.0))
    fig, axes = plt.subplots(rows, cols, figsize=figsize, dpi=dpi, squeeze=False,
                             layout="constrained")
    for ax in axes.ravel()[len(panels):]:
        ax.axis("off")
    for ax, (name, (X, y)) in zip(axes.ravel(), panels.items(), strict=False):
        X, y = np.asarray(X, dtype=np.float64), np.asarray(y).reshape(-1)
        if X.ndim != 2 or X.shape[1] != 2 or len(y) != len(X):
            raise ValueError(f"plot_scatter: panel {name!r} needs (N, 2) points and N labels, "
                             f"got {X.shape} and {y.shape}")
        for c in np.unique(y):
            c = int(c)
            label = class_names[c] if class_names is not None else f"class {c}"
            color = colors[c] if colors is not None else None
            ax.scatter(X[y == c, 0], X[y == c, 1], s=12, marker=".", color=color, label=label)
        ax.set_title(name)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    return _finish(fig, path)


# ------------------------------------------------------------------- confusion matrix
def plot_confusion_matrix(
    matrix: Any,
    class_names: Sequence[str] | None = None,
    path: PathArg = None,
    *,
    normalize: bool = False,
    figsize: tuple[float, float] | None = None,
    dpi: int = 100,
    title: str | None = None,
) -> Any:
    """A (K, K) confusion matrix as a heat map with the count in each cell: rows are the true
    classes, columns the predicted ones (the layout of ``scratchnn.metrics.confusion_matrix``
    and scikit-learn). ``normalize=True`` shows each row as fractions of that class."""
    matrix = np.asarray(matrix)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise ValueError(f"plot_confusion_matrix: expected a square matrix, got {matrix.shape}")
    k = matrix.shape[0]
    names = [str(c) for c in class_names] if class_names is not None else [str(i) for i in
                                                                            range(k)]
    if len(names) != k:
        raise ValueError(f"plot_confusion_matrix: {len(names)} class names for {k} classes")
    values = matrix.astype(np.float64)
    if normalize:
        totals = values.sum(axis=1, keepdims=True)
        values = np.divide(values, totals, out=np.zeros_like(values), where=totals > 0)
    plt = _pyplot()
    if figsize is None:
        side = round(min(max(4.0, 0.45 * k + 2.5), 12.0), 1)
        figsize = (side + 1.0, side)
    fig, ax = plt.subplots(figsize=figsize, dpi=dpi, layout="constrained")
    image = ax.imshow(values, cmap="Blues", vmin=0)
    fig.colorbar(image, ax=ax, shrink=0.8)
    threshold = values.max() / 2 if values.size else 0
    if k <= 30:
        for i in range(k):
            for j in range(k):
                text = f"{values[i, j]:.2f}" if normalize else f"{int(round(matrix[i, j]))}"
                ax.text(j, i, text, ha="center", va="center", fontsize=8 if k > 10 else 10,
                        color="white" if values[i, j] > threshold else "black")
    ax.set_xticks(range(k), labels=names, rotation=45 if max(map(len, names)) > 3 else 0,
                  ha="right" if max(map(len, names)) > 3 else "center")
    ax.set_yticks(range(k), labels=names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title or ("confusion matrix (row-normalized)" if normalize else
                           "confusion matrix"))
    return _finish(fig, path)


# ------------------------------------------------------------------------ image grid
def _as_images(images: np.ndarray) -> np.ndarray:
    """(N, H, W) or (N, H, W, 3|4) images; flat (N, D) rows become square if D is a square."""
    if images.ndim == 2:
        side = math.isqrt(images.shape[1])
        if side * side != images.shape[1]:
            raise ValueError(
                f"plot_image_grid: rows of {images.shape[1]} values are not square images; "
                "pass (N, H, W) images"
            )
        images = images.reshape(len(images), side, side)
    if images.ndim == 4 and images.shape[1] == 1:  # (N, 1, H, W), channels first
        images = images[:, 0]
    if images.ndim not in (3, 4):
        raise ValueError(f"plot_image_grid: expected (N, H, W) images, got {images.shape}")
    return images


def plot_image_grid(
    images: Any,
    predicted: Any,
    true: Any,
    path: PathArg = None,
    rows: int = 2,
    cols: int = 5,
    *,
    class_names: Sequence[str] | None = None,
    figsize: tuple[float, float] | None = None,
    dpi: int = 100,
    title: str | None = None,
) -> Any:
    """The first ``rows * cols`` images, each titled with its predicted and true class:
    green when they agree, red when the model is wrong. ``predicted``/``true`` hold class
    indices (``class_names`` turns them into names); either may be None to leave it out."""
    images = _as_images(np.asarray(images))
    count = min(rows * cols, len(images))
    predicted = None if predicted is None else np.asarray(predicted).reshape(-1)
    true = None if true is None else np.asarray(true).reshape(-1)

    def name(label: Any) -> str:
        label = int(label)
        return str(class_names[label]) if class_names is not None else str(label)

    plt = _pyplot()
    if figsize is None:
        figsize = (1.8 * cols, 2.0 * rows + (0.4 if title else 0.0))
    fig, axes = plt.subplots(rows, cols, figsize=figsize, dpi=dpi, squeeze=False,
                             layout="constrained")
    for index, ax in enumerate(axes.ravel()):
        ax.axis("off")
        if index >= count:
            continue
        limits = {"vmin": 0, "vmax": 255} if images.dtype == np.uint8 else {}
        ax.imshow(images[index], cmap="gray" if images.ndim == 3 else None, **limits)
        lines, color = [], "black"
        if predicted is not None:
            lines.append(f"pred: {name(predicted[index])}")
        if true is not None:
            lines.append(f"true: {name(true[index])}")
        if predicted is not None and true is not None:
            color = "tab:green" if predicted[index] == true[index] else "tab:red"
        ax.set_title("\n".join(lines), fontsize=9, color=color)
    if title:
        fig.suptitle(title)
    return _finish(fig, path)


# ---------------------------------------------------------------------- network drawing
_LAYER_COLORS = ("#6aa84f", "#8e7cc3", "#6fa8dc", "#e69138", "#c27ba0", "#76a5af")


def _visible_neurons(size: int, max_neurons: int) -> list[int | None]:
    """Which neurons of a layer to draw: all of them, or the first and last few with None
    (the '...') in between when the layer has more than ``max_neurons``."""
    if size <= max_neurons:
        return list(range(size))
    head = (max_neurons - 1) // 2 + (max_neurons - 1) % 2
    tail = max_neurons - 1 - head
    return [*range(head), None, *range(size - tail, size)]


def plot_network(
    layer_sizes: Sequence[int],
    path: PathArg = None,
    *,
    max_neurons: int = 10,
    layer_names: Sequence[str] | None = None,
    figsize: tuple[float, float] | None = None,
    dpi: int = 100,
    title: str | None = None,
) -> Any:
    """A drawing of a fully connected network (an MLP) with ``layer_sizes`` neurons per layer,
    e.g. ``[784, 128, 10]``: a circle per neuron, a line for every weight between adjacent
    layers. A layer with more than ``max_neurons`` neurons shows its first and last few and a
    '...' for the rest; each layer is labelled with its name and size."""
    sizes = [int(s) for s in layer_sizes]
    if len(sizes) < 2 or any(s < 1 for s in sizes):
        raise ValueError(f"plot_network: need at least two layers of size >= 1, got {sizes}")
    if max_neurons < 3:
        raise ValueError(f"plot_network: max_neurons must be at least 3, got {max_neurons}")
    if layer_names is None:
        layer_names = ["input"] + [f"hidden {i}" for i in range(1, len(sizes) - 1)] + ["output"]
    if len(layer_names) != len(sizes):
        raise ValueError(f"plot_network: {len(layer_names)} names for {len(sizes)} layers")

    plt = _pyplot()
    from matplotlib.patches import Circle

    tallest = max(len(_visible_neurons(s, max_neurons)) for s in sizes)
    gap = 4.0  # horizontal distance between layers, in neuron spacings
    if figsize is None:  # wide enough for the drawing at its natural aspect ratio
        x_span, y_span = gap * (len(sizes) - 1) + 3.0, tallest + 2.4
        figsize = (round(max(4.5, 5.0 * x_span / y_span + 0.5), 1), 5.0)
    fig, ax = plt.subplots(figsize=figsize, dpi=dpi, layout="constrained")
    radius = 0.28
    # per layer, one (x, y, is_neuron) per drawn row: a neuron, or the '...' of hidden ones
    columns: list[list[tuple[float, float, bool]]] = []
    for layer, size in enumerate(sizes):
        visible = _visible_neurons(size, max_neurons)
        offset = (tallest - len(visible)) / 2
        columns.append([(layer * gap, tallest - 1 - offset - row, n is not None)
                        for row, n in enumerate(visible)])
    # connections first, so the circles sit on top of them
    for left, right in zip(columns, columns[1:], strict=False):
        for x0, y0, from_neuron in left:
            for x1, y1, to_neuron in right:
                if from_neuron and to_neuron:
                    ax.plot([x0 + radius, x1 - radius], [y0, y1], color="#888888",
                            linewidth=0.6, alpha=0.6, zorder=1)
    for layer, column in enumerate(columns):
        color = _LAYER_COLORS[0] if layer == 0 else (
            "#cc4125" if layer == len(sizes) - 1 else _LAYER_COLORS[1 + (layer - 1) % 5])
        for x, y, is_neuron in column:
            if is_neuron:
                ax.add_patch(Circle((x, y), radius, facecolor=color, edgecolor="black",
                                    linewidth=1.2, zorder=2))
            else:
                ax.text(x, y, "\u22ee", ha="center", va="center", fontsize=20, zorder=3)
        ax.text(layer * gap, -1.0, f"{layer_names[layer]}\n{sizes[layer]:,}", ha="center",
                va="top", fontsize=10)
    ax.set_xlim(-1.5, gap * (len(sizes) - 1) + 1.5)
    ax.set_ylim(-2.4, tallest)
    ax.set_aspect("equal")
    ax.axis("off")
    weights = sum(a * b + b for a, b in zip(sizes, sizes[1:], strict=False))
    arrow = " \u2192 "
    ax.set_title(title or f"{arrow.join(map(str, sizes))}  ({weights:,} parameters)")
    return _finish(fig, path)


__all__ = [
    "INSTALL_HINT",
    "plot_confusion_matrix",
    "plot_curves",
    "plot_decision_boundaries",
    "plot_decision_boundary",
    "plot_history",
    "plot_image_grid",
    "plot_network",
    "plot_scatter",
]
