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

# Allocates and frees arrays of a training step's sizes per round (argv[2]: their element
# counts) and prints how many pages the kernel had to hand out per round.
_CHURN = textwrap.dedent(
    """
    import resource, sys, numpy as np
    import scratchnn
    if sys.argv[1] == "fit":  # a tiny fit applies the setting
        from scratchnn import nn, optim
        from scratchnn.data import DataLoader, TensorDataset
        from scratchnn.train import fit
        model = nn.Linear(2, 2)
        x, y = np.zeros((4, 2), np.float32), np.zeros(4, np.int64)
        fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1),
            DataLoader(TensorDataset(x, y), batch_size=2), epochs=1, verbose=0)
    def faults():
        return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    sizes = [int(size) for size in sys.argv[2].split(",")]
    def step():
        arrays = [np.ones(size, np.float32) for size in sizes]
        del arrays
    for _ in range(5):  # let the heap reach its working size first
        step()
    before = faults()
    for _ in range(100):
        step()
    applied = scratchnn.allocator.keep_freed_memory() if sys.argv[1] == "call" else None
    print(applied, (faults() - before) / 100)
    """
)


MLP_STEP = (100_352, 100_352)  # two 784x128 float32 arrays (a gradient, a temporary): 392 KiB
CNN_STEP = (1_605_632,) * 8  # eight 64x32x28x28 float32 activations: 6.4 MB each, 51 MB


def _run_churn(how: str = "call", sizes: tuple[int, ...] = MLP_STEP,
               **environment: str) -> tuple[str, float]:
    """``how``: 'call' (keep_freed_memory() before the churn; prints what it returned),
    'fit' (a tiny fit first) or 'import' (only ``import scratchnn``)."""
    if how == "call":  # apply it first, print its result after
        code = _CHURN.replace("import scratchnn\n", "import scratchnn\n"
                              "scratchnn.allocator.keep_freed_memory()\n", 1)
    else:
        code = _CHURN
    result = subprocess.run(
        [sys.executable, "-c", code, how, ",".join(map(str, sizes))],
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
def test_a_step_that_frees_more_than_32_mib_keeps_its_memory_too():
    # a CNN step frees several MB-sized activations at once; a trim threshold below what it
    # frees (the first setting here had 32 MiB) handed them back to the kernel every step
    applied, faults_per_round = _run_churn(sizes=CNN_STEP)
    assert applied == "True"
    assert faults_per_round < 10  # 12,544 pages per round if they came fresh


@needs_glibc
def test_import_leaves_malloc_alone_and_fit_applies_the_setting():
    _, faults_after_import = _run_churn("import")
    assert faults_after_import > 50  # glibc's defaults: import scratchnn changed nothing
    _, faults_after_fit = _run_churn("fit")
    assert faults_after_fit < 10


@needs_glibc
def test_the_environment_variable_leaves_malloc_alone(monkeypatch):
    monkeypatch.setenv(allocator.ENVIRONMENT_VARIABLE, "0")
    assert allocator.keep_freed_memory() is False


def test_other_systems_are_left_alone(monkeypatch):
    monkeypatch.setattr(allocator, "_applied", False)  # as in a fresh process
    monkeypatch.setattr(allocator.sys, "platform", "darwin")
    assert allocator.keep_freed_memory() is False
