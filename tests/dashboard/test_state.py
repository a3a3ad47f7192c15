"""The dashboard holds a lease on the sessions its steering page shows, so `steer gc`
leaves them alone."""

from __future__ import annotations

from dashboard.callbacks.navigation import render_page
from dashboard.state import OPEN_SESSION_LEASES, DashboardState
from steering_core.config import make_config
from steering_core.sessions import create_session
from steering_core.storage.leases import list_leases, live_sessions


def new_session(state: DashboardState, prompt: str = "a red circle") -> str:
    return create_session(state.workspace, make_config({"prompt": prompt, "k": 4, "d": 4})).id


def test_the_session_the_steering_page_shows_is_leased(state: DashboardState) -> None:
    session_id = new_session(state)
    assert live_sessions(state.workspace) == set()
    render_page(state, "/", f"?session={session_id}")
    assert live_sessions(state.workspace) == {session_id}
    render_page(state, "/", f"?session={session_id}")  # shown again: still one lease
    assert len(list_leases(state.workspace)) == 1


def test_only_the_most_recently_shown_sessions_stay_leased(state: DashboardState) -> None:
    sessions = [new_session(state, f"prompt {i}") for i in range(OPEN_SESSION_LEASES + 2)]
    for session_id in sessions:
        render_page(state, "/", f"?session={session_id}")
    assert live_sessions(state.workspace) == set(sessions[2:])
    render_page(state, "/", f"?session={sessions[2]}")  # shown again: the newest now
    latest = new_session(state, "one more")
    render_page(state, "/", f"?session={latest}")
    assert live_sessions(state.workspace) == {sessions[2], *sessions[4:], latest}
    assert len(list_leases(state.workspace)) == OPEN_SESSION_LEASES
