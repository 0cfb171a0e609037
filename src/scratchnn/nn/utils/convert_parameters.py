"""All parameters as one flat vector and back (e.g. for line searches or averaging)."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from scratchnn.tensor import Tensor


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """The parameters' values, flattened and concatenated in order: shape (total,)."""
    return Tensor(np.concatenate([p.data.reshape(-1) for p in parameters]))


def vector_to_parameters(vector: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copy consecutive slices of ``vector`` into the parameters, in place."""
    values = vector.data if isinstance(vector, Tensor) else np.asarray(vector)
    offset = 0
    for p in parameters:
        size = p.data.size
        if offset + size > values.size:
            raise ValueError(f"vector_to_parameters: the vector has {values.size} elements, "
                             "fewer than the parameters")
        p.data[...] = values[offset:offset + size].reshape(p.shape)
        p._changed_in_place()
        offset += size
    if offset != values.size:
        raise ValueError(f"vector_to_parameters: the vector has {values.size} elements, the "
                         f"parameters {offset}")
