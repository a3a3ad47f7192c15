"""The diagnostics page: versions, devices, the worker's generators and their timings,
recent jobs, and warming up the default generator."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from dash import Dash, Input, Output, State, no_update

from dashboard import ids
from dashboard.callbacks.session import error_message
from dashboard.layout.diagnostics import (
    diagnostics_view,
    generators_panel,
    jobs_table,
    warm_up_status,
)
from dashboard.state import DashboardState
from steering_core.config import GeneratorConfig
from steering_core.diagnostics import diagnostics_report
from steering_core.errors import NotFound, SteeringError
from steering_core.generators.base import make_generator
from steering_core.sessions import get_session
from steering_core.worker import JobEvent, JobSnapshot, list_jobs

RECENT_JOBS = 15


def generator_descriptions(state: DashboardState) -> list[dict[str, Any]]:
    """Each generator the worker holds (`describe()`), or the default one, not loaded, when
    it holds none, so the page still says which model and device a round would use."""
    loaded = [generator.describe() for generator in state.worker.generators()]
    if loaded:
        return [{**description, "loaded": True} for description in loaded]
    return [{**make_generator(GeneratorConfig()).describe(), "loaded": False}]


def _seconds(start: str | None, end: str | None) -> float | None:
    if not start:
        return None
    finish = datetime.fromisoformat(end) if end else datetime.now(UTC)
    return (finish - datetime.fromisoformat(start)).total_seconds()


def phase_durations(events: Sequence[JobEvent]) -> list[tuple[str, float | None]]:
    """(phase, seconds until the next phase) of a job; the last phase has no duration."""
    return [
        (event.phase, _seconds(event.at, events[i + 1].at) if i + 1 < len(events) else None)
        for i, event in enumerate(events)
    ]


def round_timings(state: DashboardState) -> dict[str, dict[str, list[float]]]:
    """Finished round jobs of this dashboard by generator backend: how long each took, cold
    (it loaded the model first) or warm. Only this process's jobs carry their phases."""
    backends: dict[str, str] = {}
    timings: dict[str, dict[str, list[float]]] = {}
    for job in state.worker.snapshots():
        if job.kind != "round" or job.status != "done" or job.session_id is None:
            continue
        if job.session_id not in backends:
            try:
                config = get_session(state.workspace, job.session_id).config
            except NotFound:
                continue
            backends[job.session_id] = config["generator"]["backend"]
        cold = any(event.phase == "loading model" for event in job.events)
        entry = timings.setdefault(backends[job.session_id], {})
        prefix = "cold" if cold else "warm"
        entry.setdefault(f"{prefix}_job", []).append(
            _seconds(job.started_at, job.finished_at) or 0.0
        )
        generate = (job.result.get("timings") or {}).get("generate_seconds")
        if generate is not None:
            entry.setdefault(f"{prefix}_generate", []).append(float(generate))
    return timings


def timing_summary(timings: dict[str, list[float]]) -> dict[str, Any]:
    """Counts and medians of a backend's cold and warm round timings."""
    summary: dict[str, Any] = {}
    for kind in ("cold", "warm"):
        jobs = timings.get(f"{kind}_job", [])
        generate = timings.get(f"{kind}_generate", [])
        summary[kind] = {
            "rounds": len(jobs),
            "job_seconds": statistics.median(jobs) if jobs else None,
            "generate_seconds": statistics.median(generate) if generate else None,
        }
    return summary


def recent_jobs(state: DashboardState) -> list[dict[str, Any]]:
    """The newest jobs on this data root (every process), with their duration and, for
    this dashboard's own jobs, each phase's duration."""
    own = {job.id: job for job in state.worker.snapshots()}
    jobs = []
    for job in list_jobs(state.workspace, limit=RECENT_JOBS):
        snapshot = own.get(job["id"])
        jobs.append(
            {
                **job,
                "seconds": _seconds(job["started_at"], job["finished_at"]),
                "phases": phase_durations(snapshot.events) if snapshot else None,
                "this_process": snapshot is not None,
            }
        )
    return jobs


def current_warm_up(state: DashboardState) -> JobSnapshot | None:
    """A warm-up of this dashboard that has not finished (the page follows it on load)."""
    running = [j for j in state.worker.snapshots() if j.kind == "warm_up" and not j.finished]
    return running[-1] if running else None


def diagnostics_page(state: DashboardState, query: dict[str, str]) -> Any:
    """`/diagnostics`: everything about where and how fast this dashboard runs models."""
    try:
        warm_up = current_warm_up(state)
        descriptions = generator_descriptions(state)
        timings = {name: timing_summary(t) for name, t in round_timings(state).items()}
        report = diagnostics_report()  # the same report as `steer diagnostics`
        return diagnostics_view(
            versions=report["versions"],
            devices=report["devices"],
            generators=generators_panel(descriptions, timings),
            jobs=jobs_table(recent_jobs(state)),
            warm_up=warm_up_status(warm_up, state.worker.alive),
            warm_up_job={"job_id": warm_up.id} if warm_up else None,
        )
    except SteeringError as error:
        return error_message(error)


def start_warm_up(state: DashboardState) -> tuple[Any, bool, Any, bool]:
    """Queue loading the default generator: (job store, poll disabled, status, button
    disabled)."""
    if not state.worker.alive:
        return None, True, warm_up_status(None, alive=False), False
    try:
        job_id = state.worker.submit_warm_up(GeneratorConfig())
    except SteeringError as error:
        return None, True, error_message(error), False
    snapshot = state.worker.snapshot(job_id)
    return {"job_id": job_id}, False, warm_up_status(snapshot, alive=True), True


def follow_warm_up(
    state: DashboardState, job: dict[str, Any] | None
) -> tuple[Any, Any, Any, bool, bool]:
    """One poll while a warm-up runs: (status, generators, jobs, poll disabled, button
    disabled); the poll stops when the job has finished."""
    snapshot = None
    if job and job.get("job_id"):
        try:
            snapshot = state.worker.snapshot(job["job_id"])
        except NotFound:
            snapshot = None
    finished = snapshot is None or snapshot.finished
    timings = {name: timing_summary(t) for name, t in round_timings(state).items()}
    return (
        warm_up_status(snapshot, state.worker.alive),
        generators_panel(generator_descriptions(state), timings),
        jobs_table(recent_jobs(state)),
        finished,
        not finished,
    )


def register(app: Dash, state: DashboardState) -> None:
    @app.callback(
        Output(ids.WARM_UP_JOB, "data"),
        Output(ids.WARM_UP_POLL, "disabled"),
        Output(ids.WARM_UP_STATUS, "children"),
        Output(ids.WARM_UP, "disabled"),
        Input(ids.WARM_UP, "n_clicks"),
        prevent_initial_call=True,
    )
    def warm_up(_: int) -> tuple[Any, bool, Any, bool]:
        return start_warm_up(state)

    @app.callback(
        Output(ids.WARM_UP_STATUS, "children", allow_duplicate=True),
        Output(ids.DIAGNOSTICS_GENERATORS, "children"),
        Output(ids.DIAGNOSTICS_JOBS, "children"),
        Output(ids.WARM_UP_POLL, "disabled", allow_duplicate=True),
        Output(ids.WARM_UP, "disabled", allow_duplicate=True),
        Input(ids.WARM_UP_POLL, "n_intervals"),
        State(ids.WARM_UP_JOB, "data"),
        prevent_initial_call=True,
    )
    def poll(_: int, job: dict | None) -> Any:
        if not job:
            return no_update, no_update, no_update, True, False
        return follow_warm_up(state, job)
