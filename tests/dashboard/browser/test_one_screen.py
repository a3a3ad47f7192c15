"""The steering page on one screen: at 1440x900 and 1280x720 with k = 8, the whole grid, the
action bar, the steering space and the two key curves lie inside the window; the full plots
are one key away; a new round brings the grid's top into view."""

from __future__ import annotations

from typing import Any

import pytest

from tests.dashboard.browser.conftest import DashboardServer
from tests.dashboard.browser.helpers import wait_for_round, workspace_of
from tests.dashboard.browser.test_keys_and_funnel import open_blank_session
from tests.steering_core.helpers import blank_round

PLOTS_DRAWN = (
    "() => ['space-graph', 'key-curves'].every((id) => {"
    " const e = document.getElementById(id);"
    " return e && e.querySelector('.js-plotly-plot .main-svg'); })"
)


def assert_inside_viewport(page: Any, selector: str) -> None:
    """Every element `selector` matches lies wholly inside the window, with a size."""
    boxes = page.evaluate(
        """(selector) => Array.from(document.querySelectorAll(selector)).map((e) => {
             const r = e.getBoundingClientRect();
             return {top: r.top, left: r.left, bottom: r.bottom, right: r.right,
                     width: r.width, height: r.height};
           })""",
        selector,
    )
    window = page.viewport_size
    assert boxes, f"nothing matches {selector}"
    for box in boxes:
        assert box["width"] > 0 and box["height"] > 0, (selector, box)
        inside = (
            box["top"] >= 0
            and box["left"] >= 0
            and box["bottom"] <= window["height"] + 0.5
            and box["right"] <= window["width"] + 0.5
        )
        assert inside, f"{selector} at {box} is not inside {window}"


@pytest.mark.parametrize("width, height", [(1440, 900), (1280, 720)])
def test_grid_action_bar_space_and_key_curves_fit_the_window(
    page: Any, server: DashboardServer, width: int, height: int
) -> None:
    page.set_viewport_size({"width": width, "height": height})
    open_blank_session(page, server, mode="winner", k=8)
    page.wait_for_function(PLOTS_DRAWN)
    assert page.locator(".candidate-card").count() == 8
    for selector in (".candidate-card", ".judging-bar", "#space-graph", "#key-curves"):
        assert_inside_viewport(page, selector)
    # Nothing below the window either: the page itself does not scroll.
    assert page.evaluate("document.scrollingElement.scrollHeight <= window.innerHeight + 1")
    # Thumbnails large enough to judge.
    smallest = page.evaluate(
        "Math.min(...Array.from(document.querySelectorAll('.candidate-image'))"
        ".map((i) => i.getBoundingClientRect().width))"
    )
    assert smallest >= 100


def test_p_expands_the_plots_and_esc_closes_them_while_m_still_changes_the_mode(
    page: Any, server: DashboardServer
) -> None:
    page.set_viewport_size({"width": 1280, "height": 720})
    open_blank_session(page, server, mode="winner", k=8)
    assert not page.locator("#curves").is_visible()
    page.keyboard.press("p")
    page.wait_for_selector("#plots-column.expanded")
    page.wait_for_selector("#curves .js-plotly-plot", state="visible")
    # While the plots cover the grid, the grid takes no keys.
    page.keyboard.press("2")
    assert page.locator(".candidate-card.picked").count() == 0
    page.keyboard.press("Escape")
    page.wait_for_selector("#plots-column:not(.expanded)")
    assert not page.locator("#curves").is_visible()
    page.click("#expand-plots")
    page.wait_for_selector("#plots-column.expanded")
    page.keyboard.press("p")
    page.wait_for_selector("#plots-column:not(.expanded)")
    page.keyboard.press("m")
    page.wait_for_function("!document.querySelector('#mode-banner').innerText.includes('WINNER')")


def test_a_new_round_brings_the_grids_top_into_view(page: Any, server: DashboardServer) -> None:
    page.set_viewport_size({"width": 1280, "height": 720})
    session_id = open_blank_session(page, server, mode="approve_reject", k=20)
    page.evaluate("document.querySelector('.round-column > .grid-slot').scrollTop = 10000")
    assert page.evaluate("document.querySelector('.round-column > .grid-slot').scrollTop") > 0
    page.uncheck("#auto-advance")
    blank_round(workspace_of(server), session_id, k=20)
    wait_for_round(page, 1)
    page.wait_for_function("document.querySelector('.round-column > .grid-slot').scrollTop === 0")
    assert_inside_viewport(page, ".candidate-card[data-slot='0']")
