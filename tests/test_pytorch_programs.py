"""Programs written for PyTorch run on scratchnn with only the import changed, and reach the
same numbers. Each script in ``pytorch_programs/`` imports ``torch``; the test runs it as is
(under PyTorch) and with its import lines pointed at scratchnn, and compares ``RESULT``."""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

import numpy as np
import pytest

PROGRAMS = Path(__file__).parent / "pytorch_programs"
SCRIPTS = sorted(path.stem for path in PROGRAMS.glob("*.py"))

# tolerance per program: float32 sums over 2000 points drift a little between libraries
TOLERANCE = {"poly_autograd": 1e-4, "poly_custom_function": 1e-4, "nn_rmsprop": 1e-4,
             "dynamic_net": 1e-4, "moons_classifier": 1e-4, "classifier_loop": 1e-4,
             "tensor_habits": 1e-5}


def with_scratchnn_imports(source: str) -> str:
    """The script with ``torch`` replaced by ``scratchnn`` in its import lines only."""
    def swap(match: re.Match) -> str:
        line = match.group(0)
        if line.strip() == "import torch":
            return "import scratchnn as torch"
        return re.sub(r"\btorch\b", "scratchnn", line, count=1)

    return re.sub(r"^(?:import torch[^\n]*|from torch[^\n]*)$", swap, source, flags=re.M)


def run(source: str, name: str) -> dict:
    module = types.ModuleType(name)
    module.__file__ = str(PROGRAMS / f"{name}.py")
    exec(compile(source, module.__file__, "exec"), module.__dict__)  # noqa: S102
    return module.__dict__["RESULT"]


def assert_same(ours, theirs, tol: float, where: str = "RESULT") -> None:
    if isinstance(theirs, dict):
        assert set(ours) == set(theirs), where
        for key in theirs:
            assert_same(ours[key], theirs[key], tol, f"{where}[{key!r}]")
    elif isinstance(theirs, list | tuple) and theirs and not all(
            isinstance(v, int | float | bool) for v in np.ravel(np.asarray(theirs, dtype=object))):
        assert len(ours) == len(theirs), where
        for i, (mine, other) in enumerate(zip(ours, theirs, strict=True)):
            assert_same(mine, other, tol, f"{where}[{i}]")
    elif isinstance(theirs, str):
        assert ours == theirs, where
    else:
        np.testing.assert_allclose(np.asarray(ours, dtype=np.float64),
                                   np.asarray(theirs, dtype=np.float64),
                                   rtol=tol, atol=tol, err_msg=where)


def test_the_import_swap_changes_only_import_lines():
    source = "import torch\nimport torch.nn as nn\nfrom torch.utils.data import DataLoader\n" \
             "x = torch.ones(2)  # torch stays\n"
    swapped = with_scratchnn_imports(source)
    assert swapped.splitlines() == [
        "import scratchnn as torch", "import scratchnn.nn as nn",
        "from scratchnn.utils.data import DataLoader", "x = torch.ones(2)  # torch stays"]


@pytest.mark.parametrize("name", SCRIPTS)
def test_program_runs_on_scratchnn(name):
    source = (PROGRAMS / f"{name}.py").read_text()
    result = run(with_scratchnn_imports(source), name)
    assert result


@pytest.mark.parametrize("name", SCRIPTS)
def test_program_gives_pytorchs_numbers(name):
    torch = pytest.importorskip("torch")
    source = (PROGRAMS / f"{name}.py").read_text()
    torch.manual_seed(0)
    theirs = run(source, name)
    ours = run(with_scratchnn_imports(source), name)
    assert_same(ours, theirs, TOLERANCE[name])
    assert "scratchnn" not in sys.modules.get("torch", types.ModuleType("x")).__name__
