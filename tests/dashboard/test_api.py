"""The dashboard's own routes: images only from the data root's image folder, and the
judgment outbox (in order, once each, errors by kind)."""

from __future__ import annotations

import pytest
from filelock import FileLock

from dashboard.api import store_judgments
from dashboard.api_models import MAX_TRACE_BYTES, Judgment
from dashboard.app import create_app
from dashboard.state import DashboardState
from steering_core.config import SessionConfig
from steering_core.sessions import create_session, get_feedback_events
from steering_core.trace import read_trace, trace_path
from tests.steering_core.helpers import blank_round


def judgments(items: list[dict[str, object]]) -> list[Judgment]:
    """The outbox's items as the feedback route reads them."""
    return [Judgment.model_validate(item) for item in items]


@pytest.fixture
def client(state: DashboardState):  # noqa: ANN201
    return create_app(state).server.test_client()


def test_images_are_served_from_the_image_folder_only(
    state: DashboardState, client: object
) -> None:
    folder = state.workspace.data_root / "images" / "s1"
    folder.mkdir(parents=True)
    (folder / "c00.png").write_bytes(b"\x89PNG fake")
    (state.workspace.data_root / "secret.png").write_bytes(b"\x89PNG secret")
    assert client.get("/images/s1/c00.png").status_code == 200
    for path in (
        "/images/../steering.sqlite3",
        "/images/..%2Fsteering.sqlite3",
        "/images/../secret.png",
        "/images/%2e%2e/secret.png",
        "/images//etc/passwd",
        "/images/s1/missing.png",
    ):
        assert client.get(path).status_code == 404, path


def test_a_candidates_image_is_served_by_its_id(
    state: DashboardState, client: object, tiny_config: SessionConfig
) -> None:
    session = create_session(state.workspace, tiny_config)
    _, candidates = blank_round(state.workspace, session.id)
    reply = client.get(f"/api/candidates/{candidates[1].id}/image")
    assert reply.status_code == 200 and reply.mimetype == "image/png"
    assert reply.data == (state.workspace.data_root / candidates[1].image_path).read_bytes()
    assert client.get("/api/candidates/999999/image").status_code == 404


def test_judgments_are_stored_in_order_and_once_each(
    state: DashboardState, tiny_config: SessionConfig
) -> None:
    session = create_session(state.workspace, tiny_config)
    _, shown = blank_round(state.workspace, session.id)
    items = [
        {
            "key": f"k{i}",
            "session_id": session.id,
            "round_index": 0,
            "raw": {"mode": "winner", "winner": shown[i % 4].id},
        }
        for i in range(6)
    ]
    first = store_judgments(state, judgments(items[:4]))
    again = store_judgments(state, judgments(items))  # a retry that overlaps the first request
    assert first["ok"] and again["ok"] and again["acked"] == [f"k{i}" for i in range(6)]
    events = get_feedback_events(state.workspace, session.id)
    assert [e.raw["winner"] for e in events] == [shown[i % 4].id for i in range(6)]


def test_an_invalid_judgment_stops_the_batch_and_names_the_problem(
    state: DashboardState, tiny_config: SessionConfig
) -> None:
    session = create_session(state.workspace, tiny_config)
    _, shown = blank_round(state.workspace, session.id)
    good = {"key": "a", "session_id": session.id, "raw": {"mode": "winner", "winner": shown[0].id}}
    bad = {"key": "b", "session_id": session.id, "raw": {"mode": "winner", "winner": 999}}
    later = {**good, "key": "c"}
    reply = store_judgments(state, judgments([good, bad, later]))
    assert reply["acked"] == ["a"] and reply["failed"] == "b"
    assert reply["kind"] == "invalid input" and "candidate 999" in reply["message"]
    assert len(get_feedback_events(state.workspace, session.id)) == 1
    error = read_trace(trace_path(state.workspace, session.id))[-1]
    assert (error["kind"], error["where"], error["client_key"]) == ("error", "feedback", "b")
    assert error["error_kind"] == "invalid input" and "candidate 999" in error["message"]


