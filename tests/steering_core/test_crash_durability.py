"""Acknowledged feedback survives SIGKILL; torn and mangled label CSV lines are handled."""

from __future__ import annotations

import csv
import os
import random
import signal
import subprocess
import time
from pathlib import Path

import pytest

from steering_core.config import SessionConfig
from steering_core.errors import DataCorrupt
from steering_core.sessions import get_feedback_events, submit_feedback, undo_last_feedback
from steering_core.storage import Workspace
from steering_core.storage.labels import COLUMNS
from steering_core.verify import verify_workspace
from tests.steering_core._feedback_writer import (
    parse_acknowledgements,
    run_writer,
    session_with_round,
    writer_command,
)

KILLS = 3


def database_ids(workspace: Workspace, session_id: str) -> list[int]:
    # A new Workspace each time: what a restarted app sees, not this process's open handle.
    fresh = Workspace.open(workspace.data_root, workspace.labels_dir)
    try:
        return [event.id for event in get_feedback_events(fresh, session_id)]
    finally:
        fresh.db.close()


def csv_ids(path: Path) -> list[int]:
    """Event ids of the label CSV read with the standard library, every row whole."""
    raw = path.read_bytes()
    assert raw.endswith(b"\n"), "the label CSV ends in a partial line"
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert tuple(rows[0]) == COLUMNS
    assert all(len(row) == len(COLUMNS) for row in rows[1:]), "a row with the wrong field count"
    ids = [int(row[0]) for row in rows[1:]]
    assert len(ids) == len(set(ids)), "duplicate rows in the label CSV"
    return ids


