"""Notebook support: rich displays (summary as HTML, the graph as SVG or a hint, plots shown
once), the LivePlot callback, and docs/*.ipynb executed end to end with nbclient."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

import scratchnn as sn
from scratchnn import nn, optim, plot, viz
from scratchnn.callbacks import LivePlot
from scratchnn.data import DataLoader, TensorDataset
from scratchnn.summary import summary
from scratchnn.train import fit

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_summary_renders_as_an_html_table() -> None:
    model = nn.Sequential(nn.Linear(3, 5), nn.ReLU(), nn.Linear(5, 2))
    table = summary(model, (3,))
    html = table._repr_html_()
    assert html.count("<tr>") == 1 + len(table.rows)  # header + one row per layer
    for row in table.rows:
        assert f"<td>{row.name}</td><td>{row.type}</td>" in html
    assert f"Total params: {table.total_params:,}" in html and "32" in html
    assert str(table).startswith('Model: "Sequential"')  # printing is unchanged


def test_graph_is_dot_text_with_an_svg_or_a_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    w = sn.tensor(np.ones((2, 2), dtype=np.float32), requires_grad=True)
    dot = viz.graph((sn.tensor(np.ones((1, 2), dtype=np.float32)) @ w).sum(), {"w": w})
    assert isinstance(dot, str) and dot.startswith("digraph")
    monkeypatch.setattr(shutil, "which", lambda name: None)
    assert dot._repr_svg_() is None
    hint = dot._repr_html_()
    assert "apt-get install graphviz" in hint and "digraph" in hint
    monkeypatch.undo()
    if shutil.which("dot") is None:
        pytest.skip("Graphviz's dot is not installed")
    svg = dot._repr_svg_()
    assert svg is not None and "<svg" in svg and dot._repr_html_() is None


def test_plots_in_a_notebook_are_shown_once(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("matplotlib")
    plt = plot._pyplot()
    plt.close("all")
    figure = plot.plot_history({"loss": [1.0, 0.5]})
    assert plt.fignum_exists(figure.number)  # a script: pyplot keeps it for plt.show()
    plt.close("all")
    monkeypatch.setattr(plot, "_inline_backend", lambda: True)
    figure = plot.plot_history({"loss": [1.0, 0.5]})
    assert plt.get_fignums() == []  # the inline backend will not draw it a second time
    assert figure.axes  # the returned figure is whole, and shows as the cell's value


def test_live_plot_redraws_every_n_epochs(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    sn.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 2))
    x = np.random.default_rng(0).normal(size=(64, 2)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    loader = DataLoader(TensorDataset(x, y), batch_size=16)
    live = LivePlot(path=tmp_path / "curves.png", every=2)
    fit(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=0.01), loader,
        epochs=5, val_loader=loader, callbacks=[live], verbose=0)
    assert live.figures == 3  # after epochs 2 and 4, and the last (5)
    assert set(live.curves) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(len(values) == 5 for values in live.curves.values())
    assert (tmp_path / "curves.png").stat().st_size > 1000
    assert [ax.get_title() for ax in live.figure.axes][:2] == ["loss", "accuracy"]


@pytest.mark.parametrize("notebook", sorted(DOCS.glob("*.ipynb")), ids=lambda p: p.name)
def test_docs_notebooks_run(notebook: Path, tmp_path: Path,
                            monkeypatch: pytest.MonkeyPatch) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    pytest.importorskip("matplotlib")
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel's inline backend
    nb = nbformat.read(notebook, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError naming the cell on any error
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    kinds = [set(o.get("data", {})) for o in outputs]
    if notebook.name == "admissions.ipynb":
        assert any("text/html" in k and "Total params" in o["data"]["text/html"]
                   for k, o in zip(kinds, outputs, strict=True))  # summary()
        images = [o for o in outputs if "image/png" in o.get("data", {})]
        assert len(images) == 2  # the LivePlot (updated in place) and plot_history, once each
