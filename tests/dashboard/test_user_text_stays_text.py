"""Markup, quotes and ampersands that a researcher types (prompt, negative prompt, critique
text, reject reason, the model path, plug-in parameters) show as text, escaped exactly once,
in the HTML report and on every dashboard page; tags outside the critique vocabulary are
refused before they reach any page. Sessions have no name of their own: pages title them by
their prompt and id, and the id is generated."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from typing import Any

import pytest
from dash import dcc, html

from dashboard.callbacks.judging import show_round
from dashboard.callbacks.navigation import render_page
from dashboard.callbacks.session import apply_settings, start_session
from dashboard.callbacks.space import inspect, tag
from dashboard.state import DashboardState
from steering_core.config import make_config
from steering_core.errors import InvalidInput
from steering_core.exports.report import render_report
from steering_core.sessions import create_session, get_feedback_events, submit_feedback
from steering_core.storage.workspace import Workspace
from tests.dashboard.helpers import text, walk
from tests.steering_core.helpers import blank_round

MARKUP = "<script>alert(1)</script> 'single' \"double\" & <b>bold</b>"


def _session_with_markup(workspace: Workspace) -> tuple[str, list[Any]]:
    config = make_config(
        {
            "prompt": f"prompt {MARKUP}",
            "negative_prompt": f"negative {MARKUP}",
            "k": 4,
            "d": 3,
        }
    )
    session_id = create_session(workspace, config).id
    _, shown = blank_round(workspace, session_id)
    critique = {"mode": "critique", "candidate": shown[1].id, "tags": ["lighting"]}
    submit_feedback(workspace, session_id, {**critique, "text": f"critique {MARKUP}"})
    submit_feedback(workspace, session_id, {"mode": "critique", "tags": [], "text": MARKUP})
    submit_feedback(workspace, session_id, {"mode": "winner", "winner": shown[2].id})
    blank_round(workspace, session_id)
    submit_feedback(workspace, session_id, {"mode": "reject_all", "reason": f"reason {MARKUP}"})
    blank_round(workspace, session_id)
    return session_id, shown


def _store_plugin_params(workspace: Workspace, session_id: str) -> None:
    """A stored config whose plug-in parameters (names and values) and model path hold
    markup, as a hand-edited bundle can (validation refuses them when a session starts):
    what the report prints of them."""
    row = workspace.db.query_one("SELECT config_json FROM sessions WHERE id = ?", (session_id,))
    config = json.loads(row[0])
    config["sampler"]["params"] = {f"name {MARKUP}": f"value {MARKUP}"}
    config["generator"]["model"] = f"model {MARKUP}"
    with workspace.db.transaction() as connection:
        connection.execute(
            "UPDATE sessions SET config_json = ? WHERE id = ?", (json.dumps(config), session_id)
        )


class Page(HTMLParser):
    """The elements of a page and its text (entities decoded once), outside <script>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[str] = []
        self.scripts: list[str] = []
        self.text: list[str] = []
        self.attributes: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append(tag)
        self.attributes += [value or "" for _, value in attrs]
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        (self.scripts if self._in_script else self.text).append(data)


def test_the_report_shows_user_text_as_text(workspace: Workspace) -> None:
    session_id, _ = _session_with_markup(workspace)
    _store_plugin_params(workspace, session_id)
    page = render_report(workspace, session_id)
    parsed = Page()
    parsed.feed(page)

    # No element came from user text: the page's own <b> and <script> only.
    scripts = [s for s in parsed.scripts if "alert(1)" in s]
    assert scripts == []
    assert parsed.elements.count("script") == 3 + page.count('class="figure-data"')
    shown = "".join(parsed.text)
    for field in ("prompt", "negative", "model", "critique", "reason", "name", "value"):
        assert f"{field} {MARKUP}" in shown, field
    # Escaped exactly once: decoding the page once gives the text back, never an entity.
    assert "&amp;" not in shown and "&lt;" not in shown and "&#x27;" not in shown
    assert "&amp;amp;" not in page and "&amp;lt;" not in page


def _components(tree: Any) -> list[Any]:
    return list(walk(tree))


def _assert_text_only(tree: Any) -> str:
    """The tree shows no user text as markup: no Markdown, raw-HTML or iframe source holds
    it; returns the tree's text, which must carry the typed characters as they are."""
    for component in _components(tree):
        assert not getattr(component, "dangerously_allow_html", False)
        if isinstance(component, dcc.Markdown):
            assert "alert(1)" not in str(component.children)
        if isinstance(component, html.Iframe):
            assert "alert(1)" not in str(getattr(component, "srcDoc", "") or "")
    shown = text(tree)
    assert "&amp;" not in shown and "&lt;" not in shown  # not escaped by hand before Dash
    return shown


def test_every_dashboard_page_shows_user_text_as_text(state: DashboardState) -> None:
    session_id, shown = _session_with_markup(state.workspace)
    pages = {
        path: render_page(state, path, search)
        for path, search in [
            ("/", f"?session={session_id}"),
            ("/replay", ""),
            ("/replay", f"?session={session_id}"),
            ("/experiments", ""),
            ("/diagnostics", ""),
        ]
    }
    for page in pages.values():
        _assert_text_only(page)
    steer = _assert_text_only(pages["/"])
    assert f"prompt {MARKUP}" in steer
    replay = _assert_text_only(render_page(state, "/replay", f"?session={session_id}"))
    for typed in (f"prompt {MARKUP}", f"critique {MARKUP}", f"reason {MARKUP}"):
        assert typed in replay
    grid, _, _ = show_round(state, {"session_id": session_id, "round_index": 0}, None)
    assert f"critique {MARKUP}" in _assert_text_only(grid)
    inspector = _assert_text_only(inspect(state, shown[1].id))
    assert f"prompt {MARKUP}" in inspector and f"critique {MARKUP}" in inspector


def test_plugin_parameters_and_tags_outside_the_vocabulary_are_refused_as_text(
    state: DashboardState,
) -> None:
    session_id, shown = _session_with_markup(state.workspace)
    before = len(get_feedback_events(state.workspace, session_id))
    refused = _assert_text_only(tag(state, shown[1].id, [MARKUP]))
    assert len(get_feedback_events(state.workspace, session_id)) == before
    assert "Invalid input" in refused
    params = json.dumps({MARKUP: MARKUP})
    message = _assert_text_only(apply_settings(state, session_id, None, params, None))
    assert "<script>alert(1)</script>" in message  # quoted with repr(), as text
    _, started = start_session(
        state, {"prompt": "a red circle", "sampler_params": params, "sampler": MARKUP}
    )
    # The message quotes the name with repr(): the markup is in it, as text.
    assert "<script>alert(1)</script>" in _assert_text_only(started)
    with pytest.raises(InvalidInput):
        submit_feedback(state.workspace, session_id, {"mode": "critique", "tags": [MARKUP]})
