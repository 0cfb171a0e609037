"""``scratchnn list`` and ``scratchnn run NAME [options]``: the seed experiments on the command
line. Each option is passed to the experiment's ``run()`` only when given, and only if that
experiment takes it (``--lr`` to ``manual-backprop`` is a usage error, not silently ignored).
"""

from __future__ import annotations

import argparse
import inspect
from pathlib import Path
from typing import Any

from scratchnn.cli import UsageError
from scratchnn.experiments import EXPERIMENTS, describe, load, names

# options on the command line, each the keyword of run() with the same name
_OPTIONS = ("seed", "epochs", "out", "data", "dataset", "lr")


def add_commands(subparsers: Any) -> None:
    """Add ``run`` and ``list`` to the ``scratchnn`` parser."""
    run = subparsers.add_parser(
        "run",
        help="run one of the seed experiments",
        description="Run a seed experiment: it prints its report and writes metrics.json "
        "and its plots (PNG, if matplotlib is installed) to --out.",
        epilog="experiments: " + ", ".join(names()) + " (see 'scratchnn list')",
    )
    run.add_argument("name", metavar="NAME", help="experiment name (see 'scratchnn list')")
    run.add_argument("--seed", type=int, help="random seed (default: the experiment's own)")
    run.add_argument("--epochs", type=int, help="number of epochs (default: the seed's)")
    run.add_argument("--out", type=Path, metavar="DIR", help="output directory "
                     "(default: runs/NAME/)")
    run.add_argument("--data", metavar="DIR", help="directory with the MNIST-format IDX files "
                     "(image experiments)")
    run.add_argument("--dataset", choices=["fashion-mnist", "mnist"],
                     help="image data set (default: fashion-mnist)")
    run.add_argument("--lr", type=float, help="learning rate (default: the seed's)")
    run.set_defaults(handler=run_command)

    listing = subparsers.add_parser("list", help="list the seed experiments",
                                    description="List the seed experiments.")
    listing.set_defaults(handler=list_command)


def list_command(arguments: argparse.Namespace) -> int:
    width = max(map(len, EXPERIMENTS))
    for name in names():
        print(f"{name:<{width}}  {describe(name)}")
    return 0


def run_command(arguments: argparse.Namespace) -> int:
    name = arguments.name
    if name not in EXPERIMENTS:
        raise UsageError(f"unknown experiment {name!r}; choose from: {', '.join(names())}")
    if arguments.epochs is not None and arguments.epochs < 1:
        raise UsageError(f"--epochs must be at least 1, got {arguments.epochs}")
    if arguments.lr is not None and not arguments.lr > 0:
        raise UsageError(f"--lr must be positive, got {arguments.lr}")
    if arguments.seed is not None and not 0 <= arguments.seed < 2**32:
        raise UsageError(f"--seed must be in 0..2**32-1, got {arguments.seed}")

    module = load(name)
    accepted = inspect.signature(module.run).parameters
    options: dict[str, Any] = {}
    for option in _OPTIONS:
        value = getattr(arguments, option)
        if value is None:
            continue
        if option not in accepted:
            raise UsageError(f"experiment {name!r} does not take --{option}")
        options[option] = value
    out = Path(options.get("out") or Path("runs") / name)
    options["out"] = out

    from scratchnn.data import DataError

    try:
        module.run(**options)
    except DataError as error:
        raise UsageError(str(error)) from None
    except OSError as error:  # e.g. --out not writable
        raise UsageError(f"{error.filename or out}: {error.strerror}") from None
    print(f"results written to {out}/")
    return 0
