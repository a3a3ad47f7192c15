"""The draft funnel and "more like this" from the dashboard, without a browser."""

from __future__ import annotations

import pytest
from dash import no_update

from dashboard.callbacks.judging import funnel_stage, more_like_focused, start_funnel
from dashboard.callbacks.space import more_like_this
from dashboard.state import DashboardState
from steering_core.config import SessionConfig
from steering_core.sessions import change_settings, create_session, get_session, submit_feedback
from tests.steering_core.helpers import blank_round


def test_the_funnel_starts_wide_in_approve_reject_mode(
    state: DashboardState, tiny_config: SessionConfig
) -> None:
    session = create_session(
        state.workspace, tiny_config.model_copy(update={"feedback_mode": "rating"})
    )
    job, message, mode, before = start_funnel(state, session.id, "rating")
    assert mode == "approve_reject" and "at most 8" in message
    # The mode in use before is remembered for the funnel's end; auto-advance is not touched.
    assert before == {"session_id": session.id, "mode": "rating"}
    assert get_session(state.workspace, session.id).config["feedback_mode"] == "approve_reject"
    assert state.job(session.id).id == job["job_id"]


def test_the_next_stage_varies_what_was_kept_and_says_what_is_missing(
    state: DashboardState, tiny_config: SessionConfig
) -> None:
    session = create_session(state.workspace, tiny_config)
    _, wide = blank_round(state.workspace, session.id, k=20)
    job, message, _, _ = funnel_stage(state, session.id)
    assert job is no_update and "no judgment yet" in str(message) and state.job(session.id) is None
    keep = {"mode": "approve_reject", "approved": [c.id for c in wide[1:4]]}
    submit_feedback(state.workspace, session.id, keep)
    job, message, mode, _ = funnel_stage(state, session.id)
    assert "Kept 3; a round of 7" in message and state.job(session.id).id == job["job_id"]
    assert mode is no_update  # the funnel goes on in its own mode


@pytest.mark.parametrize(
    ("remembered", "expected", "mode_after"),
    [
        ("rating", "judging is back in rating mode", "rating"),
        (None, "judging stays in approve / reject mode", "approve_reject"),  # e.g. another tab
    ],
)
def test_the_funnels_end_brings_back_the_mode_in_use_before(
    state: DashboardState,
    tiny_config: SessionConfig,
    remembered: str | None,
    expected: str,
    mode_after: str,
) -> None:
    session = create_session(state.workspace, tiny_config)
    change_settings(state.workspace, session.id, {"feedback_mode": "approve_reject"})
    _, three = blank_round(state.workspace, session.id, k=3)  # a stage that keeps one
    approve = {"mode": "approve_reject", "approved": [three[1].id]}
    submit_feedback(state.workspace, session.id, approve)
    before = {"session_id": session.id, "mode": remembered} if remembered else None
    _, message, mode, after = funnel_stage(state, session.id, before)
    assert "Funnel finished" in message and expected in message and after is None
    assert mode == (remembered or no_update)
    assert get_session(state.workspace, session.id).config["feedback_mode"] == mode_after


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


def test_the_key_for_more_like_this_queues_a_round_around_the_focused_candidate(
    state: DashboardState, tiny_config: SessionConfig
) -> None:
    session = create_session(state.workspace, tiny_config)
    _, shown = blank_round(state.workspace, session.id)
    assert more_like_focused(state, None) == (no_update, no_update)
    job, message = more_like_focused(state, {"candidate_id": shown[1].id, "at": 1})
    assert f"candidate {shown[1].id}" in str(message)
    assert state.job(session.id).id == job["job_id"]
