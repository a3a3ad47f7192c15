"""The steering space in the browser: a thumbnail on hover, the inspector following the next
click, and the map keeping its shape when a new round comes in."""

from __future__ import annotations

from typing import Any

from steering_core.config import SessionConfig
from steering_core.sessions import create_session, submit_feedback
from tests.dashboard.browser.conftest import DashboardServer
from tests.dashboard.browser.helpers import wait_for_round, workspace_of
from tests.steering_core.helpers import blank_round

GRAPH = "document.querySelector('#space-graph .js-plotly-plot')"


def points(page: Any) -> dict[int, dict[str, float]]:
    """Candidate id -> its marker's place: on the page (px, py) and in the plane (x, y)."""
    found = page.evaluate(
        f"""() => {{
          const gd = {GRAPH};
          const trace = gd._fullData.find(t => t.type === 'scattergl' && t.customdata);
          const box = gd.querySelector('.nsewdrag').getBoundingClientRect();
          return trace.customdata.map((id, j) => ({{
            id: Number(id), x: trace.x[j], y: trace.y[j],
            px: box.left + gd._fullLayout.xaxis.l2p(trace.x[j]),
            py: box.top + gd._fullLayout.yaxis.l2p(trace.y[j])}}));
        }}"""
    )
    return {point["id"]: point for point in found}


def wait_for_points(page: Any, count: int) -> None:
    page.wait_for_function(
        f"(n) => {{ const gd = {GRAPH}; return gd && gd._fullData && gd._fullData.some("
        "t => t.type === 'scattergl' && t.customdata && t.customdata.length === n); }",
        arg=count,
    )


def test_hover_thumbnail_inspector_follows_clicks_and_the_map_keeps_its_shape(
    page: Any, server: DashboardServer, tiny_config: SessionConfig
) -> None:
    # Rounds stored beside the page (as `steer round` would), with plain images: no
    # rendering, so the test does not wait on the model.
    workspace = workspace_of(server)
    session = create_session(workspace, tiny_config)
    _, shown = blank_round(workspace, session.id)
    page.goto(f"{server.url}/?session={session.id}")
    wait_for_round(page, 0)
    page.locator("#space-graph").scroll_into_view_if_needed()
    wait_for_points(page, 4)
    first = points(page)
    ids = sorted(first)

    # Resting the pointer on a point shows its candidate's image beside it.
    hovered = first[ids[1]]
    page.mouse.move(hovered["px"] - 3, hovered["py"] - 3)
    page.mouse.move(hovered["px"], hovered["py"])
    page.wait_for_function(
        "(id) => { const t = document.getElementById('space-hover');"
        " return t.classList.contains('shown') && t.src.endsWith(`/api/candidates/${id}/image`)"
        " && t.complete && t.naturalWidth > 0 && t.getBoundingClientRect().width > 0; }",
        arg=ids[1],
    )

    # A click opens the inspector; a click on another point shows that one, still open,
    # named by its card number as the grid shows it.
    number = {c.id: c.slot + 1 for c in shown}
    for candidate in (ids[1], ids[2]):
        place = first[candidate]
        page.mouse.click(place["px"], place["py"])
        page.wait_for_function(
            "(title) => document.querySelector('#inspector .offcanvas-title')?.innerText === title",
            arg=f"Candidate {number[candidate]} of round 0",
        )
        assert page.locator("#inspector").is_visible()
    page.keyboard.press("Escape")
    page.wait_for_selector("#inspector", state="hidden")

    # A new round adds points; those already on the map stay where they were.
    submit_feedback(workspace, session.id, {"mode": "winner", "winner": shown[2].id})
    blank_round(workspace, session.id)
    wait_for_round(page, 1)
    wait_for_points(page, 8)
    after = points(page)
    for candidate in ids:
        assert abs(after[candidate]["x"] - first[candidate]["x"]) < 1e-5
        assert abs(after[candidate]["y"] - first[candidate]["y"]) < 1e-5
