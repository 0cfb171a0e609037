"""``python -m bench.distributed``: data-parallel training throughput on one machine.

Two ways to use the machine's two cores for one training run, each a fresh job:

* ``1x2``: one process (plain ``python``, no MPI), OpenBLAS/OpenMP with 2 threads, the whole
  global batch per step;
* ``2x1``: ``mpiexec -n 2 python -m mpi4py``, 1 BLAS thread per process, each rank half of the
  global batch (``DistributedSampler``), gradients averaged by ``DistributedDataParallel``.

Each job trains the model as a user writes it (DataLoader, zero_grad / forward / loss /
backward / step) for ``warmup`` untimed steps, then ``steps`` timed steps between two
barriers, and reports samples per second (global batch x steps / seconds on rank 0). The 2x1
job also reports how long DDP's gradient averaging took per step inside training (rank 0's
and the slower rank's: it includes waiting for the other rank to finish its backward) and,
after training, an allreduce alone of a float32 buffer the size of all gradients (median of
50, between barriers).

Models: the 784-128-10 MLP at global batch 512 and the CNN of ``bench.cnn`` (two 3x3 convs,
pools, 3136-128-10) at 256; Fashion-MNIST train when installed, else random data of the same
shape (the row says which). Jobs alternate (1x2, 2x1, 1x2, ...) over ``--rounds`` rounds;
before each job the bench waits for other processes to go quiet and redoes a job during which
they used CPU (as ``python -m bench`` does). The table gives median [min-max] samples/s per
configuration and the ratio of medians 2x1 / 1x2 (target >= 0.95). ``--out FILE`` writes the
results as JSON (default ``bench/results_distributed.json`` for a full run).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench import ROOT, child_environment

RESULTS = Path(__file__).resolve().parent / "results_distributed.json"
MODELS = {"mlp": 512, "cnn": 256}  # model -> global batch
DEFAULT_STEPS = {"mlp": 120, "cnn": 16}
TARGET = 0.95


# ------------------------------------------------------------------------------ the worker
def _data(model: str, limit: int | None) -> tuple[np.ndarray, np.ndarray, str]:
    """Fashion-MNIST train (normalised like bench.workloads) or random data of that shape."""
    try:
        from bench.workloads import load_split

        x, y = load_split(train=True, limit=limit)
        source = "fashion-mnist"
    except Exception:  # noqa: BLE001 (no dataset installed: same-shaped random data)
        n = limit or 60000
        rng = np.random.default_rng(0)
        x = rng.standard_normal((n, 784), dtype=np.float32)
        y = rng.integers(0, 10, n)
        source = "random"
    if model == "cnn":
        x = x.reshape(len(x), 1, 28, 28)
    return x, y, source


def _model(model: str) -> Any:
    from scratchnn import nn

    if model == "mlp":
        return nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
    from bench.cnn import scratchnn_model

    return scratchnn_model()


def worker(args: argparse.Namespace) -> None:
    """One job: train, time, print one JSON line (rank 0)."""
    import scratchnn
    import scratchnn.distributed as dist
    from scratchnn import nn, optim
    from scratchnn.data import DataLoader, DistributedSampler, TensorDataset
    from scratchnn.nn.parallel import DistributedDataParallel

    scratchnn.allocator.keep_freed_memory()
    parallel = "OMPI_COMM_WORLD_SIZE" in os.environ
    rank, world = 0, 1
    if parallel:
        dist.init_process_group("mpi")
        rank, world = dist.get_rank(), dist.get_world_size()
    global_batch = MODELS[args.model]
    if global_batch % world:
        raise SystemExit(f"global batch {global_batch} is not divisible by {world} ranks")
    x, y, source = _data(args.model, args.limit)
    scratchnn.manual_seed(0)
    model = _model(args.model)
    reduce_seconds: list[float] = []
    if parallel:
        model = DistributedDataParallel(model)
        reduce = model._reduce_gradients

        def timed_reduce() -> None:
            start = time.perf_counter()
            reduce()
            reduce_seconds.append(time.perf_counter() - start)

        model._reduce_gradients = timed_reduce
    dataset = TensorDataset(x, y)
    if parallel:
        loader = DataLoader(dataset, batch_size=global_batch // world,
                            sampler=DistributedSampler(dataset, seed=0), drop_last=True)
    else:
        loader = DataLoader(dataset, batch_size=global_batch, shuffle=True, drop_last=True)
    loss_fn = nn.CrossEntropyLoss()
    optimizer = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    def batches() -> Any:
        epoch = 0
        while True:
            sampler = getattr(loader, "sampler", None)
            if sampler is not None:
                sampler.set_epoch(epoch)
            yield from loader
            epoch += 1

    stream = batches()

    def train(steps: int) -> None:
        for _ in range(steps):
            xb, yb = next(stream)
            optimizer.zero_grad()
            loss_fn(model(xb), yb).backward()
            optimizer.step()

    train(args.warmup)
    reduce_seconds.clear()
    if parallel:
        dist.barrier()
    start = time.perf_counter()
    train(args.steps)
    if parallel:
        dist.barrier()
    seconds = time.perf_counter() - start

    record: dict[str, Any] = {
        "world": world,
        "threads": os.environ.get("OPENBLAS_NUM_THREADS"),
        "data": source,
        "seconds": seconds,
        "samples_per_second": global_batch * args.steps / seconds,
    }
    if parallel:
        n_params = sum(p.data.size for p in model.parameters())
        mine = np.array([statistics.median(reduce_seconds)], dtype=np.float64)
        everyone = [np.empty_like(mine) for _ in range(world)]
        dist.all_gather(everyone, mine)
        buffer = np.ones(n_params, dtype=np.float32)
        alone = []
        for _ in range(60):
            dist.barrier()
            t0 = time.perf_counter()
            dist.all_reduce(buffer)
            alone.append(time.perf_counter() - t0)
        record.update(
            gradient_floats=int(n_params),
            buckets=len(model._buckets),
            reduce_in_step_seconds=float(everyone[0][0]),
            reduce_in_step_seconds_max=float(max(e[0] for e in everyone)),
            allreduce_alone_seconds=statistics.median(alone[10:]),
        )
    if rank == 0:
        print("RESULT " + json.dumps(record), flush=True)


# ------------------------------------------------------------------------------ the parent
def _mpiexec() -> str:
    found = shutil.which("mpiexec", path=str(Path(sys.executable).parent)) or shutil.which(
        "mpiexec"
    )
    if found is None:
        raise SystemExit("mpiexec not found: pip install 'scratchnn[distributed]'")
    return found


def job_command(config: str, model: str, steps: int, warmup: int, limit: int | None) -> tuple[
    list[str], dict[str, str]
]:
    """The command line and environment of one job (``1x2`` or ``2x1``)."""
    processes, threads = (int(v) for v in config.split("x"))
    env = child_environment()
    env.update(OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads))
    tail = [sys.executable]
    if processes > 1:
        env.update(OMPI_MCA_btl="self,sm", OMPI_MCA_pml="ob1")
        if os.geteuid() == 0:
            env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
        tail = [_mpiexec(), "-n", str(processes), "--bind-to", "none", sys.executable,
                "-m", "mpi4py"]
    args = ["-m", "bench.distributed", "--worker", "--model", model, "--steps", str(steps),
            "--warmup", str(warmup)]
    if limit is not None:
        args += ["--limit", str(limit)]
    return tail + args, env


class Monitor:
    """CPU used by processes other than this one and its (finished) children: /proc/stat's
    busy time minus our own and our waited-for children's CPU time (``os.times``)."""

    def __init__(self, threshold: float = 0.2, max_wait: float = 30.0) -> None:
        self.threshold, self.max_wait = threshold, max_wait
        self.hz = os.sysconf("SC_CLK_TCK")
        self.available = Path("/proc/stat").exists()

    def snapshot(self) -> tuple[float, float, float]:
        busy = 0.0
        if self.available:
            with open("/proc/stat") as stat:
                fields = [int(v) for v in stat.readline().split()[1:9]]
            busy = (sum(fields) - fields[3] - fields[4]) / self.hz
        return time.perf_counter(), busy, sum(os.times()[:4])

    def foreign(self, before: tuple[float, float, float], after: tuple[float, float, float]
                ) -> float:
        seconds = max(0.0, (after[1] - before[1]) - (after[2] - before[2]))
        return seconds / max(after[0] - before[0], 1e-9)

    def wait_quiet(self, window: float = 0.5) -> float:
        start = time.perf_counter()
        while True:
            before = self.snapshot()
            time.sleep(window)
            quiet = self.foreign(before, self.snapshot()) < self.threshold
            if not self.available or quiet or time.perf_counter() - start > self.max_wait:
                return time.perf_counter() - start


