"""Data-parallel training over processes: :class:`DistributedDataParallel` (PyTorch's name).

Every process (rank) holds the same model and takes its own shard of each global batch; after
``loss.backward()`` the gradients are averaged over the ranks, so each optimizer step is the
one a single process would take on the whole global batch (with equal shards)::

    import scratchnn.distributed as dist
    from scratchnn.nn.parallel import DistributedDataParallel as DDP

    dist.init_process_group("mpi")
    model = DDP(build_model())               # rank 0's weights are copied to every rank
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    ...
    loss_fn(model(x_shard), y_shard).backward()   # gradients arrive averaged over ranks
    optimizer.step()

How the gradients travel
------------------------
The parameters are grouped, in reverse registration order (roughly the order backward
produces their gradients) and by dtype, into *buckets* of at most ``bucket_cap_mb`` MiB
(25 by default, as in PyTorch). Each parameter has a post-accumulate-grad hook; the first one
to fire in a backward pass queues one callback that runs when that backward has finished:
it copies each bucket's gradients into one flat buffer, sums the buffer over the ranks with a
single in-place MPI ``Allreduce``, divides by the world size and copies the averages back
into ``param.grad``. So a model under 25 MiB costs exactly one allreduce per step.

A parameter that got no gradient on some rank (a branch not taken there) counts as a zero
gradient on that rank; a count of the ranks that had one travels in the same buffer, so a
parameter with a gradient on no rank keeps ``grad = None`` everywhere, and one with a gradient
on any rank gets the same averaged gradient on every rank.
"""

from __future__ import annotations

import contextlib
import weakref
import zlib
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from scratchnn import distributed
from scratchnn.nn.module import Module, Parameter
from scratchnn.tensor import Tensor, is_grad_enabled

__all__ = ["DistributedDataParallel", "unwrap_model"]

_MIB = 1024 * 1024
DEFAULT_BUCKET_CAP_MB = 25.0


def _grad_array(param: Tensor) -> np.ndarray | None:
    grad = param.grad
    if grad is None:
        return None
    return grad.data if isinstance(grad, Tensor) else np.asarray(grad)


def _array(value: Tensor | np.ndarray) -> np.ndarray:
    return value.data if isinstance(value, Tensor) else value


class _Bucket:
    """Parameters of one dtype whose gradients travel in one flat buffer.

    Layout of ``buffer``: the gradients one after another (``offsets``), then one slot per
    parameter holding 1 if this rank has a gradient for it (summed: how many ranks had one).
    """

    def __init__(self, params: list[Parameter]) -> None:
        self.params = params
        self.sizes = [p.data.size for p in params]
        self.offsets = np.concatenate([[0], np.cumsum(self.sizes)]).astype(int).tolist()
        self.numel = self.offsets[-1]
        self.buffer = np.zeros(self.numel + len(params), dtype=params[0].data.dtype)

    @property
    def nbytes(self) -> int:
        return self.buffer.nbytes

    def reduce(self, world_size: int) -> None:
        """Average the gradients of ``params`` over all ranks, in place (one allreduce)."""
        buffer, offsets = self.buffer, self.offsets
        flags = buffer[self.numel :]
        for i, param in enumerate(self.params):
            grad = _grad_array(param)
            piece = buffer[offsets[i] : offsets[i + 1]]
            if grad is None:
                piece.fill(0)
                flags[i] = 0
            else:
                piece[...] = grad.reshape(-1)
                flags[i] = 1
        distributed.all_reduce(buffer)
        buffer[: self.numel] *= buffer.dtype.type(1.0 / world_size)
        for i, param in enumerate(self.params):
            if flags[i] == 0:  # no rank had a gradient for it
                continue
            average = buffer[offsets[i] : offsets[i + 1]].reshape(param.data.shape)
            grad = _grad_array(param)
            if grad is None:
                param.grad = Tensor._make(average.copy())
            else:
                np.copyto(grad, average)


