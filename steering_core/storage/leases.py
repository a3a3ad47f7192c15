"""Session leases: which processes have a session open, so that `steer gc` leaves it alone.

A lease is one small JSON file per (session, process, hold) under `data_root/leases/`. It is
live while its process runs on this host; leases of dead processes are stale and ignored.
No lock is needed: each holder writes and removes only its own file.
"""

from __future__ import annotations

import json
import logging
import os
import re
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from steering_core.errors import InvalidInput
from steering_core.storage.records import now

if TYPE_CHECKING:
    from steering_core.storage.workspace import Workspace

logger = logging.getLogger(__name__)

LEASES_DIR = "leases"
LEASE_SUFFIX = ".lease"
# Session ids become file names (leases, images, label CSVs, traces): letters, digits, _ -.
SESSION_ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")


@dataclass(frozen=True)
class Lease:
    """One process's hold on a session, as read from its file."""

    path: Path
    session_id: str
    pid: int
    host: str
    started_at: str
    process_start: str | None


def lease_folder(workspace: Workspace) -> Path:
    return workspace.data_root / LEASES_DIR


def host_name() -> str:
    return socket.gethostname()


def process_start(pid: int) -> str | None:
    """When process `pid` started (clock ticks since boot, from /proc on Linux), or None.

    Kept in the lease so that a pid reused by an unrelated process after a crash does not
    keep a dead holder's lease alive."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may contain spaces and parentheses: split after its ")".
    fields = stat[stat.rfind(")") + 2 :].split()
    return fields[19] if len(fields) > 19 else None


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by another user
        return True
    except (OSError, OverflowError):
        return False
    return True


def check_session_id(session_id: str) -> str:
    if not isinstance(session_id, str) or not SESSION_ID_PATTERN.fullmatch(session_id):
        raise InvalidInput(f"session id: 1-64 letters, digits, '_' or '-' (got {session_id!r})")
    return session_id


def acquire(workspace: Workspace, session_id: str) -> Path:
    """Write a lease for this process on `session_id`; returns its file (to `release`)."""
    check_session_id(session_id)
    folder = lease_folder(workspace)
    folder.mkdir(parents=True, exist_ok=True)
    pid = os.getpid()
    # A token per hold: one process may hold the same session twice (the dashboard's page
    # and its worker's round job), and releasing one hold must not drop the other.
    path = folder / f"{session_id}.{pid}.{uuid.uuid4().hex[:8]}{LEASE_SUFFIX}"
    record = {
        "session_id": session_id,
        "pid": pid,
        "host": host_name(),
        "started_at": now(),
        "process_start": process_start(pid),
    }
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(record), encoding="utf-8")
    os.replace(temporary, path)  # readers never see a half-written lease
    return path


def release(path: Path) -> None:
    """Remove a lease file; a lease already gone (cleaned by hand) is not an error."""
    try:
        Path(path).unlink(missing_ok=True)
    except OSError as error:  # a stale lease is harmless: its pid will be dead
        logger.warning("could not remove lease %s: %s", path, error)


@contextmanager
def hold_lease(workspace: Workspace, session_id: str) -> Iterator[Path]:
    """Hold a lease on `session_id` for the `with` block."""
    path = acquire(workspace, session_id)
    try:
        yield path
    finally:
        release(path)


def read_lease(path: Path) -> Lease | None:
    """The lease in `path`, or None when the file is not a readable lease."""
    try:
        record = json.loads(Path(path).read_text(encoding="utf-8"))
        return Lease(
            path=Path(path),
            session_id=str(record["session_id"]),
            pid=int(record["pid"]),
            host=str(record["host"]),
            started_at=str(record["started_at"]),
            process_start=record.get("process_start"),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def is_live(lease: Lease) -> bool:
    """A lease is live while its process runs. A lease from another host cannot be checked
    and counts as live: deleting an open session's files is worse than keeping a few."""
    if lease.host != host_name():
        return True
    if not pid_alive(lease.pid):
        return False
    if lease.process_start is not None:
        current = process_start(lease.pid)
        if current is not None and current != lease.process_start:
            return False  # the pid now belongs to another process
    return True


def list_leases(workspace: Workspace) -> list[Lease]:
    """Every readable lease file under the data root, live or stale."""
    folder = lease_folder(workspace)
    if not folder.is_dir():
        return []
    leases = []
    for path in sorted(folder.glob(f"*{LEASE_SUFFIX}")):
        lease = read_lease(path)
        if lease is not None:
            leases.append(lease)
    return leases


def live_sessions(workspace: Workspace) -> set[str]:
    """The ids of the sessions some running process holds a lease on."""
    return {lease.session_id for lease in list_leases(workspace) if is_live(lease)}


def is_session_live(workspace: Workspace, session_id: str) -> bool:
    return session_id in live_sessions(workspace)
