"""The draft funnel and "more like this" from the dashboard, without a browser."""

from __future__ import annotations

from dash import no_update

from dashboard.callbacks.judging import funnel_stage, start_funnel
from dashboard.callbacks.space import more_like_this
from dashboard.state import DashboardState
from steering_core.config import SessionConfig
from steering_core.sessions import create_session, get_session, submit_feedback
from tests.steering_core.helpers import blank_round


def test_the_funnel_starts_wide_in_approve_reject_mode(
    state: DashboardState, tiny_config: SessionConfig
) -> None:
    session = create_session(state.workspace, tiny_config)
    job, message, mode, advance = start_funnel(state, session.id)
    assert mode == "approve_reject" and advance is False and "at most 8" in message
    assert get_session(state.workspace, session.id).config["feedback_mode"] == "approve_reject"
    assert state.job(session.id).id == job["job_id"]


def test_the_next_stage_varies_what_was_kept_and_refuses_too_many(
    state: DashboardState, tiny_config: SessionConfig
) -> None:
    session = create_session(state.workspace, tiny_config)
    _, wide = blank_round(state.workspace, session.id, k=20)
    too_many = {"mode": "approve_reject", "approved": [c.id for c in wide[:9]]}
    submit_feedback(state.workspace, session.id, too_many)
    job, message = funnel_stage(state, session.id)
    assert job is no_update and "approved" in str(message) and state.job(session.id) is None
    keep = {"mode": "approve_reject", "approved": [c.id for c in wide[1:4]]}
    submit_feedback(state.workspace, session.id, keep)
    job, message = funnel_stage(state, session.id)
    assert "Kept 3; a round of 7" in message and state.job(session.id).id == job["job_id"]


def test_more_like_this_queues_a_round_around_the_candidate(
    state: DashboardState, tiny_config: SessionConfig
) -> None:
    session = create_session(state.workspace, tiny_config)
    _, shown = blank_round(state.workspace, session.id)
    job, message = more_like_this(state, shown[2].id)
    assert f"candidate {shown[2].id}" in str(message)
    assert state.job(session.id).id == job["job_id"]
    _, message = more_like_this(state, 10**6)
    assert "no candidate" in str(message)
