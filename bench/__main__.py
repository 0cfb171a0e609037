"""``python -m bench``: scratchnn against PyTorch, a hand-written NumPy MLP and the bare matmuls.

Measures every row in one process run (the peak-RSS row in child processes), interleaving the
contestants' repetitions (A B C A B C ...), and prints medians with min/max, the ratios and
PASS/FAIL against each target; writes bench/results.json. See bench/README.md.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import gc
import json
import math
import os
import platform
import pstats
import statistics
import sys
import time
import timeit
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bench import (
    ROOT,
    SRC,
    child_environment,
    fit_overhead,
    page_faults,
    round_order,
    rss,
    workloads,
)

FIT_ROUNDS_FACTOR = 5  # the fit row runs 5x the MLP rows' rounds (its epochs are short)
ROWS = ("mlp_b100", "mlp_b512", "overhead", "fit", "allocator", "rss", "accuracy", "scaling")
RESULTS = Path(__file__).resolve().parent / "results.json"
MIB = 1024 * 1024


@dataclass
class Settings:
    quick: bool = False
    repeats: int = 5  # timed epochs per contestant in the MLP rows
    limit: int | None = None  # training samples for the MLP and accuracy rows (None: all)
    pause: float = 0.25  # seconds of rest before each timed run (lets BLAS/OpenMP threads park)
    max_wait: float = 30.0  # longest wait for other processes to go quiet before a timed run
    retries: int = 2  # redo a timed run disturbed by other processes at most this often
    busy_threshold: float = 0.2  # cores used by other processes that count as a disturbance
    overhead_rounds: int = 7
    overhead_number: int = 2000
    overhead_repeat: int = 3
    rss_repeats: int = 2
    allocator_rounds: int = 3
    accuracy_epochs: int = 5
    scaling_limit: int = 10_000
    scaling_repeats: int = 3
    scaling_widths: tuple[int, ...] = (64, 128, 256, 512, 1024)
    scaling_batches: tuple[int, ...] = (32, 100, 512)
    seed: int = 0
    threads: int = 0  # filled in: numpy's BLAS threads, also given to torch.set_num_threads

    @classmethod
    def make(
        cls, quick: bool, repeats: int | None, limit: int | None, max_wait: float | None,
        retries: int | None,
    ) -> Settings:
        settings = cls()
        if quick:
            settings = cls(
                quick=True, repeats=3, limit=10_000, overhead_rounds=3, overhead_number=500,
                rss_repeats=1, allocator_rounds=1, scaling_limit=2_000, scaling_repeats=1,
                max_wait=5.0, retries=1,
            )
        if repeats is not None:
            settings.repeats = repeats
        if limit is not None:
            settings.limit = limit
        if max_wait is not None:
            settings.max_wait = max_wait
        if retries is not None:
            settings.retries = retries
        return settings


# ------------------------------------------------------------------ measuring
def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def summary(values: list[float]) -> dict[str, Any]:
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "n": len(values),
        "values": values,
    }


class LoadMonitor:
    """How much CPU *other* processes use: busy time from /proc/stat (all cores, steal
    included) minus this process's own CPU time (all its threads, ``os.times``).

    On these 2-core machines one busy neighbour is enough to stall a 2-thread BLAS (a worker
    loses its core and the other spins waiting for it): an epoch then takes several times
    as long. So every timed run waits for a quiet moment first and is redone when a neighbour
    used more than ``threshold`` cores meanwhile. Without /proc/stat it measures nothing.
    """

    def __init__(self, threshold: float, max_wait: float, retries: int) -> None:
        self.threshold = threshold
        self.max_wait = max_wait
        self.retries = retries
        self.hz = os.sysconf("SC_CLK_TCK")
        self.available = Path("/proc/stat").exists()

    def snapshot(self) -> tuple[float, float, float]:
        """(wall clock, busy CPU seconds of the whole machine, own CPU seconds)."""
        busy = 0.0
        if self.available:
            with open("/proc/stat") as stat:
                fields = [int(v) for v in stat.readline().split()[1:9]]
            busy = (sum(fields) - fields[3] - fields[4]) / self.hz  # minus idle and iowait
        own = sum(os.times()[:2])
        return time.perf_counter(), busy, own

    @staticmethod
    def foreign(before: tuple[float, float, float], after: tuple[float, float, float]) -> float:
        """Cores used by other processes between two snapshots, on average."""
        seconds = max(0.0, (after[1] - before[1]) - (after[2] - before[2]))
        return seconds / max(after[0] - before[0], 1e-9)

    def sample(self, seconds: float) -> float:
        """Cores used by other processes during the next ``seconds`` (we sleep meanwhile)."""
        before = self.snapshot()
        time.sleep(seconds)
        return self.foreign(before, self.snapshot())

    def wait_quiet(self, window: float) -> float:
        """Rest ``window`` seconds (which also lets worker threads stop spinning) and keep
        resting, up to ``max_wait``, while other processes use CPU; returns the seconds waited."""
        start = time.perf_counter()
        while True:
            before = self.snapshot()
            time.sleep(window)
            if not self.available or self.foreign(before, self.snapshot()) < self.threshold:
                break
            if time.perf_counter() - start > self.max_wait:
                break
        return time.perf_counter() - start

    def disturbed(self, foreign: float, seconds: float) -> bool:
        # at least 5 clock ticks of foreign CPU, so tick rounding alone never triggers it
        return foreign > self.threshold and foreign * seconds > 5 / self.hz


MONITOR = LoadMonitor(threshold=0.2, max_wait=30.0, retries=2)


def interleave(
    runs: dict[str, Callable[[], Any]], repeats: int, pause: float, what: str,
    alternate: bool = False,
) -> tuple[dict[str, list[float]], dict[str, Any]]:
    """Time each run ``repeats`` times, round-robin (A B C A B C ...; with ``alternate``,
    every other round in reverse order, A B C C B A ..., so that no contestant always runs
    first). Before each timed run: ``gc.collect()`` and a rest of ``pause`` seconds,
    prolonged while other processes are busy; a run during which they used CPU anyway is
    redone (up to ``MONITOR.retries`` times; the last try is kept and counted as disturbed).
    Returns the times and a record of it."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    foreign: dict[str, list[float]] = {name: [] for name in runs}
    record = {"waited_seconds": 0.0, "redone_runs": 0, "disturbed_runs_kept": 0,
              "foreign_cores": foreign}
    for round_number in range(repeats):
        for name, run in round_order(runs.items(), round_number, alternate):
            for attempt in range(MONITOR.retries + 1):
                gc.collect()
                record["waited_seconds"] += MONITOR.wait_quiet(pause)
                before = MONITOR.snapshot()
                start = time.perf_counter()
                run()
                seconds = time.perf_counter() - start
                load = MONITOR.foreign(before, MONITOR.snapshot())
                if not MONITOR.disturbed(load, seconds):
                    break
                if attempt < MONITOR.retries:
                    record["redone_runs"] += 1
                    log(f"  {what}: {name} took {seconds:.3f}s while other processes used "
                        f"{load:.2f} cores: redoing it")
                else:
                    record["disturbed_runs_kept"] += 1
            times[name].append(seconds)
            foreign[name].append(load)
        done = ", ".join(f"{name} {values[-1]:.3f}s" for name, values in times.items())
        log(f"  {what} round {round_number + 1}/{repeats}: {done}")
    return times, record


