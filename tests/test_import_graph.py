"""The package graph: steering_core has no import cycle, never imports the dashboard, and
neither the dashboard nor steering_core outside `steering_core/storage/` runs SQL (storage
owns it).

Imports are read with `ast`, so imports inside functions count as much as those at the top.
A node of the graph is a subpackage of steering_core (`steering_core.exports`) or one of its
top-level modules (`steering_core.rounds`): a cycle between them means neither can be
understood, tested or moved without the other.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from graphlib import CycleError, TopologicalSorter
from itertools import pairwise
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORE = ROOT / "steering_core"
STORAGE = CORE / "storage"
DASHBOARD = ROOT / "dashboard"
# Upper case only: "Select a session" on a page is not SQL.
SQL_STATEMENT = re.compile(
    r"\b(SELECT\b.*\bFROM|INSERT INTO|UPDATE \w+ SET|DELETE FROM|PRAGMA)\b", re.DOTALL
)
SQL_CALLS = ("execute", "executemany", "executescript", "query", "query_one")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path) -> Iterator[str]:
    """Every module an import statement of the file names, anywhere in the file."""
    package = module_name(path) if path.name == "__init__.py" else module_name(path.parent)
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against the importing package
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def core_node(module: str) -> str | None:
    """The graph node a steering_core module belongs to (None outside steering_core)."""
    parts = module.split(".")
    if parts[0] != "steering_core" or len(parts) == 1:
        return None
    top = CORE / parts[1]
    if top.is_dir() or top.with_suffix(".py").is_file():
        return f"steering_core.{parts[1]}"
    return None  # a name imported from steering_core/__init__.py, not a module


def core_graph() -> dict[str, dict[str, str]]:
    """Node -> {node it imports: a file that imports it}."""
    graph: dict[str, dict[str, str]] = {}
    for path in sorted(CORE.rglob("*.py")):
        source = core_node(module_name(path))
        if source is None:
            continue
        edges = graph.setdefault(source, {})
        for module in imported_modules(path):
            target = core_node(module)
            if target is not None and target != source:
                edges.setdefault(target, str(path.relative_to(ROOT)))
    return graph


def test_steering_core_packages_form_no_import_cycle() -> None:
    graph = core_graph()
    try:
        TopologicalSorter(graph).prepare()
    except CycleError as error:
        cycle = error.args[1]  # [a, b, ..., a] where each imports the one before it
        steps = [
            f"{later} imports {earlier} ({graph[later][earlier]})"
            for earlier, later in pairwise(cycle)
        ]
        raise AssertionError("import cycle in steering_core:\n" + "\n".join(steps)) from None


def test_steering_core_never_imports_the_dashboard() -> None:
    offenders = [
        f"{path.relative_to(ROOT)} imports {module}"
        for path in CORE.rglob("*.py")
        for module in imported_modules(path)
        if module.split(".")[0] == "dashboard"
    ]
    assert not offenders, "\n".join(offenders)


def sql_found(path: Path) -> list[str]:
    """Where a file holds an SQL statement or calls `.execute(`, `.query(` and the like."""
    name = path.relative_to(ROOT)
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if SQL_STATEMENT.search(node.value):
                found.append(f"{name}:{node.lineno} holds SQL {node.value[:40]!r}")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in SQL_CALLS
        ):
            found.append(f"{name}:{node.lineno} calls .{node.func.attr}(")
    return found


def test_dashboard_runs_no_sql() -> None:
    offenders = []
    for path in DASHBOARD.rglob("*.py"):
        offenders += [
            f"{path.relative_to(ROOT)} imports {module}"
            for module in imported_modules(path)
            if module.split(".")[0] == "sqlite3"
        ]
        offenders += sql_found(path)
    assert not offenders, "the dashboard runs SQL (move it into steering_core):\n" + "\n".join(
        offenders
    )


def test_only_storage_runs_sql_in_steering_core() -> None:
    offenders = [
        finding
        for path in sorted(CORE.rglob("*.py"))
        if STORAGE not in path.parents
        for finding in sql_found(path)
    ]
    assert not offenders, (
        "steering_core runs SQL outside storage/ (add a function to a store there):\n"
        + "\n".join(offenders)
    )
