"""Check the collectives and DistributedSampler's defaults on every rank (run under mpiexec).

Each rank raises AssertionError (which ends the job with a non-zero exit) on a wrong value;
rank 0 prints ``collectives ok <world size>`` at the end.
"""

from __future__ import annotations

import numpy as np

import scratchnn as sn
import scratchnn.distributed as dist
from scratchnn.data import DataLoader, DistributedSampler, TensorDataset


def check(condition: bool, what: str) -> None:
    if not condition:
        raise AssertionError(f"rank {dist.get_rank()}: {what}")


def main() -> None:
    dist.init_process_group("mpi")
    check(dist.is_initialized(), "is_initialized")
    rank, world = dist.get_rank(), dist.get_world_size()
    ranks = np.arange(world)

    t = sn.tensor([float(rank), 1.0])  # a Tensor, reduced in place
    dist.all_reduce(t)
    check(t.tolist() == [float(ranks.sum()), float(world)], f"all_reduce SUM gave {t}")

    strided = (np.arange(12, dtype=np.float64).reshape(3, 4) + 100 * rank)[:, ::2]
    dist.all_reduce(strided, op=dist.ReduceOp.MAX)  # a non-contiguous view
    check(
        np.array_equal(strided, np.arange(12).reshape(3, 4)[:, ::2] + 100 * (world - 1)),
        f"all_reduce MAX on a view gave {strided}",
    )

    avg = np.full(3, float(rank), dtype=np.float32)
    dist.all_reduce(avg, op=dist.ReduceOp.AVG)
    check(np.allclose(avg, ranks.mean()), f"all_reduce AVG gave {avg}")

    prod = np.array([rank + 1], dtype=np.int64)
    dist.all_reduce(prod, op=dist.ReduceOp.PRODUCT)
    check(int(prod[0]) == int(np.prod(ranks + 1)), f"all_reduce PRODUCT gave {prod}")

    low = np.array([rank], dtype=np.int32)
    dist.all_reduce(low, op=dist.ReduceOp.MIN)
    check(int(low[0]) == 0, f"all_reduce MIN gave {low}")

    flag = np.array([rank == world - 1])  # bool: logical or
    dist.all_reduce(flag)
    check(bool(flag[0]), "all_reduce of a bool")

    src = world - 1
    b = sn.tensor(np.full((2, 2), rank, dtype=np.int64))
    dist.broadcast(b, src=src)
    check(np.all(b.numpy() == src), f"broadcast from {src} gave {b}")

    gathered = [np.zeros(2, dtype=np.float32) for _ in range(world)]
    dist.all_gather(gathered, np.array([rank, 10 * rank], dtype=np.float32))
    check(
        all(g.tolist() == [r, 10 * r] for r, g in enumerate(gathered)),
        f"all_gather gave {gathered}",
    )

    # DistributedSampler takes the world size and rank from the process group; the shards of
    # all ranks are disjoint and cover the dataset (here 10 samples, no padding needed for 2 or
    # 5 ranks, padding otherwise).
    n = 10
    sampler = DistributedSampler(TensorDataset(np.arange(n)), shuffle=True, seed=3)
    check((sampler.num_replicas, sampler.rank) == (world, rank), "sampler's defaults")
    sampler.set_epoch(1)
    mine = np.array(list(sampler), dtype=np.int64)
    loader = DataLoader(TensorDataset(np.arange(n) * 2), batch_size=2, sampler=sampler)
    seen = np.concatenate([xb.numpy() for (xb,) in loader]) // 2
    check(np.array_equal(seen, mine), "DataLoader did not follow the sampler")
    everyone = [np.zeros_like(mine) for _ in range(world)]
    dist.all_gather(everyone, mine)
    union = np.concatenate(everyone)
    check(set(union.tolist()) == set(range(n)), f"shards do not cover: {everyone}")
    check(len(union) - len(set(union.tolist())) == len(union) - n, "shards overlap")

    dist.barrier()
    if rank == 0:
        print("collectives ok", world, flush=True)
    dist.destroy_process_group()
    check(not dist.is_initialized(), "destroy_process_group")


if __name__ == "__main__":
    main()
