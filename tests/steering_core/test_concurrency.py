"""Two OS processes writing feedback to one data root at once lose and corrupt nothing."""

from __future__ import annotations

import csv
import json
import sqlite3
import subprocess
import time
from collections import Counter
from itertools import pairwise
from pathlib import Path
from typing import Any

from steering_core.config import SessionConfig
from steering_core.feedback import FEEDBACK_MODE_NAMES
from steering_core.sessions import get_feedback_events, list_sessions
from steering_core.storage import Workspace
from steering_core.storage.labels import COLUMNS
from steering_core.storage.workspace import DATABASE_FILE
from steering_core.verify import verify_workspace
from tests.steering_core._feedback_writer import (
    parse_acknowledgements,
    session_with_round,
    writer_command,
)

PER_PROCESS = 500


def run_together(
    workspace: Workspace, tmp_path: Path, writers: dict[str, dict[str, Any]]
) -> dict[str, list[dict[str, Any]]]:
    """Start one writer process per entry, release them at the same moment, and return each
    one's acknowledgements in the order it printed them."""
    start = tmp_path / "go"
    processes: dict[str, subprocess.Popen[str]] = {}
    for name, options in writers.items():
        sessions = options.pop("sessions")
        command = writer_command(
            workspace, sessions, ready_file=tmp_path / f"{name}.ready", start_file=start, **options
        )
        processes[name] = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
    try:
        # Both have imported everything and opened the workspace before either writes, so the
        # streams overlap instead of one process finishing during the other's start-up.
        deadline = time.monotonic() + 120
        while not all((tmp_path / f"{name}.ready").exists() for name in processes):
            for name, process in processes.items():
                assert process.poll() is None, f"writer {name} died: {process.stderr.read()}"
            assert time.monotonic() < deadline, "writers never became ready"
            time.sleep(0.01)
        start.touch()
        outputs = {name: process.communicate(timeout=300) for name, process in processes.items()}
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.kill()
                process.wait()
    for name, process in processes.items():
        assert process.returncode == 0, f"writer {name} failed: {outputs[name][1]}"
    return {name: parse_acknowledgements(stdout) for name, (stdout, _) in outputs.items()}


def csv_rows(path: Path) -> list[dict[str, str]]:
    """The label CSV read with nothing but the standard library's csv module."""
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        assert tuple(reader.fieldnames or ()) == COLUMNS
        rows = list(reader)
    for row in rows:
        assert None not in row, f"row with extra fields: {row}"  # DictReader's overflow key
        assert all(value is not None for value in row.values()), f"short row: {row}"
    return rows


def assert_labels_mirror_database(workspace: Workspace, session_id: str) -> None:
    """The session's CSV has exactly one row per database event, in id order, same content."""
    events = get_feedback_events(workspace, session_id)
    ids = [event.id for event in events]
    plain = csv_rows(workspace.labels.path(session_id))
    checked = workspace.labels.read(session_id)
    for rows in (plain, checked):
        row_ids = [int(row["event_id"]) for row in rows]
        assert len(row_ids) == len(set(row_ids)), "duplicate rows in the label CSV"
        # The label lock is held across the insert and the append, so rows land in id order.
        assert row_ids == ids
    for event, row in zip(events, plain, strict=True):
        assert row["session_id"] == session_id
        assert row["mode"] == event.mode
        assert row["source"] == event.source
        assert json.loads(row["raw_json"]) == event.raw
        assert json.loads(row["comparisons_json"]) == event.comparisons


