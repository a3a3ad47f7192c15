"""The worker: one long-lived thread that owns the generator and runs jobs from a queue.

Jobs (generate a round, warm up, ...) publish phase-level progress events with timestamps.
Pollers read snapshots under a short lock and never wait for the worker. Every job is also
persisted (the `jobs` and `job_events` tables) so another process can see it. A failing job
records its error and the worker goes on.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from steering_core import trace
from steering_core.config import GeneratorConfig
from steering_core.errors import JobCancelled, NotFound, SteeringError, error_kind
from steering_core.generators.base import Generator, StepProgress, make_generator
from steering_core.pace import PaceKey, PaceMeter, load_history
from steering_core.rounds import RoundReporter, check_round_request, generate_round
from steering_core.sessions import get_session
from steering_core.storage import job_store
from steering_core.storage.leases import hold_lease
from steering_core.storage.records import now
from steering_core.storage.workspace import Workspace

logger = logging.getLogger(__name__)
FINISHED = ("done", "failed", "cancelled")
# Step progress is written to the database at most this often (phases always are).
PERSIST_INTERVAL_SECONDS = 0.5


@dataclass(frozen=True)
class JobEvent:
    at: str
    phase: str
    message: str = ""


@dataclass(frozen=True)
class JobSnapshot:
    """A job's state at one moment; `progress` holds the latest denoising step."""

    id: str
    kind: str
    session_id: str | None
    status: str  # queued, running, done, failed, cancelled
    phase: str
    message: str = ""
    progress: dict[str, Any] = field(default_factory=dict)
    events: tuple[JobEvent, ...] = ()
    error: str | None = None
    error_kind: str | None = None
    result: dict[str, Any] = field(default_factory=dict)
    created_at: str = ""
    started_at: str | None = None
    finished_at: str | None = None

    @property
    def finished(self) -> bool:
        return self.status in FINISHED


class JobContext(RoundReporter):
    """Handed to a running job: report phases and steps, check for cancellation."""

    def __init__(self, worker: Worker, job_id: str) -> None:
        self._worker = worker
        self.job_id = job_id
        self._pace: PaceMeter | None = None

    def phase(self, name: str, message: str = "") -> None:
        self._worker._update(self.job_id, phase=name, message=message, event=True)

    def render_started(self, key: PaceKey) -> None:
        self._pace = PaceMeter(key, load_history(self._worker.workspace))

    def step(self, progress: StepProgress) -> None:
        left = None if self._pace is None else self._pace.observe(progress)
        self._worker._update(
            self.job_id,
            progress={
                **asdict(progress),
                # The time left as of `seconds_left_at` (seconds since the epoch), so any
                # process can count it down between steps.
                "seconds_left": None if left is None else round(left, 3),
                "seconds_left_at": time.time(),
            },
        )

    def render_record(self) -> dict[str, Any]:
        """The batches this job timed (for later rounds' estimates); {} if it rendered none."""
        return {} if self._pace is None else self._pace.record()

    def should_cancel(self) -> bool:
        return self._worker._cancel_requested(self.job_id)

    def generator(self, config: GeneratorConfig) -> Generator:
        return self._worker._generator(config, self)


JobFunction = Callable[[JobContext], dict[str, Any]]


