"""Polling: the worker's progress on the session's round, and a version that changes
whenever the session's stored data changes (here or in another process).

Polls are fast (250 ms) while a job runs and slow (2 s) when idle, and an idle poll that
finds nothing new sends nothing back (Dash answers 204 when every output is unchanged).
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from dash import Dash, Input, Output, State, no_update
from dash.exceptions import PreventUpdate

from dashboard import ids
from dashboard.state import DashboardState
from steering_core.sessions import session_version as stored_version
from steering_core.views.progress_words import fraction_done, progress_words

FAST_POLL_MS = 250
IDLE_POLL_MS = 2000


def session_version(state: DashboardState, session_id: str) -> str:
    """A short string that changes whenever rounds or judgments of the session change."""
    return stored_version(state.workspace, session_id)


def _seconds_since(stamp: str | None) -> float | None:
    if not stamp:
        return None
    return (datetime.now().astimezone() - datetime.fromisoformat(stamp)).total_seconds()


def job_view(state: DashboardState, session_id: str) -> dict[str, Any]:
    """The session's current job as the page shows it: status, phase, fraction, text."""
    own = state.job(session_id)
    # Another process's round shows while this dashboard has none running.
    other = None if own is not None and not own.finished else state.other_process_job(session_id)
    if other is not None:
        job = {**other, "own": False}
    elif own is not None:
        job = {
            "id": own.id,
            "status": own.status,
            "phase": own.phase,
            "progress": own.progress,
            "error": own.error,
            "error_kind": own.error_kind,
            "started_at": own.started_at,
            "created_at": own.created_at,
            "own": True,
        }
    else:
        return {"status": "idle"}
    progress = job.get("progress") or {}
    running = job["status"] in ("queued", "running")
    elapsed = _seconds_since(job.get("started_at") or job.get("created_at"))
    text = progress_words(
        job["phase"], progress, time.time(), elapsed if running else None, running
    )
    parts = [text]
    if not job["own"] and running:
        parts.append("(another process)")
    if job["status"] == "failed":
        parts = [f"{(job.get('error_kind') or 'runtime').capitalize()} failure: {job['error']}"]
    return {
        "id": job["id"],
        "status": job["status"],
        "fraction": fraction_done(progress),
        "text": " · ".join(parts),
        "own": job["own"],
    }


def poll(
    state: DashboardState,
    session_id: str | None,
    shown_version: str | None,
    shown_job: dict[str, Any] | None,
) -> tuple[Any, Any, Any, Any, Any, Any]:
    """(version, job, bar value, text, cancel style, interval); raises PreventUpdate when
    nothing changed since the page last heard."""
    if not session_id:
        raise PreventUpdate
    version = session_version(state, session_id)
    job = job_view(state, session_id)
    running = job["status"] in ("queued", "running")
    was_running = (shown_job or {}).get("status") in ("queued", "running")
    if version == shown_version and job == shown_job:
        raise PreventUpdate
    hide = {"display": "none"}
    text = job.get("text", "") if running or job["status"] in ("failed", "cancelled") else ""
    interval_changed = shown_job is None or running != was_running
    return (
        version if version != shown_version else no_update,
        job if job != shown_job else no_update,
        round(100 * job.get("fraction", 0.0)) if running else 0,
        text,
        {} if running and job.get("own") else hide,
        (FAST_POLL_MS if running else IDLE_POLL_MS) if interval_changed else no_update,
    )


def register(app: Dash, state: DashboardState) -> None:
    @app.callback(
        Output(ids.VERSION, "data"),
        Output(ids.JOB, "data"),
        Output(ids.PROGRESS_BAR, "value"),
        Output(ids.PROGRESS_TEXT, "children"),
        Output(ids.CANCEL, "style"),
        Output(ids.POLL, "interval"),
        Input(ids.POLL, "n_intervals"),
        Input(ids.JOB, "data"),
        State(ids.SESSION, "data"),
        State(ids.VERSION, "data"),
    )
    def tick(_: int, shown_job: dict | None, session: dict | None, version: str | None) -> Any:
        return poll(state, (session or {}).get("session_id"), version, shown_job)

    @app.callback(
        Output(ids.PROGRESS_TEXT, "children", allow_duplicate=True),
        Input(ids.CANCEL, "n_clicks"),
        State(ids.JOB, "data"),
        prevent_initial_call=True,
    )
    def cancel(_: int, job: dict | None) -> Any:
        if not job or not job.get("id"):
            return no_update
        state.worker.cancel(job["id"])
        return "cancelling…"
