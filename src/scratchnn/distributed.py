"""Collective communication between processes over MPI, with ``torch.distributed``'s names.

Every process of a job runs the same script; ``mpiexec`` starts them::

    mpiexec -n 2 python -m mpi4py train.py          # python -m mpi4py: a rank that raises
                                                    # aborts the whole job instead of hanging

    import scratchnn.distributed as dist
    dist.init_process_group("mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    t = scratchnn.tensor([float(rank)])
    dist.all_reduce(t)                               # in place: t == 0 + 1 + ... on every rank

The collectives work on a :class:`scratchnn.Tensor` or an ``np.ndarray`` **in place** (as in
PyTorch) and must be called by every rank in the same order. They use a duplicate of
``MPI.COMM_WORLD``, so they never match messages a user's own mpi4py code sends. Without
``mpiexec`` (plain ``python script.py``) MPI runs as one process: rank 0 of a world of size 1,
so the same script works alone.

mpi4py and an MPI library are an optional extra: ``pip install 'scratchnn[distributed]'``
(mpi4py + Open MPI). This module imports without them; :func:`init_process_group` then says
what to install.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from enum import Enum
from typing import Any

import numpy as np

from scratchnn.tensor import Tensor

__all__ = [
    "ReduceOp",
    "all_gather",
    "all_reduce",
    "barrier",
    "broadcast",
    "destroy_process_group",
    "get_backend",
    "get_rank",
    "get_world_size",
    "init_process_group",
    "is_available",
    "is_initialized",
]

INSTALL_HINT = (
    "scratchnn.distributed needs mpi4py and an MPI library: "
    "pip install 'scratchnn[distributed]' (mpi4py + Open MPI)"
)

_comm: Any = None  # the job's communicator (a Dup of MPI.COMM_WORLD) once initialised
_previous_excepthook: Any = None


class ReduceOp(Enum):
    """How :func:`all_reduce` combines the ranks' values (element by element)."""

    SUM = "sum"
    PRODUCT = "product"
    MIN = "min"
    MAX = "max"
    AVG = "avg"  # the sum divided by the world size (floating-point data only)


def _mpi() -> Any:
    """The ``mpi4py.MPI`` module, or a RuntimeError saying how to install it."""
    try:
        from mpi4py import MPI
    except ImportError as error:
        raise RuntimeError(f"{INSTALL_HINT} ({error})") from None
    return MPI


def is_available() -> bool:
    """True when mpi4py (and the MPI library it was built for) can be imported."""
    try:
        _mpi()
    except RuntimeError:
        return False
    return True


def is_initialized() -> bool:
    """True between :func:`init_process_group` and :func:`destroy_process_group`."""
    return _comm is not None


def init_process_group(
    backend: str | None = "mpi",
    init_method: str | None = None,
    timeout: Any = None,
    world_size: int = -1,
    rank: int = -1,
) -> None:
    """Join the job's process group (the processes ``mpiexec`` started).

    Only ``backend="mpi"`` exists (``None`` means it). MPI itself knows the world size and
    this process's rank; ``world_size`` / ``rank``, if given, are checked against it.
    ``init_method`` and ``timeout`` are accepted for PyTorch compatibility and ignored.

    With more than one process, an exception that nobody catches in this process aborts the
    whole MPI job after printing its traceback (as ``python -m mpi4py`` does), instead of
    leaving the other ranks waiting forever in their next collective.
    """
    global _comm, _previous_excepthook
    if backend not in (None, "mpi"):
        raise ValueError(
            f"init_process_group: unknown backend {backend!r}; scratchnn supports 'mpi' only"
        )
    if _comm is not None:
        raise RuntimeError("init_process_group: the default process group is already initialised")
    mpi = _mpi()
    comm = mpi.COMM_WORLD
    if world_size not in (-1, None) and world_size != comm.Get_size():
        raise ValueError(
            f"init_process_group: world_size={world_size}, but MPI started "
            f"{comm.Get_size()} process(es) (set the count with mpiexec -n)"
        )
    if rank not in (-1, None) and rank != comm.Get_rank():
        raise ValueError(
            f"init_process_group: rank={rank}, but MPI gave this process rank {comm.Get_rank()}"
        )
    _comm = comm.Dup()
    if comm.Get_size() > 1 and _previous_excepthook is None:
        _previous_excepthook = sys.excepthook
        sys.excepthook = _abort_on_uncaught


def _abort_on_uncaught(kind: type[BaseException], value: BaseException, tb: Any) -> None:
    """sys.excepthook with several ranks: print the traceback, then end the whole job."""
    hook = _previous_excepthook or sys.__excepthook__
    hook(kind, value, tb)
    if kind is KeyboardInterrupt:
        return
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        _mpi().COMM_WORLD.Abort(1)
    except Exception:  # (MPI already finalised: nothing left to abort)
        pass


def destroy_process_group() -> None:
    """Leave the process group (MPI itself is finalised by mpi4py when Python exits)."""
    global _comm, _previous_excepthook
    if _comm is None:
        return
    comm, _comm = _comm, None
    if _previous_excepthook is not None:
        sys.excepthook = _previous_excepthook
        _previous_excepthook = None
    try:
        comm.Free()
    except Exception:  # (already finalised)
        pass