def kill_mid_stream(workspace: Workspace, session_id: str, after: int, seed: int) -> list[int]:
    """Start a writer, SIGKILL it once it has acknowledged `after` events; the ids of every
    event it acknowledged, including lines still in the pipe when it died."""
    process = subprocess.Popen(
        writer_command(workspace, [session_id], count=0, seed=seed),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stderr is not None
    lines: list[str] = []
    try:
        while len(lines) < after:
            line = process.stdout.readline()
            assert line.endswith("\n"), f"writer ended early: {process.stderr.read()}"
            lines.append(line)
        # A short random pause moves the kill to a random point of the call in flight
        # (database commit, CSV append, an fsync) rather than always just after a print.
        time.sleep(random.Random(seed).uniform(0, 0.003))
        assert process.poll() is None, "the writer must still be in its loop when killed"
        os.kill(process.pid, signal.SIGKILL)
        rest, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == -signal.SIGKILL
    return [ack["id"] for ack in parse_acknowledgements("".join(lines) + rest)]


def test_sigkill_mid_stream_keeps_every_acknowledged_event(
    workspace: Workspace, tiny_config: SessionConfig
) -> None:
    session_id, _ = session_with_round(workspace, tiny_config)
    label_path = workspace.labels.path(session_id)
    rng = random.Random(20240607)
    acknowledged: list[int] = []
    for kill in range(KILLS):
        after = rng.randint(50, 150)
        before = set(database_ids(workspace, session_id))
        acks = kill_mid_stream(workspace, session_id, after, seed=kill)
        assert len(acks) >= after
        acknowledged += acks

        stored = database_ids(workspace, session_id)
        assert set(acknowledged) <= set(stored)
        # Only the call in flight at the kill may have committed without being acknowledged.
        assert len(set(stored) - before - set(acks)) <= 1
        fresh = Workspace.open(workspace.data_root, workspace.labels_dir)
        assert fresh.db.integrity_check() == "ok"
        # Before any repair the CSV reads (a torn last line is tolerated) and lacks at most
        # the event whose append the kill cut off.
        rows = {row["event_id"] for row in fresh.labels.read(session_id)}
        assert rows <= set(stored) and len(set(stored) - rows) <= 1
        fresh.db.close()

        # Restart: the next process to write reconciles the CSV with the database first.
        (extra,) = run_writer(workspace, [session_id], count=1, seed=100 + kill)
        acknowledged.append(extra["id"])
        stored = database_ids(workspace, session_id)
        assert stored[-1] == extra["id"]
        assert set(acknowledged) <= set(stored)
        assert csv_ids(label_path) == stored
        fresh = Workspace.open(workspace.data_root, workspace.labels_dir)
        assert [row["event_id"] for row in fresh.labels.read(session_id)] == stored
        report = verify_workspace(fresh)
        assert report["problems"] == [] and report["database"] == "ok"
        fresh.db.close()


def populated(workspace: Workspace, config: SessionConfig) -> tuple[str, Path, list[int]]:
    """A session with nine judgments written by another (finished) process, so that this
    test process has not yet checked the session's CSV, as after a restart. The writer
    cycles through the modes; the ninth is a critique with non-ASCII text."""
    session_id, _ = session_with_round(workspace, config)
    acks = run_writer(workspace, [session_id], count=9, seed=5)
    assert acks[-1]["mode"] == "critique"
    return session_id, workspace.labels.path(session_id), [ack["id"] for ack in acks]


def _char_start(row: bytes, cut: int) -> int:
    while row[cut] & 0xC0 == 0x80:  # a UTF-8 continuation byte: back up to the character
        cut -= 1
    return cut


TEAR_POINTS = {
    # Killed after the database commit, before the append began: the row is missing.
    "the whole row": lambda row: 0,
    "a third": lambda row: _char_start(row, len(row) // 3),
    "half": lambda row: _char_start(row, len(row) // 2),
    "all but the last field's end": lambda row: len(row) - 2,
}


@pytest.mark.parametrize(
    "tear",
    [*TEAR_POINTS, "inside a multi-byte character", "only the newline"],
)
def test_torn_last_line_is_repaired_by_next_submit(
    workspace: Workspace, tiny_config: SessionConfig, tear: str
) -> None:
    session_id, label_path, ids = populated(workspace, tiny_config)
    content = label_path.read_bytes()
    start = content.rstrip(b"\n").rfind(b"\n") + 1
    row = content[start:]
    # The append of the last event was cut short by a crash: its row is partial (or absent),
    # with no newline, while the database has the event.
    if tear == "inside a multi-byte character":
        cut = row.index("é".encode()) + 1
    elif tear == "only the newline":
        cut = len(row) - 1
    else:
        cut = TEAR_POINTS[tear](row)
    label_path.write_bytes(content[:start] + row[:cut])

    event = submit_feedback(workspace, session_id, {"mode": "cannot_decide"})

    rows = workspace.labels.read(session_id)
    stored = database_ids(workspace, session_id)
    assert stored == [*ids, event.id]
    assert [r["event_id"] for r in rows] == stored
    assert csv_ids(label_path) == stored
    # The partial row was cut off and the event's row re-appended from the database byte for
    # byte as first written, so the file is the pre-crash file plus the new judgment's row.
    assert label_path.read_bytes().startswith(content)
    assert verify_workspace(workspace)["problems"] == []


MANGLINGS = {
    "a field lost": lambda line: line.replace(",", "", 1),
    "raw_json not JSON": lambda line: line.replace('{""', '{{""', 1),
}


@pytest.mark.parametrize("mangling", list(MANGLINGS))
def test_mangled_middle_row_raises_data_corrupt_and_changes_nothing(
    workspace: Workspace, tiny_config: SessionConfig, mangling: str
) -> None:
    session_id, label_path, _ = populated(workspace, tiny_config)
    lines = label_path.read_text(encoding="utf-8").split("\n")
    lines[2] = MANGLINGS[mangling](lines[2])  # file line 3: the second judgment
    label_path.write_text("\n".join(lines), encoding="utf-8")
    csv_before = label_path.read_bytes()

    def database_state() -> list[tuple]:
        return [
            tuple(row)
            for row in workspace.db.query("SELECT * FROM feedback_events ORDER BY id")
            + workspace.db.query("SELECT * FROM comparisons ORDER BY id")
        ]

    database_before = database_state()

    for attempt in (
        lambda: submit_feedback(workspace, session_id, {"mode": "cannot_decide"}),
        lambda: undo_last_feedback(workspace, session_id),
        # A second try must fail the same way: a failed check is not remembered as passed.
        lambda: submit_feedback(workspace, session_id, {"mode": "cannot_decide"}),
    ):
        with pytest.raises(DataCorrupt) as raised:
            attempt()
        assert str(label_path) in str(raised.value)
        assert "line 3" in str(raised.value)
        assert label_path.read_bytes() == csv_before
        assert database_state() == database_before

    problems = verify_workspace(workspace)["problems"]
    assert len(problems) == 1 and "line 3" in problems[0]
