"""A researcher's session in the browser: new session, a round, feedback in every mode, the
next round after each; and the same by keyboard alone."""

from __future__ import annotations

import time
from typing import Any

from steering_core.sessions import get_round
from steering_core.trace import read_trace, trace_path
from tests.dashboard.browser.conftest import DashboardServer
from tests.dashboard.browser.helpers import (
    start_session,
    stored_judgments,
    wait_for_round,
    wait_until_stored,
    workspace_of,
)


def card(slot: int) -> str:
    return f".candidate-card[data-slot='{slot}']"


def switch_mode(page: Any, mode: str) -> None:
    page.select_option("#mode-switch", mode)
    page.wait_for_selector(f".candidate-grid[data-mode='{mode}']")


def test_new_session_round_feedback_in_every_mode_next_round(
    page: Any, server: DashboardServer
) -> None:
    session_id = start_session(page, server, mode="winner")
    assert "WINNER" in page.inner_text("#mode-banner")

    page.click(card(2) + " .candidate-image")
    page.click("[data-action='submit']")
    wait_for_round(page, 1)

    switch_mode(page, "rating")
    assert "RATING" in page.inner_text("#mode-banner")
    page.click(card(0) + " .star[data-stars='3']")
    page.click(card(1) + " .star[data-stars='5']")
    page.click("[data-action='submit']")
    wait_for_round(page, 2)

    switch_mode(page, "pairwise")
    page.click(card(1) + " .candidate-image")
    page.click(card(2) + " .candidate-image")
    page.click("[data-action='B']")  # B (the second picked) is better: submits at once
    # Pairwise judges several pairs of one round, so the round stays until asked for.
    wait_until_stored(page)
    page.click("#next-round")
    wait_for_round(page, 3)

    switch_mode(page, "ranking")
    page.click(card(3) + " .candidate-image")
    page.click(card(1) + " .candidate-image")
    page.click("[data-action='submit']")
    wait_for_round(page, 4)

    switch_mode(page, "approve_reject")
    page.click(card(1) + " [data-action='approve']")
    page.click(card(2) + " [data-action='reject']")
    page.click("[data-action='submit']")
    wait_for_round(page, 5)

    page.fill("#judge-reject-reason", "all too dark")
    page.click("[data-action='reject-all']")
    wait_for_round(page, 6)

    page.click(card(1) + " .candidate-image", modifiers=["Shift"])
    page.click(card(3) + " .candidate-image", modifiers=["Shift"])
    page.click("[data-action='cannot-decide']")
    wait_for_round(page, 7)

    page.check("#judge-critique-tags input[value='lighting']")
    page.fill("#judge-critique-text", "flat light")
    page.click(card(2) + " .candidate-image")  # in approve/reject mode: approves it...
    page.click("[data-action='critique']")  # ...but "Send critique" sends the critique
    wait_until_stored(page)
    # Sent, the critique's fields are empty again for the next one.
    page.wait_for_function(
        "() => document.querySelector('#judge-critique-text').value === ''"
        " && !document.querySelector(\"#judge-critique-tags input[value='lighting']\").checked"
    )

    events = stored_judgments(server, session_id)
    assert [e.mode for e in events] == [
        "winner",
        "rating",
        "pairwise",
        "ranking",
        "approve_reject",
        "reject_all",
        "cannot_decide",
        "critique",
    ]
    assert [e.round_index for e in events] == [0, 1, 2, 3, 4, 5, 6, 7]
    rating = events[1].raw["ratings"]
    assert sorted(rating.values()) == [3, 5]
    assert events[2].raw["choice"] == "second"
    assert len(events[3].raw["order"]) == 2
    assert len(events[4].raw["approved"]) == 1 and len(events[4].raw["rejected"]) == 1
    assert events[5].raw["reason"] == "all too dark"
    assert len(events[6].raw["between"]) == 2
    assert events[7].raw["tags"] == ["lighting"] and events[7].raw["text"] == "flat light"
    assert all(e.source == "human" and e.raw["decision_seconds"] >= 0 for e in events)

    # The page traced each judgment with its decision time (sent after it was stored), and
    # each one joins the backend's record of the stored judgment by its key.
    trace = frontend_trace(server, session_id, judgments=8)
    judgments = [e for e in trace if e["source"] == "frontend" and e["kind"] == "judgment"]
    assert [e["mode"] for e in judgments] == [e.mode for e in events]
    assert all(e["decision_ms"] > 0 for e in judgments)
    stored_keys = [e["client_key"] for e in trace if e["kind"] == "feedback"]
    assert [e["client_key"] for e in judgments] == stored_keys
    assert any(e["kind"] == "page_view" and e["page"] == "/" for e in trace)


