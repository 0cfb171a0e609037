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


def isclose(input: ArrayLike, other: ArrayLike, rtol: float = 1e-05,  # noqa: A002
            atol: float = 1e-08, equal_nan: bool = False) -> Tensor:
    """|input - other| <= atol + rtol * |other| elementwise (a boolean tensor, broadcast)."""
    a, b = operands(input, other)
    return Tensor._make(np.isclose(a.data, b.data, rtol=rtol, atol=atol, equal_nan=equal_nan))


def allclose(input: ArrayLike, other: ArrayLike, rtol: float = 1e-05,  # noqa: A002
             atol: float = 1e-08, equal_nan: bool = False) -> bool:
    """True if ``isclose`` holds for every element (a Python bool)."""
    return bool(isclose(input, other, rtol, atol, equal_nan).data.all())


def equal(input: ArrayLike, other: ArrayLike) -> bool:  # noqa: A002
    """True if both have the same shape and the same elements (a Python bool)."""
    a, b = operands(input, other)
    return a.shape == b.shape and bool(np.array_equal(a.data, b.data))


def isnan(x: Tensor) -> Tensor:
    """Where x is NaN (a boolean tensor)."""
    return Tensor._make(np.isnan(x.data))


def isinf(x: Tensor) -> Tensor:
    """Where x is +inf or -inf (a boolean tensor)."""
    return Tensor._make(np.isinf(x.data))


def isfinite(x: Tensor) -> Tensor:
    """Where x is neither NaN nor infinite (a boolean tensor)."""
    return Tensor._make(np.isfinite(x.data))
