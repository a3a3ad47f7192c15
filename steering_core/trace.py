"""The session trace: a JSONL log of its backend and frontend events, appended durably."""

from __future__ import annotations

import json
import logging
import math
import os
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from filelock import FileLock

from steering_core.errors import InvalidInput
from steering_core.feedback import FEEDBACK_MODE_NAMES
from steering_core.storage.files import write_all

if TYPE_CHECKING:
    from steering_core.storage.workspace import Workspace

logger = logging.getLogger(__name__)

# One JSON object a line: {"schema", "at", "session_id", "source", "kind", ...fields}. The
# backend records where things happen; the dashboard posts what only the browser sees. A
# trace is a diary beside the database and the label CSV (the record), so writing it never
# raises into the caller's work: a failure is logged and the session goes on.
TRACE_SCHEMA_VERSION = 1
SOURCES = ("backend", "frontend")
# What each source may record. Backend kinds are written by the core; frontend kinds come
# from the browser through POST /api/trace and are checked field by field (FRONTEND_FIELDS).
KINDS: dict[str, tuple[str, ...]] = {
    "backend": (
        "session_created",  # origin (human/cli/synthetic/script), forked_from_candidate_id
        "session_renamed",  # name (the new one; '' removes it)
        "job_phase",  # job_id, job_kind, phase, message, elapsed_s since it was queued
        "job_end",  # job_id, job_kind, status (done/failed/cancelled), duration_s, error_kind
        "proposal",  # round_index, sampler, candidate_ids, roles, metadata (scalars only)
        "model_fit",  # round_index, model, n_comparisons, loss, loss_start, iterations
        "convergence",  # round_index, status, reason, evidence, recommendation
        "feedback",  # event_id, round_index, mode, origin, undoes_event_id for an undo
        "round_discarded",  # round_index, candidate_ids, withdrawn_event_id, undo_event_id
        "error",  # where, error_kind, message
    ),
    "frontend": ("judgment", "page_view", "retry", "undo"),
}
RESERVED_FIELDS = ("schema", "at", "session_id", "source", "kind")
# A session id is part of a file name: nothing that could climb out of the traces folder.
SESSION_ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")
# A trace must never hold up a judgment or a round for long behind another process.
LOCK_TIMEOUT_SECONDS = 5.0

# Frontend events: field -> (types, required). `client_at` (the browser's clock) is allowed
# on every kind, because a batch reaches the server after its events happened.
MAX_FRONTEND_EVENTS = 100
MAX_TEXT = 200
MAX_DECISION_MS = 7 * 24 * 3600 * 1000  # a round left open for a week is still a decision
FRONTEND_FIELDS: dict[str, dict[str, tuple[tuple[type, ...], bool]]] = {
    "judgment": {
        "mode": ((str,), True),
        "decision_ms": ((int, float), True),
        "round_index": ((int,), False),
        "client_key": ((str,), False),
    },
    "page_view": {"page": ((str,), True)},
    "retry": {"attempt": ((int,), True), "error_kind": ((str,), True)},
    "undo": {"round_index": ((int,), False)},
}
COMMON_FRONTEND_FIELDS: dict[str, tuple[tuple[type, ...], bool]] = {"client_at": ((str,), False)}


def trace_path(workspace: Workspace, session_id: str) -> Path:
    """Where a session's trace lives: `<data root>/traces/<session id>.jsonl`."""
    return workspace.data_root / "traces" / f"{session_id}.jsonl"


def record(
    workspace: Workspace, session_id: str, kind: str, source: str = "backend", **fields: Any
) -> None:
    """Append one event to the session's trace, durably; logs (never raises) on failure."""
    record_events(workspace, session_id, [{"kind": kind, **fields}], source=source)


def record_events(
    workspace: Workspace,
    session_id: str,
    events: Sequence[Mapping[str, Any]],
    source: str = "backend",
) -> bool:
    """Append several events (each a mapping with its `kind`) in one durable write.

    Returns False, after logging why, when nothing could be recorded (an invalid event, a
    full disk, a lock held too long); True when every event is on disk. Does nothing and
    returns True when the workspace has tracing switched off (synthetic benchmarks)."""
    if not getattr(workspace, "tracing", True):
        return True
    try:
        stamp = datetime.now(UTC).isoformat(timespec="microseconds")
        lines = [
            event_line(session_id, source, event.get("kind"), _without_kind(event), stamp)
            for event in events
        ]
        if lines:
            append_lines(trace_path(workspace, session_id), lines)
    except Exception:
        kinds = ", ".join(str(event.get("kind")) for event in events)
        logger.warning("trace: could not record %s of session %s", kinds, session_id, exc_info=True)
        return False
    return True


