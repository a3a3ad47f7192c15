"""Polling without a browser: an idle poll sends nothing; changes from any process show."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
from dash import no_update
from dash.exceptions import PreventUpdate

from dashboard.callbacks.progress import FAST_POLL_MS, IDLE_POLL_MS, poll, session_version
from dashboard.state import DashboardState
from steering_core.config import SessionConfig
from steering_core.sessions import create_session
from steering_core.storage.records import now
from steering_core.worker import JobSnapshot
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


def _generating(progress: dict) -> JobSnapshot:
    return JobSnapshot(
        id="job1",
        kind="round",
        session_id="s",
        status="running",
        phase="generating",
        progress=progress,
        created_at=now(),
        started_at=now(),
    )


def _one_batch_of_8(step: int, **fields: object) -> dict:
    return {
        "images_done": 0,
        "images_total": 8,
        "step": step,
        "steps": 20,
        "batch": 1,
        "batches": 1,
        "batch_images": 8,
        "images_before": 0,
        **fields,
    }


def test_a_batched_round_shows_the_step_of_its_one_batch_and_the_time_left(
    state: DashboardState, tiny_config: SessionConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = create_session(state.workspace, tiny_config)
    # Step 17 of 20 of all 8 images at once, 3 s left (stamped ahead of the clock, so the
    # countdown has not begun when the page reads it).
    progress = _one_batch_of_8(17, seconds_left=3.0, seconds_left_at=time.time() + 60)
    monkeypatch.setattr(state, "job", lambda session_id: _generating(progress))
    _, job, bar, text, *_ = poll(state, session.id, None, {"status": "idle"})
    assert "image 1/8" not in text
    assert text.startswith("generating · step 17/20 · 8 images in one batch · ")
    assert text.endswith(" · about 3 s left")
    assert bar == 85 and job["fraction"] == pytest.approx(0.85)  # not 17 of 8 x 20 steps


def test_a_round_with_nothing_measured_says_estimating(
    state: DashboardState, tiny_config: SessionConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = create_session(state.workspace, tiny_config)
    progress = _one_batch_of_8(1, seconds_left=None, seconds_left_at=time.time())
    monkeypatch.setattr(state, "job", lambda session_id: _generating(progress))
    _, _, _, text, *_ = poll(state, session.id, None, {"status": "idle"})
    assert text.startswith("generating · step 1/20 · 8 images in one batch · ")
    assert text.split(" · ")[-1] == "estimating…"


def test_another_process_round_shows_the_same_words(
    state: DashboardState, tiny_config: SessionConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = create_session(state.workspace, tiny_config)
    progress = _one_batch_of_8(
        5, images_total=20, batch=2, batches=3, images_before=8, seconds_left=None
    )
    cli_job = {
        "id": "cli1",
        "status": "running",
        "phase": "generating",
        "progress": progress,
        "error": None,
        "error_kind": None,
        "started_at": now(),
        "created_at": now(),
    }
    monkeypatch.setattr(state, "other_process_job", lambda session_id: cli_job)
    _, _, _, text, *_ = poll(state, session.id, None, {"status": "idle"})
    assert "batch 2/3 · step 5/20 · 8 images in this batch, 20 in all" in text
    assert text.endswith("estimating… · (another process)")
