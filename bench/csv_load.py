"""CSV loading at scale: ``scratchnn.data.load_samples`` (what ``scratchnn train --data`` runs)
against ``np.loadtxt(..., dtype=float32)`` on the same generated file, each load in a fresh
process.

The file is the issue's case: 200,000 rows of 51 numeric columns (50 features of different
scales and a whole-number target), a header row, about 90 MB. Every round starts one child
per contestant (interleaved, so a slow spell of the machine hits both) and each child reports
its load time and its peak RSS (``ru_maxrss``, started through ``bench.rss.spawn_clean`` so
it does not inherit this process's peak). Targets: median load time <= 1.5x ``np.loadtxt``,
and scratchnn's peak RSS <= 2x the float32 data + 100 MB. ::

    PYTHONPATH=src .venv/bin/python -m bench.csv_load            # prints a table and JSON
    PYTHONPATH=src .venv/bin/python -m bench.csv_load --rows 20000 --rounds 3   # quick
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

MIB = 1024 * 1024
TIME_RATIO_LIMIT = 1.5


def write_file(path: Path, rows: int, columns: int = 51, seed: int = 0) -> None:
    """``rows`` x ``columns`` numbers with a header: features on scales from 0.001 to 10^4,
    the last column a class 0..4; written in blocks to keep this process small."""
    rng = np.random.default_rng(seed)
    scales = np.logspace(-3, 4, columns - 1)
    with open(path, "w") as file:
        file.write(",".join([f"f{i}" for i in range(columns - 1)] + ["target"]) + "\n")
        for start in range(0, rows, 20000):
            n = min(20000, rows - start)
            block = rng.normal(size=(n, columns - 1)) * scales
            target = rng.integers(0, 5, size=(n, 1))
            np.savetxt(file, np.hstack([block, target]), delimiter=",",
                       fmt=["%.6g"] * (columns - 1) + ["%d"])


def child(which: str, path: str) -> None:
    """Load the file once and print ``{'seconds', 'peak_mib', 'shape'}``."""
    if which == "scratchnn":
        from scratchnn.data import load_samples

        started = time.perf_counter()
        samples = load_samples(path)
        seconds = time.perf_counter() - started
        shape = [*samples.features.shape, int(samples.target is not None)]
    else:
        started = time.perf_counter()
        data = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float32)
        seconds = time.perf_counter() - started
        shape = list(data.shape)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mib": peak, "shape": shape}))


def measure(path: Path, rounds: int) -> dict[str, object]:
    import subprocess

    from bench.rss import _RELAY

    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(Path(__file__).resolve().parents[1] / "src"), str(Path(__file__).resolve().parents[1])]
        + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    results: dict[str, list[dict[str, float]]] = {"scratchnn": [], "loadtxt": []}
    for _ in range(rounds):
        for which in ("loadtxt", "scratchnn"):
            command = [sys.executable, "-c", _RELAY, sys.executable, "-m", "bench.csv_load",
                       "--child", which, str(path)]
            done = subprocess.run(command, env=env, capture_output=True, text=True,
                                  check=False)
            if done.returncode != 0:
                raise RuntimeError(f"{which} child failed: {done.stderr}")
            results[which].append(json.loads(done.stdout.strip().splitlines()[-1]))
    data_mib = None
    times = {k: statistics.median(r["seconds"] for r in v) for k, v in results.items()}
    peaks = {k: max(r["peak_mib"] for r in v) for k, v in results.items()}
    rows, cols = results["loadtxt"][0]["shape"]
    data_mib = rows * cols * 4 / MIB
    rss_limit = 2 * data_mib + 100
    return {
        "name": "csv_load", "rows": rows, "columns": cols,
        "file_mib": path.stat().st_size / MIB, "data_float32_mib": data_mib,
        "seconds": times, "time_ratio": times["scratchnn"] / times["loadtxt"],
        "time_ratio_limit": TIME_RATIO_LIMIT, "peak_mib": peaks,
        "rss_limit_mib": rss_limit, "rounds": rounds,
        "ok": bool(times["scratchnn"] / times["loadtxt"] <= TIME_RATIO_LIMIT
                   and peaks["scratchnn"] <= rss_limit),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--path", help="keep the generated file here (default: a temp dir)")
    parser.add_argument("--child", nargs=2, metavar=("WHICH", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(*args.child)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(args.path) if args.path else Path(tmp) / "table.csv"
        if not path.exists():
            write_file(path, args.rows)
        row = measure(path, args.rounds)
    print(f"csv_load: {row['rows']:,} rows x {row['columns']} columns, "
          f"{row['file_mib']:.0f} MiB file, {row['data_float32_mib']:.1f} MiB as float32; "
          f"median of {row['rounds']} fresh processes each")
    print(f"  np.loadtxt(float32): {row['seconds']['loadtxt']:.2f} s, peak RSS "
          f"{row['peak_mib']['loadtxt']:.0f} MiB")
    print(f"  scratchnn load_samples: {row['seconds']['scratchnn']:.2f} s, peak RSS "
          f"{row['peak_mib']['scratchnn']:.0f} MiB")
    print(f"  time ratio {row['time_ratio']:.2f} (target <= {TIME_RATIO_LIMIT}); peak RSS "
          f"{row['peak_mib']['scratchnn']:.0f} MiB (target <= {row['rss_limit_mib']:.0f}): "
          f"{'OK' if row['ok'] else 'MISSED'}")
    print(json.dumps(row))
    return 0


if __name__ == "__main__":
    sys.exit(main())
