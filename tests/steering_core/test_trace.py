"""The session trace: durable whole-line appends (also from two processes at once), torn
lines skipped, events validated, and a real session's events in the order they happened."""

from __future__ import annotations

import json
import logging
import multiprocessing
import re
from typing import Any

import numpy as np
import pytest

from steering_core.config import SessionConfig
from steering_core.errors import InvalidInput
from steering_core.sessions import create_session, submit_feedback, undo_last_feedback
from steering_core.storage.workspace import Workspace
from steering_core.trace import (
    TRACE_SCHEMA_VERSION,
    check_frontend_batch,
    read_trace,
    record,
    record_events,
    trace_path,
)
from steering_core.worker import Worker
from tests.steering_core.helpers import blank_round


def test_events_are_appended_as_json_lines_and_read_back(workspace: Workspace) -> None:
    record(workspace, "s1", "feedback", event_id=3, mode="winner", origin="human")
    record(
        workspace,
        "s1",
        "model_fit",
        loss=np.float64(0.25),
        loss_start=float("nan"),  # JSON has no NaN: stored as null
        evidence={"window": np.array([1, 2])},
    )
    path = trace_path(workspace, "s1")
    assert path == workspace.data_root / "traces" / "s1.jsonl"
    assert path.read_bytes().count(b"\n") == 2
    first, second = read_trace(path)
    assert first["schema"] == TRACE_SCHEMA_VERSION
    assert (first["session_id"], first["source"], first["kind"]) == ("s1", "backend", "feedback")
    assert (first["event_id"], first["mode"], first["origin"]) == (3, "winner", "human")
    assert first["at"].endswith("+00:00") and first["at"] <= second["at"]  # ISO 8601, UTC
    assert second["loss"] == 0.25 and second["loss_start"] is None
    assert second["evidence"] == {"window": [1, 2]}
    assert read_trace(workspace.data_root / "traces" / "none.jsonl") == []


