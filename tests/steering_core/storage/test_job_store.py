"""Jobs left unfinished by a process that ended show as abandoned to whoever reads them."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from steering_core.config import SessionConfig
from steering_core.sessions import create_session
from steering_core.storage import job_store
from steering_core.storage.workspace import Workspace
from steering_core.worker import JobContext, Worker, list_jobs
from tests.steering_core._job_runner import runner_command


@pytest.fixture
def worker(workspace: Workspace) -> Iterator[Worker]:
    running = Worker(workspace).start()
    yield running
    running.stop()


def _status(workspace: Workspace, job_id: str) -> str:
    return next(job["status"] for job in list_jobs(workspace) if job["id"] == job_id)


def test_a_job_of_a_killed_process_shows_as_abandoned(
    workspace: Workspace, tiny_config: SessionConfig
) -> None:
    session = create_session(workspace, tiny_config)
    process = subprocess.Popen(
        runner_command(workspace, session.id),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stderr is not None
    try:
        line = process.stdout.readline()
        assert line.startswith("running "), f"runner ended early: {process.stderr.read()}"
        job_id = line.split()[1]
        # Its process lives: reading the jobs leaves it running.
        assert _status(workspace, job_id) == "running"
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == -signal.SIGKILL

    job = next(job for job in list_jobs(workspace, session.id) if job["id"] == job_id)
    assert job["status"] == "abandoned"
    assert job["finished_at"] is not None
    assert "ended" in job["error"]


def test_a_live_job_of_this_process_stays_running(
    workspace: Workspace, tiny_config: SessionConfig, worker: Worker
) -> None:
    session = create_session(workspace, tiny_config)
    started, release = threading.Event(), threading.Event()

    def waiting(context: JobContext) -> dict[str, Any]:
        started.set()
        release.wait(60)
        return {}

    job_id = worker.submit("round", waiting, session_id=session.id)
    try:
        assert started.wait(60)
        assert _status(workspace, job_id) == "running"
    finally:
        release.set()
    assert worker.wait(job_id, timeout=60).status == "done"
    assert _status(workspace, job_id) == "done"


def test_a_new_process_with_the_owners_pid_does_not_keep_a_job_running(
    workspace: Workspace,
) -> None:
    """The pid alone is reused by the system; the owner's start time tells them apart."""
    with workspace.db.transaction() as connection:
        job_store.insert_job(connection, "reused", None, "warm_up", "2026-01-01T00:00:00")
        # As if this process were a newer one that got the pid of the job's owner.
        connection.execute("UPDATE jobs SET process_started = process_started - 3600")
    assert _status(workspace, "reused") == "abandoned"


def test_a_job_of_another_host_is_left_alone(workspace: Workspace) -> None:
    with workspace.db.transaction() as connection:
        job_store.insert_job(connection, "elsewhere", None, "warm_up", "2026-01-01T00:00:00")
        connection.execute("UPDATE jobs SET host = 'another-host', pid = 999999999")
    assert _status(workspace, "elsewhere") == "queued"
