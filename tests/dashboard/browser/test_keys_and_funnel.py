"""The keyboard (one table of shortcuts, paused only in text fields, Esc always leaves),
the draft funnel in the page, the mode's own controls and the auto-advance switch kept
across loads, in the browser.

Rounds are stored from the side with blank images (as `steer round` beside the page would),
so that a 20-image funnel round costs no rendering; a round the page starts meanwhile is
cancelled, or loses the race to them (superseded)."""

from __future__ import annotations

from typing import Any

from steering_core.config import make_config
from steering_core.funnel import next_funnel_round
from steering_core.sessions import create_session
from steering_core.worker import list_jobs
from tests.dashboard.browser.conftest import DashboardServer
from tests.dashboard.browser.helpers import (
    stored_judgments,
    wait_for_round,
    wait_until_stored,
    workspace_of,
)
from tests.steering_core.helpers import blank_round


def open_blank_session(page: Any, server: DashboardServer, mode: str, k: int = 4) -> str:
    """A session with a blank round 0, open in the page; returns its id."""
    workspace = workspace_of(server)
    config = make_config({"prompt": "a red circle", "feedback_mode": mode, "k": k, "steps": 2})
    session = create_session(workspace, config)
    blank_round(workspace, session.id)
    page.goto(f"{server.url}/?session={session.id}")
    wait_for_round(page, 0)
    return session.id


def store_blank_round(page: Any, server: DashboardServer, session_id: str, **request: Any) -> int:
    """Cancel the round the page started, store a blank one instead and wait for the grid."""
    cancel = page.locator("#cancel-job")
    if cancel.is_visible():
        cancel.click()
    record, _ = blank_round(workspace_of(server), session_id, **request)
    wait_for_round(page, record.round_index)
    return record.round_index


def focused_slot(page: Any) -> str | None:
    """The slot of the card that has the browser's focus (None: no card has it)."""
    return page.evaluate("document.activeElement?.closest('.candidate-card')?.dataset.slot ?? null")


def test_the_funnel_limits_submits_first_and_gives_the_mode_back(
    page: Any, server: DashboardServer
) -> None:
    session_id = open_blank_session(page, server, mode="rating")
    page.click("#funnel-start")
    page.wait_for_selector("#round-message:has-text('approve at most 8')")
    assert page.input_value("#mode-switch") == "approve_reject"
    store_blank_round(page, server, session_id, k=20)
    assert page.get_attribute(".candidate-grid", "data-keep-limit") == "8"
    assert page.is_checked("#auto-advance")  # the funnel leaves the switch alone

    for key in "123456789":  # approve nine: the ninth is refused, at once, with the limit
        page.keyboard.press(key)
    page.wait_for_selector(".outbox-error:has-text('keeps at most 8')")
    # (waited for: a store change, e.g. the cancelled round, redraws the cards meanwhile)
    page.wait_for_function("document.querySelectorAll('.candidate-card.approved').length === 8")
    # The stale refusal goes with the next valid change (reject the focused image).
    page.keyboard.press("r")
    page.wait_for_selector(".outbox-error", state="detached")
    # (waited for: a store change, e.g. the cancelled round, redraws the cards meanwhile)
    page.wait_for_function("document.querySelectorAll('.candidate-card.approved').length === 7")

    # "Next funnel stage" before Submit: the approvals on screen are stored, then varied.
    page.click("#funnel-next")
    page.wait_for_selector("#round-message:has-text('Kept 7; a round of 15')")
    wait_until_stored(page)
    judged = stored_judgments(server, session_id)
    assert [e.mode for e in judged] == ["approve_reject"] and len(judged[0].raw["approved"]) == 7
    assert page.get_attribute(".candidate-grid", "data-round") == "1"  # no auto-advance
    step = next_funnel_round(workspace_of(server), session_id)
    store_blank_round(page, server, session_id, around=step.around, k=step.k)
    assert page.get_attribute(".candidate-grid", "data-keep-limit") == "3"

    # Keep one: the funnel ends, and judging is back in the mode in use before it.
    page.keyboard.press("1")
    page.click("#funnel-next")
    page.wait_for_selector("#round-message:has-text('back in rating mode')")
    page.wait_for_selector(".candidate-grid[data-mode='rating']")
    assert page.input_value("#mode-switch") == "rating"
    page.locator("#cancel-job").click()


