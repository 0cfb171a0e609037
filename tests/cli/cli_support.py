"""Helpers of the ``scratchnn train | evaluate | predict`` tests: run the command as a
subprocess, check its exit, write small CSV files."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np

# SCRATCHNN_CLI_SRC runs the same tests against another checkout's src/ (e.g. the code
# before a change, to see a test fail there).
SRC = Path(os.environ.get("SCRATCHNN_CLI_SRC") or Path(__file__).resolve().parents[2] / "src")


def run(*args: object, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(SRC), MPLBACKEND="Agg", COLUMNS="80")
    return subprocess.run([sys.executable, "-m", "scratchnn.cli", *map(str, args)], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=timeout)


def ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


def usage_error(result: subprocess.CompletedProcess, command: str, pattern: str) -> str:
    """Exit status 2 and exactly one line on stderr matching ``pattern``."""
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"scratchnn {command}: error: "), lines[0]
    assert re.search(pattern, lines[0]), lines[0]
    return lines[0]


def write_csv(path: Path, features: np.ndarray, labels: np.ndarray | None,
              header: list[str] | None = None, delimiter: str = ",",
              fmt: str = "{:.6g}") -> Path:
    lines = [delimiter.join(header)] if header else []
    for i, row in enumerate(features):
        cells = [fmt.format(v) for v in row]
        if labels is not None:
            cells.append(str(labels[i]))
        lines.append(delimiter.join(cells))
    path.write_text("\n".join(lines) + "\n")
    return path


def blobs(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Three well separated Gaussian blobs in 4-D."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, n)
    centers = np.array([[2, 0, 0, 0], [0, 2, 0, 0], [0, 0, 2, 0]], dtype=float)
    return centers[labels] + 0.4 * rng.normal(size=(n, 4)), labels


def bar_images(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """28x28 uint8 noise with a bright bar whose height depends on the class (3 classes)."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, n).astype(np.uint8)
    images = rng.integers(0, 60, size=(n, 28, 28)).astype(np.uint8)
    for image, label in zip(images, labels, strict=True):
        image[2 + 8 * label:10 + 8 * label, 5:23] = 220
    return images, labels


def tabular_classes(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A small "real-looking" table: 3 classes, 8 features on very different scales (0.01 to
    1000 with offsets), 5 informative with overlapping classes, 3 noise columns."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, n)
    centers = rng.normal(size=(3, 5)) * 1.2
    informative = centers[labels] + rng.normal(size=(n, 5))
    noise = rng.normal(size=(n, 3))
    x = np.hstack([informative, noise])
    scales = np.array([1000, 0.01, 5, 200, 1, 50, 0.1, 3000])
    offsets = np.array([5000, 0, 30, -100, 7, 0, 1, 20000])
    return x * scales + offsets, labels


def tabular_regression(n: int, seed: int = 0, noise: float = 20.0
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Ten features on different scales; the target (about 25 to 350, whole numbers, like a
    disease-progression score) is mostly linear in 5 of them plus ``noise`` (its std)."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, 10))
    y = 150 + 40 * z[:, 0] - 25 * z[:, 1] + 20 * z[:, 2] + 10 * z[:, 3] * z[:, 4] \
        + noise * rng.normal(size=n)
    scales = np.array([10, 0.05, 4, 15, 0.5, 100, 1, 2, 30, 0.2])
    offsets = np.array([50, 0, 25, 90, 4, 180, 1, 3, 60, 5])
    return z * scales + offsets, np.clip(np.round(y), 25, 346).astype(int)
