"""A session's identity in Chromium: named at creation and renamed, its state at a glance
under the title, the reason a kept incumbent is kept, and forking through the dialog."""

from __future__ import annotations

from typing import Any

from steering_core.sessions import get_session, list_sessions
from tests.dashboard.browser.conftest import DashboardServer
from tests.dashboard.browser.helpers import (
    show_setup,
    wait_for_round,
    wait_until_stored,
    workspace_of,
)


def test_a_named_session_its_state_line_a_kept_incumbent_and_a_named_fork(
    page: Any, server: DashboardServer
) -> None:
    page.goto(server.url + "/")
    page.fill("#setup-prompt", "a red circle on a blue background")
    page.fill("#setup-session-name", "warm circles")
    page.select_option("#setup-feedback-mode", "winner")
    page.fill("#setup-k", "4")
    page.fill("#setup-steps", "8")
    page.click("#setup-start")
    wait_for_round(page, 0)
    session_id = page.evaluate("document.querySelector('.candidate-grid').dataset.session")
    assert page.inner_text("#session-title") == "warm circles — a red circle on a blue background"
    page.wait_for_function("document.title.startsWith('warm circles — ')")
    page.wait_for_function(
        "document.querySelector('#session-status').innerText.includes('round 0 of 0')"
    )
    status = page.inner_text("#session-status")
    assert status.startswith(f"#{session_id} · round 0 of 0 · mode: winner")

    # The incumbent (card 1) wins round 0: round 1 re-shows it and says why.
    page.click(".candidate-card[data-slot='0'] .candidate-image")
    page.keyboard.press("Enter")
    wait_until_stored(page)
    wait_for_round(page, 1)
    assert page.inner_text(".candidate-card[data-slot='0'] .kept-note") == (
        "kept: nothing beat it in round 0"
    )
    assert page.locator(".kept-note").count() == 1

    # Rename it in "Open a session", on the setup rail (folded while a session is open).
    show_setup(page)
    page.fill("#setup-rename-name", "circles")
    page.click("#setup-rename")
    page.wait_for_function(
        "document.querySelector('#session-title').innerText.startsWith('circles — ')"
    )
    assert get_session(workspace_of(server), session_id).name == "circles"

    # Fork card 3 of round 1 with a new prompt and a name.
    page.click(".candidate-card[data-slot='2'] .inspect-link")
    page.wait_for_selector("#inspector-fork", state="visible")
    page.click("#inspector-fork")
    page.wait_for_selector("#fork-dialog", state="visible")
    assert page.input_value("#fork-prompt") == "a red circle on a blue background"
    page.fill("#fork-prompt", "a blue circle on a red background")
    page.fill("#fork-name", "cold circles")
    page.click("#fork-confirm")
    page.wait_for_function(
        "document.querySelector('#session-title').innerText.startsWith('cold circles')"
    )
    (fork,) = [s for s in list_sessions(workspace_of(server)) if s["id"] != session_id]
    assert fork["prompt"] == "a blue circle on a red background"
    page.wait_for_function(
        "document.querySelector('#session-status').innerText"
        f".includes('fork of #{session_id}, round 1')"
    )
    assert fork["name"] == "cold circles"
    assert not page.locator("#fork-dialog").is_visible()
