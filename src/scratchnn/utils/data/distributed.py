"""``scratchnn.utils.data.distributed``: PyTorch's path to :class:`DistributedSampler`."""

from scratchnn.data.sampler import DistributedSampler

__all__ = ["DistributedSampler"]
