"""Data-parallel ``scratchnn train``: under ``mpiexec``, or launched with ``--nproc N``.

::

    mpiexec -n 4 python -m mpi4py -m scratchnn train --data ~/mnist/     # any MPI launch
    scratchnn train --nproc 4 --data ~/mnist/                            # the same, one machine

Every process reads the data, builds the same model and trains on its shard of each global
batch (``--batch-size`` is the global batch, split evenly over the processes); gradients are
averaged by :class:`~scratchnn.nn.parallel.DistributedDataParallel`, so the run follows the
single-process one. Only rank 0 prints and writes files.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from scratchnn.cli.common import usage_error

# environment variables an MPI launcher sets in the processes it starts
LAUNCHER_VARIABLES = ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "MPI_LOCALNRANKS")


def add_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--nproc",
        type=int,
        metavar="N",
        help="train data-parallel in N processes on this machine (runs mpiexec -n N python "
        "-m mpi4py -m scratchnn train ...; needs pip install 'scratchnn[distributed]'); "
        "--batch-size is the global batch, split over the processes",
    )


def under_mpi_launcher() -> bool:
    return any(name in os.environ for name in LAUNCHER_VARIABLES)


def launch(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """Run ``scratchnn train`` with the same options (``--nproc`` left out) in ``args.nproc``
    processes with mpiexec on this machine; returns the job's exit status."""
    n = args.nproc
    if n < 1:
        raise usage_error(f"--nproc must be a positive number of processes, got {n}")
    if under_mpi_launcher():
        raise usage_error("--nproc starts mpiexec itself; leave it out under mpiexec")
    if args.batch_size is not None and args.batch_size % n:
        raise usage_error(
            f"--batch-size {args.batch_size} must be divisible by --nproc {n} "
            "(it is the global batch, split evenly)"
        )
    mpiexec = shutil.which("mpiexec", path=str(Path(sys.executable).parent)) or shutil.which(
        "mpiexec"
    )
    if importlib.util.find_spec("mpi4py") is None or mpiexec is None:
        raise usage_error("--nproc needs mpi4py and mpiexec: pip install 'scratchnn[distributed]'")
    cores = os.cpu_count() or 1
    env = dict(os.environ)
    threads = str(max(1, cores // n))  # BLAS threads per process: share the cores
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(name, threads)
    env.setdefault("OMPI_MCA_btl", "self,sm")  # one machine: shared memory, no network
    env.setdefault("OMPI_MCA_pml", "ob1")
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # Open MPI refuses root otherwise
        env.setdefault("OMPI_ALLOW_RUN_AS_ROOT", "1")
        env.setdefault("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
    command = [mpiexec, "-n", str(n), "--bind-to", "none"]
    if n > cores:
        command.append("--oversubscribe")
    command += [
        sys.executable,
        "-m",
        "mpi4py",
        "-m",
        "scratchnn",
        "train",
        *command_line(parser, args, leave_out=("nproc",)),
    ]
    print(f"launching: {shlex.join(command)}", flush=True)
    try:
        return subprocess.run(command, env=env, check=False).returncode
    except KeyboardInterrupt:
        return 130


def command_line(
    parser: argparse.ArgumentParser, args: argparse.Namespace, leave_out: tuple[str, ...] = ()
) -> list[str]:
    """The options that give ``args`` when parsed by ``parser`` (those not at their
    default), e.g. ``["--data", "x.csv", "--epochs", "5", "--no-standardize"]``."""
    words: list[str] = []
    for action in parser._actions:
        if not action.option_strings or action.dest in leave_out or action.dest == "help":
            continue
        value = getattr(args, action.dest, action.default)
        if value == action.default or value is None:
            continue
        if action.nargs == 0:  # flags: store_true / store_false / store_const
            if value == action.const:
                words.append(action.option_strings[-1])
            continue
        words += [action.option_strings[-1], str(value)]
    return words


def start(global_batch: int) -> tuple[int, int]:
    """Join the process group when started by an MPI launcher; returns ``(rank, world)``
    (``(0, 1)`` otherwise). Ranks other than 0 print nothing (stdout goes to /dev/null)."""
    if not under_mpi_launcher():
        return 0, 1
    from scratchnn import distributed

    if not distributed.is_initialized():
        try:
            distributed.init_process_group("mpi")
        except RuntimeError as error:
            raise usage_error(str(error)) from None
    rank, world = distributed.get_rank(), distributed.get_world_size()
    if global_batch % world:
        raise usage_error(
            f"--batch-size {global_batch} must be divisible by the {world} "
            "processes (it is the global batch, split evenly)"
        )
    if rank != 0:
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 (for the rest of the process)
    return rank, world


def wrap(model: Any, world: int) -> Any:
    """The model to train: wrapped in DistributedDataParallel when ``world > 1``."""
    if world == 1:
        return model
    from scratchnn.nn.parallel import DistributedDataParallel

    return DistributedDataParallel(model)


def train_loader(dataset: Any, global_batch: int, seed: int, world: int) -> Any:
    """Shuffled batches: the whole dataset in one process; with ``world > 1`` this rank's
    shard (``DistributedSampler``) in batches of ``global_batch // world``."""
    from scratchnn.data import DataLoader, DistributedSampler

    if world == 1:
        return DataLoader(dataset, batch_size=global_batch, shuffle=True)
    sampler = DistributedSampler(dataset, seed=seed)
    return DataLoader(dataset, batch_size=global_batch // world, sampler=sampler)
