"""Component ids live in dashboard/ids.py only: layout, callbacks and assets/*.js take them
from there (the scripts through the page's window.STEER_IDS)."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

from dashboard import ids
from dashboard.app import ASSETS, create_app
from dashboard.state import DashboardState

DASHBOARD = Path(ids.__file__).resolve().parent
# Dash's dependency objects and set_props name a component by its first argument.
NAMING_CALLS = {"Input", "Output", "State", "set_props"}


def _spelled_ids(tree: ast.AST) -> list[int]:
    """Line numbers where a component id is written out (a string or a dict literal)."""
    lines = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        named = [keyword.value for keyword in node.keywords if keyword.arg == "id"]
        function = node.func
        name = function.attr if isinstance(function, ast.Attribute) else getattr(function, "id", "")
        if name in NAMING_CALLS and node.args:
            named.append(node.args[0])
        for value in named:
            if isinstance(value, ast.Dict) or (
                isinstance(value, ast.Constant) and isinstance(value.value, str)
            ):
                lines.append(value.lineno)
    return lines


def test_layout_and_callbacks_spell_no_component_id() -> None:
    spelled = {
        f"{path.relative_to(DASHBOARD)}:{line}"
        for path in DASHBOARD.rglob("*.py")
        if path.name != "ids.py"
        for line in _spelled_ids(ast.parse(path.read_text()))
    }
    assert spelled == set(), "use (or add) a name in dashboard/ids.py"


def test_every_component_id_is_distinct() -> None:
    # Two components with one id break the page; two names for one id break the scripts.
    values = list(ids.for_javascript().values())
    assert len(values) == len(set(values))


def _javascript_strings(source: str) -> list[str]:
    """The string literals of a script, its comments left out."""
    source = re.sub(r"/\*.*?\*/", "", source, flags=re.DOTALL)
    source = re.sub(r"(^|\s)//.*", "", source)
    return [match[1] for match in re.findall(r"([\"'`])((?:\\.|(?!\1).)*)\1", source)]


def test_scripts_take_every_component_id_from_the_page() -> None:
    declared = ids.for_javascript()
    for script in ASSETS.glob("*.js"):
        source = script.read_text()
        used = set(re.findall(r"\bIDS\.([A-Za-z_]+)", source))
        assert used <= declared.keys(), f"{script.name} uses ids that ids.py lacks"
        spelled = {
            text
            for text in _javascript_strings(source)
            for value in declared.values()
            if text == value or re.search(rf"#{re.escape(value)}(?![\w-])", text)
        }
        assert spelled == set(), f"{script.name} spells ids; read them from window.STEER_IDS"


def test_the_page_hands_the_ids_to_the_scripts_before_they_run(state: DashboardState) -> None:
    page = create_app(state).server.test_client().get("/").get_data(as_text=True)
    handed = re.search(r"<script>window\.STEER_IDS = (.*?);</script>", page)
    assert handed is not None
    assert json.loads(handed[1]) == ids.for_javascript()
    assert handed.start() < page.index("judging.js") and handed.start() < page.index("inspector.js")
