"""Steps the browser tests share: start a session from the setup panel, wait for rounds,
read what the data root stored."""

from __future__ import annotations

from typing import Any

from steering_core.sessions import get_feedback_events
from steering_core.storage.workspace import Workspace
from tests.dashboard.browser.conftest import DashboardServer

ROUND_TIMEOUT_MS = 120_000
# The grid shows round `round` (the function's argument) with every image loaded.
GRID_LOADED = (
    "(round) => { const g = document.querySelector('.candidate-grid');"
    " return g && g.dataset.round === String(round) &&"
    " Array.from(g.querySelectorAll('.candidate-image')).every(i => i.complete"
    " && i.naturalWidth > 0); }"
)
# The browser's outbox is empty: every judgment acknowledged.
OUTBOX_EMPTY = "JSON.parse(localStorage.getItem('steer.outbox.v1') || '[]').length === 0"


def start_session(page: Any, server: DashboardServer, mode: str = "winner", k: int = 4) -> str:
    """Fill the setup panel (built-in model), start, wait for round 0; returns the id."""
    page.goto(server.url + "/")
    page.fill("#setup-prompt", "a red circle on a blue background")
    page.select_option("#setup-feedback-mode", mode)
    page.fill("#setup-k", str(k))
    page.fill("#setup-steps", "8")
    page.click("#setup-start")
    wait_for_round(page, 0)
    return page.evaluate("document.querySelector('.candidate-grid').dataset.session")


def wait_for_round(page: Any, round_index: int) -> None:
    """Wait until the grid shows `round_index` with its images loaded."""
    page.wait_for_selector(
        f".candidate-grid[data-round='{round_index}'] .candidate-image", timeout=ROUND_TIMEOUT_MS
    )
    page.wait_for_function(
        "Array.from(document.querySelectorAll('.candidate-image')).every(i => i.complete)"
    )


def wait_until_stored(page: Any, timeout_ms: int = 30_000) -> None:
    """Wait until the browser's outbox is empty (every judgment acknowledged)."""
    page.wait_for_function(OUTBOX_EMPTY, timeout=timeout_ms)


def show_setup(page: Any) -> None:
    """Unfold the setup rail (folded while a session is open)."""
    page.wait_for_selector(".steer-layout.setup-folded")
    page.click("#setup-toggle")
    page.wait_for_selector(".steer-layout:not(.setup-folded) .setup-body", state="visible")


def workspace_of(server: DashboardServer) -> Workspace:
    return Workspace.open(server.data_root)


def stored_judgments(server: DashboardServer, session_id: str) -> list[Any]:
    """The session's judgments as the data root holds them (undo events excluded)."""
    return [e for e in get_feedback_events(workspace_of(server), session_id) if e.mode != "undo"]
