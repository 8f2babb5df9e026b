"""The package's import graph, read from the source (imports inside functions count too): no two modules need
each other, and no module imports a floor above its own (docs/architecture.md, 分层)."""
from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import orglife_nb

ROOT = Path(orglife_nb.__file__).parent


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache  # read once per session; callers only read it
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
                submodules = [f"{target}.{alias.name}" for alias in node.names]
                # ``from pkg import submodule`` needs the submodule, not the names of pkg/__init__
                candidates = [*submodules, *([target] if not all(s in modules for s in submodules) else [])]
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
    assert circles(graph) == []


# The layer order of docs/architecture.md (分层, revision 3): a module may import only its own floor or below. Keyed
# by module or package (a package's key covers its modules; the longest key wins); every module must have one.
FLOORS = {
    # 1: records and what people see; none of these knows the store
    "orglife_nb.models": 1, "orglife_nb.present": 1, "orglife_nb.errors": 1, "orglife_nb.sources": 1,
    "orglife_nb.outputs": 1,  # writing any file whole or not at all
    "orglife_nb.textable": 1,  # text clipped and laid out for terminals and cells
    "orglife_nb.resources": 1,  # where the packaged notebooks and templates are
    "orglife_nb.browser": 1,  # the system Chromium and a page in it
    # 2: the store
    "orglife_nb.store": 2,
    # accounts are store rows (hash, role, scope) written under the store's audit; the throttle counts failed tries
    # for them and imports nothing: both are storage and bookkeeping, no decision over frames (hence not floor 4)
    "orglife_nb.auth": 2, "orglife_nb.auth.accounts": 2, "orglife_nb.auth.throttle": 2,
    # 3: inputs; the demo generator (records as rows, its planted mutations) is the third way records come in
    "orglife_nb": 3,  # the package's own ``load`` is frames.load
    "orglife_nb.workbook": 3, "orglife_nb.frames": 3,
    "orglife_nb.demo": 3, "orglife_nb.rows": 3, "orglife_nb.mutations": 3,
    # 4: decisions over frames and records
    "orglife_nb.rules": 4, "orglife_nb.deadlines": 4,
    "orglife_nb.auth.review": 4,  # the review chain: whether a meeting may be submitted runs the checks
    # 5: outputs built from frames and findings
    "orglife_nb.reports": 5, "orglife_nb.documents": 5,
    # 6: pages for people: forms, training, and serving them (login server, hub, phone vote page)
    "orglife_nb.forms": 6, "orglife_nb.training": 6, "orglife_nb.voila": 6,
    "orglife_nb.serving": 6,  # the forms server's settings (serve, the hub and its spawner read them)
    "orglife_nb.auth.server": 6, "orglife_nb.auth.hub": 6, "orglife_nb.auth.vote": 6,
    "orglife_nb.auth.identity": 6,  # the signed identity the login server hands its forms kernels
    # 7: commands
    "orglife_nb.cli": 7, "orglife_nb.demo_command": 7,
}
ROOT_NAME = ROOT.name


def floor_of(module: str, floors: dict[str, int] = FLOORS) -> int | None:
    """The floor of the longest key that is ``module`` or a package holding it (the root package: only itself)."""
    keys = [key for key in floors
            if module == key or (key != ROOT_NAME and module.startswith(key + "."))]
    return floors[max(keys, key=len)] if keys else None


def upward(graph: dict[str, set[str]], floors: dict[str, int] = FLOORS) -> list[str]:
    """Each import that goes to a higher floor, as "a (floor x) → b (floor y)"."""
    out = []
    for name in sorted(graph):
        for target in sorted(graph[name]):
            low, high = floor_of(name, floors), floor_of(target, floors)
            if low is not None and high is not None and high > low:
                out.append(f"{name} (floor {low}) → {target} (floor {high})")
    return out


def test_the_floor_check_names_an_upward_import():
    floors = {"p.low": 1, "p.high": 2}
    assert upward({"p.low.a": {"p.high"}, "p.high": {"p.low.a"}}, floors) == ["p.low.a (floor 1) → p.high (floor 2)"]
    assert floor_of("orglife_nb.demo_command") == 7 and floor_of("orglife_nb.demo") == 3  # a key is not a prefix
    assert floor_of("orglife_nb.store.migrations.env") == 2 and floor_of("orglife_nb.auth.review") == 4


def test_every_module_has_a_floor():
    assert [name for name in sorted(import_graph()) if floor_of(name) is None] == []


def test_no_module_imports_a_higher_floor():
    violations = upward(import_graph())
    assert not violations, "imports to a higher floor:\n" + "\n".join(violations)


def reaching(graph: dict[str, set[str]], sources: tuple[str, ...], targets: tuple[str, ...]) -> list[str]:
    """Imports from a module under one of ``sources`` to one under ``targets`` (package prefixes), as "a → b"."""
    def under(name: str, prefixes: tuple[str, ...]) -> bool:
        return any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)

    return [f"{name} → {target}" for name in sorted(graph) if under(name, sources)
            for target in sorted(graph[name]) if under(target, targets)]


def test_rules_read_frames_never_the_store_or_a_workbook():
    """Rules decide over frames: loading (``frames.load_input``) and writing (``reports.text``) are done around them."""
    assert reaching(import_graph(), ("orglife_nb.rules",), ("orglife_nb.store", "orglife_nb.workbook")) == []


def test_reports_and_documents_share_only_lower_floors():
    """Both are outputs (floor 5); what both need (Chromium, HTML, the findings' standing) lives below them."""
    graph = import_graph()
    assert reaching(graph, ("orglife_nb.documents",), ("orglife_nb.reports",)) == []
    assert reaching(graph, ("orglife_nb.reports",), ("orglife_nb.documents",)) == []


# The words a person reads (present/words.py, present/html.py): defined once, never again elsewhere.
ONE_HOME = {"YES_NO": "orglife_nb.present.words", "cn_date": "orglife_nb.present.words",
            "yes_no": "orglife_nb.present.words", "iso_date": "orglife_nb.present.words",
            "iso_dates": "orglife_nb.present.words", "tight": "orglife_nb.present.words",
            "cn_dates": "orglife_nb.present.words", "esc": "orglife_nb.present.html"}


def definitions(names) -> dict[str, set[str]]:
    """Where each name is defined at module level (a function or an assignment)."""
    found: dict[str, set[str]] = {name: set() for name in names}
    for path in ROOT.rglob("*.py"):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            defined = ([node.name] if isinstance(node, (ast.FunctionDef, ast.ClassDef)) else
                       [t.id for t in node.targets if isinstance(t, ast.Name)] if isinstance(node, ast.Assign) else [])
            for name in defined:
                if name in found:
                    found[name].add(_module(path))
    return found


def test_people_facing_words_have_one_home():
    assert definitions(ONE_HOME) == {name: {home} for name, home in ONE_HOME.items()}