def run_job(command: list[str], env: dict[str, str]) -> dict[str, Any]:
    result = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True,
                            timeout=900, check=False)
    lines = [line for line in result.stdout.splitlines() if line.startswith("RESULT ")]
    if result.returncode != 0 or not lines:
        raise SystemExit(f"job failed: {' '.join(command)}\n{result.stdout}\n{result.stderr}")
    return json.loads(lines[-1][len("RESULT "):])


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def measure(model: str, rounds: int, steps: int, warmup: int, limit: int | None,
            retries: int, monitor: Monitor) -> dict[str, Any]:
    configs = ("1x2", "2x1")
    jobs: dict[str, list[dict[str, Any]]] = {c: [] for c in configs}
    record = {"waited_seconds": 0.0, "redone_jobs": 0, "disturbed_jobs_kept": 0}
    for round_number in range(rounds):
        for config in configs if round_number % 2 == 0 else configs[::-1]:
            command, env = job_command(config, model, steps, warmup, limit)
            for attempt in range(retries + 1):
                record["waited_seconds"] += monitor.wait_quiet()
                before = monitor.snapshot()
                result = run_job(command, env)
                load = monitor.foreign(before, monitor.snapshot())
                result["foreign_cores"] = load
                if load < monitor.threshold or not monitor.available:
                    break
                if attempt < retries:
                    record["redone_jobs"] += 1
                    log(f"  {model} {config}: other processes used {load:.2f} cores: redoing")
                else:
                    record["disturbed_jobs_kept"] += 1
            jobs[config].append(result)
            log(f"  {model} round {round_number + 1}/{rounds} {config}: "
                f"{result['samples_per_second']:,.0f} samples/s")
    rates = {c: [j["samples_per_second"] for j in jobs[c]] for c in configs}
    medians = {c: statistics.median(v) for c, v in rates.items()}
    parallel = jobs["2x1"]
    return {
        "model": model,
        "global_batch": MODELS[model],
        "steps": steps,
        "data": jobs["1x2"][0]["data"],
        "jobs": jobs,
        "load": record,
        "samples_per_second": {
            c: {"median": medians[c], "min": min(v), "max": max(v), "values": v}
            for c, v in rates.items()
        },
        "ratio_2x1_over_1x2": medians["2x1"] / medians["1x2"],
        "paired_ratio_median": statistics.median(
            b / a for a, b in zip(rates["1x2"], rates["2x1"], strict=True)
        ),
        "target": f">= {TARGET}",
        "pass": medians["2x1"] / medians["1x2"] >= TARGET,
        "gradient_floats": parallel[0]["gradient_floats"],
        "buckets": parallel[0]["buckets"],
        "step_seconds_2x1": statistics.median(j["seconds"] / steps for j in parallel),
        "reduce_in_step_seconds": statistics.median(j["reduce_in_step_seconds"] for j in parallel),
        "allreduce_alone_seconds": statistics.median(
            j["allreduce_alone_seconds"] for j in parallel
        ),
    }


