"""DistributedDataParallel details, checked on every rank (run under mpiexec -n 2 or more).

* a parameter used on some ranks only gets the average with zeros from the others, the same
  on every rank; one used on no rank keeps ``grad = None``;
* ``no_sync()`` accumulates locally; the next synchronised backward averages the sum;
* buffers are copied from rank 0 at wrap time and before each training forward;
* the state dict has ``module.`` keys (as PyTorch's).
Rank 0 prints ``details ok`` at the end.
"""

from __future__ import annotations

import numpy as np

import scratchnn as sn
import scratchnn.distributed as dist
from scratchnn import nn
from scratchnn.nn.parallel import DistributedDataParallel


class Branchy(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.shared = nn.Linear(3, 2)
        self.rank0_only = nn.Linear(2, 2)
        self.never = nn.Linear(2, 2)
        self.register_buffer("running", sn.tensor(np.zeros(2, dtype=np.float32)))

    def forward(self, x: sn.Tensor, use_extra: bool) -> sn.Tensor:
        h = self.shared(x)
        return self.rank0_only(h) if use_extra else h


def check(condition: bool, what: str) -> None:
    if not condition:
        raise AssertionError(f"rank {dist.get_rank()}: {what}")


def gathered(array: np.ndarray) -> list[np.ndarray]:
    everyone = [np.empty_like(array) for _ in range(dist.get_world_size())]
    dist.all_gather(everyone, np.ascontiguousarray(array))
    return everyone


def main() -> None:
    dist.init_process_group("mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    sn.manual_seed(rank)
    inner = Branchy()
    inner.running.data[:] = rank + 1  # rank 0's buffer must win
    model = DistributedDataParallel(inner)
    check(np.all(inner.running.numpy() == 1), "buffer not copied from rank 0 at wrap time")
    check(all(k.startswith("module.") for k in model.state_dict()), "state_dict keys")

    x = np.random.default_rng(rank).standard_normal((4, 3)).astype(np.float32)
    # local gradients, without communication, for the expected values
    with model.no_sync():
        model(sn.tensor(x), use_extra=rank == 0).sum().backward()
    local = {
        name: (None if p.grad is None else p.grad.numpy().copy())
        for name, p in inner.named_parameters()
    }
    for p in inner.parameters():
        p.grad = None

    inner.running.data[:] = rank + 5
    model(sn.tensor(x), use_extra=rank == 0).sum().backward()
    check(np.all(inner.running.numpy() == 5), "buffer not copied before a training forward")
    for name, p in inner.named_parameters():
        if name.startswith("never"):
            check(p.grad is None, f"{name} got a gradient")
            continue
        mine = local[name] if local[name] is not None else np.zeros_like(p.data)
        expected = sum(gathered(mine)) / world
        check(p.grad is not None, f"{name} has no gradient")
        check(np.allclose(p.grad.numpy(), expected, rtol=1e-6, atol=1e-7), f"{name} average")
        check(
            all(np.array_equal(g, p.grad.numpy()) for g in gathered(p.grad.numpy())),
            f"{name} differs between ranks",
        )

    # no_sync twice, then a synchronised backward: the average of each rank's sum of three
    with model.no_sync():
        for p in inner.parameters():
            p.grad = None
        model(sn.tensor(x), use_extra=True).sum().backward()
        single = {
            n: p.grad.numpy().copy() for n, p in inner.named_parameters() if p.grad is not None
        }
    for p in inner.parameters():
        p.grad = None
    with model.no_sync():
        model(sn.tensor(x), use_extra=True).sum().backward()
        model(sn.tensor(x), use_extra=True).sum().backward()
    model(sn.tensor(x), use_extra=True).sum().backward()
    for name, p in inner.named_parameters():
        if name in single:
            expected = sum(gathered(3 * single[name])) / world
            check(
                np.allclose(p.grad.numpy(), expected, rtol=1e-5, atol=1e-6),
                f"{name} after no_sync accumulation",
            )

    # load_state_dict takes the prefixed keys (PyTorch's), the plain model its own
    model.load_state_dict(model.state_dict())
    inner.load_state_dict(inner.state_dict())
    dist.barrier()
    if rank == 0:
        print("details ok", flush=True)


if __name__ == "__main__":
    main()
