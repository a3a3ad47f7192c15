"""A first-time researcher's walk through the steering page in Chromium, over the twelve
defects of issue 15: each is checked as a user meets it (what the page shows, what the data
root holds) and the walk fails if any comes back.

Rounds are rendered by the built-in model only where a defect is about rendering (progress,
undo of a round being made, a round that loses the race); elsewhere they are stored from the
side with blank images, as `steer round` beside the page would."""

from __future__ import annotations

import re
from typing import Any

import pytest

from steering_core.bench.location import experiments_dir
from steering_core.funnel import next_funnel_round
from steering_core.sessions import (
    get_feedback_events,
    get_session,
    latest_round_index,
    list_sessions,
)
from tests.dashboard.browser.conftest import DashboardServer
from tests.dashboard.browser.helpers import (
    show_setup,
    stored_judgments,
    wait_for_round,
    wait_until_stored,
    workspace_of,
)
from tests.dashboard.browser.test_critique import MISSING, summary_says
from tests.dashboard.browser.test_keys_and_funnel import open_blank_session, store_blank_round
from tests.dashboard.browser.test_space import GRAPH, points, wait_for_points
from tests.dashboard.browser.test_undo import card, wait_for_no_round_job
from tests.dashboard.pages.test_experiments import write_experiment
from tests.steering_core.helpers import blank_round

WIDE = {"width": 1440, "height": 900}
SMALL = {"width": 1280, "height": 720}

# Every text the progress line shows, recorded as it changes (a render's words are gone
# from the page once its round is shown).
RECORD_PROGRESS = """() => {
  window.progressSeen = [];
  new MutationObserver(() => {
    const text = document.getElementById('progress-text')?.innerText;
    if (text && window.progressSeen.at(-1) !== text) window.progressSeen.push(text);
  }).observe(document.body, {childList: true, subtree: true, characterData: true});
}"""

# The requests the page makes while the server is down may fail; Dash says so in the console.
SERVER_DOWN_ERRORS = [
    "ERR_CONNECTION_REFUSED",
    "ERR_CONNECTION_RESET",
    "ERR_EMPTY_RESPONSE",
    "the server did not respond",
]


def text_of(page: Any, selector: str) -> str:
    return page.inner_text(selector).strip()


def wait_for_text(page: Any, selector: str, text: str, timeout_ms: int = 30_000) -> None:
    """Wait until the element `selector` matches shows `text` somewhere in it."""
    page.wait_for_function(
        "([selector, text]) => document.querySelector(selector)?.innerText.includes(text)",
        arg=[selector, text],
        timeout=timeout_ms,
    )


