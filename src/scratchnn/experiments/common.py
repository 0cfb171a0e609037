"""Helpers shared by the experiments: where a run writes, ``metrics.json``, printing next to a
progress bar, and a few small plots.

Nothing here is needed to *understand* an experiment; it keeps each experiment module down to
the network, the training loop and its report. matplotlib and tqdm are optional: without
matplotlib a run prints ``plots skipped: install scratchnn[plot]`` and writes no PNGs; the
progress bar appears only when tqdm is installed and stderr is a terminal.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

T = TypeVar("T")

PLOTS_SKIPPED = "plots skipped: install scratchnn[plot]"


# ----------------------------------------------------------------------- output directory
def output_dir(name: str, out: str | Path | None) -> Path:
    """``out``, or ``runs/NAME/`` when None; created if missing."""
    path = Path("runs") / name if out is None else Path(out)
    path.mkdir(parents=True, exist_ok=True)
    return path


def _plain(value: Any) -> Any:
    """NumPy scalars and arrays (and Tensors) as plain JSON values."""
    if hasattr(value, "numpy") and not isinstance(value, np.ndarray):
        value = value.numpy()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


def write_metrics(out: Path, metrics: dict[str, Any]) -> Path:
    """Write ``metrics`` to ``out/metrics.json`` (arrays become nested lists); returns the path."""
    path = out / "metrics.json"
    path.write_text(json.dumps(_plain(metrics), indent=2) + "\n")
    return path


# ---------------------------------------------------------------- progress bar and printing
def _tqdm() -> Any:
    """tqdm's class if installed and stderr is a terminal, else None."""
    if not sys.stderr.isatty():
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm


def progress(iterable: Iterable[T], total: int | None = None,
             desc: str | None = None) -> Iterator[T]:
    """``iterable`` with a progress bar on stderr when it is a terminal (and tqdm is
    installed); otherwise ``iterable`` itself, so logs and pipes stay clean."""
    tqdm = _tqdm()
    if tqdm is None:
        return iter(iterable)
    return iter(tqdm(iterable, total=total, desc=desc, leave=False, file=sys.stderr))


def say(*parts: Any) -> None:
    """``print``, but without tearing an active progress bar."""
    tqdm = _tqdm()
    if tqdm is None:
        print(*parts, flush=True)
    else:
        tqdm.write(" ".join(str(p) for p in parts), file=sys.stdout)


# ------------------------------------------------------------------------------ plotting
_warned = False


def pyplot() -> Any:
    """``matplotlib.pyplot`` with the non-interactive Agg backend, or None (and the
    "plots skipped" message, once) when matplotlib is not installed."""
    global _warned
    try:
        import matplotlib
    except ImportError:
        if not _warned:
            print(PLOTS_SKIPPED, file=sys.stderr)
            _warned = True
        return None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig: Any, out: Path, filename: str) -> str:
    """Save ``fig`` as ``out/filename``, close it, and return the file name."""
    import matplotlib.pyplot as plt

    fig.savefig(out / filename, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return filename


def plot_losses(out: Path, filename: str, curves: dict[str, Any], title: str,
                xlabel: str = "Epoch", ylabel: str = "Loss") -> list[str]:
    """One figure with a line per named loss curve; ``[]`` when plots are skipped."""
    plt = pyplot()
    if plt is None:
        return []
    fig, ax = plt.subplots(figsize=(10, 5))
    for label, values in curves.items():
        ax.plot(np.asarray(values), label=label)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True)
    if len(curves) > 1:
        ax.legend()
    return [save_figure(fig, out, filename)]


def decision_grid(x: np.ndarray, steps: int = 300, margin: float = 1.0,
                  bounds: tuple[float, float] | None = None
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A ``steps x steps`` grid covering the 2-D points ``x`` plus ``margin`` (or the square
    ``bounds``): ``(xx, yy, points)`` with ``points`` of shape ``(steps*steps, 2)``."""
    if bounds is None:
        lo, hi = x.min(axis=0) - margin, x.max(axis=0) + margin
    else:
        lo, hi = np.full(2, bounds[0]), np.full(2, bounds[1])
    xx, yy = np.meshgrid(np.linspace(lo[0], hi[0], steps), np.linspace(lo[1], hi[1], steps))
    return xx, yy, np.c_[xx.ravel(), yy.ravel()]


def plot_decision_boundaries(
    out: Path,
    filename: str,
    panels: dict[str, Callable[[np.ndarray], np.ndarray]],
    x: np.ndarray,
    y: np.ndarray,
    steps: int = 300,
    margin: float = 1.0,
    extra: Callable[[Any], None] | None = None,
    bounds: tuple[float, float] | None = None,
) -> list[str]:
    """Side-by-side decision-boundary plots, one per ``name -> predict_proba`` (a function
    from ``(n, 2)`` points to ``n`` probabilities of class 1), with the data on top.
    ``extra(ax)`` may draw more on each panel; ``bounds=(lo, hi)`` zooms on a square.
    ``[]`` when plots are skipped."""
    plt = pyplot()
    if plt is None:
        return []
    xx, yy, grid = decision_grid(x, steps, margin, bounds)
    if bounds is not None:
        inside = np.all((x >= bounds[0]) & (x <= bounds[1]), axis=1)
        x, y = x[inside], np.ravel(y)[inside]
    fig, axes = plt.subplots(1, len(panels), figsize=(7 * len(panels), 6), squeeze=False)
    for ax, (title, predict) in zip(axes[0], panels.items(), strict=True):
        z = np.asarray(predict(grid)).reshape(xx.shape)
        ax.contourf(xx, yy, z, levels=20, alpha=0.8, cmap="RdBu", vmin=0.0, vmax=1.0)
        ax.contour(xx, yy, z, levels=[0.5], colors="k", linewidths=1)
        ax.scatter(x[:, 0], x[:, 1], c=np.ravel(y), s=12, edgecolors="k", linewidths=0.3,
                   cmap="RdBu", vmin=0.0, vmax=1.0)
        if extra is not None:
            extra(ax)
        ax.set_title(title)
        ax.set_xlabel("Feature 1")
        ax.set_ylabel("Feature 2")
    fig.tight_layout()
    return [save_figure(fig, out, filename)]


def plot_image_grid(out: Path, filename: str, images: np.ndarray, titles: list[str],
                    rows: int = 2, cols: int = 5) -> list[str]:
    """A ``rows x cols`` grid of grayscale images with a title each; ``[]`` if skipped."""
    plt = pyplot()
    if plt is None:
        return []
    fig = plt.figure(figsize=(12, 6))
    for i in range(min(rows * cols, len(images))):
        ax = fig.add_subplot(rows, cols, i + 1)
        ax.imshow(images[i], cmap="gray")
        ax.set_title(titles[i], fontsize=9)
        ax.axis("off")
    fig.tight_layout()
    return [save_figure(fig, out, filename)]
