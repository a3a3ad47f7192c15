"""Label CSVs: `labels/<session>.csv` mirrors every feedback event, one row each.

The dashboard and the CLI read and write these files only through this module, under a file
lock, so that appends from several processes never interleave. Rows are appended with one
write and fsynced. A last line without its newline is a row torn by a crash: it is cut and
re-appended from the database. A mangled row anywhere else is reported with its line number.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from filelock import FileLock

from steering_core.errors import DataCorrupt
from steering_core.storage.files import write_all

COLUMNS = (
    "event_id",
    "session_id",
    "round_index",
    "mode",
    "source",
    "confidence",
    "created_at",
    "undoes_event_id",
    "candidate_ids",
    "raw_json",
    "comparisons_json",
)


def _row_bytes(row: dict[str, Any]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow([row.get(c, "") for c in COLUMNS])
    return buffer.getvalue().encode("utf-8")


class LabelLog:
    """The folder of label CSVs, one file per session."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def path(self, session_id: str) -> Path:
        return self.folder / f"{session_id}.csv"

    @contextmanager
    def locked(self, session_id: str, timeout: float = 60) -> Iterator[None]:
        """Hold the session's label lock (used across the database write and the append)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        # A short poll interval keeps hand-overs between competing processes fair.
        lock = FileLock(str(self.path(session_id)) + ".lock", timeout=timeout, poll_interval=0.002)
        with lock:
            yield

    def append(self, row: dict[str, Any]) -> None:
        """Append one event row durably. Call inside `locked(session_id)`."""
        path = self.path(row["session_id"])
        payload = _row_bytes(row)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            if os.fstat(descriptor).st_size == 0:
                payload = _row_bytes(dict(zip(COLUMNS, COLUMNS, strict=True))) + payload
            write_all(descriptor, payload)
        finally:
            os.close(descriptor)

    def read(self, session_id: str) -> list[dict[str, Any]]:
        """Every complete row of the session's CSV, checked; a mangled row raises DataCorrupt.

        A last line without its newline is a write cut short (by a crash, or in progress in
        another process) and is left out; `reconcile` repairs it.
        """
        rows, _ = self._read_checked(session_id)
        return rows

    def _read_checked(self, session_id: str) -> tuple[list[dict[str, Any]], int | None]:
        """Complete rows, and the byte offset of a torn last line (None when there is none)."""
        path = self.path(session_id)
        if not path.exists():
            return [], None
        data = path.read_bytes()
        complete_end = data.rfind(b"\n") + 1
        torn_at = complete_end if complete_end < len(data) else None
        rows: list[dict[str, Any]] = []
        for number, raw_line in enumerate(data[:complete_end].split(b"\n")[:-1], start=1):
            try:
                line = raw_line.decode("utf-8")
                if number == 1:
                    if tuple(next(csv.reader([line]), [])) != COLUMNS:
                        raise ValueError(f"the header is not {','.join(COLUMNS)}")
                    continue
                rows.append(self._parse(line))
            except ValueError as error:  # UnicodeDecodeError is a ValueError too
                raise DataCorrupt(
                    f"{path} line {number}: {error}; fix or delete that line, or rebuild the "
                    f"file from the database with `steer labels rebuild {session_id}`"
                ) from None
        return rows, torn_at

    def last_event_id(self, session_id: str) -> int | None:
        """The event id of the last complete row, reading only the file's tail (cheap).

        Returns -1 when the file ends in a torn line or its tail cannot be read, so callers
        reconcile; None when the file has no rows.
        """
        path = self.path(session_id)
        if not path.exists():
            return None
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - 65536))
            tail = handle.read()
        if not tail.endswith(b"\n"):
            return -1 if tail else None
        last = tail[:-1].rsplit(b"\n", 1)[-1]
        try:
            first_field = last.split(b",", 1)[0].decode("ascii")
            return None if first_field == COLUMNS[0] else int(first_field)
        except (UnicodeDecodeError, ValueError):
            return -1

    @staticmethod
    def _parse(line: str) -> dict[str, Any]:
        fields = next(csv.reader([line]), [])
        if len(fields) != len(COLUMNS):
            raise ValueError(f"expected {len(COLUMNS)} fields, found {len(fields)}")
        row = dict(zip(COLUMNS, fields, strict=True))
        try:
            row["event_id"] = int(row["event_id"])
            row["round_index"] = int(row["round_index"])
            row["raw"] = json.loads(row["raw_json"])
            json.loads(row["comparisons_json"])
        except (ValueError, json.JSONDecodeError) as error:
            raise ValueError(f"unreadable field ({error})") from None
        return row

    def reconcile(self, session_id: str, events: list[dict[str, Any]]) -> int:
        """Append the database's `events` missing from the CSV; returns how many were added.

        Call inside `locked(session_id)`. A torn last line is cut off first (its event is
        then re-appended from the database).
        """
        path = self.path(session_id)
        rows, torn_at = self._read_checked(session_id)
        if torn_at is not None:
            with open(path, "r+b") as handle:
                handle.truncate(torn_at)
                handle.flush()
                os.fsync(handle.fileno())
        present = {row["event_id"] for row in rows}
        missing = [event for event in events if event["event_id"] not in present]
        for event in missing:
            self.append(event)
        return len(missing)

    def rebuild(self, session_id: str, events: list[dict[str, Any]]) -> Path | None:
        """Rewrite the CSV from the database's events, keeping the old file as `.bak`."""
        path = self.path(session_id)
        backup = None
        if path.exists():
            backup = path.with_suffix(".csv.bak")
            shutil.copy2(path, backup)
            path.unlink()
        for event in events:
            self.append(event)
        return backup
