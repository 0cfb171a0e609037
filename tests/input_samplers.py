"""How the op tests draw their inputs: each sampler takes a NumPy generator and returns one
array. Shared by test_ops_gradcheck.py and test_parity_ops.py (importable because
conftest.py puts this folder on sys.path)."""

from __future__ import annotations


def normal(*shape):
    return lambda rng: rng.standard_normal(shape)


def uniform(low, high, *shape):
    return lambda rng: rng.uniform(low, high, shape)


def positive(*shape):
    return uniform(0.5, 2.0, *shape)


def probability(*shape):
    return uniform(0.05, 0.95, *shape)
