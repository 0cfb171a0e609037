"""Rank 1 raises while the other ranks wait in a collective: the job must end, not hang.

    mpiexec -n 2 python -m mpi4py failing_rank.py [raise|mismatch]

``raise``: rank 1 raises a ValueError; the others wait in barrier(). ``mismatch``: rank 1
builds a different model, so DistributedDataParallel refuses on every rank.
"""

from __future__ import annotations

import sys

import scratchnn.distributed as dist
from scratchnn import nn
from scratchnn.nn.parallel import DistributedDataParallel


def main() -> None:
    mode = sys.argv[1] if len(sys.argv) > 1 else "raise"
    dist.init_process_group("mpi")
    rank = dist.get_rank()
    if mode == "raise":
        if rank == 1:
            raise ValueError("rank 1 failed on purpose")
        dist.barrier()  # never completes: rank 1 is gone
    else:
        width = 8 if rank != 1 else 9
        DistributedDataParallel(nn.Sequential(nn.Linear(4, width), nn.Linear(width, 2)))
    print(f"rank {rank} should not get here", flush=True)


if __name__ == "__main__":
    main()
