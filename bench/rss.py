"""Peak memory of a full-data training run, one library per process.

``python -m bench.rss scratchnn`` or ``python -m bench.rss torch`` loads Fashion-MNIST train
(float32, the same loader for both: uint8 -> float32 once), trains the 784-128-10 MLP for one
epoch at batch 100 and prints one JSON line with the peak resident set size
(``resource.getrusage(RUSAGE_SELF).ru_maxrss``, KiB on Linux) and the data's size. The
scratchnn process never imports torch; the torch process uses ``torch.from_numpy`` (no copy)
and the preloaded-tensor loop of ``bench.workloads.torch_preloaded_mlp``.

Linux carries ``ru_maxrss`` across ``execve``: a child started straight from a big process
(vfork + exec, as ``subprocess`` does) reports at least its parent's peak. ``spawn_clean``
therefore starts the measured process from a small intermediate Python, whose own high-water
mark is what the child inherits (~10 MiB, far below any measurement). The child also reports
``VmHWM`` from /proc/self/status (this process image's own peak) as a cross-check.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from bench import workloads

MIB = 1024 * 1024


def vm_hwm_mib() -> float | None:
    """Peak RSS of this process image (VmHWM), or None where /proc is unavailable."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


# Runs in the intermediate process: start the real command, pass its output through.
_RELAY = "import subprocess, sys; sys.exit(subprocess.run(sys.argv[1:]).returncode)"


def spawn_clean(
    arguments: list[str], cwd: str | os.PathLike[str], env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m bench.rss *arguments`` via a small relay process (see the docstring)."""
    command = [sys.executable, "-c", _RELAY, sys.executable, "-m", "bench.rss", *arguments]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)


def measure(library: str, limit: int | None, batch_size: int, threads: int | None) -> dict:
    x, y = workloads.load_split(train=True, limit=limit)
    after_load_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    weights = workloads.initial_weights()
    if library == "scratchnn":
        run = workloads.scratchnn_mlp(x, y, batch_size, weights=weights)
    else:
        workloads.set_torch_threads(threads or workloads.blas_threads())
        run = workloads.torch_preloaded_mlp(x, y, batch_size, weights=weights)
    start = time.perf_counter()
    loss = run.epoch()
    seconds = time.perf_counter() - start
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    hwm = vm_hwm_mib()
    return {
        "library": library,
        "samples": len(x),
        "batch_size": batch_size,
        "data_bytes": int(x.nbytes),
        "data_mib": x.nbytes / MIB,
        "peak_after_load_mib": after_load_kib / 1024,
        "peak_rss_mib": peak_kib / 1024,
        "vm_hwm_mib": hwm,
        "epoch_seconds": seconds,
        "last_loss": loss,
        "torch_imported": "torch" in sys.modules,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.rss", description=__doc__.split("\n")[0])
    parser.add_argument("library", choices=("scratchnn", "torch"))
    parser.add_argument("--limit", type=int, default=None, help="use only the first N samples")
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: BLAS's)")
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.library, args.limit, args.batch_size, args.threads)))


if __name__ == "__main__":
    main()
