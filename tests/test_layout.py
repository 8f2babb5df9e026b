"""The package's import graph, read from the source (imports inside functions count too): no two modules need
each other."""
from __future__ import annotations

import ast
from pathlib import Path

import orglife_nb

ROOT = Path(orglife_nb.__file__).parent


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    modules = {_module(path): path for path in ROOT.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        found = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                base = package.split(".")[:len(package.split(".")) - node.level + 1] if node.level else []
                target = ".".join(base + ([node.module] if node.module else []))
                candidates = [target, *(f"{target}.{alias.name}" for alias in node.names)]
            elif isinstance(node, ast.Import):
                candidates = [alias.name for alias in node.names]
            else:
                continue
            found |= {c for c in candidates if c in modules and c != name}
        graph[name] = found
    return graph


def circles(graph: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected components of more than one module."""
    reach = {name: _reachable(graph, name) for name in graph}
    seen, out = set(), []
    for name in graph:
        if name in seen:
            continue
        component = {other for other in reach[name] if name in reach[other]} | {name}
        seen |= component
        if len(component) > 1:
            out.append(component)
    return out


def _reachable(graph, start) -> set[str]:
    todo, seen = [start], set()
    while todo:
        for nxt in graph[todo.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def test_the_graph_reader_finds_a_circle():
    assert circles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [{"a", "b"}]


def test_no_two_modules_import_each_other():
    graph = import_graph()
    assert "orglife_nb.reports.cluster" in graph["orglife_nb.reports.runner"]  # lazy imports are read too
    for component in circles(graph):
        # the one pattern left: a package whose __init__ re-exports its own submodules, which use its names
        package = min(component, key=len)
        assert all(name == package or name.startswith(package + ".") for name in component), component
    for pair in ({"orglife_nb.reports.runner", "orglife_nb.reports.cluster"},
                 {"orglife_nb.demo", "orglife_nb.mutations"}):
        assert not any(pair <= component for component in circles(graph)), pair
