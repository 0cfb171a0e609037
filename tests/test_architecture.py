"""The layering of src/scratchnn (docs/architecture.md): every module belongs to a layer, imports
only from its own layer or the ones below it, and no chain of imports comes back to where it
started. Imports are read with ``ast``, function-level ones included (they are dependencies
too, only deferred); imports under ``if TYPE_CHECKING:`` are not (they never run)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
DOC = Path(__file__).resolve().parents[1] / "docs" / "architecture.md"

# The layers, lowest first: (name, module prefixes). A module is in the layer of its longest
# matching prefix; "scratchnn" itself (the package's __init__, which gathers the public names)
# matches only exactly. docs/architecture.md shows the same table.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("base", ("scratchnn.dtypes", "scratchnn.random", "scratchnn.device",
              "scratchnn.allocator")),
    ("engine", ("scratchnn.tensor",)),
    ("engine tools", ("scratchnn.autograd", "scratchnn.gradcheck", "scratchnn.viz",
                      "scratchnn.distributed")),
    ("ops", ("scratchnn.ops",)),
    ("functional", ("scratchnn.functional", "scratchnn.creation")),
    ("nn", ("scratchnn.nn",)),
    ("optim", ("scratchnn.optim",)),
    ("data", ("scratchnn.data", "scratchnn.utils", "scratchnn.vision")),
    ("model tools", ("scratchnn.metrics", "scratchnn.serialization", "scratchnn.summary",
                     "scratchnn.plot", "scratchnn.predictor")),
    ("training", ("scratchnn.callbacks", "scratchnn.train")),
    ("package", ("scratchnn",)),
    ("applications", ("scratchnn.sklearn", "scratchnn.onnx", "scratchnn.experiments")),
    ("cli", ("scratchnn.cli", "scratchnn.commands", "scratchnn.__main__",
             "scratchnn.experiments.commands")),
]


def modules() -> dict[str, Path]:
    """Every module under src/scratchnn, by dotted name (packages by their own name)."""
    found = {}
    for path in sorted((SRC / "scratchnn").rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def layer_of(module: str) -> int:
    best, best_length = None, -1
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            matches = module == prefix if prefix == "scratchnn" else (
                module == prefix or module.startswith(prefix + "."))
            if matches and len(prefix) > best_length:
                best, best_length = index, len(prefix)
    assert best is not None, (
        f"{module} is in no layer: add it (or its package) to LAYERS in {__file__} and to the "
        f"table in {DOC}"
    )
    return best


def _type_checking_lines(tree: ast.Module) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                lines.update(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    return lines


def imports(known: dict[str, Path]) -> dict[str, dict[str, int]]:
    """``module -> {imported scratchnn module: line}`` (the longest known module name that an
    import names: ``from scratchnn import nn`` is ``scratchnn.nn``, ``from scratchnn.nn
    import Linear`` is ``scratchnn.nn``, ``from scratchnn import __version__`` is
    ``scratchnn``)."""

    def resolve(name: str) -> str | None:
        while name and name not in known:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, dict[str, int]] = {}
    for module, path in known.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        skip = _type_checking_lines(tree)
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        edges: dict[str, int] = {}
        for node in ast.walk(tree):
            if getattr(node, "lineno", None) in skip:
                continue
            targets = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    source = ".".join(base + ([node.module] if node.module else []))
                else:
                    source = node.module or ""
                targets = [f"{source}.{alias.name}" for alias in node.names]
            for target in targets:
                if not target.startswith("scratchnn"):
                    continue
                resolved = resolve(target)
                if resolved is not None and resolved != module:
                    edges.setdefault(resolved, node.lineno)
        graph[module] = edges
    return graph


def test_every_module_imports_only_its_own_layer_or_below() -> None:
    known = modules()
    wrong = []
    for module, edges in imports(known).items():
        mine = layer_of(module)
        for target, line in edges.items():
            theirs = layer_of(target)
            if theirs > mine:
                wrong.append(f"{known[module].relative_to(SRC)}:{line}: {module} "
                             f"({LAYERS[mine][0]}) imports {target} ({LAYERS[theirs][0]})")
    assert not wrong, "imports from a higher layer:\n" + "\n".join(wrong)


def test_there_is_no_import_cycle() -> None:
    known = modules()
    graph = imports(known)
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    cycles: list[list[str]] = []

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in graph.get(module, {}):
            if state.get(target) == 1:
                cycles.append([*path[path.index(target):], target])
            elif target not in state:
                visit(target, [*path, target])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_the_layer_rule_catches_a_wrong_import(tmp_path: Path) -> None:
    """The checker itself: an upward import and a cycle in a made-up package are found."""
    assert layer_of("scratchnn.nn.module") < layer_of("scratchnn.train")
    assert layer_of("scratchnn.experiments.commands") == len(LAYERS) - 1
    assert layer_of("scratchnn") == [name for name, _ in LAYERS].index("package")
    assert layer_of("scratchnn.sklearn") > layer_of("scratchnn")
    tree = ast.parse("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import x\n")
    assert _type_checking_lines(tree) == {3}


def test_docs_show_the_same_layers() -> None:
    text = DOC.read_text()
    rows = [line for line in text.splitlines() if re.match(r"\|\s*\d+\s*\|", line)]
    assert len(rows) == len(LAYERS), "docs/architecture.md's layer table has other rows"
    for row, (name, prefixes) in zip(rows, LAYERS, strict=True):
        assert f"| {name} |" in row, (row, name)
        for prefix in prefixes:
            shown = prefix.removeprefix("scratchnn.").replace(".", "/")
            assert f"`{shown if prefix != 'scratchnn' else '__init__'}" in row, (row, prefix)
