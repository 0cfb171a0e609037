"""Shared fixtures. Only fixtures live here (the tests import with ``--import-mode=importlib``,
so helper functions are handed out as fixtures rather than imported)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import pytest

import scratchnn.random
from scratchnn.tensor import is_grad_enabled


@pytest.fixture
def rng() -> np.random.Generator:
    """A fresh NumPy generator with a fixed seed: every test sees the same draws."""
    return np.random.default_rng(0)


@pytest.fixture
def seeded() -> Iterator[Callable[[int], np.random.Generator]]:
    """``seeded(n)`` re-seeds scratchnn's global generator (dropout masks, ``randn``); the
    generator's previous state is restored after the test, so other tests are unaffected."""
    state = scratchnn.random.get_rng_state()
    yield scratchnn.random.manual_seed
    scratchnn.random.set_rng_state(state)


@pytest.fixture(autouse=True)
def _grad_mode_is_restored():
    """A test that leaves gradient recording switched off would silently break later tests."""
    yield
    assert is_grad_enabled(), "a test left gradient recording disabled (no_grad not exited)"
