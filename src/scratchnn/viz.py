"""Draw the computation graph that ``backward`` walks, as Graphviz DOT text (or SVG).

    >>> loss = ((x @ W + b).relu().sum())                              # doctest: +SKIP
    >>> print(graph(loss, params={"W": W, "b": b}))                     # doctest: +SKIP
    digraph scratchnn {
      ...
      n0 [label="leaf\\n(4, 3)", shape=ellipse];
      n1 [label="W\\n(3, 2)\\nrequires_grad", shape=ellipse, style=filled, ...];
      n2 [label="MatMul\\n(4, 2)", shape=box];
      n0 -> n2;
      n1 -> n2;
      ...
    }

There is one node per op (the ``grad_fn`` of a computed tensor: the op's class name and the
shape of what it computed) and one per leaf tensor (``leaf``, or the parameter's name when
``params`` names it, then its shape; leaves that require a gradient are filled and say
``requires_grad``). Edges run from each input to the op that used it, so the drawing reads
forward; ``backward`` walks the same edges the other way. The walk uses an explicit stack,
so a chain of any length is fine.

Render the text with ``dot -Tsvg graph.dot -o graph.svg``, or call :func:`graph_svg`, which
runs Graphviz's ``dot`` for you when it is installed (Debian: ``apt-get install graphviz``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path

from scratchnn.tensor import Tensor


class GraphvizError(RuntimeError):
    """Graphviz's ``dot`` is not installed, or it failed to render the graph."""


GRAPHVIZ_HINT = ("install Graphviz to see the graph drawn (Debian/Ubuntu: apt-get install "
                 "graphviz; conda: conda install graphviz; macOS: brew install graphviz)")


class Graph(str):
    """The DOT text of :func:`graph` (a ``str``: print it, save it, compare it) that Jupyter
    draws: as SVG (``_repr_svg_``) when Graphviz's ``dot`` is installed, else as the text
    with a note saying how to get Graphviz (``_repr_html_``)."""

    def svg(self) -> str:
        """The graph rendered by ``dot -Tsvg``; :class:`GraphvizError` without Graphviz."""
        return _render_svg(str(self))

    def _repr_svg_(self) -> str | None:
        if shutil.which("dot") is None:
            return None
        try:
            return self.svg()
        except GraphvizError:
            return None

    def _repr_html_(self) -> str | None:
        if shutil.which("dot") is not None:
            return None  # the SVG is shown
        from html import escape

        return (f"<p><i>Graphviz's <code>dot</code> is not installed: "
                f"{escape(GRAPHVIZ_HINT)}.</i></p><pre>{escape(str(self))}</pre>")


def _render_svg(dot_text: str) -> str:
    dot = shutil.which("dot")
    if dot is None:
        raise GraphvizError(
            "graph_svg needs Graphviz's 'dot' program, which is not on PATH; install Graphviz "
            "(Debian/Ubuntu: apt-get install graphviz) or render the text of graph() elsewhere"
        )
    result = subprocess.run([dot, "-Tsvg"], input=dot_text, capture_output=True, text=True,
                            check=False)
    if result.returncode != 0:
        raise GraphvizError(f"dot failed (exit status {result.returncode}): "
                            f"{result.stderr.strip()}")
    return result.stdout


def _quote(text: str) -> str:
    """A DOT double-quoted string; newlines become DOT's ``\\n`` line breaks."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def _parameter_names(params: Mapping[str, Tensor] | Iterable[tuple[str, Tensor]] | None
                     ) -> dict[int, str]:
    if params is None:
        return {}
    items = params.items() if isinstance(params, Mapping) else params
    return {id(tensor): name for name, tensor in items}


def _walk(root: Tensor) -> list[Tensor]:
    """Every tensor ``root`` was computed from (and ``root``), each after all its inputs.

    Depth-first with an explicit stack; each tensor is visited once however often it is used.
    """
    order: list[Tensor] = []
    state: dict[int, bool] = {}  # id -> finished?
    stack: list[tuple[Tensor, bool]] = [(root, False)]
    while stack:
        tensor, inputs_done = stack.pop()
        if inputs_done:
            state[id(tensor)] = True
            order.append(tensor)
            continue
        if id(tensor) in state:
            continue
        state[id(tensor)] = False
        stack.append((tensor, True))
        if tensor.grad_fn is not None:
            for source in reversed(tensor.grad_fn.inputs):  # reversed: first input first
                if id(source) not in state:
                    stack.append((source, False))
    return order


def graph(
    tensor: Tensor,
    params: Mapping[str, Tensor] | Iterable[tuple[str, Tensor]] | None = None,
    name: str = "scratchnn",
) -> Graph:
    """The computation graph behind ``tensor`` as Graphviz DOT text (a :class:`Graph`, which
    is a ``str`` that Jupyter draws as SVG).

    ``params`` names leaves, e.g. ``dict(model.named_parameters())``; other leaves are
    labelled ``leaf``. Nodes are listed inputs first, named ``n0``, ``n1``, ...
    """
    names = _parameter_names(params)
    tensors = _walk(tensor)
    node_id = {id(t): f"n{i}" for i, t in enumerate(tensors)}
    lines = [
        f"digraph {_quote(name)} {{",
        '  node [fontname="Helvetica", fontsize=11];',
        '  edge [color="#555555"];',
    ]
    edges = []
    for t in tensors:
        node = node_id[id(t)]
        if t.grad_fn is None:
            label = f"{names.get(id(t), 'leaf')}\n{tuple(t.shape)}"
            attributes = "shape=ellipse"
            if t.requires_grad:
                label += "\nrequires_grad"
                attributes += ', style=filled, fillcolor="#cfe2f3"'
        else:
            label = f"{type(t.grad_fn).__name__}\n{tuple(t.shape)}"
            attributes = "shape=box"
            if t is tensor:
                attributes += ', style="filled,bold", fillcolor="#f4cccc"'
            edges += [f"  {node_id[id(source)]} -> {node};" for source in t.grad_fn.inputs]
        lines.append(f"  {node} [label={_quote(label)}, {attributes}];")
    return Graph("\n".join([*lines, *edges, "}"]) + "\n")


def graph_svg(
    tensor: Tensor,
    path: str | os.PathLike[str],
    params: Mapping[str, Tensor] | Iterable[tuple[str, Tensor]] | None = None,
) -> Path:
    """Render :func:`graph` of ``tensor`` to an SVG file at ``path`` with Graphviz's ``dot``.

    Raises :class:`GraphvizError` if ``dot`` is not installed or fails. Returns the path.
    """
    svg = _render_svg(graph(tensor, params))
    path = Path(path)
    path.write_text(svg)
    return path


__all__ = ["Graph", "GraphvizError", "graph", "graph_svg"]
