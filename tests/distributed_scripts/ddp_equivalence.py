"""Train a small MLP for a few SGD steps, data-parallel or in one process; save the weights.

    mpiexec -n W python -m mpi4py ddp_equivalence.py OUT.npz [--cnn]   # DDP, global batch split
    python ddp_equivalence.py OUT.npz --plain [--cnn]                   # one process, no DDP

Every rank builds its model from a different seed, so equal results also show that
DistributedDataParallel copied rank 0's weights. Rank ``r`` of ``W`` trains on rows
``[r*B/W, (r+1)*B/W)`` of each global batch of ``B`` rows.
"""

from __future__ import annotations

import sys

import numpy as np

import scratchnn as sn
import scratchnn.distributed as dist
from scratchnn import nn, optim
from scratchnn.nn.parallel import DistributedDataParallel

GLOBAL_BATCH = 12
STEPS = 6


def build_model(cnn: bool = False) -> nn.Module:
    if cnn:  # 8x8 one-channel images; no BatchNorm (its batch statistics are per rank)
        return nn.Sequential(
            nn.Conv2d(1, 4, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(4, 6, 3),
            nn.Tanh(),
            nn.Flatten(),
            nn.Linear(24, 5),
        )
    return nn.Sequential(
        nn.Linear(20, 32), nn.Tanh(), nn.Linear(32, 16), nn.ReLU(), nn.Linear(16, 5)
    )


def main() -> None:
    out, plain, cnn = sys.argv[1], "--plain" in sys.argv, "--cnn" in sys.argv  # else --mlp
    rank, world = 0, 1
    if not plain:
        dist.init_process_group("mpi")
        rank, world = dist.get_rank(), dist.get_world_size()
    sn.manual_seed(1000 + rank)  # a different initialisation on every rank
    model = build_model(cnn)
    if not plain:
        model = DistributedDataParallel(model, bucket_cap_mb=0.0005)  # several buckets
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    data = np.random.default_rng(7)
    shape = (1, 8, 8) if cnn else (20,)
    x = data.standard_normal((STEPS * GLOBAL_BATCH, *shape)).astype(np.float32)
    y = data.integers(0, 5, STEPS * GLOBAL_BATCH)
    shard = GLOBAL_BATCH // world
    loss_fn = nn.CrossEntropyLoss()
    for step in range(STEPS):
        start = step * GLOBAL_BATCH + rank * shard
        xb, yb = sn.tensor(x[start : start + shard]), sn.tensor(y[start : start + shard])
        optimizer.zero_grad()
        loss_fn(model(xb), yb).backward()
        optimizer.step()
    inner = model.module if not plain else model
    weights = {k: np.asarray(v) for k, v in inner.state_dict().items()}
    if not plain:
        # every rank must hold the same weights
        flat = np.concatenate([w.reshape(-1) for w in weights.values()])
        everyone = [np.empty_like(flat) for _ in range(world)]
        dist.all_gather(everyone, flat)
        for r, theirs in enumerate(everyone):
            if not np.array_equal(theirs, flat):
                raise AssertionError(f"rank {r}'s weights differ from rank {rank}'s")
        n_buckets = len(model._buckets)
        if n_buckets < 2:
            raise AssertionError(f"expected several buckets, got {n_buckets}")
    if rank == 0:
        np.savez(out, world=np.array(world), **weights)


if __name__ == "__main__":
    main()