def test_a_busy_data_root_is_a_transient_failure(
    state: DashboardState, tiny_config: SessionConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("dashboard.api.LOCK_TIMEOUT_SECONDS", 0.1)
    session = create_session(state.workspace, tiny_config)
    _, shown = blank_round(state.workspace, session.id)
    item = {"key": "a", "session_id": session.id, "raw": {"mode": "winner", "winner": shown[1].id}}
    with FileLock(str(state.workspace.labels.path(session.id)) + ".lock"):
        reply = store_judgments(state, judgments([item]))
    assert not reply["ok"] and reply["kind"] == "transient" and reply["acked"] == []
    assert store_judgments(state, judgments([item]))["acked"] == ["a"]


def test_trace_events_from_the_page_are_recorded(
    state: DashboardState, client: object, tiny_config: SessionConfig
) -> None:
    session = create_session(state.workspace, tiny_config)
    events = [
        {"kind": "page_view", "page": "/"},
        {"kind": "judgment", "mode": "winner", "decision_ms": 2150, "round_index": 0},
        {"kind": "retry", "attempt": 1, "error_kind": "transient"},
        {"kind": "undo", "round_index": 0},
    ]
    reply = client.post("/api/trace", json={"session_id": session.id, "events": events})
    assert reply.status_code == 200 and reply.get_json() == {"ok": True, "recorded": 4}
    stored = read_trace(trace_path(state.workspace, session.id))
    frontend = [e for e in stored if e["source"] == "frontend"]
    assert [e["kind"] for e in frontend] == ["page_view", "judgment", "retry", "undo"]
    assert frontend[1]["decision_ms"] == 2150


def test_bad_trace_batches_are_refused_with_400_and_store_nothing(
    state: DashboardState, client: object, tiny_config: SessionConfig
) -> None:
    session = create_session(state.workspace, tiny_config)
    before = trace_path(state.workspace, session.id).read_bytes()
    page_view = {"kind": "page_view", "page": "/"}
    refused = {
        "events[1].kind: one of judgment, page_view, retry, undo": {
            "session_id": session.id,
            "events": [page_view, {"kind": "shell", "command": "rm -rf /"}],
        },
        "events[0].decision_ms: required": {
            "session_id": session.id,
            "events": [{"kind": "judgment", "mode": "winner"}],
        },
        "session_id: 1-64 letters": {"session_id": "../../etc", "events": [page_view]},
    }
    for message, body in refused.items():
        reply = client.post("/api/trace", json=body)
        assert reply.status_code == 400, message
        assert message in reply.get_json()["message"]
    too_large = {"session_id": session.id, "events": [{**page_view, "page": "/" + "x" * 150}] * 500}
    reply = client.post("/api/trace", json=too_large)
    assert reply.status_code == 413
    assert f"at most {MAX_TRACE_BYTES} bytes" in reply.get_json()["message"]
    reply = client.post("/api/trace", data=b"{not json", content_type="application/json")
    assert reply.status_code == 400 and "not JSON" in reply.get_json()["message"]
    reply = client.post("/api/trace", json={"session_id": "nosuch", "events": [page_view]})
    assert reply.status_code == 404
    assert trace_path(state.workspace, session.id).read_bytes() == before
    traces = trace_path(state.workspace, session.id).parent
    assert [path.name for path in traces.glob("*.jsonl")] == [f"{session.id}.jsonl"]


def test_undo_says_what_it_withdrew_discards_the_round_built_from_it_and_stops_the_next(
    state: DashboardState, client: object, tiny_config: SessionConfig
) -> None:
    session = create_session(state.workspace, tiny_config)
    _, shown = blank_round(state.workspace, session.id)
    item = {"key": "k-1", "session_id": session.id, "round_index": 0}
    store_judgments(state, judgments([{**item, "raw": {"mode": "winner", "winner": shown[2].id}}]))
    blank_round(state.workspace, session.id)  # the round built from it, already stored
    # And the next one being made (the worker is not started: it stays queued).
    state.jobs[session.id] = state.worker.submit("round", lambda context: {}, session.id)

    reply = client.post("/api/undo", json={"session_id": session.id}).get_json()

    assert reply["ok"] and reply["round_index"] == 0 and reply["client_key"] == "k-1"
    assert reply["judgment"] == "winner: 3" and reply["discarded_rounds"] == [1]
    assert reply["latest_round"] == 0 and reply["cancelled_job"] == state.jobs[session.id]
    assert reply["message"] == "Withdrew round 0's judgment (winner: 3); discarded round 1"
    assert state.worker._cancel_requested(state.jobs[session.id])
    refused = client.post("/api/undo", json={"session_id": session.id}).get_json()
    assert not refused["ok"] and "no judgment to undo" in refused["message"]
