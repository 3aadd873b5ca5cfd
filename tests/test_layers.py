"""The import graph of the product: dependencies point one way and no module is in a cycle.

Every import counts, at module level or inside a function (a late import hides a dependency,
it does not remove it). The declared order is docs/architecture.md's; an app in a group may
not import the other apps of its group.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "convergence"
LAYERS: list[tuple[str, ...]] = [
    ("core",),
    ("audit",),
    ("outbox",),
    ("accounts",),
    ("mfa", "devices", "provisioning"),
    ("portal",),
    ("sso",),
    ("help", "support", "status", "mail"),
    ("notifications",),
    ("api",),
]
# Project-level modules may import every app; nothing in the product imports the demo.
PROJECT_MODULES = {"settings", "urls", "asgi", "wsgi", "__init__"}
RANK = {app: rank for rank, group in enumerate(LAYERS) for app in group}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _sources() -> Iterator[Path]:
    for path in sorted(PACKAGE.rglob("*.py")):
        if "migrations" not in path.parts:
            yield path


def _imports(path: Path) -> Iterator[tuple[int, str]]:
    """Every module ``path`` imports (absolute names), with its line."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            yield node.lineno, target
            for alias in node.names:  # "from convergence.x import module"
                yield node.lineno, f"{target}.{alias.name}"


def _app(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] == "demo":
        return "demo"
    return parts[1] if parts[0] == "convergence" and len(parts) > 1 else None


def _known_modules() -> set[str]:
    return {_module_name(path) for path in _sources()}


def test_every_app_is_in_the_declared_order() -> None:
    apps = {path.name for path in PACKAGE.iterdir() if (path / "apps.py").exists()}
    assert apps == set(RANK), "an app is missing from LAYERS (docs/architecture.md)"


def test_no_import_points_up_or_sideways() -> None:
    wrong = []
    for path in _sources():
        source = _app(_module_name(path))
        for line, target in _imports(path):
            destination = _app(target)
            if destination is None or destination == source:
                continue
            where = f"{path.relative_to(ROOT)}:{line} imports {target}"
            if destination == "demo":
                wrong.append(where)
            elif source in PROJECT_MODULES or source is None:
                continue
            elif destination not in RANK or RANK[destination] >= RANK[source]:
                wrong.append(where)
    assert not wrong, "imports against the declared order:\n" + "\n".join(sorted(set(wrong)))


def _graph() -> dict[str, set[str]]:
    known = _known_modules()
    graph: dict[str, set[str]] = {module: set() for module in known}
    for path in _sources():
        module = _module_name(path)
        for _line, target in _imports(path):
            # A package's __init__ is imported with any of its modules: not an edge back.
            if target in known and target != module and not module.startswith(f"{target}."):
                graph[module].add(target)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for successor in sorted(graph[node]):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_module_is_in_an_import_cycle() -> None:
    cycles = _cycles(_graph())
    assert not cycles, "import cycles:\n" + "\n".join(" ↔ ".join(c) for c in cycles)


@pytest.mark.parametrize(
    ("graph", "expected"),
    [
        ({"a": {"b"}, "b": {"a"}}, [["a", "b"]]),
        ({"a": {"b"}, "b": {"c"}, "c": set()}, []),
    ],
)
def test_the_cycle_finder_finds_cycles(
    graph: dict[str, set[str]], expected: list[list[str]]
) -> None:
    assert _cycles(graph) == expected
