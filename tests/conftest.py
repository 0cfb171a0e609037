"""Shared fixtures. The tests import with ``--import-mode=importlib``, so helpers are handed
out as fixtures, or (when a test module needs them at import time, e.g. in a parametrize
list) live in a module of this folder, which is put on ``sys.path`` here."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

import scratchnn.random
from scratchnn.tensor import is_grad_enabled

sys.path.insert(0, str(Path(__file__).parent))


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


@pytest.fixture
def torch():
    """PyTorch (the ``parity`` extra) in float64 by default; the test skips without it."""
    return pytest.importorskip("torch")
