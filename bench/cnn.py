"""``python -m bench.cnn``: a CNN training step, scratchnn against PyTorch eager, a plainly
hand-written NumPy im2col CNN and the step's matrix multiplications alone.

The model (the issue's benchmark CNN), float32, on Fashion-MNIST images (N, 1, 28, 28)::

    Conv2d(1, 32, 3, padding=1) ReLU MaxPool2d(2) -> Conv2d(32, 64, 3, padding=1) ReLU
    MaxPool2d(2) -> Flatten -> Linear(3136, 128) ReLU -> Linear(128, 10)

cross-entropy, SGD lr 0.01 momentum 0.9, the same initial weights for every contestant,
PyTorch at numpy's BLAS thread count. One timed run = ``steps`` training steps (batches
of a shuffled order, the batch gather included); the contestants' runs are interleaved
round-robin (``bench.__main__.interleave``: gc, a rest, redo when other processes were
busy) and the table gives the median time per step and the ratios of medians.

``--rss`` adds the peak resident memory of one CNN training epoch (a fresh process per
library and run, started like ``bench.rss`` so the parent's peak is not inherited).
``--profile`` prints a cProfile of scratchnn's steps instead.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from bench import ROOT, child_environment, rss, workloads
from bench.__main__ import MONITOR, forced_blas, interleave, log, ratio, summary

LR, MOMENTUM, CLASSES = 0.01, 0.9, 10
RESULTS = Path(__file__).resolve().parent / "results_cnn.json"


# --------------------------------------------------------------------------- data
def load_images(train: bool = True, limit: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Fashion-MNIST as (N, 1, 28, 28) float32 (the MLP rows' normalisation) and int64 labels."""
    x, y = workloads.load_split(train=train, limit=limit)
    return x.reshape(len(x), 1, 28, 28), y


def initial_weights(seed: int = 0) -> dict[str, np.ndarray]:
    """PyTorch's default init bounds (U(-1/sqrt(fan_in), +)), keyed by the Sequential names
    both libraries use; conv weights (out, in, kh, kw), linear (out, in)."""
    rng = np.random.default_rng(seed)
    shapes = {"0": ((32, 1, 3, 3), 9), "3": ((64, 32, 3, 3), 288), "7": ((128, 3136), 3136),
              "9": ((10, 128), 128)}
    weights = {}
    for name, (shape, fan_in) in shapes.items():
        bound = 1 / np.sqrt(fan_in)
        weights[f"{name}.weight"] = rng.uniform(-bound, bound, shape).astype(np.float32)
        weights[f"{name}.bias"] = rng.uniform(-bound, bound, shape[0]).astype(np.float32)
    return weights


class Steps:
    """``run()`` trains ``steps`` steps on consecutive batches of a shuffled order (a new
    order when one is used up); ``predict(x)`` gives class indices."""

    def __init__(self, step: Callable[[np.ndarray, np.ndarray], float], x: np.ndarray,
                 y: np.ndarray, batch_size: int, steps: int, seed: int = 0,
                 predict: Callable[[np.ndarray], np.ndarray] | None = None) -> None:
        self.step, self.x, self.y = step, x, y
        self.batch_size, self.steps = batch_size, steps
        self.rng = np.random.default_rng(seed)
        self.order = self.rng.permutation(len(x))
        self.position = 0
        self.predict = predict

    def run(self) -> float:
        loss = 0.0
        for _ in range(self.steps):
            if self.position + self.batch_size > len(self.order):
                self.order, self.position = self.rng.permutation(len(self.x)), 0
            idx = self.order[self.position : self.position + self.batch_size]
            self.position += self.batch_size
            loss = self.step(self.x[idx], self.y[idx])
        return loss

    def epoch(self) -> float:
        """One pass over the data (for the RSS and accuracy runs)."""
        loss = 0.0
        order = self.rng.permutation(len(self.x))
        for start in range(0, len(order), self.batch_size):
            idx = order[start : start + self.batch_size]
            loss = self.step(self.x[idx], self.y[idx])
        return loss


# ------------------------------------------------------------------ contestants
def scratchnn_model() -> Any:
    from scratchnn import nn

    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(3136, 128), nn.ReLU(), nn.Linear(128, CLASSES),
    )