def _broadcast_coalesced(arrays: Iterable[np.ndarray], src: int, cap_bytes: int) -> None:
    """Copy rank ``src``'s ``arrays`` to every rank: same-dtype arrays are packed into flat
    buffers of at most ``cap_bytes`` (one Bcast each) instead of one Bcast per array."""
    groups: dict[np.dtype, list[np.ndarray]] = {}
    for array in arrays:
        groups.setdefault(array.dtype, []).append(array)
    for members in groups.values():
        chunks: list[list[np.ndarray]] = [[]]
        size = 0
        for array in members:
            if chunks[-1] and size + array.nbytes > cap_bytes:
                chunks.append([])
                size = 0
            chunks[-1].append(array)
            size += array.nbytes
        for chunk in chunks:
            flat = np.concatenate([a.reshape(-1) for a in chunk])
            distributed.broadcast(flat, src)
            start = 0
            for member in chunk:
                member[...] = flat[start : start + member.size].reshape(member.shape)
                start += member.size


def _signature(module: Module) -> str:
    """Names, shapes and dtypes of the parameters and buffers (must match on every rank)."""
    parts = [
        f"{n}:{tuple(p.shape)}:{p.dtype}:{p.requires_grad}" for n, p in module.named_parameters()
    ]
    parts += [f"{n}:{tuple(_array(b).shape)}:{_array(b).dtype}" for n, b in module.named_buffers()]
    return ";".join(parts)


