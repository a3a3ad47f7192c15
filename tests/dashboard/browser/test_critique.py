"""A critique sent is gone from the draft: the summary then says what is missing, and Enter
with nothing to send sends nothing and says so (no empty critique for the server to refuse)."""

from __future__ import annotations

from typing import Any

from tests.dashboard.browser.conftest import DashboardServer
from tests.dashboard.browser.helpers import start_session, stored_judgments, wait_until_stored

MISSING = "give a tag or a note first"


def summary_says(page: Any, text: str) -> None:
    page.wait_for_function(
        "(text) => document.getElementById('draft-summary').innerText.includes(text)", arg=text
    )


def test_after_a_critique_is_sent_enter_sends_nothing_and_says_what_is_missing(
    page: Any, server: DashboardServer
) -> None:
    session_id = start_session(page, server, mode="critique")
    page.uncheck("#auto-advance")  # stay on the round the critique was about
    page.fill("#judge-critique-text", "flat light")
    summary_says(page, "Ready: critique")
    page.click("[data-action='submit']")
    wait_until_stored(page)
    summary_says(page, MISSING)

    page.locator("body").click(position={"x": 5, "y": 500})
    page.keyboard.press("Enter")
    page.wait_for_function(
        "(text) => document.getElementById('outbox-status').innerText.includes(text)",
        arg=MISSING,
    )
    page.wait_for_timeout(1000)  # time enough for a request, had one been sent
    assert "Invalid input" not in page.inner_text("#outbox-status")
    assert [event.raw["text"] for event in stored_judgments(server, session_id)] == ["flat light"]
