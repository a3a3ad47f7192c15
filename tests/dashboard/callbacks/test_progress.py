"""Polling without a browser: an idle poll sends nothing; changes from any process show."""

from __future__ import annotations

import subprocess
import sys

import pytest
from dash import no_update
from dash.exceptions import PreventUpdate

from dashboard.callbacks.progress import FAST_POLL_MS, IDLE_POLL_MS, poll, session_version
from dashboard.state import DashboardState
from steering_core.config import SessionConfig
from steering_core.sessions import create_session
from tests.steering_core.helpers import blank_round


def test_an_idle_poll_with_nothing_new_sends_nothing(
    state: DashboardState, tiny_config: SessionConfig
) -> None:
    session = create_session(state.workspace, tiny_config)
    blank_round(state.workspace, session.id)
    version, job, _, text, _, interval = poll(state, session.id, None, None)
    assert job == {"status": "idle"} and text == "" and interval == IDLE_POLL_MS
    with pytest.raises(PreventUpdate):
        poll(state, session.id, version, job)


def test_a_judgment_from_another_process_changes_the_version(
    state: DashboardState, tiny_config: SessionConfig
) -> None:
    session = create_session(state.workspace, tiny_config)
    blank_round(state.workspace, session.id)
    before = session_version(state, session.id)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "steering_core",
            "--data-root",
            str(state.workspace.data_root),
            "feedback",
            session.id,
            "--winner",
            "1",
        ],
        check=True,
        capture_output=True,
    )
    version, job, *_ = poll(state, session.id, before, {"status": "idle"})
    assert version != before and job is no_update


def test_a_queued_round_polls_fast_and_can_be_cancelled(
    state: DashboardState, tiny_config: SessionConfig
) -> None:
    session = create_session(state.workspace, tiny_config)
    job_id = state.start_round(session.id)
    assert state.start_round(session.id) == job_id  # one round at a time
    _, job, _, text, cancel_style, interval = poll(state, session.id, None, {"status": "idle"})
    assert job["status"] == "queued" and "queued" in text
    assert interval == FAST_POLL_MS and cancel_style == {}
    assert state.worker.cancel(job_id)
