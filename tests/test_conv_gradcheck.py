"""The convolution, pooling, normalization, padding and embedding ops' backward passes against
central finite differences in float64 (``scratchnn.gradcheck``), on small shapes with the
options that change the index arithmetic (stride, padding, dilation, groups, ceil_mode)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import scratchnn.functional as F
from scratchnn import gradcheck
from scratchnn.tensor import Tensor


def _inputs(*shapes: tuple[int, ...], seed: int = 0) -> list[Tensor]:
    rng = np.random.default_rng(seed)
    return [Tensor(rng.standard_normal(shape), requires_grad=True, dtype=np.float64)
            for shape in shapes]


CASES: list[tuple[str, Callable[..., Any], list[tuple[int, ...]]]] = [
    ("conv2d", lambda x, w, b: F.conv2d(x, w, b), [(2, 2, 4, 5), (3, 2, 3, 2), (3,)]),
    ("conv2d strided padded dilated", lambda x, w, b: F.conv2d(x, w, b, (2, 1), (1, 2), (2, 1)),
     [(1, 2, 5, 4), (2, 2, 2, 3), (2,)]),
    ("conv2d groups", lambda x, w: F.conv2d(x, w, padding="same", groups=2),
     [(2, 4, 3, 3), (4, 2, 2, 3)]),
    ("conv2d depthwise", lambda x, w, b: F.conv2d(x, w, b, 2, 1, groups=3),
     [(1, 3, 5, 5), (3, 1, 3, 3), (3,)]),
    ("conv1d", lambda x, w, b: F.conv1d(x, w, b, 2, 1), [(2, 3, 7), (2, 3, 3), (2,)]),
    ("conv_transpose2d", lambda x, w, b: F.conv_transpose2d(x, w, b, 2, 1, 1),
     [(1, 2, 3, 3), (2, 3, 3, 3), (3,)]),
    ("conv_transpose2d groups dilation",
     lambda x, w: F.conv_transpose2d(x, w, None, (1, 2), 0, 0, 2, (2, 1)),
     [(2, 4, 2, 3), (4, 1, 2, 2)]),
    ("max_pool2d", lambda x: F.max_pool2d(x, 2), [(2, 2, 4, 6)]),
    ("max_pool2d overlapping ceil", lambda x: F.max_pool2d(x, 3, 2, 1, ceil_mode=True),
     [(1, 2, 6, 5)]),
    ("max_pool2d dilated", lambda x: F.max_pool2d(x, 2, 1, dilation=2), [(1, 1, 5, 5)]),
    ("avg_pool2d", lambda x: F.avg_pool2d(x, 2), [(2, 2, 4, 4)]),
    ("avg_pool2d padded ceil", lambda x: F.avg_pool2d(x, 3, 2, 1, True, False),
     [(1, 2, 6, 5)]),
    ("adaptive_avg_pool2d", lambda x: F.adaptive_avg_pool2d(x, (2, 3)), [(2, 2, 5, 7)]),
    ("unfold", lambda x: F.unfold(x, (2, 3), 1, 1, (1, 2)), [(1, 2, 4, 5)]),
    ("fold", lambda x: F.fold(x, (4, 5), 2, 1, 0, 1), [(1, 8, 12)]),
    ("pad constant", lambda x: F.pad(x, (1, 2, -1, 1)), [(1, 2, 3, 4)]),
    ("pad reflect", lambda x: F.pad(x, (2, 1, 1, 2), "reflect"), [(1, 2, 3, 4)]),
    ("pad circular", lambda x: F.pad(x, (2, 1), "circular"), [(2, 2, 3)]),
    ("batch_norm train", lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
     [(4, 3, 2, 2), (3,), (3,)]),
    ("batch_norm eval",
     lambda x, w, b: F.batch_norm(x, np.array([0.1, -0.2, 0.3]), np.array([1.5, 0.5, 2.0]), w,
                                  b),
     [(4, 3, 2), (3,), (3,)]),
    ("layer_norm", lambda x, w, b: F.layer_norm(x, (3, 4), w, b), [(2, 3, 4), (3, 4), (3, 4)]),
    ("group_norm", lambda x, w, b: F.group_norm(x, 2, w, b), [(2, 4, 3), (4,), (4,)]),
    ("embedding", lambda w: F.embedding(Tensor(np.array([[0, 2, 2], [3, 0, 1]])), w),
     [(4, 3)]),
]


@pytest.mark.parametrize("name, function, shapes", CASES, ids=[c[0] for c in CASES])
def test_gradcheck(name: str, function: Callable[..., Any], shapes: list) -> None:
    assert gradcheck(function, _inputs(*shapes))


def test_gradcheck_catches_a_wrong_conv_gradient(monkeypatch: pytest.MonkeyPatch) -> None:
    """The check can fail: a conv whose weight gradient is off by 1% is caught."""
    from scratchnn.ops.conv import Conv2d

    backward = Conv2d.backward

    def wrong(self: Any, grad_output: np.ndarray) -> Any:
        dx, dw, db = backward(self, grad_output)
        return dx, dw * 1.01, db

    monkeypatch.setattr(Conv2d, "backward", wrong)
    with pytest.raises(AssertionError):
        gradcheck(lambda x, w: F.conv2d(x, w), _inputs((1, 1, 3, 3), (1, 1, 2, 2)))