def raw_integrity_check(workspace: Workspace) -> str:
    """PRAGMA integrity_check on a connection of its own, not the library's."""
    connection = sqlite3.connect(workspace.data_root / DATABASE_FILE)
    try:
        return str(connection.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        connection.close()


def switches(ids_a: list[int], ids_b: list[int]) -> int:
    """How often the merged id sequence passes from one writer's events to the other's."""
    owner = {i: "a" for i in ids_a} | {i: "b" for i in ids_b}
    order = [owner[i] for i in sorted(owner)]
    return sum(1 for x, y in pairwise(order) if x != y)


def assert_overlapped(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> None:
    """Both writers had begun before either had finished."""
    assert max(a[0]["since"], b[0]["since"]) < min(a[-1]["at"], b[-1]["at"])


def test_two_processes_store_all_1000_events(
    workspace: Workspace, tiny_config: SessionConfig, tmp_path: Path
) -> None:
    shared, _ = session_with_round(workspace, tiny_config)
    other, _ = session_with_round(workspace, tiny_config)
    # Three of every four judgments go to the shared session, the fourth to a second one that
    # both processes also share, so two label CSVs are written concurrently.
    sessions = [shared, shared, shared, other]
    started = time.perf_counter()
    acks = run_together(
        workspace,
        tmp_path,
        {
            "a": {"sessions": sessions, "count": PER_PROCESS, "source": "script", "seed": 1},
            "b": {"sessions": sessions, "count": PER_PROCESS, "source": "cli", "seed": 2},
        },
    )
    elapsed = time.perf_counter() - started

    fresh = Workspace.open(workspace.data_root, workspace.labels_dir)  # as a restarted app
    events = get_feedback_events(fresh, shared) + get_feedback_events(fresh, other)
    assert len(events) == 2 * PER_PROCESS
    total = fresh.db.query_one("SELECT COUNT(*) FROM feedback_events")[0]
    assert total == 2 * PER_PROCESS
    by_id = {event.id: event for event in events}

    for name, source in (("a", "script"), ("b", "cli")):
        ids = [ack["id"] for ack in acks[name]]
        assert len(ids) == PER_PROCESS
        # Each process's events are all stored, in the order it submitted them.
        assert ids == sorted(ids) and len(set(ids)) == PER_PROCESS
        assert all(by_id[ack["id"]].session_id == ack["session"] for ack in acks[name])
        assert all(by_id[ack["id"]].mode == ack["mode"] for ack in acks[name])
        assert {i for i, e in by_id.items() if e.source == source} == set(ids)
    assert set(by_id) == {ack["id"] for ack in acks["a"] + acks["b"]}
    assert set(Counter(event.mode for event in events)) == set(FEEDBACK_MODE_NAMES)
    # The streams really overlapped: each process was writing before the other's last call
    # returned. (How finely they interleave varies a lot: a process waiting for the label
    # lock polls for it only every 50 ms, so the holder often runs many calls in a row.)
    assert_overlapped(acks["a"], acks["b"])
    mixing = switches([a["id"] for a in acks["a"]], [b["id"] for b in acks["b"]])
    print(f"2 x {PER_PROCESS} concurrent submits: {elapsed:.1f} s, {mixing} switches")

    assert fresh.db.integrity_check() == "ok"
    assert raw_integrity_check(fresh) == "ok"
    assert len(get_feedback_events(fresh, shared)) == 2 * PER_PROCESS * 3 // 4
    for session_id in (shared, other):
        assert_labels_mirror_database(fresh, session_id)
    report = verify_workspace(fresh)
    assert report["problems"] == []
    assert report["label_rows"] == 2 * PER_PROCESS


def test_undo_in_one_process_while_another_writes(
    workspace: Workspace, tiny_config: SessionConfig, tmp_path: Path
) -> None:
    session_id, _ = session_with_round(workspace, tiny_config)
    submits, undo_every = 200, 4
    acks = run_together(
        workspace,
        tmp_path,
        {
            "a": {
                "sessions": [session_id],
                "count": submits,
                "source": "script",
                "seed": 3,
                "undo_every": undo_every,
            },
            "b": {"sessions": [session_id], "count": submits, "source": "cli", "seed": 4},
        },
    )
    assert_overlapped(acks["a"], acks["b"])
    undos = [ack for ack in acks["a"] if ack["mode"] == "undo"]
    assert len(undos) == submits // undo_every

    fresh = Workspace.open(workspace.data_root, workspace.labels_dir)
    events = get_feedback_events(fresh, session_id)
    by_id = {event.id: event for event in events}
    assert len(events) == 2 * submits + len(undos)
    undo_events = [event for event in events if event.mode == "undo"]
    assert sorted(event.id for event in undo_events) == sorted(ack["id"] for ack in undos)
    targets = [event.undoes_event_id for event in undo_events]
    # Every undo withdrew a distinct judgment (never another undo), made before the undo,
    # and exactly those judgments are marked undone.
    assert len(set(targets)) == len(targets)
    assert {ack["undoes"] for ack in undos} == set(targets)
    assert all(
        by_id[t].mode != "undo" and t < u.id for t, u in zip(targets, undo_events, strict=True)
    )
    assert {event.id for event in events if event.undone_at is not None} == set(targets)
    active = get_feedback_events(fresh, session_id, include_undone=False)
    assert len(active) == 2 * submits - len(undos)
    (listed,) = list_sessions(fresh)
    assert listed["judgments"] == len(active)

    assert fresh.db.integrity_check() == "ok"
    assert_labels_mirror_database(fresh, session_id)
    assert verify_workspace(fresh)["problems"] == []