def _group() -> Any:
    if _comm is None:
        raise ValueError(
            "Default process group has not been initialized, please make sure to call "
            "scratchnn.distributed.init_process_group()"
        )
    return _comm


def get_backend(group: Any = None) -> str:
    """``"mpi"``."""
    _group()
    return "mpi"


def get_rank(group: Any = None) -> int:
    """This process's index in the job, ``0 .. world_size - 1``."""
    return int(_group().Get_rank())


def get_world_size(group: Any = None) -> int:
    """The number of processes in the job."""
    return int(_group().Get_size())


def barrier(group: Any = None, async_op: bool = False) -> None:
    """Wait until every rank has called ``barrier``."""
    _group().Barrier()


# ------------------------------------------------------------------------- collectives
def _array(tensor: Tensor | np.ndarray, what: str) -> np.ndarray:
    if isinstance(tensor, Tensor):
        array = tensor.data
    elif isinstance(tensor, np.ndarray):
        array = tensor
    else:
        raise TypeError(f"{what}: expected a Tensor or np.ndarray, got {type(tensor).__name__}")
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{what}: cannot communicate arrays of dtype {array.dtype}")
    if not array.flags.writeable:
        raise ValueError(f"{what}: the array is read-only (the collective writes into it)")
    return array


def _contiguous(array: np.ndarray) -> np.ndarray:
    """``array`` itself when MPI can use its memory directly, else a C-contiguous copy."""
    return array if array.flags.c_contiguous else np.ascontiguousarray(array)


_OPS = {
    ReduceOp.SUM: "SUM",
    ReduceOp.AVG: "SUM",
    ReduceOp.PRODUCT: "PROD",
    ReduceOp.MIN: "MIN",
    ReduceOp.MAX: "MAX",
}


def all_reduce(
    tensor: Tensor | np.ndarray,
    op: ReduceOp = ReduceOp.SUM,
    group: Any = None,
    async_op: bool = False,
) -> None:
    """Combine ``tensor`` element-wise over all ranks, in place: afterwards every rank holds
    ``op(tensor_rank0, tensor_rank1, ...)`` (the same shape and dtype; every rank must pass
    the same shape). ``ReduceOp.AVG`` divides the sum by the world size (float data)."""
    comm = _group()
    array = _array(tensor, "all_reduce")
    if not isinstance(op, ReduceOp):
        raise TypeError(f"all_reduce: op must be a ReduceOp, got {op!r}")
    if op is ReduceOp.AVG and array.dtype.kind != "f":
        raise TypeError(f"all_reduce: ReduceOp.AVG needs floating-point data, got {array.dtype}")
    mpi = _mpi()
    buffer = _contiguous(array)
    if buffer.dtype == np.bool_:  # MPI has no bool sum; reduce as bytes and map back
        as_bytes = buffer.view(np.uint8)
        mpi_op = {"SUM": mpi.LOR, "PROD": mpi.LAND, "MIN": mpi.LAND, "MAX": mpi.LOR}[_OPS[op]]
        comm.Allreduce(mpi.IN_PLACE, as_bytes, op=mpi_op)
    else:
        comm.Allreduce(mpi.IN_PLACE, buffer, op=getattr(mpi, _OPS[op]))
        if op is ReduceOp.AVG:
            buffer *= buffer.dtype.type(1.0 / comm.Get_size())
    if buffer is not array:
        array[...] = buffer


def broadcast(
    tensor: Tensor | np.ndarray, src: int = 0, group: Any = None, async_op: bool = False
) -> None:
    """Copy rank ``src``'s ``tensor`` into ``tensor`` on every other rank, in place (every rank
    passes an array of the same shape and dtype)."""
    comm = _group()
    array = _array(tensor, "broadcast")
    size = comm.Get_size()
    if not 0 <= int(src) < size:
        raise ValueError(f"broadcast: src={src} is not a rank of this job (0..{size - 1})")
    buffer = _contiguous(array)
    comm.Bcast(buffer.view(np.uint8) if buffer.dtype == np.bool_ else buffer, root=int(src))
    if buffer is not array:
        array[...] = buffer


def all_gather(
    tensor_list: Sequence[Tensor | np.ndarray],
    tensor: Tensor | np.ndarray,
    group: Any = None,
    async_op: bool = False,
) -> None:
    """Fill ``tensor_list[r]`` with rank ``r``'s ``tensor``, on every rank (``tensor_list``
    has one Tensor/array per rank, each of ``tensor``'s shape and dtype; written in place)."""
    comm = _group()
    size = comm.Get_size()
    source = _array(tensor, "all_gather")
    if len(tensor_list) != size:
        raise ValueError(
            f"all_gather: tensor_list has {len(tensor_list)} entries, the world size is {size}"
        )
    targets = [_array(t, "all_gather") for t in tensor_list]
    for r, target in enumerate(targets):
        if target.shape != source.shape or target.dtype != source.dtype:
            raise ValueError(
                f"all_gather: tensor_list[{r}] is {target.dtype} {target.shape}, but the "
                f"tensor is {source.dtype} {source.shape}"
            )
    gathered = np.empty((size, *source.shape), dtype=source.dtype)
    send = _contiguous(source)
    if source.dtype == np.bool_:
        comm.Allgather(send.view(np.uint8), gathered.view(np.uint8))
    else:
        comm.Allgather(send, gathered)
    for r, target in enumerate(targets):
        target[...] = gathered[r]
