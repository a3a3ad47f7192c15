"""Judgments survive: a burst of 200 stored in order, a server restart mid-session, and a
submission that fails and is retried without re-entering anything; a round that fails is
shown as a runtime failure and the app goes on."""

from __future__ import annotations

import time
from typing import Any

from filelock import FileLock

from steering_core.sessions import get_round, latest_round_index
from tests.dashboard.browser.conftest import DashboardServer
from tests.dashboard.browser.helpers import (
    ROUND_TIMEOUT_MS,
    start_session,
    stored_judgments,
    wait_for_round,
    wait_until_stored,
    workspace_of,
)


def test_200_rapid_judgments_are_all_stored_in_order(page: Any, server: DashboardServer) -> None:
    session_id = start_session(page, server, mode="winner", k=4)
    page.uncheck("#auto-advance")  # judge the same round again and again, as fast as keys go
    page.locator("body").click(position={"x": 5, "y": 500})
    picks = [(i * 7) % 4 for i in range(200)]
    # Keys as fast as Playwright sends them (faster than 200 in 20 seconds), no waiting for
    # acknowledgements in between.
    for slot in picks:
        page.keyboard.press(str(slot + 1))
        page.keyboard.press("Enter")
    wait_until_stored(page, timeout_ms=60_000)

    events = stored_judgments(server, session_id)
    candidates = get_round(workspace_of(server), session_id, 0)[1]
    assert [e.raw["winner"] for e in events] == [candidates[slot].id for slot in picks]


def test_server_restart_mid_session_picks_up_where_it_was(
    page: Any, server: DashboardServer
) -> None:
    session_id = start_session(page, server, mode="winner")
    page.locator("body").click(position={"x": 5, "y": 500})
    page.keyboard.press("2")
    page.keyboard.press("Enter")
    wait_for_round(page, 1)
    page.keyboard.press("4")  # a judgment in progress, not yet submitted ...
    page.wait_for_selector(".candidate-card[data-slot='3'].picked")

    server.kill()  # ... when the server dies
    # While the server is down (on purpose) the page's polls fail; Dash says so in the
    # console (a poll in flight at the kill gets an empty response). Those messages are
    # allowed here, and only here.
    page.allowed_errors += [
        "ERR_CONNECTION_REFUSED",
        "ERR_CONNECTION_RESET",
        "ERR_EMPTY_RESPONSE",
        "the server did not respond",
    ]
    page.wait_for_timeout(2500)
    server.start()
    page.reload()

    wait_for_round(page, 1)  # the same session and round, and the pick is still there
    assert page.evaluate("document.querySelector('.candidate-grid').dataset.session") == (
        session_id
    )
    page.wait_for_selector(".candidate-card[data-slot='3'].picked")
    page.keyboard.press("Enter")
    wait_for_round(page, 2)
    events = stored_judgments(server, session_id)
    round1 = get_round(workspace_of(server), session_id, 1)[1]
    assert [e.raw["winner"] for e in events][-1] == round1[3].id
    assert len(events) == 2


def test_an_unreachable_server_is_shown_polled_less_often_and_caught_up_with(
    page: Any, server: DashboardServer
) -> None:
    session_id = start_session(page, server, mode="winner")
    page.uncheck("#auto-advance")  # both judgments are of round 0
    page.locator("body").click(position={"x": 5, "y": 500})
    server.kill()
    # The failures the page meets while the server is down (on purpose) are allowed (a
    # request in flight at the kill is reset or gets nothing); how many is checked below.
    page.allowed_errors += [
        "ERR_CONNECTION_REFUSED",
        "ERR_CONNECTION_RESET",
        "ERR_EMPTY_RESPONSE",
        "the server did not respond",
    ]
    for key in ("2", "3"):  # judged while the server is away
        page.keyboard.press(key)
        page.keyboard.press("Enter")
    banner = page.wait_for_selector("#offline-banner:not([hidden])", timeout=10_000)
    page.wait_for_function(
        "document.getElementById('offline-banner').innerText.includes('2 judgments waiting')"
    )
    assert "Server unreachable" in banner.inner_text()
    assert "retrying in" in banner.inner_text()

    # Backed off: in 16 s a poll every 2 s would be 8 requests and 8 console errors.
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.post_data or request.url))
    errors_before = len(page.console_errors)
    page.wait_for_timeout(16_000)
    assert len(requests) <= 4, [text[:200] for text in requests]
    assert len(page.console_errors) - errors_before <= 4, page.console_errors

    started = time.monotonic()
    server.start()
    page.wait_for_selector("#offline-banner", state="hidden", timeout=40_000)
    assert time.monotonic() - started < 40
    wait_until_stored(page)
    # The page polls again (every 2 s when idle) for what changes elsewhere.
    requests.clear()
    page.wait_for_timeout(5_000)
    assert any('"n_intervals"' in text for text in requests), requests
    round0 = get_round(workspace_of(server), session_id, 0)[1]
    assert [e.raw["winner"] for e in stored_judgments(server, session_id)] == [
        round0[1].id,
        round0[2].id,
    ]


def test_a_failed_submission_is_kept_and_retried_without_re_entering(
    page: Any, server: DashboardServer
) -> None:
    session_id = start_session(page, server, mode="rating")
    workspace = workspace_of(server)
    # Another process holds the session's label file: the dashboard cannot store for now.
    blocker = FileLock(str(workspace.labels.path(session_id)) + ".lock")
    blocker.acquire()
    try:
        page.click(".candidate-card[data-slot='1'] .star[data-stars='4']")
        page.click(".candidate-card[data-slot='2'] .star[data-stars='2']")
        page.click("[data-action='submit']")
        page.wait_for_selector("#outbox-retry", timeout=20_000)
        assert "Transient failure" in page.inner_text("#outbox-status")
        assert "waiting to be stored" in page.inner_text("#outbox-status")
        assert stored_judgments(server, session_id) == []
    finally:
        blocker.release()
    # Nothing re-entered: the judgment waited in the outbox. Retry (unless the page's own
    # retry, which backs off, got there first).
    retry = page.locator("#outbox-retry")
    if retry.is_visible():
        retry.click()
    wait_until_stored(page)
    (event,) = stored_judgments(server, session_id)
    round0 = get_round(workspace, session_id, 0)[1]
    assert event.raw["ratings"] == {str(round0[1].id): 4, str(round0[2].id): 2}


def test_a_failing_round_is_shown_as_a_runtime_failure_and_the_next_one_works(
    page: Any, server: DashboardServer
) -> None:
    session_id = start_session(page, server, mode="winner")
    # The next round cannot save its images: the session's image folder is a file now.
    images = server.data_root / "images" / session_id
    images.rename(images.with_name(session_id + ".moved"))
    images.write_bytes(b"not a folder")
    try:
        page.click("#next-round")
        page.wait_for_function(
            "document.getElementById('progress-text').innerText.includes('Runtime failure')",
            timeout=ROUND_TIMEOUT_MS,
        )
        # The page still shows round 0, and nothing of the failed round was stored.
        assert page.evaluate("document.querySelector('.candidate-grid').dataset.round") == "0"
        assert latest_round_index(workspace_of(server), session_id) == 0
    finally:
        images.unlink()
        images.with_name(session_id + ".moved").rename(images)
    # The app goes on: the same button makes the round once the cause is gone.
    page.click("#next-round")
    wait_for_round(page, 1)
