"""The bad-input corpus for the dashboard's HTTP routes (judgment outbox, undo, trace, images,
candidate images, any other path under /api/): each refused with a 4xx, never a 500, as JSON
with a kind and one line of at most 300 characters naming the field, and nothing stored;
and a burst of 200 judgments, each stored exactly once."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from flask.testing import FlaskClient

from dashboard.api_models import MAX_BATCH, MAX_FEEDBACK_BYTES, MAX_TRACE_BYTES, MAX_UNDO_BYTES
from dashboard.app import create_app
from dashboard.state import DashboardState
from steering_core.config import make_config
from steering_core.sessions import create_session, get_feedback_events, submit_feedback
from steering_core.storage.workspace import Workspace
from steering_core.worker import Worker
from tests.bad_inputs.snapshot import snapshot
from tests.steering_core.helpers import blank_round

MAX_MESSAGE = 300
JSON = "application/json"


@dataclass(frozen=True)
class World:
    """A data root with one session, a judged round and a round open for judgments."""

    workspace: Workspace
    client: FlaskClient
    session_id: str
    shown: list[int]  # the open round's candidate ids

    def judgment(self, **fields: Any) -> dict[str, Any]:
        """A valid judgment of the open round, with `fields` replaced."""
        judgment = {
            "key": "k-1",
            "session_id": self.session_id,
            "round_index": 1,
            "raw": {"mode": "winner", "winner": self.shown[0]},
            "advance": False,
        }
        return {**judgment, **fields}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    folder = tmp_path_factory.mktemp("bad-api")
    workspace = Workspace.open(folder / "data", folder / "labels")
    session = create_session(workspace, make_config({"prompt": "a red circle", "k": 4, "d": 4}))
    _, judged = blank_round(workspace, session.id)
    submit_feedback(workspace, session.id, {"mode": "winner", "winner": judged[1].id})
    _, shown = blank_round(workspace, session.id)
    (workspace.data_root / "secret.png").write_bytes(b"\x89PNG secret")
    state = DashboardState(workspace=workspace, worker=Worker(workspace))
    client = create_app(state).server.test_client()
    return World(workspace, client, session.id, [c.id for c in shown])


# --- the corpus ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    """A request (`body` built from the world: a JSON value, or bytes sent as they are), the
    status it must get and what its message must name."""

    method: str
    path: str | Callable[[World], str]
    status: int
    names: str
    body: Any = None
    content_type: str | None = JSON


def feedback(body: Any, names: str, status: int = 400, content_type: str | None = JSON) -> Case:
    return Case("POST", "/api/feedback", status, names, body, content_type)


def one(**fields: Any) -> Callable[[World], dict[str, Any]]:
    """A batch of one judgment with `fields` replaced (a field given as ... is left out)."""

    def build(world: World) -> dict[str, Any]:
        judgment = world.judgment(**fields)
        return {"items": [{k: v for k, v in judgment.items() if v is not ...}]}

    return build


def raw(value: Any) -> Callable[[World], dict[str, Any]]:
    return one(raw=value)


def nested(levels: int) -> Any:
    value: Any = 1
    for _ in range(levels):
        value = [value]
    return value


FEEDBACK = {
    # the body as a whole
    "a list": feedback([1], "body"),
    "null": feedback(b"null", "body"),
    "a number": feedback(b"1", "body"),
    "a string": feedback(b'"items"', "body"),
    "true": feedback(b"true", "body"),
    "empty body": feedback(b"", "body: not JSON"),
    "truncated": feedback(b'{"items": [{"key": "k-1", "sess', "body: not JSON"),
    "not UTF-8": feedback(b'{"items": "\xff\xfe"}', "body: not JSON"),
    "nested 10000 deep": feedback(b"[" * 10_000 + b"]" * 10_000, "body: not JSON"),
    "integer of 5000 digits": feedback(b'{"items": ' + b"9" * 5000 + b"}", "body: not JSON"),
    "NaN items": feedback(b'{"items": NaN}', "items"),
    "10 MB": feedback(b'{"items": ["' + b"x" * 10_000_000 + b'"]}', "body: at most", 413),
    "just over the cap": feedback(b" " * (MAX_FEEDBACK_BYTES + 1), "body: at most", 413),
    "sent as text/plain": feedback(one(), "Content-Type", 415, "text/plain"),
    "sent as a form": feedback(
        b"items=1", "Content-Type", 415, "application/x-www-form-urlencoded"
    ),
    "no content type": feedback(one(), "Content-Type", 415, None),
    # the batch
    "no items": feedback({}, "items"),
    "items empty": feedback({"items": []}, "items"),
    "items a string": feedback({"items": "x"}, "items"),
    "items a mapping": feedback({"items": {}}, "items"),
    "items null": feedback({"items": None}, "items"),
    "items of numbers": feedback({"items": [1]}, "items[0]"),
    "items of lists": feedback({"items": [[]]}, "items[0]"),
    "too many items": feedback(lambda w: {"items": [w.judgment()] * (MAX_BATCH + 1)}, "items"),
    "a field beside items": feedback(lambda w: {**one()(w), "admin": True}, "admin"),
    "items given twice": feedback(lambda w: json.dumps(one()(w))[:-1] + ', "items": 1}', "items"),
    "second judgment wrong": feedback(
        lambda w: {"items": [w.judgment(), w.judgment(key="k-2", round_index="1")]},
        "items[1].round_index",
    ),
    # a judgment's fields
    "round_index a string": feedback(one(round_index="1"), "items[0].round_index"),
    "round_index negative": feedback(one(round_index=-1), "items[0].round_index"),
    "round_index a fraction": feedback(one(round_index=1.5), "items[0].round_index"),
    "round_index 1.0": feedback(one(round_index=1.0), "items[0].round_index"),
    "round_index NaN": feedback(one(round_index=float("nan")), "items[0].round_index"),
    "round_index Infinity": feedback(one(round_index=float("inf")), "items[0].round_index"),
    "round_index true": feedback(one(round_index=True), "items[0].round_index"),
    "round_index a list": feedback(one(round_index=[1]), "items[0].round_index"),
    "round_index 2**63": feedback(one(round_index=2**63), "items[0].round_index"),
    "round_index 10**30": feedback(one(round_index=10**30), "items[0].round_index"),
    "no key": feedback(one(key=...), "items[0].key"),
    "key empty": feedback(one(key=""), "items[0].key"),
    "key of 65": feedback(one(key="k" * 65), "items[0].key"),
    "key of 100 kB": feedback(one(key="k" * 100_000), "items[0].key"),
    "key a number": feedback(one(key=5), "items[0].key"),
    "key null": feedback(one(key=None), "items[0].key"),
    "no session_id": feedback(one(session_id=...), "items[0].session_id"),
    "session_id empty": feedback(one(session_id=""), "items[0].session_id"),
    "session_id climbs out": feedback(one(session_id="../../etc"), "items[0].session_id"),
    "session_id with NUL": feedback(one(session_id="a\x00b"), "items[0].session_id"),
    "session_id a number": feedback(one(session_id=7), "items[0].session_id"),
    "session_id null": feedback(one(session_id=None), "items[0].session_id"),
    "session_id of 100 kB": feedback(one(session_id="s" * 100_000), "items[0].session_id"),
    "no raw": feedback(one(raw=...), "items[0].raw"),
    "raw a list": feedback(raw([1]), "items[0].raw"),
    "raw a string": feedback(raw("winner"), "items[0].raw"),
    "raw null": feedback(raw(None), "items[0].raw"),
    "raw nested 10 deep": feedback(raw({"mode": "winner", "winner": nested(10)}), "items[0].raw"),
    "advance a word": feedback(one(advance="yes"), "items[0].advance"),
    "advance a number": feedback(one(advance=1), "items[0].advance"),
    "an unknown field": feedback(one(admin=True), "items[0].admin"),
}


def undo(body: Any, names: str, status: int = 400, content_type: str | None = JSON) -> Case:
    return Case("POST", "/api/undo", status, names, body, content_type)


UNDO = {
    "a list": undo([1], "body"),
    "null": undo(b"null", "body"),
    "empty body": undo(b"", "body: not JSON"),
    "truncated": undo(b'{"session_id": "', "body: not JSON"),
    "no session_id": undo({}, "session_id"),
    "session_id empty": undo({"session_id": ""}, "session_id"),
    "session_id a number": undo({"session_id": 5}, "session_id"),
    "session_id climbs out": undo({"session_id": "../x"}, "session_id"),
    "an unknown field": undo(lambda w: {"session_id": w.session_id, "all": True}, "all"),
    "sent as text/plain": undo(
        lambda w: {"session_id": w.session_id}, "Content-Type", 415, "text/plain"
    ),
    "over the cap": undo(b" " * (MAX_UNDO_BYTES + 1), "body: at most", 413),
}


def trace(body: Any, names: str, status: int = 400) -> Case:
    return Case("POST", "/api/trace", status, names, body)


def events(*listed: Any) -> Callable[[World], dict[str, Any]]:
    return lambda world: {"session_id": world.session_id, "events": list(listed)}


PAGE_VIEW = {"kind": "page_view", "page": "/"}
TRACE = {
    "a list": trace([1], "body"),
    "null": trace(b"null", "body"),
    "truncated": trace(b'{"session_id": "a", "events": [', "body: not JSON"),
    "no events": trace(lambda w: {"session_id": w.session_id}, "events"),
    "events empty": trace(events(), "events"),
    "events of strings": trace(events("x"), "events[0]"),
    "an unknown kind": trace(events({"kind": "shell", "command": "rm -rf /"}), "events[0].kind"),
    "a nested value": trace(events({**PAGE_VIEW, "page": ["/"]}), "events[0].page"),
    "page of 100 kB": trace(events({**PAGE_VIEW, "page": "/" + "x" * 60_000}), "events[0].page"),
    "too many events": trace(events(*[PAGE_VIEW] * 101), "events"),
    "session_id climbs out": trace(
        {"session_id": "../../etc", "events": [PAGE_VIEW]}, "session_id"
    ),
    "no such session": trace({"session_id": "nosuch", "events": [PAGE_VIEW]}, "nosuch", 404),
    "over the cap": trace(b" " * (MAX_TRACE_BYTES + 1), "body: at most", 413),
}


def get(path: str | Callable[[World], str], names: str, status: int = 404) -> Case:
    return Case("GET", path, status, names, content_type=None)


ROUTES = {
    "image with a NUL byte": get("/images/a%00.png", "image"),
    "image with a NUL byte in a folder": get("/images/s%00/c00.png", "image"),
    "image that climbs out": get("/images/../secret.png", "image"),
    "image that climbs out, encoded": get("/images/%2e%2e/secret.png", "image"),
    "image of the database": get("/images/../steering.sqlite3", "image"),
    "image at an absolute path": get("/images//etc/passwd", "image"),
    "image not a PNG": get("/images/notes.txt", "image"),
    "image name too long": get("/images/" + "a" * 5000 + ".png", "image"),
    "image not there": get("/images/s1/missing.png", "image"),
    "candidate id beyond int64": get(
        "/api/candidates/99999999999999999999999/image", "candidate_id"
    ),
    "candidate id 2**63": get(f"/api/candidates/{2**63}/image", "candidate_id"),
    "candidate id 0": get("/api/candidates/0/image", "candidate_id"),
    "candidate id not there": get("/api/candidates/999999/image", "candidate_id"),
    "candidate id negative": get("/api/candidates/-1/image", "/api/candidates/-1/image"),
    "candidate id a word": get("/api/candidates/abc/image", "/api/candidates/abc/image"),
    "an unknown API route": get("/api/nosuch", "/api/nosuch"),
    "feedback by GET": get("/api/feedback", "allowed: POST", 405),
    "undo by PUT": Case("PUT", "/api/undo", 405, "allowed: POST", b"{}"),
    "trace by DELETE": Case("DELETE", "/api/trace", 405, "allowed: POST", None, None),
    "an unknown API route by POST": Case("POST", "/api/nosuch", 404, "/api/nosuch", b"{}"),
}

CASES = {
    **{f"feedback: {name}": case for name, case in FEEDBACK.items()},
    **{f"undo: {name}": case for name, case in UNDO.items()},
    **{f"trace: {name}": case for name, case in TRACE.items()},
    **{f"route: {name}": case for name, case in ROUTES.items()},
}


def send(world: World, case: Case) -> Any:
    data = case.body(world) if callable(case.body) else case.body
    if not isinstance(data, bytes | str | None):
        data = json.dumps(data)
    path = case.path(world) if callable(case.path) else case.path
    headers = {} if case.content_type is None else {"Content-Type": case.content_type}
    return world.client.open(path, method=case.method, data=data, headers=headers)


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_a_malformed_request_is_refused_in_one_line_and_changes_nothing(
    world: World, case: Case
) -> None:
    before = snapshot(world.workspace.data_root, world.workspace.labels_dir)
    reply = send(world, case)
    assert reply.status_code == case.status, reply.get_data(as_text=True)[:500]
    answer = reply.get_json()
    assert answer["ok"] is False and answer["kind"] == "invalid input", answer
    message = answer["message"]
    assert "\n" not in message and len(message) <= MAX_MESSAGE, message[:500]
    assert case.names in message, message
    assert not answer.get("acked") and not answer.get("events"), answer  # nothing acknowledged
    assert snapshot(world.workspace.data_root, world.workspace.labels_dir) == before


def test_the_corpus_covers_every_route(world: World) -> None:
    # A route added later without cases here fails this test.
    rules = {
        rule.rule
        for rule in world.client.application.url_map.iter_rules()
        if rule.rule.startswith(("/api/", "/images/"))
    }
    covered = {case.path for case in CASES.values() if isinstance(case.path, str)}
    patterns = {
        "/api/candidates/<int:candidate_id>/image": "/api/candidates/",
        "/images/<path:relative>": "/images/",
    }
    for rule in rules:
        prefix = patterns.get(rule, rule)
        assert any(path.startswith(prefix) for path in covered), rule
    assert len(CASES) >= 60


def test_a_refused_batch_names_the_judgment_at_fault(world: World) -> None:
    # The page sets the named judgment aside and sends the others again.
    batch = {"items": [world.judgment(), world.judgment(key="k-bad", round_index="1")]}
    reply = world.client.post("/api/feedback", json=batch)
    assert reply.status_code == 400 and reply.get_json()["failed"] == "k-bad"


def test_a_burst_of_200_judgments_is_stored_exactly_once(world: World) -> None:
    # As the page sends them when a researcher holds a key down: one request each; then a
    # retry of them all (acknowledgements lost) in the page's batches of 100.
    judgments = [
        world.judgment(key=f"burst-{i}", raw={"mode": "winner", "winner": world.shown[i % 4]})
        for i in range(200)
    ]
    for judgment in judgments:
        reply = world.client.post("/api/feedback", json={"items": [judgment]})
        assert reply.status_code == 200 and reply.get_json()["acked"] == [judgment["key"]]
    for start in (0, 100):
        reply = world.client.post("/api/feedback", json={"items": judgments[start : start + 100]})
        assert reply.get_json()["acked"] == [j["key"] for j in judgments[start : start + 100]]
    stored = [e for e in get_feedback_events(world.workspace, world.session_id) if e.client_key]
    assert [e.client_key for e in stored] == [j["key"] for j in judgments]
    assert [e.raw["winner"] for e in stored] == [world.shown[i % 4] for i in range(200)]