def test_first_visit_a_rendered_round_its_progress_undo_and_backspace(
    page: Any, server: DashboardServer
) -> None:
    """Defects 3 (no error on a cold load), 5 (out-of-range k and trust radius), 4 (progress
    of a batched round), 1 (undo right after a judgment) and 2 (Backspace)."""
    page.set_viewport_size(WIDE)
    workspace = workspace_of(server)

    # 3. A cold load says nothing is wrong: nothing was submitted yet.
    page.goto(server.url + "/")
    page.wait_for_load_state("networkidle")
    assert text_of(page, "#setup-message") == ""
    assert "Invalid input" not in page.inner_text("body")

    # 5. k = 50 is refused at its field, with its range, and starts nothing.
    page.fill("#setup-prompt", "a red circle on a blue background")
    page.select_option("#setup-feedback-mode", "approve_reject")
    page.fill("#setup-k", "50")
    page.fill("#setup-steps", "20")
    page.click("#setup-start")
    wait_for_text(page, "#setup-message", "k: 2-32 (got 50)")
    assert "is-invalid" in (page.get_attribute("#setup-k", "class") or "")
    assert list_sessions(workspace) == []
    assert "session=" not in page.url

    # 4. A real round of 8 images, rendered in one batch: the progress line says so.
    page.evaluate(RECORD_PROGRESS)
    page.fill("#setup-k", "8")
    page.click("#setup-start")
    wait_for_round(page, 0)
    session_id = page.evaluate("document.querySelector('.candidate-grid').dataset.session")
    assert get_session(workspace, session_id).config["k"] == 8
    seen = page.evaluate("window.progressSeen")
    batched = [t for t in seen if re.search(r"step \d+/20 · 8 images in one batch", t)]
    assert batched, seen
    assert not any(re.search(r"image \d+/8", t) for t in seen), seen

    # 5. A trust radius of 5 (at most 2) is refused at its field; the session keeps its own.
    radius = get_session(workspace, session_id).config["trust_radius"]
    show_setup(page)
    page.get_by_text("Settings for the next round").click()
    page.fill("#settings-trust-radius", "5")
    page.click("#settings-apply")
    wait_for_text(page, "#settings-message", "trust radius: above 0, at most 2 (got 5)")
    assert "Nothing to change" not in page.inner_text("#settings-message")
    assert "is-invalid" in (page.get_attribute("#settings-trust-radius", "class") or "")
    assert get_session(workspace, session_id).config["trust_radius"] == radius
    page.click("#setup-toggle")  # fold it again
    page.wait_for_selector(".steer-layout.setup-folded")

    # 1. Judge with "next round after each judgment" on, then Undo at once: back on round 0
    # with the draft, and no round made from the withdrawn judgment.
    assert page.is_checked("#auto-advance")
    page.click(card(1) + " [data-action='approve']")
    page.click(card(3) + " [data-action='approve']")
    page.click(card(2) + " [data-action='reject']")
    page.click("[data-action='submit']")
    wait_until_stored(page)
    page.wait_for_function(
        "() => document.querySelector('#undo-judgment').textContent"
        '.startsWith("Undo round 0\'s judgment (approved 2, 4; rejected 3)")'
    )
    page.click("#undo-judgment")
    page.wait_for_selector(".outbox-undone")
    assert "Withdrew round 0's judgment" in page.inner_text("#outbox-status")
    wait_for_round(page, 0)
    page.wait_for_selector(card(1) + ".approved")
    assert page.locator(".candidate-card.approved").count() == 2
    assert page.locator(card(2) + ".rejected").count() == 1
    wait_for_no_round_job(server, session_id)
    assert latest_round_index(workspace, session_id) == 0
    assert [e.mode for e in get_feedback_events(workspace, session_id)] == [
        "approve_reject",
        "undo",
    ]
    assert "round 0 of 0" in page.inner_text("#round-label")

    # The restored draft, submitted again, makes round 1 from it.
    page.locator("body").click(position={"x": 5, "y": 500})
    page.keyboard.press("Enter")
    wait_for_round(page, 1)
    wait_until_stored(page)

    # 2. Backspace edits round 1's draft only; past it, it says so and withdraws nothing.
    page.keyboard.press("2")
    page.wait_for_selector(card(1) + ".approved")
    page.keyboard.press("Backspace")
    page.wait_for_function("() => !document.querySelector('.candidate-card.approved')")
    page.keyboard.press("Backspace")
    page.wait_for_selector(".outbox-error:has-text('nothing to undo in this draft')")
    page.keyboard.press("Backspace")
    page.wait_for_timeout(500)  # time enough for a withdrawal, had one been sent
    events = get_feedback_events(workspace, session_id)
    kept = [e for e in events if e.mode != "undo" and e.undone_at is None]
    assert [e.round_index for e in kept] == [0]
    assert latest_round_index(workspace, session_id) == 1
    assert page.locator(".candidate-grid[data-round='1']").count() == 1
    assert "round 1 of 1" in page.inner_text("#round-label")

    # 11. A round the page renders loses the race to one stored beside it (a CLI round):
    # the page shows that one, and Diagnostics lists the page's as superseded, not failed.
    page.locator("body").click(position={"x": 5, "y": 500})
    page.keyboard.press("n")
    wait_for_text(page, "#progress-text", "step ")  # planned from round 1, and rendering
    blank_round(workspace, session_id)
    wait_for_round(page, 2)
    wait_for_no_round_job(server, session_id)
    assert latest_round_index(workspace, session_id) == 2
    page.goto(server.url + "/diagnostics")
    page.wait_for_selector("text=superseded", timeout=15_000)
    listed = page.inner_text("body")
    assert "created by another process" in listed
    assert "invalid input" not in listed.lower()