def _without_kind(event: Mapping[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in event.items() if name != "kind"}


def event_line(
    session_id: str, source: str, kind: Any, fields: Mapping[str, Any], at: str
) -> bytes:
    """One event as a JSON line; raises InvalidInput naming what is wrong."""
    if not isinstance(session_id, str) or not SESSION_ID_PATTERN.fullmatch(session_id):
        raise InvalidInput(
            f"session_id: 1-64 letters, digits, '-' or '_' (got {str(session_id)[:80]!r})"
        )
    if source not in SOURCES:
        raise InvalidInput(f"source: must be one of {', '.join(SOURCES)} (got {source!r})")
    if kind not in KINDS[source]:
        raise InvalidInput(
            f"kind: a {source} event is one of {', '.join(KINDS[source])} (got {kind!r})"
        )
    event: dict[str, Any] = {
        "schema": TRACE_SCHEMA_VERSION,
        "at": at,
        "session_id": session_id,
        "source": source,
        "kind": kind,
    }
    for name, value in fields.items():
        if name in RESERVED_FIELDS:
            raise InvalidInput(f"{name}: set by the trace itself, not by an event")
        event[name] = _plain(value, name)
    return (json.dumps(event, ensure_ascii=False, allow_nan=False) + "\n").encode("utf-8")


def _plain(value: Any, name: str) -> Any:
    """`value` as plain JSON (numpy values as lists and numbers; NaN and infinity as None,
    which JSON cannot hold); raises InvalidInput naming the field for anything else."""
    if value is None or isinstance(value, bool | str | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if hasattr(value, "tolist"):  # numpy arrays and scalars
        return _plain(value.tolist(), name)
    if isinstance(value, Mapping):
        return {str(key): _plain(item, f"{name}.{key}") for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item, f"{name}[{index}]") for index, item in enumerate(value)]
    raise InvalidInput(f"{name}: a trace holds JSON values only (got {type(value).__name__})")


def append_lines(path: Path, lines: Sequence[bytes]) -> None:
    """Append whole lines to `path` in one write, fsynced, under the file's lock.

    A file whose last line lacks its newline was torn by a crash mid-write: a newline is
    written first, so the torn fragment stays a line of its own (skipped by `read_trace`)
    instead of swallowing the next event."""
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = b"".join(lines)
    lock = FileLock(str(path) + ".lock", timeout=LOCK_TIMEOUT_SECONDS, poll_interval=0.002)
    with lock:
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            size = os.fstat(descriptor).st_size
            if size and os.pread(descriptor, 1, size - 1) != b"\n":
                payload = b"\n" + payload
            write_all(descriptor, payload)
        finally:
            os.close(descriptor)
        if size == 0:
            _fsync_folder(path.parent)  # a new file is durable only once its name is


def _fsync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def read_trace(path: Path) -> list[dict[str, Any]]:
    """Every whole event of a trace file, in the order written ([] when there is none).

    A line that is not a JSON object (a write torn by a crash) is skipped with a warning
    naming its line number, never an error: the rest of the trace is still good."""
    path = Path(path)
    if not path.exists():
        return []
    events: list[dict[str, Any]] = []
    for number, line in enumerate(path.read_bytes().split(b"\n"), start=1):
        if not line.strip():
            continue
        try:
            event = json.loads(line)
        except ValueError:  # UnicodeDecodeError and JSONDecodeError both are
            event = None
        if not isinstance(event, dict):
            logger.warning(
                "%s line %d: not a whole trace event (torn by a crash?); skipped", path, number
            )
            continue
        events.append(event)
    return events


def check_frontend_batch(body: Any) -> tuple[str, list[dict[str, Any]]]:
    """Validate what the dashboard posts: `{"session_id", "events": [{"kind", ...}]}`.

    Returns the session id and the events; raises InvalidInput naming the first event and
    field that is wrong (an unknown kind or field, a wrong type, a value out of range)."""
    if not isinstance(body, Mapping):
        raise InvalidInput('trace: expected {"session_id": ..., "events": [...]}')
    session_id = body.get("session_id")
    if not isinstance(session_id, str) or not SESSION_ID_PATTERN.fullmatch(session_id):
        raise InvalidInput("session_id: 1-64 letters, digits, '-' or '_'")
    events = body.get("events")
    if not isinstance(events, list) or not 1 <= len(events) <= MAX_FRONTEND_EVENTS:
        raise InvalidInput(f"events: a list of 1-{MAX_FRONTEND_EVENTS} events")
    return session_id, [_check_frontend_event(event, at) for at, event in enumerate(events)]


def _check_frontend_event(event: Any, index: int) -> dict[str, Any]:
    where = f"events[{index}]"
    if not isinstance(event, Mapping):
        raise InvalidInput(f"{where}: an event is a mapping with a `kind`")
    kind = event.get("kind")
    if kind not in FRONTEND_FIELDS:
        raise InvalidInput(
            f"{where}.kind: one of {', '.join(FRONTEND_FIELDS)} (got {str(kind)[:40]!r})"
        )
    allowed = {**FRONTEND_FIELDS[kind], **COMMON_FRONTEND_FIELDS}
    for name, value in event.items():
        if name == "kind":
            continue
        if name not in allowed:
            raise InvalidInput(
                f"{where}.{str(name)[:40]}: not a field of a {kind} event "
                f"(allowed: {', '.join(allowed)})"
            )
        types, _ = allowed[name]
        if isinstance(value, bool) or not isinstance(value, types):
            expected = " or ".join(t.__name__ for t in types)
            raise InvalidInput(f"{where}.{name}: expected {expected}")
        if isinstance(value, str) and len(value) > MAX_TEXT:
            raise InvalidInput(f"{where}.{name}: at most {MAX_TEXT} characters")
    for name, (_, required) in allowed.items():
        if required and name not in event:
            raise InvalidInput(f"{where}.{name}: required for a {kind} event")
    if kind == "judgment":
        if event["mode"] not in FEEDBACK_MODE_NAMES:
            raise InvalidInput(
                f"{where}.mode: one of {', '.join(FEEDBACK_MODE_NAMES)} "
                f"(got {event['mode'][:40]!r})"
            )
        if not 0 <= event["decision_ms"] <= MAX_DECISION_MS:  # NaN fails this too
            raise InvalidInput(f"{where}.decision_ms: 0-{MAX_DECISION_MS} milliseconds")
    if kind == "retry" and not 1 <= event["attempt"] <= 10_000:
        raise InvalidInput(f"{where}.attempt: 1-10000")
    if "round_index" in event and not 0 <= event["round_index"] < 2**31:
        raise InvalidInput(f"{where}.round_index: 0 or more")
    return dict(event)