def scratchnn_cnn(x: np.ndarray, y: np.ndarray, batch_size: int, steps: int,
                  weights: dict[str, np.ndarray]) -> Steps:
    """scratchnn as a user writes it: nn.Sequential, nn.CrossEntropyLoss, optim.SGD."""
    import scratchnn
    from scratchnn import nn, optim

    scratchnn.allocator.keep_freed_memory()  # what fit() and the scratchnn command do
    model = scratchnn_model()
    model.load_state_dict(weights)
    loss_fn = nn.CrossEntropyLoss()
    optimizer = optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)

    def step(xb: np.ndarray, yb: np.ndarray) -> float:
        optimizer.zero_grad()
        loss = loss_fn(model(scratchnn.Tensor(xb)), scratchnn.Tensor(yb))
        loss.backward()
        optimizer.step()
        return loss

    def predict(inputs: np.ndarray) -> np.ndarray:
        with scratchnn.no_grad():
            return np.concatenate([model(scratchnn.Tensor(inputs[i : i + 1000])).data.argmax(1)
                                   for i in range(0, len(inputs), 1000)])

    return Steps(step, x, y, batch_size, steps, predict=predict)


def torch_cnn(x: np.ndarray, y: np.ndarray, batch_size: int, steps: int,
              weights: dict[str, np.ndarray]) -> Steps:
    """PyTorch eager, the same model, data as tensors (``torch.from_numpy``, no copy)."""
    import torch

    nn = torch.nn
    model = nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(3136, 128), nn.ReLU(), nn.Linear(128, CLASSES),
    )
    model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in weights.items()})
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)

    def step(xb: np.ndarray, yb: np.ndarray) -> float:
        optimizer.zero_grad()
        loss = loss_fn(model(torch.from_numpy(xb)), torch.from_numpy(yb))
        loss.backward()
        optimizer.step()
        return loss

    def predict(inputs: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return model(torch.from_numpy(inputs)).argmax(1).numpy()

    return Steps(step, x, y, batch_size, steps, predict=predict)


def numpy_cnn(x: np.ndarray, y: np.ndarray, batch_size: int, steps: int,
              weights: dict[str, np.ndarray]) -> Steps:
    """The same math written plainly in NumPy, NCHW throughout: im2col with ``np.pad`` and
    ``sliding_window_view`` reshaped to a matrix, one matmul, bias; ReLU; 2x2 max pool by
    reshape with an equality mask; explicit backward (col2im by adding each kernel offset's
    slice back), PyTorch's momentum rule."""
    w = {k: v.copy() for k, v in weights.items()}
    names = list(w)
    buffers: dict[str, np.ndarray] = {}

    def im2col(a: np.ndarray) -> np.ndarray:  # (N, C, H, W) -> (N*H*W, C*9), 3x3, pad 1
        n, c, h, wd = a.shape
        padded = np.pad(a, ((0, 0), (0, 0), (1, 1), (1, 1)))
        windows = np.lib.stride_tricks.sliding_window_view(padded, (3, 3), axis=(2, 3))
        return windows.transpose(0, 2, 3, 1, 4, 5).reshape(n * h * wd, c * 9)

    def col2im(cols: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
        n, c, h, wd = shape
        cols = cols.reshape(n, h, wd, c, 3, 3)
        padded = np.zeros((n, c, h + 2, wd + 2), dtype=cols.dtype)
        for i in range(3):
            for j in range(3):
                padded[:, :, i : i + h, j : j + wd] += cols[:, :, :, :, i, j].transpose(0, 3, 1, 2)
        return padded[:, :, 1:-1, 1:-1]

    def conv(a: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
        n, _, h, wd = a.shape
        cols = im2col(a)
        kernel = w[f"{name}.weight"]
        out = cols @ kernel.reshape(len(kernel), -1).T + w[f"{name}.bias"]
        return out.reshape(n, h, wd, -1).transpose(0, 3, 1, 2), cols

    def pool(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n, c, h, wd = a.shape
        blocks = a.reshape(n, c, h // 2, 2, wd // 2, 2)
        out = blocks.max(axis=(3, 5))
        mask = blocks == out[:, :, :, None, :, None]
        return out, mask

    def unpool(g: np.ndarray, mask: np.ndarray) -> np.ndarray:
        n, c, h, _, wd, _ = mask.shape
        return (mask * g[:, :, :, None, :, None]).reshape(n, c, h * 2, wd * 2)

    def forward(xb: np.ndarray) -> tuple[np.ndarray, dict[str, Any]]:
        z1, cols1 = conv(xb, "0")
        a1 = np.maximum(z1, 0)
        p1, m1 = pool(a1)
        z2, cols2 = conv(p1, "3")
        a2 = np.maximum(z2, 0)
        p2, m2 = pool(a2)
        flat = p2.reshape(len(xb), -1)
        h = np.maximum(flat @ w["7.weight"].T + w["7.bias"], 0)
        logits = h @ w["9.weight"].T + w["9.bias"]
        return logits, {"cols1": cols1, "a1": a1, "m1": m1, "p1": p1, "cols2": cols2,
                        "a2": a2, "m2": m2, "flat": flat, "h": h}

    def step(xb: np.ndarray, yb: np.ndarray) -> float:
        logits, s = forward(xb)
        shifted = logits - logits.max(axis=1, keepdims=True)
        exps = np.exp(shifted)
        probs = exps / exps.sum(axis=1, keepdims=True)
        rows = np.arange(len(yb))
        loss = float(-np.log(probs[rows, yb]).mean())
        g = probs
        g[rows, yb] -= 1
        g /= len(yb)
        grads = {"9.weight": g.T @ s["h"], "9.bias": g.sum(0)}
        dh = (g @ w["9.weight"]) * (s["h"] > 0)
        grads["7.weight"], grads["7.bias"] = dh.T @ s["flat"], dh.sum(0)
        dp2 = (dh @ w["7.weight"]).reshape(s["m2"].shape[0], 64, 7, 7)
        dz2 = unpool(dp2, s["m2"]) * (s["a2"] > 0)
        dz2_mat = dz2.transpose(0, 2, 3, 1).reshape(-1, 64)
        grads["3.weight"] = (dz2_mat.T @ s["cols2"]).reshape(64, 32, 3, 3)
        grads["3.bias"] = dz2_mat.sum(0)
        dp1 = col2im(dz2_mat @ w["3.weight"].reshape(64, -1), s["p1"].shape)
        dz1 = unpool(dp1, s["m1"]) * (s["a1"] > 0)
        dz1_mat = dz1.transpose(0, 2, 3, 1).reshape(-1, 32)
        grads["0.weight"] = (dz1_mat.T @ s["cols1"]).reshape(32, 1, 3, 3)
        grads["0.bias"] = dz1_mat.sum(0)
        for name in names:
            if name in buffers:
                buffers[name] = MOMENTUM * buffers[name] + grads[name]
            else:
                buffers[name] = grads[name].copy()
            w[name] -= LR * buffers[name]
        return loss

    def predict(inputs: np.ndarray) -> np.ndarray:
        return np.concatenate([forward(inputs[i : i + 1000])[0].argmax(1)
                               for i in range(0, len(inputs), 1000)])

    return Steps(step, x, y, batch_size, steps, predict=predict)


def matmuls_cnn(x: np.ndarray, y: np.ndarray, batch_size: int, steps: int,
                weights: dict[str, np.ndarray]) -> Steps:
    """Per step exactly the matrix products of scratchnn's step, same shapes and operand
    layouts (the im2col matrices are C-contiguous, the weight matrices as scratchnn keeps
    them): conv1 forward and dW (no dx: the input needs none), conv2 forward, dW and
    dcols, the two Linear layers' forward, dW and dx (no dx for... the first conv only)."""
    rng = np.random.default_rng(0)

    def rand(*shape: int) -> np.ndarray:
        return rng.standard_normal(shape, dtype=np.float32)

    b = batch_size
    cols1, g1, w1 = rand(b * 784, 9), rand(b * 784, 32), rand(9, 32)
    cols2, g2, w2 = rand(b * 196, 288), rand(b * 196, 64), rand(288, 64)
    flat, w3, g3 = rand(b, 3136), rand(128, 3136), rand(b, 128)
    h, w4, g4 = rand(b, 128), rand(10, 128), rand(b, 10)

    def step(xb: np.ndarray, yb: np.ndarray) -> float:
        np.matmul(cols1, w1)
        np.matmul(cols1.T, g1)
        np.matmul(cols2, w2)
        np.matmul(cols2.T, g2)
        np.matmul(g2, w2.T)
        np.matmul(flat, w3.T)
        np.matmul(h, w4.T)
        np.matmul(g4.T, h)
        np.matmul(g4, w4)
        np.matmul(g3.T, flat)
        np.matmul(g3, w3)
        return 0.0

    return Steps(step, x, y, batch_size, steps)


BUILDERS = {"scratchnn": scratchnn_cnn, "torch": torch_cnn, "numpy": numpy_cnn,
            "matmuls": matmuls_cnn}
LABELS = {"scratchnn": "scratchnn (nn + optim)", "torch": "PyTorch eager",
          "numpy": "hand-written NumPy im2col CNN", "matmuls": "the step's matmuls alone"}
TARGETS = {64: (2.5, 0.6), 256: (2.0, 0.6)}


# ----------------------------------------------------------------------- rows
def _contestants(x: np.ndarray, y: np.ndarray, batch_size: int, steps: int
                 ) -> dict[str, Steps]:
    """Every contestant from the same initial weights, each warmed up by one untimed run."""
    weights = initial_weights()
    runs = {name: build(x, y, batch_size, steps, weights) for name, build in BUILDERS.items()}
    for contestant in runs.values():
        contestant.run()
    return runs


def _row(description: str, batch_size: int, per_step: dict[str, list[float]],
         targets: tuple[float | None, float | None], note: str = "") -> dict[str, Any]:
    """A row of ms per step: every contestant's statistics and the ratios (``note`` after
    each ratio's label; ``targets`` for scratchnn / PyTorch and scratchnn / NumPy CNN)."""
    stats = {name: summary(values) for name, values in per_step.items()}
    torch_target, numpy_target = targets
    return {
        "description": description,
        "unit": "ms",
        "batch_size": batch_size,
        "contestants": {name: {"label": LABELS[name], **stats[name]} for name in stats},
        "checks": [
            ratio(f"scratchnn / PyTorch eager{note}", "scratchnn", "torch", stats, torch_target),
            ratio(f"scratchnn / hand-written NumPy CNN{note}", "scratchnn", "numpy", stats,
                  numpy_target),
            ratio(f"scratchnn / its matmuls alone{note}", "scratchnn", "matmuls", stats, None),
            ratio(f"hand-written NumPy CNN / PyTorch eager{note}", "numpy", "torch", stats,
                  None),
        ],
    }


def step_row(x: np.ndarray, y: np.ndarray, batch_size: int, steps: int, repeats: int,
             pause: float) -> dict[str, Any]:
    runs = {name: contestant.run
            for name, contestant in _contestants(x, y, batch_size, steps).items()}
    times, record = interleave(runs, repeats, pause, f"cnn batch {batch_size}")
    per_step = {name: [t / steps * 1000 for t in values] for name, values in times.items()}
    row = _row(f"CNN training step, batch {batch_size} ({steps} steps per timed run)",
               batch_size, per_step, TARGETS.get(batch_size, (None, None)))
    return {"load": record, **row}


def torch_twin_accuracy(epochs: int = 3, seed: int = 0, limit: int | None = None) -> float:
    """PyTorch trained like the cnn experiment's seed-002 recipe
    (``experiments.cnn.run(optimizer="sgd", batch_norm=False)``): the same initial weights
    (scratchnn's ``build_cnn()`` after ``manual_seed(seed)``), the same shuffles (the
    permutations its DataLoader draws next), batch 64, SGD lr 0.01 momentum 0.9; returns the
    test accuracy in percent after ``epochs`` epochs."""
    import scratchnn
    from scratchnn.experiments.cnn import BATCH_SIZE, build_cnn
    from scratchnn.random import generator

    x, y = load_images(train=True, limit=limit)
    x_test, y_test = load_images(train=False)
    scratchnn.manual_seed(seed)
    weights = build_cnn().state_dict()
    orders = [generator().permutation(len(x)) for _ in range(epochs)]
    contestant = torch_cnn(x, y, BATCH_SIZE, 0, weights)
    for order in orders:
        for start in range(0, len(order), BATCH_SIZE):
            idx = order[start : start + BATCH_SIZE]
            contestant.step(x[idx], y[idx])
    return float((contestant.predict(x_test) == y_test).mean() * 100)


def cpu_time_row(x: np.ndarray, y: np.ndarray, batch_size: int, steps: int,
                 repeats: int) -> dict[str, Any]:
    """Every contestant on ONE thread (OpenBLAS and torch), timed by this process's CPU time
    (``time.process_time``), interleaved: what each does per step, free of the scheduling
    stalls that other processes inflict on 2-thread BLAS calls on a busy machine."""
    runs = _contestants(x, y, batch_size, steps)
    per_step: dict[str, list[float]] = {name: [] for name in runs}
    for round_number in range(repeats):
        for name, contestant in runs.items():
            start = time.process_time()
            contestant.run()
            per_step[name].append((time.process_time() - start) / steps * 1000)
        log(f"  cpu b{batch_size} round {round_number + 1}/{repeats}: " + ", ".join(
            f"{name} {values[-1]:.1f} ms" for name, values in per_step.items()))
    return _row(f"CNN training step, batch {batch_size}, CPU time on one thread", batch_size,
                per_step, (None, None), note=" (1 thread)")


def rss_child(library: str, limit: int | None, threads: int) -> dict[str, Any]:
    """In a fresh process: load the data, train one CNN epoch at batch 64, report peak RSS."""
    x, y = load_images(limit=limit)
    if library == "torch":
        workloads.set_torch_threads(threads)
    contestant = BUILDERS[library](x, y, 64, 0, initial_weights())
    start = time.perf_counter()
    contestant.epoch()
    seconds = time.perf_counter() - start
    return {"library": library, "samples": len(x), "data_mib": x.nbytes / 2**20,
            "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "vm_hwm_mib": rss.vm_hwm_mib(), "epoch_seconds": seconds}


def rss_row(limit: int | None, threads: int, repeats: int) -> dict[str, Any]:
    reports: dict[str, list[dict]] = {"scratchnn": [], "torch": []}
    for _ in range(repeats):
        for library in reports:
            command = [sys.executable, "-c", rss._RELAY, sys.executable, "-m", "bench.cnn",
                       "--rss-child", library, "--threads", str(threads)]
            if limit is not None:
                command += ["--limit", str(limit)]
            done = subprocess.run(command, cwd=ROOT, env=child_environment(),
                                  capture_output=True, text=True, check=False)
            if done.returncode != 0:
                raise RuntimeError(f"rss child {library} failed:\n{done.stderr}")
            reports[library].append(json.loads(done.stdout.strip().splitlines()[-1]))
            log(f"  rss {library}: {reports[library][-1]['peak_rss_mib']:.1f} MiB, epoch "
                f"{reports[library][-1]['epoch_seconds']:.1f} s")
    stats = {lib: summary([r["peak_rss_mib"] for r in rs]) for lib, rs in reports.items()}
    return {
        "description": f"peak RSS of a process that loads {reports['scratchnn'][0]['samples']} "
        "images and trains one CNN epoch at batch 64",
        "unit": "MiB",
        "children": reports,
        "contestants": {lib: {"label": f"{LABELS[lib]}, peak RSS", **stats[lib]}
                        for lib in reports},
        "checks": [ratio("scratchnn / PyTorch peak RSS", "scratchnn", "torch", stats, None)],
    }


def profile(x: np.ndarray, y: np.ndarray, batch_size: int, steps: int, top: int = 25) -> str:
    contestant = scratchnn_cnn(x, y, batch_size, steps, initial_weights())
    contestant.run()
    start = time.perf_counter()
    contestant.run()
    plain = time.perf_counter() - start
    profiler = cProfile.Profile()
    profiler.enable()
    contestant.run()
    profiler.disable()
    raw = pstats.Stats(profiler).stats
    lines = [f"scratchnn CNN, batch {batch_size}: {plain / steps * 1000:.2f} ms/step plain",
             f"{'own ms/step':>12}{'cum ms/step':>12}{'calls/step':>11}  function"]
    for (filename, line, name), (_, calls, own, cumulative, _) in sorted(
            raw.items(), key=lambda item: item[1][2], reverse=True)[:top]:
        where = filename.split("/src/")[-1].split("site-packages/")[-1]
        lines.append(f"{own / steps * 1000:>12.2f}{cumulative / steps * 1000:>12.2f}"
                     f"{calls / steps:>11.1f}  {where}:{line}({name})")
    return "\n".join(lines)


def render(report: dict[str, Any]) -> str:
    blas = report.get("numpy_blas", {})
    out = [f"scratchnn CNN benchmark  {report['started']}  ({report['elapsed_seconds']:.0f} s); "
           f"numpy BLAS ({blas.get('openblas_corename', '?')} kernels"
           f"{forced_blas(blas)}) and torch at {report['threads']} threads; "
           f"torch {report['torch']}", ""]
    header = f"{'row / contestant':<48}{'median':>11}{'min':>11}{'max':>11}{'n':>4}"
    out += [header, "-" * len(header)]
    for name, row in report["rows"].items():
        out.append(f"{name}: {row['description']}")
        unit = row["unit"]
        for contestant in row["contestants"].values():
            out.append(f"  {contestant['label']:<46}{contestant['median']:>8.1f} {unit:<3}"
                       f"{contestant['min']:>8.1f} {unit:<3}{contestant['max']:>8.1f} {unit:<3}"
                       f"{contestant['n']:>3}")
    out += ["", f"{'ratio':<60}{'value':>8}{'target':>10}{'result':>8}"]
    for name, row in report["rows"].items():
        for check in row["checks"]:
            result = {True: "PASS", False: "FAIL", None: "info"}[check["pass"]]
            out.append(f"{name + ': ' + check['label']:<60}{check['value']:>8.3f}"
                       f"{check['target'] or '-':>10}{result:>8}")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.cnn", description=__doc__.split("\n")[0])
    parser.add_argument("--batch", type=int, action="append",
                        help="batch size (repeatable; default 64 and 256)")
    parser.add_argument("--repeats", type=int, default=7, help="timed runs per contestant")
    parser.add_argument("--seconds", type=float, default=1.0,
                        help="about how long one timed run of scratchnn lasts (sets the steps)")
    parser.add_argument("--rss", action="store_true", help="also measure the peak RSS of an epoch")
    parser.add_argument("--limit", type=int, default=None,
                        help="training images to load (default all 60,000)")
    parser.add_argument("--profile", type=int, default=None, metavar="BATCH",
                        help="cProfile scratchnn's steps at this batch size instead")
    parser.add_argument("--cpu-time", action="store_true",
                        help="instead of wall time on all threads: CPU time of each contestant "
                        "on one thread (run with OPENBLAS_NUM_THREADS=1)")
    parser.add_argument("--torch-accuracy", action="store_true",
                        help="instead: train PyTorch like the cnn experiment with SGD and no "
                        "BatchNorm (same init, same shuffles, 3 epochs); print its test accuracy")
    parser.add_argument("--rss-child", choices=("scratchnn", "torch"), help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--max-wait", type=float, default=30.0,
                        help="longest wait for other processes to go quiet before a timed run")
    parser.add_argument("--retries", type=int, default=2,
                        help="redo a timed run disturbed by other processes at most N times")
    parser.add_argument("--out", type=Path, default=None, help="write the results as JSON here")
    args = parser.parse_args(argv)
    threads = args.threads or workloads.blas_threads()
    if args.rss_child:
        print(json.dumps(rss_child(args.rss_child, args.limit, threads)))
        return 0
    if args.torch_accuracy:
        workloads.set_torch_threads(threads)
        start = time.perf_counter()
        accuracy = torch_twin_accuracy(limit=args.limit)
        print(json.dumps({"torch_test_accuracy": accuracy,
                          "seconds": time.perf_counter() - start}))
        return 0
    MONITOR.max_wait, MONITOR.retries = args.max_wait, args.retries
    x, y = load_images(limit=args.limit)
    if args.profile:
        print(profile(x, y, args.profile, max(5, 2000 // args.profile)))
        return 0
    if args.cpu_time and threads != 1:
        parser.error("--cpu-time needs numpy's BLAS on one thread: set OPENBLAS_NUM_THREADS=1")
    workloads.set_torch_threads(threads)
    import torch

    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    t0 = time.perf_counter()
    rows = {}
    for batch_size in args.batch or [64, 256]:
        # scratchnn's step takes about 22 ms per 64 images here
        steps = max(3, round(args.seconds / (0.022 * batch_size / 64)))
        log(f"cnn batch {batch_size}: {steps} steps per timed run ...")
        if args.cpu_time:
            rows[f"cnn_cpu_b{batch_size}"] = cpu_time_row(x, y, batch_size, steps, args.repeats)
        else:
            rows[f"cnn_b{batch_size}"] = step_row(x, y, batch_size, steps, args.repeats, 0.25)
    if args.rss:
        log("rss ...")
        rows["cnn_rss"] = rss_row(args.limit, threads, 1)
    report = {"started": started, "elapsed_seconds": time.perf_counter() - t0,
              "command": " ".join(["python -m bench.cnn", *(argv or sys.argv[1:])]),
              "threads": threads, "torch": torch.__version__, "cpu": workloads.cpu_model(),
              "cores": len(os.sched_getaffinity(0)), "numpy_blas": workloads.blas_info(),
              "rows": rows}
    report["table"] = render(report)
    print(report["table"])
    if args.out is not None:
        args.out.write_text(json.dumps(report, indent=1, default=float) + "\n")
        log(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
