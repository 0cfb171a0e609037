"""The ``scratchnn`` command: ``scratchnn run NAME``, ``scratchnn list`` (the seed experiments)
and ``scratchnn train | evaluate | predict`` (a network on your own data).

One module per command (``scratchnn.cli.train``, ``.evaluate``, ``.predict``, ...; the seed
experiments' ``run``/``list`` live in ``scratchnn.experiments.commands``), each with an
``add_commands(subparsers)`` function that adds it to the parser; a subcommand sets
``handler``, which returns the exit status. A command module that is absent is skipped.
Errors a user can fix (bad files, bad options) are ``UsageError``s: one clear line on stderr
and exit status 2, never a traceback. Shared pieces: ``scratchnn.cli.common``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence


class UsageError(Exception):
    """A problem with the user's input that the message alone explains."""


# the modules whose add_commands() build the parser, in the order of ``scratchnn --help``
COMMAND_MODULES = (
    "scratchnn.experiments.commands",
    "scratchnn.cli.train",
    "scratchnn.cli.evaluate",
    "scratchnn.cli.predict",
    "scratchnn.cli.export",
)


def build_parser() -> argparse.ArgumentParser:
    from scratchnn import __version__

    parser = argparse.ArgumentParser(
        prog="scratchnn", description="Train neural networks written from scratch on NumPy."
    )
    parser.add_argument("--version", action="version", version=f"scratchnn {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module_name in COMMAND_MODULES:
        try:
            module = __import__(module_name, fromlist=["add_commands"])
        except ModuleNotFoundError as error:
            if error.name != module_name:
                raise
            continue
        module.add_commands(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    arguments = parser.parse_args(argv)
    try:
        return int(arguments.handler(arguments) or 0)
    except UsageError as error:
        print(f"scratchnn {arguments.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # stdout was closed early (``scratchnn train ... | head``): stop quietly, as Unix
        # tools do, and keep Python from reporting the failed flush at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, what a shell reports for a tool killed by the pipe
