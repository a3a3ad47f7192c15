"""The dashboard's packages keep to their roles: every module of `callbacks` registers
callbacks through `register(app, state)`; `layout` and `pages` define none."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import dashboard

DASHBOARD = Path(dashboard.__file__).resolve().parent


def _modules(package: str) -> list[Path]:
    return sorted(path for path in (DASHBOARD / package).glob("*.py") if path.name != "__init__.py")


def _defines_callbacks(tree: ast.Module) -> bool:
    return any(
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("callback", "clientside_callback")
        for node in ast.walk(tree)
    )


def _register(tree: ast.Module) -> ast.FunctionDef | None:
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == "register":
            return node
    return None


@pytest.mark.parametrize(
    "module",
    _modules("callbacks"),
    ids=lambda path: path.name,
)
def test_every_callbacks_module_registers_callbacks(module: Path) -> None:
    tree = ast.parse(module.read_text())
    register = _register(tree)
    assert register is not None, "a module of callbacks/ has register(app, state)"
    assert [argument.arg for argument in register.args.args] == ["app", "state"]
    assert _defines_callbacks(register), "a page without callbacks belongs in dashboard/pages/"


@pytest.mark.parametrize(
    "module",
    _modules("layout") + _modules("pages"),
    ids=lambda path: path.parent.name + "/" + path.name,
)
def test_layout_and_pages_define_no_callbacks(module: Path) -> None:
    tree = ast.parse(module.read_text())
    assert _register(tree) is None and not _defines_callbacks(tree)


def test_every_page_is_reached_from_the_navigation() -> None:
    from dashboard.callbacks.navigation import PAGE_BUILDERS
    from dashboard.layout.shell import PAGES

    assert {href for _, href in PAGES} == set(PAGE_BUILDERS)