def test_judged_rounds_inspector_critique_space_and_a_link_to_a_past_round(
    page: Any, server: DashboardServer
) -> None:
    """At 1280x720: defects 7 (the inspector of a candidate that lost), 10 (the space keeps
    its projection when a round comes in), 8 (a critique sent, then Enter) and 11 (a link to
    a past round, its mode, the auto-advance switch kept)."""
    page.set_viewport_size(SMALL)
    workspace = workspace_of(server)
    session_id = open_blank_session(page, server, mode="winner")
    page.uncheck("#auto-advance")  # stay on each round after judging it

    wait_for_points(page, 4)
    before = points(page)
    axes = page.evaluate(
        f"() => [{GRAPH}._fullLayout.xaxis.title.text, {GRAPH}._fullLayout.yaxis.title.text]"
    )

    # 7. Image 3 wins round 0: image 1's inspector lists the loss, not "none yet".
    page.locator("body").click(position={"x": 5, "y": 500})
    page.keyboard.press("3")
    page.wait_for_selector(card(2) + ".picked")
    page.keyboard.press("Enter")
    page.wait_for_selector(card(2) + " .badges :text('winner')")
    wait_until_stored(page)
    assert [e.mode for e in stored_judgments(server, session_id)] == ["winner"]
    page.click(card(0) + " .inspect-link")
    page.wait_for_selector("#inspector .offcanvas-title:has-text('Candidate')")
    wait_for_text(page, "#inspector", "judgments:")
    inspector = page.inner_text("#inspector")
    assert "lost to" in inspector and "none yet" not in inspector, inspector
    page.keyboard.press("Escape")
    page.wait_for_selector("#inspector", state="hidden")

    # 10. A round stored beside the page adds points; the map keeps its projection.
    blank_round(workspace, session_id)
    wait_for_round(page, 1)
    wait_for_points(page, 8)
    after = points(page)
    for candidate, place in before.items():
        assert after[candidate]["x"] == pytest.approx(place["x"], abs=1e-5)
        assert after[candidate]["y"] == pytest.approx(place["y"], abs=1e-5)
    assert (
        page.evaluate(
            f"() => [{GRAPH}._fullLayout.xaxis.title.text, {GRAPH}._fullLayout.yaxis.title.text]"
        )
        == axes
    )

    # 8. A critique of round 1 sent: the summary says what is missing, and Enter then sends
    # nothing (no empty critique refused by the server).
    page.select_option("#mode-switch", "critique")
    page.wait_for_selector(".candidate-grid[data-mode='critique']")
    page.fill("#judge-critique-text", "flat light")
    summary_says(page, "Ready: critique")
    page.click("[data-action='submit']")
    wait_until_stored(page)
    summary_says(page, MISSING)
    page.locator("body").click(position={"x": 5, "y": 500})
    page.keyboard.press("Enter")
    wait_for_text(page, "#outbox-status", MISSING)
    page.wait_for_timeout(1000)  # time enough for a request, had one been sent
    assert "Invalid input" not in page.inner_text("#outbox-status")
    judged = stored_judgments(server, session_id)
    assert [(e.mode, e.round_index) for e in judged] == [("winner", 0), ("critique", 1)]

    # 11. A link to round 0 opens round 0, in the mode it was judged in (winner, while
    # critique is in use), with the auto-advance switch as it was left.
    page.goto(f"{server.url}/?session={session_id}&round=0")
    wait_for_round(page, 0)
    assert "round 0 of 1" in page.inner_text("#round-label")
    assert page.get_attribute(".candidate-grid", "data-mode") == "winner"
    assert "WINNER" in page.inner_text("#mode-banner")
    page.wait_for_timeout(300)  # the switch's stored value is applied after load
    assert not page.is_checked("#auto-advance")
    assert page.locator(card(2) + " .badges :text('winner')").count() == 1


