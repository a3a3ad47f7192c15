"""Label CSVs: one row per event, readable by csv and pandas-style readers, checked on read."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from steering_core.errors import DataCorrupt
from steering_core.storage.labels import COLUMNS, LabelLog


def event(event_id: int, text: str = "plain") -> dict:
    return {
        "event_id": event_id,
        "session_id": "s1",
        "round_index": 0,
        "mode": "critique",
        "source": "human",
        "confidence": 1.0,
        "created_at": "2026-01-01T00:00:00",
        "undoes_event_id": "",
        "candidate_ids": "[1]",
        "raw_json": '{"text": "' + text + '"}',
        "comparisons_json": "[]",
    }


def test_rows_survive_commas_quotes_and_newlines(tmp_path: Path) -> None:
    log = LabelLog(tmp_path)
    with log.locked("s1"):
        log.append(event(1))
        log.append(event(2, 'a, \\"quoted\\" critique\\nwith a newline'))
    rows = log.read("s1")
    assert [r["event_id"] for r in rows] == [1, 2]
    assert rows[1]["raw"]["text"] == 'a, "quoted" critique\nwith a newline'
    with open(log.path("s1"), newline="", encoding="utf-8") as handle:
        parsed = list(csv.DictReader(handle))
    assert tuple(parsed[0]) == COLUMNS and len(parsed) == 2


def test_mangled_row_names_the_line(tmp_path: Path) -> None:
    log = LabelLog(tmp_path)
    with log.locked("s1"):
        for i in range(1, 4):
            log.append(event(i))
    lines = log.path("s1").read_text(encoding="utf-8").splitlines(keepends=True)
    lines[2] = "3,broken\n"
    log.path("s1").write_text("".join(lines), encoding="utf-8")
    with pytest.raises(DataCorrupt, match=r"s1.csv line 3: expected 11 fields, found 2"):
        log.read("s1")


def test_torn_last_row_is_cut_and_refilled_by_reconcile(tmp_path: Path) -> None:
    log = LabelLog(tmp_path)
    with log.locked("s1"):
        log.append(event(1))
    with open(log.path("s1"), "ab") as handle:
        handle.write(b"2,s1,0,crit")  # a write cut short by a crash
    with log.locked("s1"):
        added = log.reconcile("s1", [event(1), event(2)])
    assert added == 1
    assert [r["event_id"] for r in log.read("s1")] == [1, 2]


def test_rebuild_keeps_a_backup(tmp_path: Path) -> None:
    log = LabelLog(tmp_path)
    log.path("s1").parent.mkdir(parents=True, exist_ok=True)
    log.path("s1").write_text("garbage\n", encoding="utf-8")
    backup = log.rebuild("s1", [event(1), event(2)])
    assert backup is not None and backup.read_text(encoding="utf-8") == "garbage\n"
    assert [r["event_id"] for r in log.read("s1")] == [1, 2]
