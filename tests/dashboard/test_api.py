"""The dashboard's own routes: images only from the data root's image folder, and the
judgment outbox (in order, once each, errors by kind)."""

from __future__ import annotations

import pytest
from filelock import FileLock

from dashboard.api import store_judgments
from dashboard.app import create_app
from dashboard.state import DashboardState
from steering_core.config import SessionConfig
from steering_core.sessions import create_session, get_feedback_events
from tests.steering_core.helpers import blank_round


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
    first = store_judgments(state, items[:4])
    again = store_judgments(state, items)  # a retry that overlaps the first request
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
    reply = store_judgments(state, [good, bad, later])
    assert reply["acked"] == ["a"] and reply["failed"] == "b"
    assert reply["kind"] == "invalid input" and "candidate 999" in reply["message"]
    assert len(get_feedback_events(state.workspace, session.id)) == 1


def test_a_busy_data_root_is_a_transient_failure(
    state: DashboardState, tiny_config: SessionConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("dashboard.api.LOCK_TIMEOUT_SECONDS", 0.1)
    session = create_session(state.workspace, tiny_config)
    _, shown = blank_round(state.workspace, session.id)
    item = {"key": "a", "session_id": session.id, "raw": {"mode": "winner", "winner": shown[1].id}}
    with FileLock(str(state.workspace.labels.path(session.id)) + ".lock"):
        reply = store_judgments(state, [item])
    assert not reply["ok"] and reply["kind"] == "transient" and reply["acked"] == []
    assert store_judgments(state, [item])["acked"] == ["a"]