def test_the_funnel_an_experiment_run_and_a_stopped_server(
    page: Any, server: DashboardServer
) -> None:
    """Defects 6 (the draft funnel: its limit, submit first, mode and switch given back,
    stale errors cleared), 9 (a run under the data root on the Experiments page) and 12
    (a stopped server: a banner with the judgments waiting, polling backed off)."""
    page.set_viewport_size(WIDE)
    workspace = workspace_of(server)
    session_id = open_blank_session(page, server, mode="rating")

    # 6. The funnel's wide round keeps at most 8: a 9th approval is refused, with the limit.
    page.click("#funnel-start")
    wait_for_text(page, "#round-message", "approve at most 8")
    store_blank_round(page, server, session_id, k=20)
    assert page.get_attribute(".candidate-grid", "data-keep-limit") == "8"
    assert page.is_checked("#auto-advance")  # the funnel leaves the switch alone
    for key in "123456789":
        page.keyboard.press(key)
    page.wait_for_selector(".outbox-error:has-text('keeps at most 8')")
    page.wait_for_function("document.querySelectorAll('.candidate-card.approved').length === 8")
    page.keyboard.press("r")  # a valid change: the stale refusal goes
    page.wait_for_selector(".outbox-error", state="detached")
    page.wait_for_function("document.querySelectorAll('.candidate-card.approved').length === 7")
    # "Next funnel stage" before Submit stores the approvals on screen.
    page.click("#funnel-next")
    wait_for_text(page, "#round-message", "Kept 7; a round of 15")
    assert "no judgment yet" not in page.inner_text("#round-message")
    wait_until_stored(page)
    judged = stored_judgments(server, session_id)
    assert [e.mode for e in judged] == ["approve_reject"] and len(judged[0].raw["approved"]) == 7
    step = next_funnel_round(workspace, session_id)
    store_blank_round(page, server, session_id, around=step.around, k=step.k)
    page.keyboard.press("1")
    page.click("#funnel-next")
    wait_for_text(page, "#round-message", "back in rating mode")
    page.wait_for_selector(".candidate-grid[data-mode='rating']")
    assert page.input_value("#mode-switch") == "rating"
    assert page.is_checked("#auto-advance")
    page.locator("#cancel-job").click()
    wait_for_no_round_job(server, session_id)

    # 9. A `steer bench` run written under the data root appears on the open Experiments page.
    page.goto(server.url + "/experiments")
    page.wait_for_load_state("networkidle")
    assert "first_run" not in page.inner_text("body")
    write_experiment(experiments_dir(server.data_root), "first_run")
    page.wait_for_selector("#experiment-table", timeout=15_000)
    wait_for_text(page, "body", "first_run", timeout_ms=15_000)

    # 12. The server stops: a banner says so and counts the judgment waiting; the page polls
    # less often; when the server is back, the judgment is stored.
    page.goto(f"{server.url}/?session={session_id}")
    wait_for_round(page, 2)
    page.uncheck("#auto-advance")
    server.kill()
    page.allowed_errors += SERVER_DOWN_ERRORS
    page.click(card(1) + " .star[data-stars='4']")
    page.click("[data-action='submit']")
    page.wait_for_selector("#offline-banner:not([hidden])", timeout=10_000)
    wait_for_text(page, "#offline-banner", "1 judgment waiting")
    assert "Server unreachable" in page.inner_text("#offline-banner")
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.wait_for_timeout(10_000)  # polling every 2 s would be 5 requests
    assert len(requests) <= 3, requests
    server.start()
    page.wait_for_selector("#offline-banner", state="hidden", timeout=40_000)
    wait_until_stored(page)
    (rated,) = [e for e in stored_judgments(server, session_id) if e.mode == "rating"]
    assert list(rated.raw["ratings"].values()) == [4]


def axis_ranges(page: Any) -> list[float]:
    """The space's visible window: [x from, x to, y from, y to]."""
    return page.evaluate(
        f"() => [...{GRAPH}._fullLayout.xaxis.range, ...{GRAPH}._fullLayout.yaxis.range]"
    )


def test_a_new_round_keeps_the_spaces_zoom(page: Any, server: DashboardServer) -> None:
    """Defect 10, zoom: a box zoom on the steering space stays when a round comes in."""
    page.set_viewport_size(WIDE)
    session_id = open_blank_session(page, server, mode="winner")
    wait_for_points(page, 4)
    full = axis_ranges(page)
    box = page.locator("#space-graph .nsewdrag").bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.3)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.6, steps=5)
    page.mouse.up()
    page.wait_for_function(f"(full) => {GRAPH}._fullLayout.xaxis.range[0] !== full[0]", arg=full)
    zoomed = axis_ranges(page)
    blank_round(workspace_of(server), session_id)
    wait_for_round(page, 1)
    wait_for_points(page, 8)
    assert axis_ranges(page) == pytest.approx(zoomed)