def ratio(label: str, num: str, den: str, stats: dict[str, dict], limit: float | None,
          paired: bool = False) -> dict:
    """median(num) / median(den), checked against ``<= limit`` (None: information only).
    Also the median of the rounds' ratios (num / den timed in the same round); with
    ``paired``, that is the value checked (and ``value``) and the ratio of medians is kept
    as ``ratio_of_medians``."""
    of_medians = stats[num]["median"] / stats[den]["median"]
    rounds = statistics.median(
        a / b for a, b in zip(stats[num]["values"], stats[den]["values"], strict=True))
    value = rounds if paired else of_medians
    return {
        "label": label + (" (paired)" if paired else ""),
        "value": value,
        "ratio_of_medians": of_medians,
        "paired_ratio_median": rounds,
        "target": None if limit is None else f"<= {limit:g}",
        "pass": None if limit is None else value <= limit,
    }


class Context:
    """Shared state of one run: settings and the data, loaded once."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._train: tuple[np.ndarray, np.ndarray] | None = None
        self._test: tuple[np.ndarray, np.ndarray] | None = None

    def train(self, limit: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        if self._train is None:
            self._train = workloads.load_split(train=True)
        x, y = self._train
        return (x, y) if limit is None else (x[:limit], y[:limit])

    def test(self) -> tuple[np.ndarray, np.ndarray]:
        if self._test is None:
            self._test = workloads.load_split(train=False)
        return self._test


# ----------------------------------------------------------------------- rows
def mlp_row(
    ctx: Context, batch_size: int, names: tuple[str, ...], targets: list[tuple]
) -> dict[str, Any]:
    s = ctx.settings
    x, y = ctx.train(s.limit)
    weights = workloads.initial_weights(seed=s.seed)
    runs = {}
    for name in names:
        run = workloads.BUILDERS[name](x, y, batch_size, weights=weights)
        run.epoch()  # warm-up, untimed
        runs[name] = run.epoch
    times, record = interleave(runs, s.repeats, s.pause, f"batch {batch_size}")
    stats = {name: summary(values) for name, values in times.items()}
    return {
        "load": record,
        "description": f"one epoch, {len(x)} samples, batch {batch_size}, 784-128-10 ReLU MLP",
        "unit": "s",
        "samples": len(x),
        "batch_size": batch_size,
        "contestants": {name: {"label": workloads.LABELS[name], **stats[name]} for name in names},
        "checks": [
            ratio(label, num, den, stats, limit) for label, num, den, limit in targets
        ],
    }


def row_mlp_b100(ctx: Context) -> dict[str, Any]:
    return mlp_row(
        ctx, 100, ("scratchnn", "torch_preloaded", "torch_dataloader", "numpy", "matmuls"),
        [
            ("scratchnn / PyTorch eager preloaded", "scratchnn", "torch_preloaded", 0.75),
            ("scratchnn / PyTorch with DataLoader", "scratchnn", "torch_dataloader", 0.40),
            ("scratchnn / hand-written NumPy MLP", "scratchnn", "numpy", 1.10),
            ("scratchnn / the matmuls alone", "scratchnn", "matmuls", 2.0),
            ("NumPy MLP / PyTorch eager preloaded", "numpy", "torch_preloaded", None),
        ],
    )


def row_mlp_b512(ctx: Context) -> dict[str, Any]:
    return mlp_row(
        ctx, 512, ("scratchnn", "torch_preloaded", "numpy", "matmuls"),
        [
            ("scratchnn / PyTorch eager preloaded", "scratchnn", "torch_preloaded", 0.9),
            ("scratchnn / hand-written NumPy MLP", "scratchnn", "numpy", None),
            ("scratchnn / the matmuls alone", "scratchnn", "matmuls", None),
        ],
    )


def row_overhead(ctx: Context) -> dict[str, Any]:
    """Per round and contestant: min over ``repeat`` timeit repeats of ``number`` calls; the
    row reports the median (and min/max) of those per-round minima, in microseconds."""
    s = ctx.settings
    steps = {"scratchnn": workloads.overhead_scratchnn(), "torch": workloads.overhead_torch()}
    for step in steps.values():
        for _ in range(200):
            step()
    times: dict[str, list[float]] = {name: [] for name in steps}
    for round_number in range(s.overhead_rounds):
        for name, step in steps.items():
            gc.collect()
            MONITOR.wait_quiet(s.pause)
            timer = timeit.Timer(step)
            best = min(timer.repeat(repeat=s.overhead_repeat, number=s.overhead_number))
            times[name].append(best / s.overhead_number * 1e6)
        done = ", ".join(f"{name} {values[-1]:.1f}us" for name, values in times.items())
        log(f"  overhead round {round_number + 1}/{s.overhead_rounds}: {done}")
    stats = {name: summary(values) for name, values in times.items()}
    labels = {"scratchnn": "scratchnn 4x4 (a + b).sum().backward()",
              "torch": "PyTorch 4x4 (a + b).sum().backward()"}
    return {
        "description": "fixed cost of a tiny step: two ops, graph recording, backward (4x4)",
        "unit": "us",
        "timeit": {"number": s.overhead_number, "repeat": s.overhead_repeat,
                   "rounds": s.overhead_rounds},
        "contestants": {name: {"label": labels[name], **stats[name]} for name in steps},
        "checks": [ratio("scratchnn / PyTorch per step", "scratchnn", "torch", stats, 0.5)],
    }


def _rss_child(library: str, ctx: Context) -> dict[str, Any]:
    # Always the full training set (also with --quick / --limit): the target is about it.
    arguments = [library, "--threads", str(ctx.settings.threads)]
    done = rss.spawn_clean(arguments, cwd=ROOT, env=child_environment())
    if done.returncode != 0:
        raise RuntimeError(f"python -m bench.rss {' '.join(arguments)} failed:\n{done.stderr}")
    report = json.loads(done.stdout.strip().splitlines()[-1])
    hwm = report.get("vm_hwm_mib")
    if hwm is not None and report["peak_rss_mib"] > hwm + 16:
        log(f"  warning: {library}: ru_maxrss {report['peak_rss_mib']:.1f} MiB > VmHWM "
            f"{hwm:.1f} MiB: inherited from the parent?")
    return report


def row_rss(ctx: Context) -> dict[str, Any]:
    s = ctx.settings
    reports: dict[str, list[dict]] = {"scratchnn": [], "torch": []}
    for round_number in range(s.rss_repeats):
        for library in reports:
            reports[library].append(_rss_child(library, ctx))
        done = ", ".join(f"{lib} {r[-1]['peak_rss_mib']:.1f} MiB" for lib, r in reports.items())
        log(f"  rss round {round_number + 1}/{s.rss_repeats}: {done}")
    stats = {lib: summary([r["peak_rss_mib"] for r in rs]) for lib, rs in reports.items()}
    data_mib = reports["scratchnn"][0]["data_mib"]
    limit_mib = data_mib + 150
    scratch = stats["scratchnn"]["median"]
    labels = {"scratchnn": "scratchnn process, peak RSS", "torch": "PyTorch process, peak RSS"}
    return {
        "description": "peak RSS (ru_maxrss) of a process that loads the data and trains one "
        "epoch at batch 100; one child process per run",
        "unit": "MiB",
        "samples": reports["scratchnn"][0]["samples"],
        "data_mib": data_mib,
        "children": reports,
        "contestants": {lib: {"label": labels[lib], **stats[lib]} for lib in reports},
        "checks": [
            ratio("scratchnn / PyTorch peak RSS", "scratchnn", "torch", stats, 0.7),
            {
                "label": f"scratchnn peak RSS <= data ({data_mib:.1f} MiB) + 150 MiB",
                "value": scratch,
                "unit": "MiB",
                "target": f"<= {limit_mib:.1f}",
                "pass": scratch <= limit_mib,
            },
        ],
    }


def row_accuracy(ctx: Context) -> dict[str, Any]:
    """5 epochs each from the same initial weights; PyTorch replays the very shuffles that
    scratchnn's DataLoader draws, so the two runs see identical batches. A second PyTorch run
    with its own torch.randperm shuffles shows the run-to-run spread (information only)."""
    s = ctx.settings
    x, y = ctx.train(s.limit)
    x_test, y_test = ctx.test()
    weights = workloads.initial_weights(seed=s.seed)
    orders = workloads.shuffle_orders(len(x), s.accuracy_epochs, s.seed + 1)
    runs = {
        "scratchnn": workloads.scratchnn_mlp(x, y, 100, weights=weights, seed=s.seed + 1),
        "torch": workloads.torch_preloaded_mlp(x, y, 100, weights=weights, orders=orders),
        "torch_own_shuffle": workloads.torch_preloaded_mlp(x, y, 100, weights=weights),
    }
    results: dict[str, dict[str, Any]] = {}
    for name, run in runs.items():
        start = time.perf_counter()
        losses = [run.epoch() for _ in range(s.accuracy_epochs)]
        accuracy = float((run.predict(x_test) == y_test).mean() * 100)
        results[name] = {"test_accuracy": accuracy, "last_batch_losses": losses,
                         "seconds": time.perf_counter() - start}
        log(f"  accuracy {name}: {accuracy:.2f}%")
    labels = {
        "scratchnn": "scratchnn, test accuracy %",
        "torch": "PyTorch, same init + same shuffles, %",
        "torch_own_shuffle": "PyTorch, same init, own shuffles, % (info)",
    }
    diff = results["scratchnn"]["test_accuracy"] - results["torch"]["test_accuracy"]
    return {
        "description": f"test accuracy after {s.accuracy_epochs} epochs, batch 100, "
        f"{len(x)} training samples, 10000 test samples",
        "unit": "%",
        "contestants": {
            name: {"label": labels[name], "median": r["test_accuracy"], **r}
            for name, r in results.items()
        },
        "checks": [
            {
                "label": "|scratchnn - PyTorch| test accuracy, points",
                "value": abs(diff),
                "signed_difference": diff,
                "target": "<= 0.5",
                "pass": abs(diff) <= 0.5,
            }
        ],
    }


SCALING_CHECKED_WIDTHS, SCALING_TARGET = (512, 1024), 1.0


def row_scaling(ctx: Context) -> dict[str, Any]:
    s = ctx.settings
    x, y = ctx.train(s.scaling_limit)
    cells = []
    for hidden in s.scaling_widths:
        weights = workloads.initial_weights(hidden, seed=s.seed)
        for batch_size in s.scaling_batches:
            runs = {}
            for name in ("scratchnn", "torch_preloaded"):
                run = workloads.BUILDERS[name](x, y, batch_size, hidden=hidden, weights=weights)
                run.epoch()  # warm-up
                runs[name] = run.epoch
            times, record = interleave(
                runs, s.scaling_repeats, s.pause, f"scaling h={hidden} b={batch_size}"
            )
            medians = {name: statistics.median(values) for name, values in times.items()}
            cells.append({
                "hidden": hidden,
                "batch_size": batch_size,
                "scratchnn": summary(times["scratchnn"]),
                "torch_preloaded": summary(times["torch_preloaded"]),
                "ratio": medians["scratchnn"] / medians["torch_preloaded"],
                "load": record,
            })
    checks = [  # the wide layers, where PyTorch's two-core elementwise ops and optimizer count
        {"label": f"hidden {cell['hidden']}, batch {cell['batch_size']}: scratchnn / PyTorch",
         "value": cell["ratio"], "target": f"<= {SCALING_TARGET:g}",
         "pass": cell["ratio"] <= SCALING_TARGET}
        for cell in cells if cell["hidden"] in SCALING_CHECKED_WIDTHS
    ]
    return {
        "description": f"epoch time on a {len(x)}-sample slice of the training set, "
        f"median of {s.scaling_repeats}; ratio = scratchnn / PyTorch eager preloaded",
        "unit": "s",
        "samples": len(x),
        "cells": cells,
        "checks": checks,
    }


def row_fit(ctx: Context) -> dict[str, Any]:
    """fit against the same hand-written loop, without and with a metric (bench/fit_overhead)."""
    s = ctx.settings
    x, y = ctx.train(s.limit)
    runs = fit_overhead.build(x, y)
    for run in runs.values():
        run()  # warm-up, untimed
    # A 5 % target on ~0.3 s epochs, on a machine whose speed drifts by more than that
    # between rounds: five times the rounds, the order reversed every other round, and the
    # check on the median of the rounds' fit / hand ratios (each pair timed side by side).
    times, record = interleave(runs, FIT_ROUNDS_FACTOR * s.repeats, s.pause, "fit",
                               alternate=True)
    stats = {name: summary(values) for name, values in times.items()}
    return {
        "load": record,
        "description": f"one epoch through fit (verbose=0) vs by hand, {len(x)} samples, "
                       "batch 100, 784-128-10 MLP",
        "unit": "s",
        "contestants": {name: {"label": fit_overhead.LABELS[name], **stats[name]}
                        for name in runs},
        "checks": [
            ratio("fit / hand-written loop", "fit", "hand", stats, 1.05, paired=True),
            ratio("fit / hand-written loop, with accuracy", "fit_accuracy", "hand_accuracy",
                  stats, 1.05, paired=True),
        ],
    }


def row_allocator(ctx: Context) -> dict[str, Any]:
    """scratchnn.allocator on and off (bench/page_faults): the MLP and the CNN, a fresh
    process each, alternating."""
    s = ctx.settings
    runs: dict[str, list[dict[str, float]]] = {
        f"{workload}_{setting}": [] for workload in page_faults.WORKLOADS
        for setting in ("kept", "default")}
    for round_number in range(s.allocator_rounds):
        for name in runs:
            workload, setting = name.split("_")
            runs[name].append(page_faults.spawn(workload, keep=setting == "kept"))
        done = ", ".join(f"{name} {r[-1]['step_ms']:.2f} ms {r[-1]['faults_per_step']:.0f} "
                         "faults" for name, r in runs.items())
        log(f"  allocator round {round_number + 1}/{s.allocator_rounds}: {done}")
    stats = {name: summary([r["step_ms"] for r in results]) for name, results in runs.items()}
    faults = {name: statistics.median(r["faults_per_step"] for r in results)
              for name, results in runs.items()}
    what = {"mlp": "MLP b100", "cnn": "CNN b256"}
    setting_label = {"kept": "keep_freed_memory()", "default": "glibc defaults"}

    def label(name: str) -> str:
        workload, setting = name.split("_")
        return f"{what[workload]}, {setting_label[setting]}, {faults[name]:.0f} faults/step"

    return {
        "description": "a training step with and without the allocator setting (fit's): "
                       "MLP at batch 100, CNN at batch 256, random data, "
                       f"{page_faults.REPEATS} timed runs per process",
        "unit": "ms",
        "faults_per_step": faults,
        "contestants": {name: {"label": label(name), **stats[name]} for name in runs},
        "checks": [  # the MLP's faults without the setting depend on the heap's history
            ratio("MLP with the setting / without", "mlp_kept", "mlp_default", stats, None),
            ratio("CNN with the setting / without", "cnn_kept", "cnn_default", stats, 1.0),
        ],
    }


ROW_FUNCTIONS: dict[str, Callable[[Context], dict[str, Any]]] = {
    "mlp_b100": row_mlp_b100,
    "mlp_b512": row_mlp_b512,
    "overhead": row_overhead,
    "fit": row_fit,
    "allocator": row_allocator,
    "rss": row_rss,
    "accuracy": row_accuracy,
    "scaling": row_scaling,
}


# ------------------------------------------------------------------- profile
def profile_scratchnn(ctx: Context, batch_size: int, top: int = 30) -> str:
    """cProfile one scratchnn epoch (after a warm-up and one plain timed epoch, to show the
    profiler's own overhead); per function: µs per training step, own and cumulative."""
    s = ctx.settings
    x, y = ctx.train(s.limit)
    run = workloads.scratchnn_mlp(x, y, batch_size, weights=workloads.initial_weights())
    run.epoch()
    start = time.perf_counter()
    run.epoch()
    plain = time.perf_counter() - start
    profiler = cProfile.Profile()
    profiler.enable()
    run.epoch()
    profiler.disable()
    steps = math.ceil(len(x) / batch_size)
    raw = pstats.Stats(profiler).stats  # (file, line, name) -> (cc, nc, tottime, cumtime, _)
    total = sum(entry[2] for entry in raw.values())
    out = [
        f"scratchnn epoch, {len(x)} samples, batch {batch_size}, {steps} steps: "
        f"{plain:.3f} s plain = {plain / steps * 1e6:.0f} us/step; "
        f"{total:.3f} s under cProfile (its overhead inflates many small calls)",
        f"{'own us/step':>12}{'cum us/step':>12}{'calls/step':>11}  function",
    ]
    entries = sorted(raw.items(), key=lambda item: item[1][2], reverse=True)[:top]
    for (filename, line, name), (_, calls, own, cumulative, _) in entries:
        where = filename.removeprefix(str(SRC) + "/").removeprefix(str(ROOT) + "/")
        where = where.split("site-packages/")[-1]
        label = f"{where}:{line}({name})" if line else name
        out.append(f"{own / steps * 1e6:>12.1f}{cumulative / steps * 1e6:>12.1f}"
                   f"{calls / steps:>11.1f}  {label}")
    return "\n".join(out)


# -------------------------------------------------------------------- report
def machine_info(threads: int) -> dict[str, Any]:
    import torch

    return {
        "cpu_model": workloads.cpu_model(),
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numpy_blas": workloads.blas_info(),
        "torch": workloads.torch_info(),
        "torch_module": torch.__file__,
        "threads_note": f"torch.set_num_threads({threads}) = numpy's OpenBLAS thread count",
    }


def _format_value(value: float, unit: str) -> str:
    if unit == "s":
        return f"{value:.3f} s"
    if unit == "us":
        return f"{value:.1f} us"
    if unit == "MiB":
        return f"{value:.1f} MiB"
    return f"{value:.2f} {unit}"


def forced_blas(blas: dict[str, Any]) -> str:
    """', OPENBLAS_CORETYPE=...' for every OpenBLAS setting the environment forces."""
    return "".join(f", {name}={value}" for name, value in blas.get("environment", {}).items())


def render(report: dict[str, Any]) -> str:
    m = report["machine"]
    s = report["settings"]
    load = report["load_average"]
    blas = m["numpy_blas"]
    out = [
        f"scratchnn benchmark  {report['started']}  ({'quick' if s['quick'] else 'full'} run, "
        f"{report['elapsed_seconds']:.0f} s)",
        f"machine: {m['cpu_model']}, {m['usable_cores']} cores; Python {m['python']}; "
        f"numpy {m['numpy']} ({blas.get('openblas_config', 'BLAS ?').split('  ')[0]}, "
        f"{blas.get('openblas_corename', '?')} kernels{forced_blas(blas)}, "
        f"{blas['threads']} threads); "
        f"torch {m['torch']['version']} ({m['torch']['blas']}, "
        f"{m['torch']['threads']} threads = numpy's)",
        f"other processes: {load['foreign_cores_start']:.2f} cores busy at start, "
        f"{load['foreign_cores_end']:.2f} at end (1 s samples of /proc/stat); "
        f"load average {load['start'][0]:.2f} at start, {load['end'][0]:.2f} at end",
    ]
    kept = sum(row.get("load", {}).get("disturbed_runs_kept", 0) for row in report["rows"].values())
    kept += sum(c["load"]["disturbed_runs_kept"]
                for c in report["rows"].get("scaling", {}).get("cells", []))
    if load["foreign_cores_start"] > MONITOR.threshold or kept:
        out.append("WARNING: other processes were using the CPU (at the start, or during "
                   f"{kept} kept timed runs): times are inflated and the ratios noisier")
    out.append("")
    header = f"{'row / contestant':<48}{'median':>12}{'min':>12}{'max':>12}{'n':>4}"
    out += [header, "-" * len(header)]
    rows = report["rows"]
    for name, row in rows.items():
        if name == "scaling" or "contestants" not in row:
            continue
        out.append(f"{name}: {row['description']}")
        if "load" in row:
            out.append(f"  ({_load_note(row['load'])})")
        unit = row["unit"]
        for contestant in row["contestants"].values():
            values = contestant.get("values")
            spread = (
                f"{_format_value(contestant['min'], unit):>12}"
                f"{_format_value(contestant['max'], unit):>12}{len(values):>4}"
                if values else f"{'':>12}{'':>12}{1:>4}"
            )
            out.append(f"  {contestant['label']:<46}"
                       f"{_format_value(contestant['median'], unit):>12}{spread}")
    out.append("")
    header = f"{'target':<58}{'value':>9}{'target':>11}{'result':>8}"
    out += [header, "-" * len(header)]
    for name, row in rows.items():
        for check in row.get("checks", []):
            value = check["value"]
            shown = f"{value:.1f}" if check.get("unit") == "MiB" else f"{value:.3f}"
            result = {True: "PASS", False: "FAIL", None: "info"}[check["pass"]]
            target = check["target"] or "-"
            out.append(f"{name + ': ' + check['label']:<58}{shown:>9}{target:>11}{result:>8}")
    counted = report["summary"]
    out.append(f"{counted['pass']} PASS, {counted['fail']} FAIL")
    if "scaling" in rows:
        out += ["", *render_scaling(rows["scaling"])]
    return "\n".join(out)


def _load_note(load: dict[str, Any]) -> str:
    return (f"other processes: waited {load['waited_seconds']:.0f} s for quiet, "
            f"{load['redone_runs']} runs redone, {load['disturbed_runs_kept']} disturbed runs kept")


def render_scaling(row: dict[str, Any]) -> list[str]:
    cells = row["cells"]
    total = {key: sum(c["load"][key] for c in cells)
             for key in ("waited_seconds", "redone_runs", "disturbed_runs_kept")}
    batches = sorted({c["batch_size"] for c in cells})
    widths = sorted({c["hidden"] for c in cells})
    out = [
        f"scaling: {row['description']}",
        "each cell: scratchnn s / PyTorch s (ratio; < 1 means scratchnn is faster)",
        f"({_load_note(total)})",
        f"{'hidden':>8}" + "".join(f"{'batch ' + str(b):>27}" for b in batches),
    ]
    by_key = {(c["hidden"], c["batch_size"]): c for c in cells}
    for hidden in widths:
        line = f"{hidden:>8}"
        for b in batches:
            c = by_key.get((hidden, b))
            if c is None:
                line += f"{'-':>27}"
                continue
            text = (f"{c['scratchnn']['median']:.3f} / {c['torch_preloaded']['median']:.3f} "
                    f"({c['ratio']:.2f})")
            line += f"{text:>27}"
        out.append(line)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="scratchnn against PyTorch, a hand-written NumPy MLP and the bare matmuls: "
        "every row in one run, interleaved, with PASS/FAIL against the targets.",
        epilog=f"rows: {', '.join(ROWS)}",
    )
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 3 repeats, a 10,000-sample slice (the rss row still uses "
                        "all 60,000), 1 repeat on 2,000 samples for the scaling table")
    parser.add_argument("--only", action="append", choices=ROWS, metavar="NAME",
                        help="run only this row (repeatable); one of: " + ", ".join(ROWS))
    parser.add_argument("--repeats", type=int, default=None, help="timed epochs per contestant")
    parser.add_argument("--limit", type=int, default=None,
                        help="training samples for the MLP and accuracy rows")
    parser.add_argument("--max-wait", type=float, default=None, metavar="SECONDS",
                        help="longest wait for other processes to go quiet before each timed "
                        "run (default 30; 0: do not wait)")
    parser.add_argument("--retries", type=int, default=None,
                        help="redo a timed run disturbed by other processes at most N times "
                        "(default 2; 0: never)")
    parser.add_argument("--profile", type=int, nargs="?", const=100, default=None,
                        metavar="BATCH", help="instead of the rows: cProfile one scratchnn epoch "
                        "(batch 100 unless given) and print where the time goes")
    parser.add_argument("--out", type=Path, default=None,
                        help="results file (default: bench/results.json for a full run; "
                        "--quick/--only runs write none unless given)")
    args = parser.parse_args(argv)

    settings = Settings.make(args.quick, args.repeats, args.limit, args.max_wait, args.retries)
    settings.threads = workloads.blas_threads()
    MONITOR.threshold = settings.busy_threshold
    MONITOR.max_wait = settings.max_wait
    MONITOR.retries = settings.retries
    if args.profile is not None:  # scratchnn only: torch is never imported
        print(profile_scratchnn(Context(settings), args.profile))
        return 0
    workloads.set_torch_threads(settings.threads)
    partial = args.quick or bool(args.only) or args.repeats is not None or args.limit is not None
    out_path = args.out if args.out is not None else (None if partial else RESULTS)
    names = [name for name in ROWS if not args.only or name in args.only]

    started = dt.datetime.now().astimezone()
    load_start = os.getloadavg()
    foreign_start = MONITOR.sample(1.0)
    log(f"bench: rows {', '.join(names)}; torch and numpy BLAS at {settings.threads} threads")
    ctx = Context(settings)
    rows: dict[str, Any] = {}
    t0 = time.perf_counter()
    for name in names:
        log(f"{name} ...")
        rows[name] = ROW_FUNCTIONS[name](ctx)
    checks = [c for row in rows.values() for c in row.get("checks", []) if c["pass"] is not None]
    report = {
        "started": started.isoformat(timespec="seconds"),
        "elapsed_seconds": time.perf_counter() - t0,
        "command": " ".join(["python -m bench", *(argv if argv is not None else sys.argv[1:])]),
        "settings": asdict(settings),
        "machine": machine_info(settings.threads),
        "load_average": {"start": load_start, "end": os.getloadavg(),
                         "foreign_cores_start": foreign_start,
                         "foreign_cores_end": MONITOR.sample(1.0)},
        "rows": rows,
        "summary": {"pass": sum(c["pass"] for c in checks),
                    "fail": sum(not c["pass"] for c in checks)},
    }
    report["table"] = render(report)
    print(report["table"])
    if out_path is not None:
        tmp = out_path.with_name(out_path.name + ".tmp")
        tmp.write_text(json.dumps(report, indent=1, default=float) + "\n")
        os.replace(tmp, out_path)
        log(f"wrote {out_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
