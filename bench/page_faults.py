"""Page faults per training step, with and without ``scratchnn.allocator``.

``python -m bench.page_faults`` trains, in fresh processes, once with the allocator setting and
once with ``SCRATCHNN_KEEP_FREED_MEMORY=0``:

* ``mlp``: the benchmark's 784-128-10 MLP at batch 100 on 60,000 random samples (timed:
  median epoch of 5);
* ``cnn``: the benchmark CNN (``bench.cnn``) at batch 256 on 2,560 random 28x28 images
  (timed: median of 5 runs of 10 steps);

and prints the time per step and the minor page faults per step. Whether glibc's defaults
hand a step's freed arrays back to the kernel depends on the array sizes and on what the
process allocated before: for the MLP, in some processes every step (~125 faults per step,
a 1.3x slower epoch), in others never; for the CNN at batch 256, every step (~3,400 faults).
No download and no PyTorch needed.
"""

from __future__ import annotations

import json
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

from bench import ROOT, child_environment

REPEATS = 5
WORKLOADS = ("mlp", "cnn")


def _mlp() -> tuple[Callable[[], object], int]:
    """One epoch of the MLP at batch 100 and its number of steps."""
    import numpy as np

    from bench import workloads

    rng = np.random.default_rng(0)
    x = rng.standard_normal((60_000, workloads.IN_FEATURES), dtype=np.float32)
    y = rng.integers(0, workloads.CLASSES, 60_000)
    return workloads.scratchnn_mlp(x, y, batch_size=100).epoch, 600


def _cnn() -> tuple[Callable[[], object], int]:
    """Ten CNN training steps at batch 256 and their number."""
    import numpy as np

    from bench import cnn

    rng = np.random.default_rng(0)
    x = rng.standard_normal((2560, 1, 28, 28), dtype=np.float32)
    y = rng.integers(0, cnn.CLASSES, 2560)
    return cnn.scratchnn_cnn(x, y, 256, 10, cnn.initial_weights()).run, 10


def measure(workload: str) -> dict[str, float]:
    """Train ``workload`` in this process: milliseconds and page faults per step."""
    run, steps = {"mlp": _mlp, "cnn": _cnn}[workload]()
    run()  # warm-up
    faults_before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    seconds = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        run()
        seconds.append(time.perf_counter() - start)
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults_before
    return {"step_ms": statistics.median(seconds) / steps * 1000,
            "faults_per_step": faults / (REPEATS * steps)}


def spawn(workload: str, keep: bool) -> dict[str, float]:
    """:func:`measure` in a fresh process, with (``keep``) or without the allocator setting."""
    environment = {**child_environment(), "SCRATCHNN_KEEP_FREED_MEMORY": "1" if keep else "0"}
    output = subprocess.run(
        [sys.executable, "-m", "bench.page_faults", "--child", workload],
        capture_output=True, text=True, check=True, env=environment, cwd=ROOT,
    ).stdout
    return json.loads(output)


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        print(json.dumps(measure(sys.argv[2])))
        return
    for workload in WORKLOADS:
        for keep in (True, False):
            result = spawn(workload, keep)
            print(f"{workload} SCRATCHNN_KEEP_FREED_MEMORY={int(keep)}: "
                  f"{result['step_ms']:.2f} ms per step, "
                  f"{result['faults_per_step']:.0f} page faults per step")


if __name__ == "__main__":
    main()
