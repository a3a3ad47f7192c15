"""Server-side state shared by the callbacks and the worker: the workspace, the worker and
the session's current job, behind one lock."""

from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from steering_core.errors import NotFound
from steering_core.storage.leases import acquire, release
from steering_core.storage.workspace import Workspace
from steering_core.worker import JobSnapshot, Worker, list_jobs

# Sessions shown recently keep their lease: another tab may still show one of them.
OPEN_SESSION_LEASES = 8


@dataclass
class DashboardState:
    """What every callback needs; one per app. `lock` guards `jobs` and feedback writes."""

    workspace: Workspace
    worker: Worker
    lock: threading.Lock = field(default_factory=threading.Lock)
    # The latest job this dashboard started per session (session id -> job id).
    jobs: dict[str, str] = field(default_factory=dict)
    # Judgments are written one at a time, in the order they arrive, so that a burst of
    # judgments from the browser is stored in the order the researcher gave it.
    feedback_lock: threading.Lock = field(default_factory=threading.Lock)
    started_at: float = field(default_factory=time.time)
    # Leases (session id -> lease file) on the sessions the steering page showed last, so
    # that `steer gc` leaves a session alone while the dashboard has it open.
    leases: OrderedDict[str, Path] = field(default_factory=OrderedDict)

    def open_session(self, session_id: str) -> None:
        """Hold a lease on a session the page shows (the latest OPEN_SESSION_LEASES)."""
        with self.lock:
            if session_id in self.leases:
                self.leases.move_to_end(session_id)
                return
            self.leases[session_id] = acquire(self.workspace, session_id)
            while len(self.leases) > OPEN_SESSION_LEASES:
                release(self.leases.popitem(last=False)[1])

    def start_round(
        self, session_id: str, around: list[int] | None = None, k: int | None = None
    ) -> str:
        """Queue the session's next round (optionally `around` kept candidates, with its own
        `k`) unless one is already queued or running."""
        with self.lock:
            current = self.jobs.get(session_id)
            if current is not None and not self.worker.snapshot(current).finished:
                return current
            job_id = self.worker.submit_round(session_id, around=around, k=k)
            self.jobs[session_id] = job_id
            return job_id

    def cancel_round(self, session_id: str) -> str | None:
        """Cancel the session's round this dashboard is making (an undo withdrew the
        judgment it was asked after); returns the job's id, or None when none runs."""
        with self.lock:
            job_id = self.jobs.get(session_id)
        if job_id is None:
            return None
        try:
            return job_id if self.worker.cancel(job_id) else None
        except NotFound:
            return None

    def job(self, session_id: str) -> JobSnapshot | None:
        """The latest job this dashboard started for the session, if any."""
        with self.lock:
            job_id = self.jobs.get(session_id)
        if job_id is None:
            return None
        try:
            return self.worker.snapshot(job_id)
        except NotFound:
            return None

    def other_process_job(self, session_id: str) -> dict[str, Any] | None:
        """A running job on this session started by another process (e.g. `steer round`)."""
        for job in list_jobs(self.workspace, session_id, limit=5):
            if job["status"] in ("queued", "running") and job["pid"] != os.getpid():
                return job
        return None
