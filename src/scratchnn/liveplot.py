"""``LivePlot``: learning curves redrawn after every epoch (in Jupyter, in place).

::

    from scratchnn.callbacks import LivePlot
    fit(model, loss_fn, optimizer, loader, epochs=20, val_loader=val, callbacks=[LivePlot()])

In a notebook one figure (:func:`scratchnn.plot.plot_history`: a panel per metric, training
and validation curves together) is shown under the cell and replaced after each epoch; with
``path`` the PNG is also rewritten each time, which is how to watch a run from a script.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import Any

from scratchnn.callbacks import Callback, _in_notebook

__all__ = ["LivePlot"]


class LivePlot(Callback):
    """Redraw the learning curves every ``every`` epochs.

    ``metrics``: the names to draw (``'loss'``, ``'accuracy'``, ...; their ``val_`` curves come
    along); default: every number in the epoch logs except ``lr`` and ``time``.
    ``path``: also save the figure there (PNG) at each redraw. ``figures`` counts the redraws.
    """

    def __init__(self, metrics: Sequence[str] | None = None, path: str | os.PathLike[str] | None
                 = None, every: int = 1) -> None:
        if every < 1:
            raise ValueError(f"every must be >= 1, got {every}")
        self.metrics = list(metrics) if metrics is not None else None
        self.path = path
        self.every = int(every)
        self.curves: dict[str, list[float]] = {}
        self.figures = 0
        self._handle: Any = None
        self.figure: Any = None

    def on_train_begin(self, logs: dict[str, Any]) -> None:
        self.curves = {}
        self._handle = None

    def _wanted(self, name: str) -> bool:
        if name in ("lr", "time") or name.startswith("lr_"):
            return False
        if self.metrics is None:
            return True
        return name.removeprefix("val_") in self.metrics

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        n = max((len(v) for v in self.curves.values()), default=0)
        for name, value in logs.items():
            if isinstance(value, int | float) and self._wanted(name):
                column = self.curves.setdefault(name, [math.nan] * n)
                column.append(float(value))
        for column in self.curves.values():
            column.extend([math.nan] * (n + 1 - len(column)))
        if (epoch + 1) % self.every == 0:
            self.draw()

    def on_train_end(self, logs: dict[str, Any]) -> None:
        lengths = {len(v) for v in self.curves.values()}
        if lengths and max(lengths) % self.every:
            self.draw()  # the last epochs since the last redraw

    def draw(self) -> Any:
        """Draw the curves so far (shown or replaced in a notebook, saved to ``path``)."""
        from scratchnn import plot

        if not self.curves:
            return None
        self.figure = plot.plot_history(self.curves)
        self.figures += 1
        if self.path is not None:
            self.figure.savefig(self.path, dpi=self.figure.dpi, format="png")
        if _in_notebook():
            from IPython.display import display

            if self._handle is None:
                self._handle = display(self.figure, display_id=True)
            else:
                self._handle.update(self.figure)
        return self.figure