def test_a_bad_event_is_logged_never_raised_and_nothing_is_written(
    workspace: Workspace, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        record(workspace, "s1", "no_such_kind")
        record(workspace, "s1", "judgment")  # a frontend kind, recorded as backend
        record(workspace, "s1", "feedback", source="elsewhere")
        record(workspace, "s1", "feedback", payload=object())
        record(workspace, "../escape", "feedback")  # a session id that climbs out
        assert record_events(workspace, "s1", [{"kind": "feedback", "at": "yesterday"}]) is False
    assert not (workspace.data_root / "traces").exists()
    assert not (workspace.data_root / "escape.jsonl").exists()
    assert caplog.text.count("trace: could not record") == 6


def test_a_trace_that_cannot_be_written_does_not_stop_the_session(
    workspace: Workspace, tiny_config: SessionConfig, caplog: pytest.LogCaptureFixture
) -> None:
    (workspace.data_root / "traces").write_text("a file where the folder should be")
    with caplog.at_level(logging.WARNING):
        session = create_session(workspace, tiny_config)
        _, shown = blank_round(workspace, session.id)
        event = submit_feedback(workspace, session.id, {"mode": "winner", "winner": shown[1].id})
    assert event.mode == "winner"
    assert "could not record session_created" in caplog.text


def test_a_torn_last_line_is_skipped_and_the_next_event_starts_a_new_line(
    workspace: Workspace, caplog: pytest.LogCaptureFixture
) -> None:
    record(workspace, "s1", "feedback", event_id=1)
    path = trace_path(workspace, "s1")
    with open(path, "ab") as handle:  # a crash in the middle of writing an event
        handle.write(b'{"schema": 1, "kind": "feedb')
    with caplog.at_level(logging.WARNING):
        assert [e["event_id"] for e in read_trace(path)] == [1]
    assert "line 2: not a whole trace event" in caplog.text
    record(workspace, "s1", "feedback", event_id=2)
    assert [e["event_id"] for e in read_trace(path)] == [1, 2]


def test_tracing_switched_off_writes_nothing(workspace: Workspace) -> None:
    workspace.tracing = False
    record(workspace, "s1", "feedback", event_id=1)
    assert not trace_path(workspace, "s1").exists()


def _append_many(data_root: str, labels: str, writer: int, count: int) -> None:
    workspace = Workspace.open(data_root, labels)
    # Larger than a page, so an unlocked, torn or interleaved write would show.
    padding = "x" * 6000
    for index in range(count):
        record(workspace, "shared", "feedback", writer=writer, index=index, padding=padding)


def test_two_processes_appending_at_once_leave_whole_lines_in_order(
    workspace: Workspace,
) -> None:
    context = multiprocessing.get_context("spawn")
    arguments = (str(workspace.data_root), str(workspace.labels_dir))
    processes = [
        context.Process(target=_append_many, args=(*arguments, writer, 150)) for writer in (1, 2)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(120)
        assert process.exitcode == 0
    lines = trace_path(workspace, "shared").read_bytes().split(b"\n")
    assert lines[-1] == b"" and len(lines) == 301
    events = [json.loads(line) for line in lines[:-1]]  # every line whole JSON
    for writer in (1, 2):
        assert [e["index"] for e in events if e["writer"] == writer] == list(range(150))


def test_a_session_traces_sessions_rounds_and_feedback_in_order(
    workspace: Workspace, tiny_config: SessionConfig
) -> None:
    session = create_session(workspace, tiny_config)
    _, round0 = blank_round(workspace, session.id)
    judged = submit_feedback(
        workspace, session.id, {"mode": "winner", "winner": round0[2].id}, source="cli"
    )
    undo = undo_last_feedback(workspace, session.id)
    submit_feedback(workspace, session.id, {"mode": "winner", "winner": round0[1].id})
    _, round1 = blank_round(workspace, session.id)

    events = read_trace(trace_path(workspace, session.id))
    assert [e["kind"] for e in events] == [
        "session_created",
        "model_fit",
        "proposal",
        "convergence",
        "feedback",
        "feedback",
        "feedback",
        "model_fit",
        "proposal",
        "convergence",
    ]
    assert all(e["session_id"] == session.id and e["source"] == "backend" for e in events)
    assert events[0]["origin"] == "human"
    proposal = events[8]
    assert proposal["round_index"] == 1 and proposal["sampler"] == tiny_config.sampler.name
    assert proposal["candidate_ids"] == [c.id for c in round1]
    assert proposal["roles"] == [c.role for c in round1]
    assert proposal["roles"][0] == "incumbent" and proposal["parents"][0] == round0[1].id
    assert all("why" in metadata for metadata in proposal["metadata"])
    fit = events[7]
    assert fit["model"] == tiny_config.preference_model.name and fit["iterations"] >= 1
    assert isinstance(fit["loss"], float) and fit["fit_seconds"] >= 0
    assert events[9]["status"] in ("continue", "plateau", "degrading", "optimal")
    assert "evidence" in events[9]
    feedback = [(e["event_id"], e["mode"], e["origin"]) for e in events[4:7]]
    assert feedback[:2] == [(judged.id, "winner", "cli"), (undo.id, "undo", "human")]
    assert events[5]["undoes_event_id"] == judged.id


def _trace_of(workspace: Workspace, session_id: str) -> list[dict[str, Any]]:
    return read_trace(trace_path(workspace, session_id))


def test_worker_jobs_trace_each_phase_with_elapsed_time_and_how_they_ended(
    workspace: Workspace, tiny_config: SessionConfig
) -> None:
    session = create_session(workspace, tiny_config)
    worker = Worker(workspace).start()

    def fits(context: Any) -> dict:
        context.phase("fitting", "preference model on all judgments")
        return {}

    def runs_out_of_memory(context: Any) -> dict:
        raise RuntimeError("CUDA out of memory")

    try:
        done = worker.wait(worker.submit("round", fits, session.id), timeout=30)
        failed = worker.wait(worker.submit("round", runs_out_of_memory, session.id), timeout=30)
        worker.wait(worker.submit_warm_up(tiny_config.generator), timeout=120)
    finally:
        worker.stop()
    jobs = [e for e in _trace_of(workspace, session.id) if e["kind"].startswith("job_")]
    first = [e for e in jobs if e["job_id"] == done.id]
    assert [(e["kind"], e.get("phase")) for e in first] == [
        ("job_phase", "queued"),
        ("job_phase", "started"),
        ("job_phase", "fitting"),
        ("job_end", None),
    ]
    elapsed = [e["elapsed_s"] for e in first[:-1]]
    assert elapsed == sorted(elapsed) and elapsed[0] >= 0
    assert first[-1]["status"] == "done" and first[-1]["duration_s"] >= elapsed[-1]
    assert first[-1]["error_kind"] is None
    end = [e for e in jobs if e["job_id"] == failed.id][-1]
    assert (end["kind"], end["status"], end["error_kind"]) == ("job_end", "failed", "out of memory")
    assert "out of memory" in end["error"]
    # The warm-up belongs to no session: it is in no trace.
    assert {e["job_id"] for e in jobs} == {done.id, failed.id}


def frontend(**event: Any) -> dict[str, Any]:
    return {"session_id": "abc123", "events": [event]}


def test_frontend_batches_are_checked_field_by_field() -> None:
    session_id, events = check_frontend_batch(
        {
            "session_id": "abc123",
            "events": [
                {"kind": "judgment", "mode": "rating", "decision_ms": 1834.5, "round_index": 2},
                {"kind": "page_view", "page": "/replay", "client_at": "2026-01-01T00:00:00Z"},
                {"kind": "retry", "attempt": 2, "error_kind": "transient"},
                {"kind": "undo"},
            ],
        }
    )
    assert session_id == "abc123" and [e["kind"] for e in events] == [
        "judgment",
        "page_view",
        "retry",
        "undo",
    ]
    refused = {
        "events[0].kind: one of judgment, page_view, retry, undo": frontend(kind="feedback"),
        "events[0].colour: not a field of a page_view event": frontend(
            kind="page_view", page="/", colour="red"
        ),
        "events[0].decision_ms: required": frontend(kind="judgment", mode="winner"),
        "events[0].decision_ms: 0-": frontend(kind="judgment", mode="winner", decision_ms=-5),
        "events[0].decision_ms: expected int or float": frontend(
            kind="judgment", mode="winner", decision_ms="fast"
        ),
        "events[0].mode: one of": frontend(kind="judgment", mode="telepathy", decision_ms=5),
        "events[0].attempt: expected int": frontend(
            kind="retry", attempt=True, error_kind="transient"
        ),
        "events[0].page: at most 200 characters": frontend(kind="page_view", page="/" * 201),
        "events: a list of 1-100 events": {"session_id": "abc123", "events": []},
        "session_id: 1-64 letters": {"session_id": "../x", "events": [{"kind": "undo"}]},
    }
    for message, body in refused.items():
        with pytest.raises(InvalidInput, match=re.escape(message)):
            check_frontend_batch(body)
    with pytest.raises(InvalidInput, match="events: a list of 1-100"):
        check_frontend_batch({"session_id": "abc123", "events": [{"kind": "undo"}] * 101})


def test_frontend_events_are_recorded_as_frontend(workspace: Workspace) -> None:
    _, events = check_frontend_batch(frontend(kind="judgment", mode="winner", decision_ms=900))
    assert record_events(workspace, "abc123", events, source="frontend")
    (event,) = read_trace(trace_path(workspace, "abc123"))
    assert (event["source"], event["kind"], event["decision_ms"]) == ("frontend", "judgment", 900)
