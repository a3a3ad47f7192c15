"""SQL of jobs and their events, and which jobs were abandoned by a process that ended.

A job row names its process by host, pid and the process's start time: a pid alone is
reused by the system, the start time is not (see docs/DECISIONS.md).
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
from typing import Any

import psutil

from steering_core.storage.database import Database
from steering_core.storage.records import now

UNFINISHED = ("queued", "running")
ABANDONED = "abandoned"
# Start times of one process read twice agree to the clock tick (10 ms); a new process
# given the same pid starts later than that.
START_TIME_TOLERANCE_SECONDS = 0.5


def this_host() -> str:
    return socket.gethostname()


def process_started(pid: int) -> float | None:
    """When process `pid` of this host started (seconds since the epoch); None when there
    is no such process, or it has ended and waits to be reaped (a zombie)."""
    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return None
        return process.create_time()
    except psutil.Error:
        return None


def owner_alive(pid: int | None, started: float | None) -> bool:
    """Whether the process a job row of this host names still runs (`started` None: a row
    from before start times were kept, judged by its pid alone)."""
    current = None if pid is None else process_started(pid)
    if current is None:
        return False
    return started is None or abs(current - started) <= START_TIME_TOLERANCE_SECONDS


def insert_job(
    connection: sqlite3.Connection, job_id: str, session_id: str | None, kind: str, at: str
) -> None:
    """A queued job of this process, with its first event."""
    pid = os.getpid()
    connection.execute(
        "INSERT INTO jobs (id, session_id, kind, status, phase, created_at, pid, host, "
        "process_started) VALUES (?,?,?,?,?,?,?,?,?)",
        (job_id, session_id, kind, "queued", "queued", at, pid, this_host(), process_started(pid)),
    )
    insert_job_event(connection, job_id, at, "queued")


def insert_job_event(
    connection: sqlite3.Connection, job_id: str, at: str, phase: str, message: str = ""
) -> None:
    connection.execute(
        "INSERT INTO job_events (job_id, at, phase, message) VALUES (?,?,?,?)",
        (job_id, at, phase, message),
    )


def update_job(connection: sqlite3.Connection, job_id: str, state: dict[str, Any]) -> None:
    """Store a job's state: status, phase, message, progress, result, error, error_kind,
    started_at, finished_at."""
    connection.execute(
        "UPDATE jobs SET status=?, phase=?, message=?, progress_json=?, result_json=?, "
        "error=?, error_kind=?, started_at=?, finished_at=? WHERE id=?",
        (
            state["status"],
            state["phase"],
            state["message"],
            json.dumps(state["progress"]),
            json.dumps(state["result"]),
            state["error"],
            state["error_kind"],
            state["started_at"],
            state["finished_at"],
            job_id,
        ),
    )


def mark_abandoned_jobs(db: Database) -> int:
    """Mark the unfinished jobs of processes of this host that have ended as abandoned;
    returns how many. Jobs of other hosts are left alone (their processes cannot be seen)."""
    rows = db.query(
        "SELECT id, pid, process_started FROM jobs WHERE status IN (?, ?) AND host = ?",
        (*UNFINISHED, this_host()),
    )
    gone = [row["id"] for row in rows if not owner_alive(row["pid"], row["process_started"])]
    if not gone:
        return 0
    stamp = now()
    with db.transaction() as connection:
        for job_id in gone:
            # Only if still unfinished: its process may have finished it meanwhile.
            cursor = connection.execute(
                "UPDATE jobs SET status=?, phase=?, error_kind=?, "
                "error='the process running this job ended before it finished', finished_at=? "
                "WHERE id=? AND status IN (?, ?)",
                (ABANDONED, ABANDONED, ABANDONED, stamp, job_id, *UNFINISHED),
            )
            if cursor.rowcount:
                insert_job_event(connection, job_id, stamp, ABANDONED)
    return len(gone)


def list_jobs(db: Database, session_id: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """Jobs of every process on this data root, newest first (optionally of one session).
    Jobs left unfinished by a process that has ended are marked abandoned first."""
    mark_abandoned_jobs(db)
    sql = "SELECT * FROM jobs"
    parameters: tuple[Any, ...] = ()
    if session_id is not None:
        sql += " WHERE session_id = ?"
        parameters = (session_id,)
    rows = db.query(sql + " ORDER BY created_at DESC LIMIT ?", (*parameters, limit))
    jobs = []
    for row in rows:
        job = dict(row)
        job["progress"] = json.loads(job.pop("progress_json"))
        job["result"] = json.loads(job.pop("result_json"))
        jobs.append(job)
    return jobs


def finished_results(db: Database, kind: str, limit: int = 50) -> list[dict[str, Any]]:
    """The results of the newest finished ('done') jobs of one kind, of any process."""
    rows = db.query(
        "SELECT result_json FROM jobs WHERE kind = ? AND status = 'done' "
        "ORDER BY created_at DESC LIMIT ?",
        (kind, limit),
    )
    return [json.loads(row["result_json"]) for row in rows]