class DistributedDataParallel(Module):
    """Wrap ``module`` for data-parallel training over the ranks of the process group.

    At construction (every rank must construct it, in the same order as other collectives):
    checks that the model has the same parameters and buffers on every rank, then copies rank
    0's parameters and buffers to all ranks. Calling it runs ``module`` (in training mode with
    ``broadcast_buffers``, rank 0's buffers, e.g. BatchNorm's running statistics, are copied
    to every rank first). After each ``backward()`` every parameter's ``grad`` holds the
    average of the ranks' gradients (see the module docstring for the buckets); inside
    ``with ddp.no_sync():`` gradients only accumulate locally (for gradient accumulation; the
    first backward outside averages what has accumulated).

    As in PyTorch, the wrapped model is ``ddp.module`` and it is a child module, so
    ``ddp.state_dict()`` keys start with ``"module."`` and ``ddp.load_state_dict`` expects
    them. Save ``ddp.module.state_dict()`` (or :func:`unwrap_model`) for weights the plain
    model loads in one process, as ``fit``'s ``ModelCheckpoint`` does; load such a file into
    ``ddp.module`` (``load_checkpoint(path, ddp.module, optimizer)``), or into the model
    before wrapping it.

    ``bucket_cap_mb``: bucket size in MiB (default 25). ``device_ids``/``output_device``
    must be None (CPU only); ``dim``, ``process_group`` (only the default group exists),
    ``find_unused_parameters`` (unused parameters are always handled) and the other PyTorch
    keywords are accepted for compatibility.
    """

    def __init__(
        self,
        module: Module,
        device_ids: Any = None,
        output_device: Any = None,
        dim: int = 0,
        broadcast_buffers: bool = True,
        init_sync: bool = True,
        process_group: Any = None,
        bucket_cap_mb: float | None = None,
        find_unused_parameters: bool = False,
        check_reduction: bool = False,
        gradient_as_bucket_view: bool = False,
        static_graph: bool = False,
    ) -> None:
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(
                f"DistributedDataParallel: expected a Module, got {type(module).__name__}"
            )
        if isinstance(module, DistributedDataParallel):
            raise TypeError("DistributedDataParallel: the module is already wrapped")
        if device_ids is not None or output_device is not None:
            raise ValueError(
                "DistributedDataParallel: device_ids and output_device must be None "
                "(scratchnn runs on the CPU)"
            )
        if not distributed.is_initialized():
            raise RuntimeError(
                "DistributedDataParallel: call scratchnn.distributed.init_process_group() "
                "first (and launch with mpiexec -n N python -m mpi4py script.py)"
            )
        cap_mb = DEFAULT_BUCKET_CAP_MB if bucket_cap_mb is None else float(bucket_cap_mb)
        if not cap_mb > 0:
            raise ValueError(f"DistributedDataParallel: bucket_cap_mb must be > 0, got {cap_mb}")
        self.module = module
        self.dim = dim
        self.broadcast_buffers = bool(broadcast_buffers)
        self.bucket_bytes_cap = int(cap_mb * _MIB)
        self.find_unused_parameters = bool(find_unused_parameters)
        self.require_backward_grad_sync = True
        self.world_size = distributed.get_world_size()
        self._queued = False

        self._check_same_model_everywhere()
        if init_sync:
            arrays = [p.data for p in module.parameters()] + [_array(b) for b in module.buffers()]
            _broadcast_coalesced(arrays, 0, self.bucket_bytes_cap)
        self._buckets = self._make_buckets()
        self._handles = []
        self_ref = weakref.ref(self)

        def hook(param: Tensor) -> None:
            ddp = self_ref()
            if ddp is not None:
                ddp._grad_ready()

        for bucket in self._buckets:
            for param in bucket.params:
                self._handles.append(param.register_post_accumulate_grad_hook(hook))

    # ------------------------------------------------------------------- set-up
    def _check_same_model_everywhere(self) -> None:
        signature = _signature(self.module)
        mine = np.array([zlib.crc32(signature.encode()), len(signature)], dtype=np.int64)
        everyone = [np.zeros_like(mine) for _ in range(self.world_size)]
        distributed.all_gather(everyone, mine)
        differing = [r for r, theirs in enumerate(everyone) if not np.array_equal(theirs, mine)]
        if differing:
            raise RuntimeError(
                f"DistributedDataParallel: rank {distributed.get_rank()}'s model differs from "
                f"rank(s) {differing}'s (parameter/buffer names, shapes or dtypes); build the "
                "same model on every rank"
            )

    def _make_buckets(self) -> list[_Bucket]:
        """Trainable parameters, last registered first, cut into same-dtype buckets of at
        most ``bucket_bytes_cap`` bytes (a larger parameter gets a bucket of its own)."""
        params = [p for p in self.module.parameters() if p.requires_grad]
        buckets: list[_Bucket] = []
        open_: dict[np.dtype, tuple[list[Parameter], int]] = {}
        for param in reversed(params):
            members, size = open_.get(param.dtype, ([], 0))
            if members and size + param.data.nbytes > self.bucket_bytes_cap:
                buckets.append(_Bucket(members))
                members, size = [], 0
            members.append(param)
            open_[param.dtype] = (members, size + param.data.nbytes)
        buckets.extend(_Bucket(members) for members, _ in open_.values() if members)
        return buckets

    # ---------------------------------------------------------------- gradients
    def _grad_ready(self) -> None:
        """A parameter's gradient was accumulated: make sure the reduction runs at the end
        of this backward (once)."""
        if self._queued or not self.require_backward_grad_sync:
            return
        from scratchnn.tensor import queue_callback  # the engine's end-of-backward queue

        self._queued = True
        queue_callback(self._reduce_gradients)

    def _reduce_gradients(self) -> None:
        self._queued = False
        for bucket in self._buckets:
            bucket.reduce(self.world_size)

    @contextlib.contextmanager
    def no_sync(self) -> Iterator[None]:
        """Inside: backward accumulates gradients locally, without communication."""
        previous = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous

    # ------------------------------------------------------------------ forward
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        self._queued = False  # a backward that raised never ran its queued reduction
        if self.broadcast_buffers and self.training and is_grad_enabled():
            buffers = [_array(b) for b in self.module.buffers()]
            if buffers:
                _broadcast_coalesced(buffers, 0, self.bucket_bytes_cap)
        return self.module(*args, **kwargs)

    def extra_repr(self) -> str:
        return f"world_size={self.world_size}, buckets={len(self._buckets)}"


def unwrap_model(model: Module) -> Module:
    """The model inside a :class:`DistributedDataParallel` (``model.module``), else ``model``."""
    return model.module if isinstance(model, DistributedDataParallel) else model