def render(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| model (global batch) | data | 1 process x 2 threads | 2 processes x 1 thread | "
        "2x1 / 1x2 (target >= 0.95) | gradients | allreduce alone | reduce inside a step "
        "| 2x1 step |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        s = row["samples_per_second"]

        def cell(c: str, s: dict = s) -> str:
            return f"{s[c]['median']:,.0f} [{s[c]['min']:,.0f}-{s[c]['max']:,.0f}]"

        lines.append(
            f"| {row['model']} ({row['global_batch']}) | {row['data']} | {cell('1x2')} | "
            f"{cell('2x1')} | {row['ratio_2x1_over_1x2']:.2f} "
            f"({'PASS' if row['pass'] else 'FAIL'}) | {row['gradient_floats']:,} floats "
            f"({row['gradient_floats'] * 4 / 2**20:.2f} MiB, {row['buckets']} bucket) | "
            f"{row['allreduce_alone_seconds'] * 1e6:,.0f} µs | "
            f"{row['reduce_in_step_seconds'] * 1e6:,.0f} µs | "
            f"{row['step_seconds_2x1'] * 1e3:.1f} ms |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.distributed", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--model", choices=sorted(MODELS), action="append",
                        help="mlp and/or cnn (repeat; default both)")
    parser.add_argument("--rounds", type=int, default=5, help="jobs per configuration")
    parser.add_argument("--steps", type=int, help="timed steps per job (default mlp 120, cnn 16)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps first")
    parser.add_argument("--limit", type=int, help="training samples (default all 60,000)")
    parser.add_argument("--retries", type=int, default=2, help="redo a disturbed job N times")
    parser.add_argument("--max-wait", type=float, default=30.0,
                        help="seconds to wait for other processes to go quiet before a job")
    parser.add_argument("--out", type=Path, help="JSON results (default: bench/"
                        "results_distributed.json for a full run)")
    args = parser.parse_args(argv)
    if args.worker:
        args.model = args.model[0] if isinstance(args.model, list) else args.model
        args.steps = args.steps or DEFAULT_STEPS[args.model]
        worker(args)
        return
    models = args.model or ["mlp", "cnn"]
    monitor = Monitor(max_wait=args.max_wait)
    started = time.time()
    rows = []
    for model in models:
        steps = args.steps or DEFAULT_STEPS[model]
        rows.append(measure(model, args.rounds, steps, args.warmup, args.limit, args.retries,
                            monitor))
    table = render(rows)
    print(table)
    full = args.model is None and args.steps is None and args.limit is None
    out = args.out or (RESULTS if full else None)
    if out is not None:
        report = {
            "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
            "elapsed_seconds": time.time() - started,
            "command": " ".join(["python -m bench.distributed", *(argv or sys.argv[1:])]),
            "cores": os.cpu_count(),
            "rows": rows,
            "table": table,
        }
        out.write_text(json.dumps(report, indent=1) + "\n")
        log(f"wrote {out}")


if __name__ == "__main__":
    main()