def frontend_trace(
    server: DashboardServer, session_id: str, judgments: int, timeout: float = 20
) -> list[dict[str, Any]]:
    """The session's trace once it holds `judgments` frontend judgment events (the page
    sends its trace in batches, a moment after the judgments are stored)."""
    deadline = time.monotonic() + timeout
    while True:
        trace = read_trace(trace_path(workspace_of(server), session_id))
        sent = [e for e in trace if e["source"] == "frontend" and e["kind"] == "judgment"]
        if len(sent) >= judgments or time.monotonic() > deadline:
            return trace
        time.sleep(0.2)


def test_keyboard_only_labeling(page: Any, server: DashboardServer) -> None:
    session_id = start_session(page, server, mode="winner")
    keyboard = page.keyboard

    keyboard.press("2")  # winner: image 2 ...
    keyboard.press("Backspace")  # ... no: undo that step
    keyboard.press("3")
    keyboard.press("Enter")
    wait_for_round(page, 1)

    switch_mode(page, "rating")
    page.locator("body").click(position={"x": 5, "y": 500})  # focus back on the page
    for stars in "5342":  # rates images 1..4 in order
        keyboard.press(stars)
    keyboard.press("Enter")
    wait_for_round(page, 2)

    keyboard.press("Alt+ArrowLeft")  # look back at round 1 ...
    page.wait_for_selector(".candidate-grid[data-round='1']")
    assert "round 1 of 2" in page.inner_text("#round-label")
    keyboard.press("Alt+ArrowRight")  # ... and return to the latest
    page.wait_for_selector(".candidate-grid[data-round='2']")

    switch_mode(page, "ranking")
    page.locator("body").click(position={"x": 5, "y": 500})
    keyboard.press("4")
    keyboard.press("1")
    keyboard.press("Enter")
    wait_for_round(page, 3)

    keyboard.press("x")  # reject all
    wait_for_round(page, 4)
    wait_until_stored(page)

    events = stored_judgments(server, session_id)
    assert [e.mode for e in events] == ["winner", "rating", "ranking", "reject_all"]
    workspace = workspace_of(server)
    round0 = get_round(workspace, session_id, 0)[1]
    assert events[0].raw["winner"] == round0[2].id  # "3", not the undone "2"
    round1 = get_round(workspace, session_id, 1)[1]
    assert events[1].raw["ratings"] == {
        str(c.id): s for c, s in zip(round1, [5, 3, 4, 2], strict=True)
    }
    round2 = get_round(workspace, session_id, 2)[1]
    assert events[2].raw["order"] == [round2[3].id, round2[0].id]


