"""scratchnn.allocator: freed array memory stays mapped between training steps."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from scratchnn import allocator

needs_glibc = pytest.mark.skipif(
    not (sys.platform.startswith("linux") and allocator._is_glibc()), reason="glibc only"
)

# Allocates and frees two arrays of a training step's size per round (a 784x128 float32
# gradient is 392 KiB) and prints how many pages the kernel had to hand out per round.
_CHURN = textwrap.dedent(
    """
    import resource, numpy as np
    import scratchnn
    def faults():
        return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    def step():
        weight_grad, temporary = np.ones(100_352, np.float32), np.ones(100_352, np.float32)
        del weight_grad, temporary
    for _ in range(5):  # let the heap reach its working size first
        step()
    before = faults()
    for _ in range(100):
        step()
    print(scratchnn.allocator.keep_freed_memory(), (faults() - before) / 100)
    """
)


def _run_churn(**environment: str) -> tuple[str, float]:
    result = subprocess.run(
        [sys.executable, "-c", _CHURN],
        capture_output=True, text=True, check=True, env={**os.environ, **environment},
    )
    applied, faults_per_round = result.stdout.split()
    return applied, float(faults_per_round)


@needs_glibc
def test_freed_arrays_are_reused_without_new_page_faults():
    applied, faults_per_round = _run_churn()
    assert applied == "True"
    assert faults_per_round < 10  # 196 pages per round if they came fresh from the kernel
    # the control: glibc's defaults give these pages back and fault them in again
    applied, untuned_faults_per_round = _run_churn(**{allocator.ENVIRONMENT_VARIABLE: "0"})
    assert applied == "False"
    assert untuned_faults_per_round > 50


@needs_glibc
def test_the_environment_variable_leaves_malloc_alone(monkeypatch):
    monkeypatch.setenv(allocator.ENVIRONMENT_VARIABLE, "0")
    assert allocator.keep_freed_memory() is False


def test_other_systems_are_left_alone(monkeypatch):
    monkeypatch.setattr(allocator.sys, "platform", "darwin")
    assert allocator.keep_freed_memory() is False