class Worker:
    """Owns the generators (and the GPU); runs submitted jobs one at a time, in order."""

    def __init__(
        self,
        workspace: Workspace,
        generator_factory: Callable[[GeneratorConfig], Generator] = make_generator,
    ) -> None:
        self.workspace = workspace
        self._generator_factory = generator_factory
        self._generators: dict[GeneratorConfig, Generator] = {}
        self._queue: queue.Queue[tuple[str, JobFunction] | None] = queue.Queue()
        self._lock = threading.Lock()
        self._jobs: dict[str, JobSnapshot] = {}
        self._cancelled: set[str] = set()
        self._last_persist: dict[str, float] = {}
        self._submitted: dict[str, float] = {}  # job id -> monotonic time it was queued
        self._thread: threading.Thread | None = None

    # --- lifecycle ---------------------------------------------------------------------
    def start(self) -> Worker:
        if self._thread is None or not self._thread.is_alive():
            mark_abandoned_jobs(self.workspace)
            self._thread = threading.Thread(target=self._run, name="steering-worker", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float | None = 30) -> None:
        if self._thread is not None and self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # --- submitting and watching -------------------------------------------------------
    def submit(self, kind: str, function: JobFunction, session_id: str | None = None) -> str:
        job_id = uuid.uuid4().hex[:12]
        stamp = now()
        snapshot = JobSnapshot(
            id=job_id,
            kind=kind,
            session_id=session_id,
            status="queued",
            phase="queued",
            events=(JobEvent(stamp, "queued"),),
            created_at=stamp,
        )
        with self._lock:
            self._jobs[job_id] = snapshot
            self._submitted[job_id] = time.monotonic()
        with self.workspace.db.transaction() as connection:
            job_store.insert_job(connection, job_id, session_id, kind, stamp)
        self._trace(snapshot)  # before the worker can start it, so "queued" comes first
        self._queue.put((job_id, function))
        return job_id

    def submit_round(
        self, session_id: str, around: Sequence[int] | None = None, k: int | None = None
    ) -> str:
        """Queue the generation of a session's next round (`around`, `k`: see `plan_round`).

        A bad `around` or `k` raises InvalidInput here, before anything is queued."""
        session = get_session(self.workspace, session_id)
        config, _ = check_round_request(self.workspace, session.id, around, k)
        around = None if around is None else list(around)  # the caller may change its list

        def run(context: JobContext) -> dict[str, Any]:
            generator = context.generator(config.generator)
            # The lease keeps `steer gc` away from the round's images while they are written.
            with hold_lease(self.workspace, session.id):
                record, candidates = generate_round(
                    self.workspace, generator, session.id, context, around=around, k=k
                )
            return {
                "round_index": record.round_index,
                "candidate_ids": [c.id for c in candidates],
                "timings": record.timings,
                "render": context.render_record(),
            }

        return self.submit("round", run, session_id=session.id)

    def submit_warm_up(self, config: GeneratorConfig) -> str:
        """Queue loading a generator so that the next round starts warm."""

        def run(context: JobContext) -> dict[str, Any]:
            generator = context.generator(config)
            return {"generator": generator.describe()}

        return self.submit("warm_up", run)

    def cancel(self, job_id: str) -> bool:
        """Ask a queued or running job to stop; returns False if it already finished."""
        with self._lock:
            snapshot = self._jobs.get(job_id)
            if snapshot is None:
                raise NotFound(f"no job {job_id} in this process")
            if snapshot.finished:
                return False
            self._cancelled.add(job_id)
        return True

    def snapshot(self, job_id: str) -> JobSnapshot:
        with self._lock:
            snapshot = self._jobs.get(job_id)
        if snapshot is None:
            raise NotFound(f"no job {job_id} in this process")
        return snapshot

    def snapshots(self) -> list[JobSnapshot]:
        with self._lock:
            return list(self._jobs.values())

    def wait(self, job_id: str, timeout: float | None = None, poll: float = 0.05) -> JobSnapshot:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            snapshot = self.snapshot(job_id)
            if snapshot.finished:
                return snapshot
            if deadline is not None and time.monotonic() > deadline:
                return snapshot
            time.sleep(poll)

    def generators(self) -> list[Generator]:
        with self._lock:
            return list(self._generators.values())

    # --- inside the worker thread ------------------------------------------------------
    def _generator(self, config: GeneratorConfig, context: JobContext) -> Generator:
        generator = self._generators.get(config)
        if generator is None:
            generator = self._generator_factory(config)
            with self._lock:
                self._generators[config] = generator
        if not generator.describe().get("warm"):
            context.phase("loading model", str(config.model or config.backend))
            generator.load()
        return generator

    def _cancel_requested(self, job_id: str) -> bool:
        with self._lock:
            return job_id in self._cancelled

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            job_id, function = item
            try:
                self._run_job(job_id, function)
            except Exception:  # the worker must outlive anything, even a broken database
                logger.exception("worker: job %s could not be run or recorded", job_id)

    def _run_job(self, job_id: str, function: JobFunction) -> None:
        if self._cancel_requested(job_id):
            self._finish(job_id, "cancelled", "cancelled before it started")
            return
        self._update(job_id, status="running", phase="started", event=True, started=True)
        try:
            result = function(JobContext(self, job_id))
        except JobCancelled as error:
            self._finish(job_id, "cancelled", str(error) or "cancelled")
        except SteeringError as error:
            self._finish(job_id, "failed", str(error), error_kind=error.kind)
        except Exception as error:
            kind = error_kind(error)
            message = f"{type(error).__name__}: {error}"
            # The full traceback goes to the job's event log, not to the terminal.
            self._finish(job_id, "failed", message, error_kind=kind, detail=traceback.format_exc())
        else:
            self._finish(job_id, "done", "", result=result)

    def _finish(
        self,
        job_id: str,
        status: str,
        message: str,
        error_kind: str | None = None,
        result: dict[str, Any] | None = None,
        detail: str = "",
    ) -> None:
        error = None if status == "done" else message  # one line, for messages
        if detail:
            message = f"{message}\n{detail}"  # the event log keeps the whole traceback
        self._update(
            job_id,
            status=status,
            phase=status,
            message=message,
            error=error,
            error_kind=error_kind or (None if status == "done" else status),
            result=result or {},
            event=True,
            finished=True,
        )

    def _update(self, job_id: str, event: bool = False, **changes: Any) -> None:
        stamp = now()
        started = changes.pop("started", False)
        finished = changes.pop("finished", False)
        with self._lock:
            snapshot = self._jobs[job_id]
            if started:
                changes["started_at"] = stamp
            if finished:
                changes["finished_at"] = stamp
            if event:
                phase = changes.get("phase", snapshot.phase)
                message = changes.get("message", "")
                changes["events"] = (*snapshot.events, JobEvent(stamp, phase, message))
                if "message" not in changes:
                    changes["message"] = ""
            snapshot = replace(snapshot, **changes)
            self._jobs[job_id] = snapshot
            due = time.monotonic() - self._last_persist.get(job_id, 0) >= PERSIST_INTERVAL_SECONDS
            if not (event or due):
                return
            self._last_persist[job_id] = time.monotonic()
        if event:
            self._trace(snapshot)
        try:
            self._persist(snapshot, event)
        except Exception:
            # Pollers in this process still see the snapshot; other processes see it late.
            logger.exception("worker: could not record job %s in the database", job_id)

    def _trace(self, snapshot: JobSnapshot) -> None:
        """A phase change (or the end) of a session's job, in the session's trace."""
        if snapshot.session_id is None:
            return  # a warm-up belongs to no session
        with self._lock:
            queued = (self._submitted.pop if snapshot.finished else self._submitted.get)(
                snapshot.id, time.monotonic()
            )
        elapsed = time.monotonic() - queued
        common = {"job_id": snapshot.id, "job_kind": snapshot.kind}
        if snapshot.finished:
            trace.record(
                self.workspace,
                snapshot.session_id,
                "job_end",
                **common,
                status=snapshot.status,
                duration_s=round(elapsed, 6),
                error_kind=snapshot.error_kind,
                error=snapshot.error,
            )
        else:
            trace.record(
                self.workspace,
                snapshot.session_id,
                "job_phase",
                **common,
                phase=snapshot.phase,
                message=snapshot.message,
                elapsed_s=round(elapsed, 6),
            )

    def _persist(self, snapshot: JobSnapshot, event: bool) -> None:
        with self.workspace.db.transaction() as connection:
            job_store.update_job(
                connection,
                snapshot.id,
                {
                    "status": snapshot.status,
                    "phase": snapshot.phase,
                    "message": snapshot.message,
                    "progress": snapshot.progress,
                    "result": snapshot.result,
                    "error": snapshot.error,
                    "error_kind": snapshot.error_kind,
                    "started_at": snapshot.started_at,
                    "finished_at": snapshot.finished_at,
                },
            )
            if event:
                last = snapshot.events[-1]
                job_store.insert_job_event(
                    connection, snapshot.id, last.at, last.phase, last.message
                )


def mark_abandoned_jobs(workspace: Workspace) -> int:
    """Mark the unfinished jobs of this host's processes that have ended as abandoned."""
    return job_store.mark_abandoned_jobs(workspace.db)


def list_jobs(
    workspace: Workspace, session_id: str | None = None, limit: int = 50
) -> list[dict[str, Any]]:
    """Jobs of every process on this data root, newest first (optionally of one session);
    a job whose process has ended shows as abandoned."""
    return job_store.list_jobs(workspace.db, session_id, limit)
