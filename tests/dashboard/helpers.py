"""Finding things in a component tree that a page builder or callback returned."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def walk(component: Any) -> Iterator[Any]:
    """Every component in the tree, depth first (lists and tuples are walked through)."""
    if isinstance(component, list | tuple):
        for child in component:
            yield from walk(child)
        return
    if not hasattr(component, "to_plotly_json"):
        return
    yield component
    yield from walk(getattr(component, "children", None))


def find(component: Any, component_id: str) -> Any:
    """The component with this id; fails the test when there is none."""
    for found in walk(component):
        if getattr(found, "id", None) == component_id:
            return found
    raise AssertionError(f"no component with id {component_id!r}")


def find_all(component: Any, class_name: str) -> list[Any]:
    """Every component whose className includes `class_name`."""
    return [
        found
        for found in walk(component)
        if class_name in (getattr(found, "className", None) or "").split()
    ]


def text(component: Any) -> str:
    """The visible text of the tree, pieces joined by single spaces."""
    return " ".join(_pieces(component).split())


def _pieces(component: Any) -> str:
    if isinstance(component, str | int | float):
        return str(component)
    if isinstance(component, list | tuple):
        return " ".join(_pieces(child) for child in component)
    if hasattr(component, "to_plotly_json"):
        return _pieces(getattr(component, "children", None) or [])
    return ""


def links(component: Any) -> list[tuple[str, str]]:
    """(text, href) of every link in the tree."""
    return [
        (text(found), found.href)
        for found in walk(component)
        if getattr(found, "href", None) is not None
    ]
