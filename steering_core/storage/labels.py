"""Label CSVs: `labels/<session>.csv` mirrors every feedback event, one row each.

The dashboard and the CLI read and write these files only through this module, under a file
lock, so that appends from several processes never interleave. Rows are appended with one
write, flushed and fsynced. A row torn by a crash (the last line with no newline) is repaired
from the database; a mangled row anywhere else is reported with its line number.
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
        with FileLock(str(self.path(session_id)) + ".lock", timeout=timeout):
            yield

    def append(self, row: dict[str, Any]) -> None:
        """Append one event row durably. Call inside `locked(session_id)`."""
        path = self.path(row["session_id"])
        payload = _row_bytes(row)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            if os.fstat(descriptor).st_size == 0:
                payload = _row_bytes(dict(zip(COLUMNS, COLUMNS, strict=True))) + payload
            os.write(descriptor, payload)
            os.fsync(descriptor)
        finally:
            os.close(descriptor)

    def read(self, session_id: str) -> list[dict[str, Any]]:
        """Every row of the session's CSV, checked; a mangled row raises DataCorrupt."""
        rows, _ = self._read_checked(session_id)
        return rows

    def _read_checked(self, session_id: str) -> tuple[list[dict[str, Any]], bool]:
        """Rows, and whether the last line is torn (no trailing newline and unparseable)."""
        path = self.path(session_id)
        if not path.exists():
            return [], False
        text = path.read_bytes().decode("utf-8", errors="strict")
        lines = text.split("\n")
        ends_cleanly = text.endswith("\n") or text == ""
        if ends_cleanly:
            lines = lines[:-1]
        rows: list[dict[str, Any]] = []
        torn = False
        for number, line in enumerate(lines, start=1):
            if number == 1:
                if tuple(next(csv.reader([line]), [])) != COLUMNS:
                    raise DataCorrupt(f"{path} line 1: the header is not {','.join(COLUMNS)}")
                continue
            try:
                rows.append(self._parse(line))
            except ValueError as error:
                if number == len(lines) and not ends_cleanly:
                    torn = True  # a write cut short by a crash; the database has the event
                    break
                raise DataCorrupt(
                    f"{path} line {number}: {error}; fix or delete that line, or rebuild the "
                    f"file from the database with `steer labels rebuild {session_id}`"
                ) from None
        return rows, torn

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

        Call inside `locked(session_id)`. A torn last line is cut off first.
        """
        path = self.path(session_id)
        rows, torn = self._read_checked(session_id)
        if torn:
            text = path.read_bytes()
            with open(path, "r+b") as handle:
                handle.truncate(text.rfind(b"\n") + 1)
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
