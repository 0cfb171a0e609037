"""scratchnn's benchmark: scratchnn against PyTorch, a hand-written NumPy MLP and the bare matmuls.

Run it with ``python -m bench`` (or ``make bench``); ``python -m bench --help`` lists the options
and bench/README.md says what each row measures. PyTorch is imported only inside the functions
that need it, so ``python -m bench.rss scratchnn`` never loads it.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"

# From a plain checkout (no ``pip install -e .``) scratchnn lives in src/: make it importable.
if importlib.util.find_spec("scratchnn") is None and (SRC / "scratchnn").is_dir():
    sys.path.insert(0, str(SRC))


def child_environment() -> dict[str, str]:
    """This process's environment, with src/ and the repository first on PYTHONPATH, for a
    ``python -m bench.<module>`` child process."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(SRC), str(ROOT), *filter(None, [env.get("PYTHONPATH")])]
    )
    return env


def round_order(contestants: Iterable[T], round_number: int, alternate: bool = True) -> list[T]:
    """The contestants in the order round ``round_number`` runs them: as given, or with
    ``alternate`` reversed every other round (A B C, C B A, ...), so that none always runs
    first."""
    order = list(contestants)
    return order[::-1] if alternate and round_number % 2 else order
