"""The library's single source of randomness.

Every random draw in scratchnn (parameter init, dropout masks, DataLoader shuffling,
``randn``/``rand``) goes through :func:`generator`, so ``manual_seed(n)`` makes a whole
run reproducible, like ``torch.manual_seed``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

_generator: np.random.Generator = np.random.default_rng()


def manual_seed(seed: int) -> np.random.Generator:
    """Re-seed the global generator; returns it."""
    global _generator
    _generator = np.random.default_rng(int(seed))
    return _generator


def generator() -> np.random.Generator:
    """The global ``np.random.Generator`` that every random draw in scratchnn uses."""
    return _generator


def get_rng_state() -> dict[str, Any]:
    """A copy of the global generator's state (plain dict; see ``set_rng_state``)."""
    return _generator.bit_generator.state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore a state returned by :func:`get_rng_state`."""
    _generator.bit_generator.state = state