def test_keys_pause_in_text_fields_and_esc_returns_to_the_grid(
    page: Any, server: DashboardServer
) -> None:
    session_id = open_blank_session(page, server, mode="winner")
    assert focused_slot(page) == "0"  # a new round: the keys are on card 1
    assert page.locator("[data-action='A'], [data-action='tie']").count() == 0  # pairwise's

    page.click("#judge-critique-text")
    page.wait_for_selector("#keys-paused:visible:has-text('Shortcuts paused')")
    page.keyboard.type("3 n")  # text, not a pick or the next round
    assert page.input_value("#judge-critique-text") == "3 n"
    assert page.locator(".candidate-card.picked").count() == 0
    page.keyboard.press("Escape")  # leaves the field for the grid
    page.wait_for_selector("#keys-paused", state="hidden")
    assert focused_slot(page) == "0"
    page.keyboard.press("3")
    page.wait_for_selector(".candidate-card.picked[data-slot='2']")

    # A checkbox or button has the focus: the shortcuts still work there.
    page.focus("#auto-advance")
    page.keyboard.press("-")  # confidence 1 -> 0.9, and the slider shows it
    page.wait_for_function(
        "JSON.parse(localStorage.getItem('steer.drafts.v1'))"
        "[Object.keys(JSON.parse(localStorage.getItem('steer.drafts.v1')))[0]].confidence === 0.9"
    )
    page.keyboard.press("Escape")
    assert focused_slot(page) is not None

    page.keyboard.press("?")  # the list of shortcuts, from the same table as the keys
    assert page.evaluate("document.getElementById('shortcuts').open")
    listed = page.locator("#shortcuts kbd").all_inner_texts()
    assert {"m M", "i", "l", "n", "- +", "Esc"} <= set(listed)

    page.keyboard.press("i")  # the inspector, on the focused image
    page.wait_for_selector("#inspector .offcanvas-title:has-text('Candidate')")
    page.keyboard.press("Escape")
    page.wait_for_selector("#inspector", state="hidden")

    page.keyboard.press("m")  # the next feedback mode
    page.wait_for_selector(".candidate-grid[data-mode='approve_reject']")
    page.locator("body").click(position={"x": 5, "y": 500})
    page.keyboard.press("n")  # the next round; the keys are on card 1 again
    page.wait_for_selector("#cancel-job:visible")
    store_blank_round(page, server, session_id)
    page.wait_for_function(
        "document.activeElement?.closest('.candidate-card')?.dataset.slot === '0'"
    )


def test_pairwise_judges_several_pairs_of_one_round(page: Any, server: DashboardServer) -> None:
    session_id = open_blank_session(page, server, mode="pairwise")
    assert page.is_checked("#auto-advance")
    # Only pairwise's controls: the pair buttons, no stars, no approve / reject.
    assert page.locator("[data-action='A']").count() == 1
    assert page.locator("[data-action='rate'], [data-action='approve']").count() == 0
    for first, second, choice in (("1", "2", "["), ("3", "4", "]"), ("1", "4", "t")):
        page.keyboard.press(first)
        page.keyboard.press(second)
        page.keyboard.press(choice)
    wait_until_stored(page)
    judged = stored_judgments(server, session_id)
    assert [e.raw["choice"] for e in judged] == ["first", "second", "tie"]
    assert {e.round_index for e in judged} == {0}  # three pairs cost one round ...
    assert list_jobs(workspace_of(server), session_id) == []  # ... and started none
    assert page.inner_text("#round-message") == ""  # nothing asked of the funnel on load


def test_the_auto_advance_switch_is_kept_across_loads(page: Any, server: DashboardServer) -> None:
    session_id = open_blank_session(page, server, mode="winner")
    page.uncheck("#auto-advance")
    page.goto(f"{server.url}/?session={session_id}")
    wait_for_round(page, 0)
    page.wait_for_function("!document.getElementById('auto-advance').checked")
    page.keyboard.press("2")
    page.keyboard.press("Enter")  # judged: with the switch off, the round stays
    wait_until_stored(page)
    assert page.get_attribute(".candidate-grid", "data-round") == "0"
    page.check("#auto-advance")
    page.reload()
    wait_for_round(page, 0)
    page.wait_for_timeout(300)
    assert page.is_checked("#auto-advance")
