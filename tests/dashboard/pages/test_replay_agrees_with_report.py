"""The replay page and the HTML report read the same session the same way: the same words for
every judgment and for what each candidate received, and the same final choice, also when the
preference model cannot be fitted."""

from __future__ import annotations

import html
import json
import re
from typing import Any

import pytest

from dashboard import ids
from dashboard.pages.replay import replay_page
from dashboard.state import DashboardState
from steering_core.exports.report import render_report
from steering_core.sessions import get_candidates
from steering_core.storage.workspace import Workspace
from tests.dashboard.helpers import find, find_all, text
from tests.steering_core.exports.report_sessions import judged_session


def _text(markup: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", markup)).split())


def _items(markup: str, list_class: str) -> list[str]:
    """The text of each item of the first `<ul class=list_class>` in `markup`."""
    found = re.search(rf'<ul class="{list_class}">(.*?)</ul>', markup, re.S)
    assert found is not None, f"no {list_class} list"
    return [_text(item) for item in re.findall(r"<li[^>]*>(.*?)</li>", found.group(1), re.S)]


def _report_section(page: str, element_id: str, tag: str) -> str:
    start = page.index(f'id="{element_id}"')
    return page[start : page.index(f"</{tag}>", start)]


def report_words(page: str, rounds: int, candidates: list[int]) -> dict[str, Any]:
    judgments = {
        i: _items(_report_section(page, f"round-{i}", "section"), "judgments")
        for i in range(rounds)
    }
    received = {
        c: [w for w in _items(_report_section(page, f"candidate-{c}", "article"), "received")]
        for c in candidates
    }
    final = re.search(r'<section id="final".*?<a href="#candidate-(\d+)"', page, re.S)
    note = re.search(r'<p class="note">(.*?)</p>', page, re.S)
    return {
        "judgments": judgments,
        # The report says "no judgment" on a card without one; the page shows nothing.
        "received": {c: [w for w in r if w != "no judgment"] for c, r in received.items()},
        "final": int(final.group(1)) if final else None,
        "note": _text(note.group(1)) if note else "",
    }


def replay_words(page: Any, rounds: int, candidates: list[int]) -> dict[str, Any]:
    judgments = {}
    for i in range(rounds):
        listed = find_all(find(page, f"round-{i}"), "round-judgments")[0].children
        judgments[i] = [text(item) for item in listed]
    received = {
        c: [text(badge) for badge in find_all(find(page, f"candidate-{c}"), "received")]
        for c in candidates
    }
    final = [card.id for card in find_all(page, "final")]
    notes = find_all(find(page, ids.REPLAY_FINAL), "final-note")
    return {
        "judgments": judgments,
        "received": received,
        "final": int(final[0].removeprefix("candidate-")) if final else None,
        "note": text(notes[0]) if notes else "",
    }


def _break_the_model(workspace: Workspace, session_id: str) -> None:
    """The session names a preference model this machine lacks: it cannot be fitted here."""
    row = workspace.db.query_one("SELECT config_json FROM sessions WHERE id = ?", (session_id,))
    config = json.loads(row[0])
    config["preference_model"] = {"name": "a_model_this_machine_lacks", "params": {}}
    with workspace.db.transaction() as connection:
        connection.execute(
            "UPDATE sessions SET config_json = ? WHERE id = ?", (json.dumps(config), session_id)
        )


@pytest.mark.parametrize("model_fits", [True, False], ids=["fitted", "fit-fails"])
def test_the_replay_page_and_the_report_say_the_same(
    state: DashboardState, model_fits: bool
) -> None:
    # Every feedback mode, an undone ranking, an unjudged last round (5 rounds of k=5).
    session_id = judged_session(state.workspace)
    if not model_fits:
        _break_the_model(state.workspace, session_id)
    candidates = [c.id for c in get_candidates(state.workspace, session_id)]

    report = report_words(render_report(state.workspace, session_id), 5, candidates)
    replay = replay_words(replay_page(state, {"session": session_id}), 5, candidates)

    assert replay["judgments"] == report["judgments"]
    assert replay["received"] == report["received"]
    assert replay["final"] == report["final"] is not None
    assert replay["note"] == report["note"]
    # The words are the ones a reader relies on, undone judgments marked as such.
    assert "ratings: 2 → 4/5, 4 → 2/5" in report["judgments"][1]
    assert "ranking: 4 > 2 (undone)" in report["judgments"][2]
    assert "rejected the whole round: “all too red”" in report["judgments"][3]
    if model_fits:
        assert report["note"] == ""
    else:
        assert "could not be fitted" in report["note"]
