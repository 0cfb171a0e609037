"""What every experiment shares: where it writes and how it reports.

An experiment prints its report with ``print`` (as the seed does), draws its figures through
:mod:`scratchnn.plot` and returns its figures as a dict, also written to ``metrics.json``::

    report = Report("circle", out)                    # runs/circle/ unless out is given
    report.plot("loss.png", plot.plot_curves, {"train": losses}, title="Training loss")
    return report.finish({"dev_loss": dev_loss, ...})  # adds "plots", writes metrics.json

matplotlib is optional: without it ``report.plot`` draws nothing and prints
``plots skipped: install scratchnn[plot]`` once on stderr; the run goes on.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from scratchnn import plot
from scratchnn.callbacks import plain

PLOTS_SKIPPED = "plots skipped: install scratchnn[plot]"


class Report:
    """The output of one experiment run: the directory ``out`` (default ``runs/NAME/``,
    created), the plots drawn so far (``plots``, file names) and ``metrics.json``."""

    def __init__(self, name: str, out: str | Path | None) -> None:
        self.name = name
        self.out = Path("runs") / name if out is None else Path(out)
        self.out.mkdir(parents=True, exist_ok=True)
        self.plots: list[str] = []
        self._skipped = False

    def plot(self, filename: str, draw: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """``draw(*args, path=out/filename, **kwargs)`` (a :mod:`scratchnn.plot` function);
        without matplotlib, nothing (and the "plots skipped" notice, once)."""
        try:
            draw(*args, path=self.out / filename, **kwargs)
        except ImportError as error:
            if str(error) != plot.INSTALL_HINT:
                raise
            if not self._skipped:
                print(PLOTS_SKIPPED, file=sys.stderr)
                self._skipped = True
            return
        self.plots.append(filename)

    def finish(self, metrics: dict[str, Any]) -> dict[str, Any]:
        """Add ``'experiment'`` and ``'plots'`` to ``metrics``, write them to
        ``out/metrics.json`` (arrays as nested lists) and return them."""
        metrics = {"experiment": self.name, **metrics, "plots": self.plots}
        (self.out / "metrics.json").write_text(json.dumps(plain(metrics), indent=2) + "\n")
        return metrics