def test_clicking_a_point_or_inspect_on_a_card_opens_the_inspector(
    page: Any, server: DashboardServer
) -> None:
    start_session(page, server, mode="winner")
    page.locator("#space-graph").scroll_into_view_if_needed()
    page.wait_for_function(
        "() => { const gd = document.querySelector('#space-graph .js-plotly-plot');"
        " return gd && gd._fullData && gd._fullData.some(t => t.customdata); }"
    )
    # The plot fills its panel's height (it once kept the 300 px of "No session yet"): the
    # figure is as tall as the side column gives the graph, and large enough to read.
    drawn, panel = page.evaluate(
        "() => { const gd = document.querySelector('#space-graph .js-plotly-plot');"
        " return [gd._fullLayout.height,"
        " document.querySelector('#space-graph').getBoundingClientRect().height]; }"
    )
    assert abs(drawn - panel) <= 2 and panel >= 220
    point = page.evaluate(
        """() => {
          const gd = document.querySelector('#space-graph .js-plotly-plot');
          const trace = gd._fullData.find(t => t.type === 'scattergl' && t.customdata);
          const j = trace.x.length - 1;
          const box = gd.querySelector('.nsewdrag').getBoundingClientRect();
          return {x: box.left + gd._fullLayout.xaxis.l2p(trace.x[j]),
                  y: box.top + gd._fullLayout.yaxis.l2p(trace.y[j]),
                  id: trace.customdata[j]};
        }"""
    )
    # A drag that ends on the point zooms: it opens nothing.
    page.mouse.move(point["x"] + 40, point["y"] + 30)
    page.mouse.down()
    page.mouse.move(point["x"], point["y"], steps=4)
    page.mouse.up()
    page.wait_for_timeout(300)
    assert not page.locator("#inspector").is_visible()
    # Zoomed in around the point, a double click on it opens it and keeps the zoom.
    zoom = page.evaluate(
        """(id) => {
          const gd = document.querySelector('#space-graph .js-plotly-plot');
          const trace = gd._fullData.find(t => t.type === 'scattergl' && t.customdata);
          const j = trace.customdata.indexOf(id);
          const half = (axis) => {
            const range = gd._fullLayout[axis].range;
            return (range[1] - range[0]) / 4;
          };
          const x = [trace.x[j] - half('xaxis'), trace.x[j] + half('xaxis')];
          const y = [trace.y[j] - half('yaxis'), trace.y[j] + half('yaxis')];
          return Plotly.relayout(gd, {'xaxis.range': x, 'yaxis.range': y})
            .then(() => gd._fullLayout.xaxis.range.concat(gd._fullLayout.yaxis.range));
        }""",
        point["id"],
    )
    point = page.evaluate(
        """(id) => {
          const gd = document.querySelector('#space-graph .js-plotly-plot');
          const trace = gd._fullData.find(t => t.type === 'scattergl' && t.customdata);
          const j = trace.customdata.indexOf(id);
          const box = gd.querySelector('.nsewdrag').getBoundingClientRect();
          return {x: box.left + gd._fullLayout.xaxis.l2p(trace.x[j]),
                  y: box.top + gd._fullLayout.yaxis.l2p(trace.y[j]), id: id};
        }""",
        point["id"],
    )
    page.mouse.move(point["x"] - 4, point["y"] - 4)
    page.mouse.dblclick(point["x"], point["y"])
    page.wait_for_function(
        "(id) => { const i = document.getElementById('inspector-image');"
        " return i && i.src.endsWith(`/api/candidates/${id}/image`) && i.complete"
        " && i.naturalWidth > 0 && i.getBoundingClientRect().width > 0; }",
        arg=point["id"],
    )
    assert page.inner_text("#inspector .offcanvas-title").startswith("Candidate")
    page.wait_for_timeout(300)
    assert zoom == page.evaluate(
        "() => { const gd = document.querySelector('#space-graph .js-plotly-plot');"
        " return gd._fullLayout.xaxis.range.concat(gd._fullLayout.yaxis.range); }"
    )
    # The details come from the server just after: the lineage back to round 0, and the
    # title names the candidate by its card number in its round.
    page.wait_for_selector("#inspector-body .lineage-thumb")
    page.wait_for_function(
        "/^Candidate \\d+ of round \\d+$/.test("
        "document.querySelector('#inspector .offcanvas-title').innerText)"
    )
    # 'inspect' on a card opens the same inspector for that card's candidate.
    page.keyboard.press("Escape")
    page.wait_for_selector("#inspector", state="hidden")
    card = page.locator(".candidate-card[data-slot='2'] .inspect-link")
    candidate = card.get_attribute("data-candidate")
    card.click()
    page.wait_for_function(
        "(id) => { const i = document.getElementById('inspector-image');"
        " return i && i.src.endsWith(`/api/candidates/${id}/image`) && i.complete"
        " && i.naturalWidth > 0; }",
        arg=candidate,
    )
    shown_round = page.evaluate("document.querySelector('.candidate-grid').dataset.round")
    page.wait_for_function(
        "(title) => document.querySelector('#inspector-body')?.innerText.includes(`seed`)"
        " && document.querySelector('#inspector .offcanvas-title').innerText === title",
        arg=f"Candidate 3 of round {shown_round}",
    )
