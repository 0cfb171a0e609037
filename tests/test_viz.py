"""scratchnn.viz: the computation graph as Graphviz DOT text (and SVG through ``dot``)."""

from __future__ import annotations

import re
import shutil

import numpy as np
import pytest

import scratchnn as sn
from scratchnn import nn, viz
from scratchnn.viz import GraphvizError, graph, graph_svg

NODE = re.compile(r'^\s*(n\d+) \[label="((?:[^"\\]|\\.)*)"(.*)\];$')
EDGE = re.compile(r"^\s*(n\d+) -> (n\d+);$")


def parse(dot: str) -> tuple[dict[str, tuple[str, str]], list[tuple[str, str]]]:
    """Check the DOT text's structure and return ``{id: (label, attributes)}`` and the edges.

    Braces balance (outside quoted strings), there is exactly one digraph block, and every
    edge endpoint is a declared node.
    """
    depth, in_quotes, escaped = 0, False, False
    for char in dot:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"':
            in_quotes = not in_quotes
        elif not in_quotes and char in "{}":
            depth += 1 if char == "{" else -1
            assert depth >= 0, "a closing brace before its opening one"
    assert depth == 0 and not in_quotes
    lines = dot.strip().splitlines()
    assert lines[0].startswith("digraph ") and lines[0].endswith("{") and lines[-1] == "}"
    nodes: dict[str, tuple[str, str]] = {}
    edges: list[tuple[str, str]] = []
    for line in lines[1:-1]:
        if match := NODE.match(line):
            assert match[1] not in nodes, f"node {match[1]} declared twice"
            label = re.sub(r"\\(.)", lambda m: "\n" if m[1] == "n" else m[1], match[2])
            nodes[match[1]] = (label, match[3])
        elif match := EDGE.match(line):
            edges.append((match[1], match[2]))
        else:
            assert re.match(r"^\s*(node|edge|graph) \[.*\];$", line), f"unexpected line {line!r}"
    for source, target in edges:
        assert source in nodes and target in nodes, f"edge {source} -> {target} to nowhere"
    return nodes, edges


def labelled_edges(dot: str) -> list[tuple[str, str]]:
    nodes, edges = parse(dot)
    return sorted((nodes[a][0], nodes[b][0]) for a, b in edges)


@pytest.fixture
def linear_relu_sum() -> tuple[sn.Tensor, dict[str, sn.Tensor]]:
    x = sn.tensor(np.ones((4, 3), dtype=np.float32))
    W = sn.tensor(np.ones((3, 2), dtype=np.float32), requires_grad=True)
    b = sn.tensor(np.zeros(2, dtype=np.float32), requires_grad=True)
    return ((x @ W + b).relu().sum()), {"W": W, "b": b}


def test_dot_of_linear_relu_sum_has_exactly_the_expected_nodes_and_edges(
    linear_relu_sum: tuple[sn.Tensor, dict[str, sn.Tensor]],
) -> None:
    loss, params = linear_relu_sum
    dot = graph(loss, params=params)
    nodes, edges = parse(dot)
    assert sorted(label for label, _ in nodes.values()) == sorted([
        "leaf\n(4, 3)",
        "W\n(3, 2)\nrequires_grad",
        "b\n(2,)\nrequires_grad",
        "MatMul\n(4, 2)",
        "Add\n(4, 2)",
        "ReLU\n(4, 2)",
        "Sum\n()",
    ])
    assert labelled_edges(dot) == sorted([
        ("leaf\n(4, 3)", "MatMul\n(4, 2)"),
        ("W\n(3, 2)\nrequires_grad", "MatMul\n(4, 2)"),
        ("MatMul\n(4, 2)", "Add\n(4, 2)"),
        ("b\n(2,)\nrequires_grad", "Add\n(4, 2)"),
        ("Add\n(4, 2)", "ReLU\n(4, 2)"),
        ("ReLU\n(4, 2)", "Sum\n()"),
    ])
    # inputs are declared before the ops that use them
    order = list(nodes)
    assert all(order.index(a) < order.index(b) for a, b in edges)
    # leaves that require grad are filled; the plain input is not
    styles = {label: attributes for label, attributes in nodes.values()}
    assert "filled" in styles["W\n(3, 2)\nrequires_grad"]
    assert "filled" not in styles["leaf\n(4, 3)"]


def test_without_params_every_leaf_is_called_leaf(
    linear_relu_sum: tuple[sn.Tensor, dict[str, sn.Tensor]],
) -> None:
    loss, _ = linear_relu_sum
    nodes, _ = parse(graph(loss))
    leaves = sorted(label for label, _ in nodes.values() if label.startswith("leaf"))
    assert leaves == ["leaf\n(2,)\nrequires_grad", "leaf\n(3, 2)\nrequires_grad",
                      "leaf\n(4, 3)"]


def test_model_parameters_are_named_and_ops_are_the_fused_ones() -> None:
    model = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 3))
    x = sn.randn(5, 2)
    loss = nn.CrossEntropyLoss()(model(x), sn.tensor(np.array([0, 1, 2, 0, 1])))
    dot = graph(loss, params=dict(model.named_parameters()))
    nodes, edges = parse(dot)
    labels = {label.split("\n")[0] for label, _ in nodes.values()}
    assert {"0.weight", "0.bias", "2.weight", "2.bias", "Linear", "ReLU",
            "CrossEntropy"} <= labels
    assert sum(1 for a, b in edges if nodes[b][0].startswith("Linear")) == 6  # x, W, b twice


def test_a_tensor_used_twice_is_one_node_with_two_edges() -> None:
    x = sn.randn(3, requires_grad=True)
    nodes, edges = parse(graph(x * x))
    assert len(nodes) == 2
    assert len(edges) == 2 and edges[0] == edges[1]


def test_a_leaf_alone_is_one_node() -> None:
    nodes, edges = parse(graph(sn.randn(2, 2)))
    assert [label for label, _ in nodes.values()] == ["leaf\n(2, 2)"]
    assert edges == []


def test_labels_are_escaped() -> None:
    x = sn.randn(2, requires_grad=True)
    nodes, _ = parse(graph(x.sum(), params={'we"ird\\name': x}))
    assert [label for label, _ in nodes.values()] == ['we"ird\\name\n(2,)\nrequires_grad',
                                                      "Sum\n()"]


def test_a_10000_op_chain_does_not_recurse() -> None:
    y = sn.randn(2, requires_grad=True)
    for _ in range(10_000):
        y = y.relu()
    nodes, edges = parse(graph(y))
    assert len(nodes) == 10_001 and len(edges) == 10_000


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_graph_svg_renders_with_dot(
    tmp_path, linear_relu_sum: tuple[sn.Tensor, dict[str, sn.Tensor]]
) -> None:
    loss, params = linear_relu_sum
    path = graph_svg(loss, tmp_path / "graph.svg", params=params)
    text = path.read_text()
    assert "<svg" in text and "MatMul" in text and "requires_grad" in text


def test_graph_svg_without_dot_says_what_to_install(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(viz.shutil, "which", lambda name: None)
    with pytest.raises(GraphvizError, match="install Graphviz"):
        graph_svg(sn.randn(2, requires_grad=True).sum(), tmp_path / "g.svg")
    assert not (tmp_path / "g.svg").exists()
