"""Undo in the browser (issue 15, defects 1 and 2): Undo judgment goes back to the judged
round with its draft and leaves no round built from the withdrawn judgment; Backspace edits
the draft only."""

from __future__ import annotations

import time
from typing import Any

from steering_core.sessions import get_feedback_events, latest_round_index
from steering_core.worker import list_jobs
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


def wait_for_no_round_job(server: DashboardServer, session_id: str, timeout: float = 120) -> None:
    """Wait until no job of the session is queued or running (cancelled, failed or done)."""
    deadline = time.monotonic() + timeout
    while any(
        job["status"] in ("queued", "running")
        for job in list_jobs(workspace_of(server), session_id)
    ):
        assert time.monotonic() < deadline, "the round job never ended"
        time.sleep(0.2)


def test_undo_right_after_a_judgment_returns_to_the_judged_round_with_its_draft(
    page: Any, server: DashboardServer
) -> None:
    session_id = start_session(page, server, mode="approve_reject")
    assert page.is_checked("#auto-advance")  # the next round starts after each judgment
    page.click(card(1) + " [data-action='approve']")
    page.click(card(3) + " [data-action='approve']")
    page.click(card(2) + " [data-action='reject']")
    page.click("[data-action='submit']")
    wait_until_stored(page)
    # The button says which judgment of which round it withdraws.
    undo = page.locator("#undo-judgment")
    page.wait_for_function(
        "() => document.querySelector('#undo-judgment').textContent"
        '.startsWith("Undo round 0\'s judgment (approved 2, 4; rejected 3)")'
    )
    undo.click()

    # Back on round 0, with the approvals and the rejection on the cards again.
    page.wait_for_selector(".outbox-undone")
    assert "Withdrew round 0's judgment" in page.inner_text("#outbox-status")
    wait_for_round(page, 0)
    page.wait_for_selector(card(1) + ".approved")
    assert page.locator(card(3) + ".approved").count() == 1
    assert page.locator(card(2) + ".rejected").count() == 1
    assert page.locator(".candidate-card.approved").count() == 2
    assert "round 0 of 0" in page.inner_text("#round-label")

    # The round being made from the judgment was stopped or discarded: none remains.
    wait_for_no_round_job(server, session_id)
    workspace = workspace_of(server)
    assert latest_round_index(workspace, session_id) == 0
    events = get_feedback_events(workspace, session_id)
    assert [e.mode for e in events] == ["approve_reject", "undo"]
    page.wait_for_function(
        "() => document.querySelector('#undo-judgment').disabled"
    )  # nothing left to withdraw
    assert page.locator(".candidate-grid[data-round='0']").count() == 1

    # Enter submits the restored draft as it was.
    page.locator("body").click(position={"x": 5, "y": 500})
    page.keyboard.press("Enter")
    wait_for_round(page, 1)
    again = stored_judgments(server, session_id)[-1]
    assert (len(again.raw["approved"]), len(again.raw["rejected"])) == (2, 1)


def test_backspace_with_an_empty_draft_withdraws_nothing_stored(
    page: Any, server: DashboardServer
) -> None:
    session_id = start_session(page, server, mode="winner")
    keyboard = page.keyboard
    keyboard.press("3")
    keyboard.press("Enter")
    wait_for_round(page, 1)
    wait_until_stored(page)

    keyboard.press("2")  # a step in round 1's draft ...
    keyboard.press("Backspace")  # ... undone
    page.wait_for_function("() => !document.querySelector('.candidate-card.picked')")
    keyboard.press("Backspace")  # nothing left in this draft: nothing else happens
    keyboard.press("Backspace")
    page.wait_for_selector(".outbox-error:has-text('nothing to undo in this draft')")

    events = get_feedback_events(workspace_of(server), session_id)
    assert [(e.mode, e.undone_at) for e in events] == [("winner", None)]
    assert latest_round_index(workspace_of(server), session_id) == 1
    assert page.locator(".candidate-grid[data-round='1']").count() == 1
