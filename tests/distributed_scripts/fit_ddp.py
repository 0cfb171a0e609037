"""``fit`` data-parallel, or its single-process equivalent, with checkpoints and resuming.

    mpiexec -n W python -m mpi4py fit_ddp.py OUT --epochs E [--stop-at-step S] [--early-stop]
    python fit_ddp.py OUT --plain --world W --epochs E [--resume CKPT --initial-epoch K]

Data-parallel: every rank gets its shard from a DistributedSampler (batch 12 / W per rank)
and a DDP-wrapped MLP; ModelCheckpoint writes OUT/ckpt-{epoch}.npz. ``--plain``: one process,
no process group, batches of 12 made of exactly the samples the W ranks' shards of each step
hold, so the weights and the history must match the data-parallel run's. Rank 0 (or the plain
process) writes OUT/result.npz (weights) and OUT/history.json. Every rank checks that all ranks
recorded the same history and took the same number of steps.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np

import scratchnn as sn
import scratchnn.distributed as dist
from scratchnn import nn, optim
from scratchnn.callbacks import Callback, EarlyStopping, History, ModelCheckpoint
from scratchnn.data import DataLoader, DistributedSampler, TensorDataset
from scratchnn.nn.parallel import DistributedDataParallel
from scratchnn.train import fit

GLOBAL_BATCH = 12


class GlobalOrder:
    """The single-process sampler: per step, the samples of the W ranks' step batches."""

    def __init__(self, dataset: TensorDataset, world: int) -> None:
        self.shards = [DistributedSampler(dataset, world, r, seed=0) for r in range(world)]
        self.world = world

    def set_epoch(self, epoch: int) -> None:
        for shard in self.shards:
            shard.set_epoch(epoch)

    def __len__(self) -> int:
        return sum(len(s) for s in self.shards)

    def __iter__(self) -> Iterator[int]:
        lists = [list(s) for s in self.shards]
        per_rank = GLOBAL_BATCH // self.world
        for start in range(0, len(lists[0]), per_rank):
            for shard in lists:
                yield from shard[start : start + per_rank]


class StopOnOneRank(Callback):
    """Rank 1 alone asks to stop after global step ``step``."""

    def __init__(self, step: int) -> None:
        self.step = step

    def on_batch_end(self, step: int, logs: dict) -> None:
        if step == self.step and dist.get_rank() == 1:
            self.model.stop_training = True


class CountSteps(Callback):
    def __init__(self) -> None:
        self.steps = 0

    def on_batch_end(self, step: int, logs: dict) -> None:
        self.steps += 1


def data() -> tuple[TensorDataset, TensorDataset]:
    rng = np.random.default_rng(11)
    centers = rng.standard_normal((3, 12)) * 2
    y = rng.integers(0, 3, 84)
    x = (centers[y] + rng.standard_normal((84, 12))).astype(np.float32)
    return TensorDataset(x[:60], y[:60]), TensorDataset(x[60:], y[60:])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--plain", action="store_true")
    parser.add_argument("--world", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--resume", type=Path)
    parser.add_argument("--initial-epoch", type=int, default=0)
    parser.add_argument("--stop-at-step", type=int)
    parser.add_argument("--early-stop", action="store_true")
    args = parser.parse_args()

    train, val = data()
    rank = 0
    sn.manual_seed(5)
    model: nn.Module = nn.Sequential(nn.Linear(12, 16), nn.ReLU(), nn.Linear(16, 3))
    if args.plain:
        world = args.world
        train_loader = DataLoader(train, batch_size=GLOBAL_BATCH, sampler=GlobalOrder(train, world))
        val_loader = DataLoader(val, batch_size=GLOBAL_BATCH)
    else:
        dist.init_process_group("mpi")
        rank, world = dist.get_rank(), dist.get_world_size()
        sn.manual_seed(100 + rank)  # DDP must copy rank 0's weights
        model = nn.Sequential(nn.Linear(12, 16), nn.ReLU(), nn.Linear(16, 3))
        if rank == 0:  # the same initial weights as the plain run
            sn.manual_seed(5)
            model.load_state_dict(
                nn.Sequential(nn.Linear(12, 16), nn.ReLU(), nn.Linear(16, 3)).state_dict()
            )
        model = DistributedDataParallel(model)
        per_rank = GLOBAL_BATCH // world
        train_loader = DataLoader(train, batch_size=per_rank, sampler=DistributedSampler(train))
        val_loader = DataLoader(
            val, batch_size=per_rank, sampler=DistributedSampler(val, shuffle=False)
        )
    optimizer = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    history = History()
    if args.resume is not None:
        inner = model.module if isinstance(model, DistributedDataParallel) else model
        info = sn.load_checkpoint(args.resume, inner, optimizer)  # a plain model's checkpoint
        assert info["epoch"] == args.initial_epoch, info["epoch"]
        history = History.from_dict(info["extra"]["history"])
    checkpoint = ModelCheckpoint(args.out / "ckpt-{epoch}.npz", history=history)
    counter = CountSteps()
    callbacks: list[Callback] = [history, checkpoint, counter]
    if args.stop_at_step is not None:
        callbacks.append(StopOnOneRank(args.stop_at_step))
    if args.early_stop:
        callbacks.append(EarlyStopping("val_loss", patience=0, min_delta=100.0))
    fit(
        model,
        nn.CrossEntropyLoss(),
        optimizer,
        train_loader,
        epochs=args.epochs,
        initial_epoch=args.initial_epoch,
        val_loader=val_loader,
        callbacks=callbacks,
        verbose=2,
    )

    if not args.plain:
        if rank != 0 and checkpoint.saved:
            raise AssertionError(f"rank {rank} wrote checkpoints {checkpoint.saved}")
        summary = np.array(
            [counter.steps, len(history), *history.history["loss"], *history.history["val_loss"]]
        )
        everyone = [np.empty_like(summary) for _ in range(world)]
        dist.all_gather(everyone, summary)
        for r, theirs in enumerate(everyone):
            if not np.array_equal(theirs, summary):
                raise AssertionError(f"rank {r} recorded {theirs}, rank {rank} {summary}")
    if rank == 0:
        inner = model.module if isinstance(model, DistributedDataParallel) else model
        np.savez(args.out / "result.npz", **inner.state_dict())
        record = {"history": history.to_dict(), "steps": counter.steps, "world": world}
        (args.out / "history.json").write_text(json.dumps(record))


if __name__ == "__main__":
    main()
