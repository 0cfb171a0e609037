"""Comparisons and logical ops: boolean tensors without gradient."""

from __future__ import annotations

from typing import Any

import numpy as np

from scratchnn.functional.args import operands
from scratchnn.tensor import ArrayLike, Tensor


def _compare(numpy_op: Any) -> Any:
    def compare(a: ArrayLike, b: ArrayLike) -> Tensor:
        """Elementwise comparison; a boolean tensor without gradient."""
        a, b = operands(a, b)
        return Tensor._make(numpy_op(a.data, b.data))

    compare.__name__ = compare.__qualname__ = numpy_op.__name__
    return compare


eq, ne, lt, le, gt, ge = (
    _compare(op) for op in (np.equal, np.not_equal, np.less, np.less_equal, np.greater,
                            np.greater_equal)
)
logical_and, logical_or, logical_xor = (
    _compare(op) for op in (np.logical_and, np.logical_or, np.logical_xor)
)


def logical_not(x: Tensor) -> Tensor:
    """Elementwise not of a boolean tensor (``~mask``); no gradient."""
    return Tensor._make(np.logical_not(x.data))
