"""Replay export: deterministic and path-free, checked field by field on load, and restored
into any data root in one transaction (ids kept where free, renumbered where not)."""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from steering_core.config import make_config
from steering_core.errors import InvalidInput, NotFound
from steering_core.exports.replay import (
    REPLAY_SCHEMA_VERSION,
    build_replay,
    load_replay,
    replay_json,
    restore_session,
    write_replay,
)
from steering_core.exports.replay_schema import check_replay
from steering_core.feedback import parse_feedback
from steering_core.incumbent import choose_incumbent, fit_preference_model
from steering_core.judgments import session_judgments
from steering_core.sessions import (
    change_settings,
    create_session,
    fork_session,
    get_candidates,
    get_feedback_events,
    get_session,
    lineage,
    load_session_config,
    rename_session,
    submit_feedback,
    undo_last_feedback,
)
from steering_core.storage.workspace import Workspace
from steering_core.synthetic import AnchorUser
from steering_core.synthetic.simulate import store_target
from tests.steering_core.helpers import blank_round, stored_state


def varied_session(workspace: Workspace) -> str:
    """A session with a row of every kind: images, judgments in several modes (one with a
    client key), an undo, a critique, a settings change, a round around a kept candidate,
    an unjudged last round and a synthetic target."""
    config = make_config({"prompt": "a red circle", "k": 4, "d": 3, "seed": 5})
    session_id = create_session(workspace, config, source="synthetic").id
    store_target(workspace, session_id, AnchorUser(target=np.array([0.3, -0.2, 0.1])))

    def feedback(raw: dict[str, Any], **options: Any) -> None:
        submit_feedback(workspace, session_id, raw, source="synthetic", **options)

    _, c = blank_round(workspace, session_id)
    feedback({"mode": "winner", "winner": c[2].id}, client_key="judgment-1")
    _, c = blank_round(workspace, session_id)
    feedback({"mode": "rating", "ratings": {c[0].id: 2, c[1].id: 5, c[2].id: 3}, "confidence": 0.8})
    change_settings(workspace, session_id, {"preference_model": {"name": "ideal_point"}})
    _, c = blank_round(workspace, session_id)
    feedback({"mode": "approve_reject", "approved": [c[1].id], "rejected": [c[3].id]})
    undo_last_feedback(workspace, session_id, source="synthetic")
    feedback({"mode": "approve_reject", "approved": [c[2].id, c[1].id], "rejected": [c[0].id]})
    feedback({"mode": "critique", "candidate": c[3].id, "tags": ["lighting"], "text": "flat"})
    _, c = blank_round(workspace, session_id, around=[c[2].id])
    feedback({"mode": "pairwise", "first": c[0].id, "second": c[1].id, "choice": "second"})
    feedback({"mode": "cannot_decide", "between": [c[1].id, c[2].id]})
    _, c = blank_round(workspace, session_id)
    feedback({"mode": "reject_all", "reason": "too dark"})
    feedback({"mode": "ranking", "order": [c[3].id, c[1].id]})
    blank_round(workspace, session_id)
    return session_id


@pytest.fixture
def source(tmp_path: Path) -> Workspace:
    return Workspace.open(tmp_path / "source" / "data", tmp_path / "source" / "labels")


@pytest.fixture(scope="module")
def logged(tmp_path_factory: pytest.TempPathFactory) -> tuple[Workspace, dict[str, Any]]:
    """One varied session and its replay, shared by the tests that only read them."""
    folder = tmp_path_factory.mktemp("logged")
    workspace = Workspace.open(folder / "data", folder / "labels")
    return workspace, build_replay(workspace, varied_session(workspace))


@pytest.fixture
def target(tmp_path: Path) -> Workspace:
    return Workspace.open(tmp_path / "target" / "data", tmp_path / "target" / "labels")


def slot_of(workspace: Workspace, session_id: str) -> dict[int, tuple[int, int]]:
    """Candidate id -> (round, slot): how two copies of a session name the same candidate."""
    where: dict[int, tuple[int, int]] = {-1: (-1, -1)}  # elsewhere
    where.update({c.id: (c.round_index, c.slot) for c in get_candidates(workspace, session_id)})
    return where


def judgments_by_slot(workspace: Workspace, session_id: str) -> list[tuple]:
    """Every judgment with the candidates it names by (round, slot), and its comparisons."""
    where = slot_of(workspace, session_id)
    return [
        (
            event.round_index,
            event.mode,
            event.undone_at is not None,
            [where[c] for c in parse_feedback(event.raw).candidate_ids()]
            if event.mode != "undo"
            else None,
            [
                (where[c["winner"]], where[c["loser"]], c["weight"], c["tie"])
                for c in event.comparisons
            ],
        )
        for event in get_feedback_events(workspace, session_id)
    ]


def test_the_replay_holds_the_whole_session_and_no_absolute_path(source: Workspace) -> None:
    session_id = varied_session(source)
    replay = build_replay(source, session_id)
    assert replay["schema"] == "stable-steering/replay"
    assert replay["schema_version"] == REPLAY_SCHEMA_VERSION
    assert replay["session"]["id"] == session_id
    assert replay["session"]["config"]["preference_model"]["name"] == "ideal_point"
    assert [r["index"] for r in replay["rounds"]] == list(range(6))
    assert all(len(r["candidates"]) == 4 for r in replay["rounds"])
    assert replay["rounds"][3]["model_state"]["around"] is not None
    assert "convergence" in replay["rounds"][2]["model_state"]
    first = replay["rounds"][1]["candidates"][0]
    assert first["role"] == "incumbent" and len(first["steering_vector"]) == 3
    assert first["parent_candidate_id"] == replay["rounds"][0]["candidates"][2]["id"]
    modes = [e["mode"] for e in replay["feedback_events"]]
    assert modes.count("undo") == 1 and "critique" in modes and "reject_all" in modes
    assert replay["feedback_events"][0]["client_key"] == "judgment-1"
    assert len(replay["comparisons"]) == source.db.query_one("SELECT COUNT(*) FROM comparisons")[0]
    assert replay["setting_changes"][0]["from_round"] == 2
    assert replay["synthetic_target"]["targets"] == [[0.3, -0.2, 0.1]]
    assert replay["external_candidates"] == []
    for round_row in replay["rounds"]:
        for candidate in round_row["candidates"]:
            assert candidate["image_path"].startswith(f"images/{session_id}/")
            assert (source.data_root / candidate["image_path"]).is_file()
    text = replay_json(replay)
    assert str(source.data_root) not in text and str(source.labels_dir) not in text
    assert "export" not in json.dumps(sorted(replay))  # no export time: same data, same bytes
    assert replay_json(build_replay(source, session_id)) == text
    again = json.dumps(build_replay(source, session_id), sort_keys=True)
    assert again == json.dumps(replay, sort_keys=True)


def test_written_and_loaded_back_unchanged(source: Workspace, tmp_path: Path) -> None:
    replay = build_replay(source, varied_session(source))
    path = write_replay(replay, tmp_path / "out" / "replay.json")
    assert load_replay(path) == replay
    assert path.read_text(encoding="utf-8") == replay_json(replay)


def session_rows(workspace: Workspace, session_id: str) -> dict[str, list[tuple]]:
    """The session's stored rows, exactly as stored (JSON columns as text)."""
    rows = {}
    for table in ("rounds", "candidates", "feedback_events", "comparisons", "setting_changes"):
        rows[table] = [
            tuple(row)
            for row in workspace.db.query(
                f"SELECT * FROM {table} WHERE session_id = ? ORDER BY id", (session_id,)
            )
        ]
    for table, column in (("sessions", "id"), ("synthetic_targets", "session_id")):
        rows[table] = [
            tuple(row)
            for row in workspace.db.query(
                f"SELECT * FROM {table} WHERE {column} = ?", (session_id,)
            )
        ]
    return rows


def test_restored_from_its_file_into_an_empty_data_root_it_is_stored_byte_for_byte(
    source: Workspace, target: Workspace, tmp_path: Path
) -> None:
    session_id = varied_session(source)
    replay = build_replay(source, session_id)
    path = write_replay(replay, tmp_path / "replay.json")

    restored = restore_session(target, load_replay(path), images_from=source.data_root)

    assert restored == session_id
    assert session_rows(target, session_id) == session_rows(source, session_id)
    assert build_replay(target, session_id) == replay
    again = write_replay(build_replay(target, session_id), tmp_path / "again.json")
    assert again.read_bytes() == path.read_bytes()
    # The label CSV is rebuilt row for row, and every image is there, byte for byte.
    assert (
        target.labels.path(session_id).read_bytes() == source.labels.path(session_id).read_bytes()
    )
    for candidate in get_candidates(source, session_id):
        copied = target.data_root / candidate.image_path
        assert copied.read_bytes() == (source.data_root / candidate.image_path).read_bytes()


def test_restored_beside_itself_gets_a_new_id_and_renumbered_rows(source: Workspace) -> None:
    session_id = varied_session(source)
    replay = build_replay(source, session_id)
    before = stored_state(source)

    copy_id = restore_session(source, replay, images_from=source.data_root)

    assert copy_id == f"{session_id}-2"
    after = stored_state(source)
    for table, rows in before.items():  # nothing that was there changed
        if table == "files":
            assert before["files"].items() <= after["files"].items()
        else:
            assert set(rows) <= set(after[table]), table
    copied = build_replay(source, copy_id)
    check_replay(copied, REPLAY_SCHEMA_VERSION)  # every link points inside the copy
    old_ids = {c.id for c in get_candidates(source, session_id)}
    assert old_ids.isdisjoint(c.id for c in get_candidates(source, copy_id))
    assert {e["id"] for e in copied["feedback_events"]}.isdisjoint(
        e["id"] for e in replay["feedback_events"]
    )
    # The same judgments of the same candidates, by (round, slot), with the same effect.
    assert judgments_by_slot(source, copy_id) == judgments_by_slot(source, session_id)
    original, twin = session_judgments(source, session_id), session_judgments(source, copy_id)
    np.testing.assert_array_equal(original.X, twin.X)
    np.testing.assert_array_equal(original.comparisons, twin.comparisons)
    np.testing.assert_array_equal(original.weights, twin.weights)
    undo = next(e for e in copied["feedback_events"] if e["mode"] == "undo")
    undone = next(e for e in copied["feedback_events"] if e["id"] == undo["undoes_event_id"])
    assert undone["undone_at"] is not None and undo["raw"]["undoes_event_id"] == undone["id"]
    # Lineage, the round built around a candidate, and the images follow the new ids.
    where = slot_of(source, copy_id)
    last = get_candidates(source, copy_id)[-1]
    assert [where[c.id] for c in lineage(source, last.id)] == [
        slot_of(source, session_id)[c.id]
        for c in lineage(source, get_candidates(source, session_id)[-1].id)
    ]
    around = copied["rounds"][3]["model_state"]["around"]
    assert [where[c] for c in around] == [(2, 2)]
    assert copied["rounds"][3]["candidates"][1]["sampler_metadata"]["around"] == around[0]
    for candidate in get_candidates(source, copy_id):
        assert candidate.image_path.startswith(f"images/{copy_id}/")
        assert (source.data_root / candidate.image_path).is_file()
    rows = source.labels.read(copy_id)
    assert [r["event_id"] for r in rows] == [e["id"] for e in copied["feedback_events"]]
    assert all(r["session_id"] == copy_id for r in rows)


def delete_session(workspace: Workspace, session_id: str) -> None:
    with workspace.db.transaction() as connection:
        for table in ("comparisons", "feedback_events", "candidates", "rounds", "sessions"):
            column = "id" if table == "sessions" else "session_id"
            connection.execute(f"DELETE FROM {table} WHERE {column} = ?", (session_id,))


def test_ids_free_in_the_target_are_kept_and_taken_ones_renumbered(
    source: Workspace, target: Workspace
) -> None:
    session_id = varied_session(source)  # candidates 1-24, rounds 1-6
    replay = build_replay(source, session_id)
    # The target holds candidates 9-12 and round 3 only (an earlier session was deleted).
    config = make_config({"prompt": "a blue square", "k": 4, "d": 3})
    gone = create_session(target, config).id
    blank_round(target, gone)
    blank_round(target, gone)
    other = create_session(target, config)
    _, taken = blank_round(target, other.id)
    submit_feedback(target, other.id, {"mode": "winner", "winner": taken[1].id})
    delete_session(target, gone)
    assert [c.id for c in taken] == [9, 10, 11, 12]
    before = stored_state(target)

    assert restore_session(target, replay, images_from=source.data_root) == session_id

    # Kept up to the first id taken; from there on renumbered, in order, above all in use.
    restored = [c.id for c in get_candidates(target, session_id)]
    assert restored == [*range(1, 9), *range(25, 41)]
    rounds = [r["id"] for r in build_replay(target, session_id)["rounds"]]
    assert rounds == [1, 2, 7, 8, 9, 10]
    events = [e.id for e in get_feedback_events(target, session_id)]
    assert events == sorted(events) and len(events) == len(replay["feedback_events"])
    check_replay(build_replay(target, session_id), REPLAY_SCHEMA_VERSION)
    assert judgments_by_slot(target, session_id) == judgments_by_slot(source, session_id)
    after = stored_state(target)
    for table, rows in before.items():
        if table != "files":
            assert set(rows) <= set(after[table]), table
    # The fitted model and the incumbent the next round would show are the same.
    config = load_session_config(get_session(target, session_id))
    chosen = [
        slot_of(workspace, session_id)[
            choose_incumbent(
                workspace, session_id, fit_preference_model(workspace, session_id, config)[0]
            ).id
        ]
        for workspace in (source, target)
    ]
    assert chosen[0] == chosen[1]


def test_a_restored_session_goes_on(source: Workspace, target: Workspace) -> None:
    session_id = varied_session(source)
    replay = build_replay(source, session_id)
    for workspace in (target, source):  # same id in an empty root; a copy beside itself
        restored = restore_session(workspace, replay, images_from=source.data_root)
        record, candidates = blank_round(workspace, restored)
        assert record.round_index == 6 and candidates[0].role == "incumbent"
        event = submit_feedback(workspace, restored, {"mode": "winner", "winner": candidates[1].id})
        assert workspace.labels.read(restored)[-1]["event_id"] == event.id
        _, following = blank_round(workspace, restored)
        assert following[0].parent_candidate_id == candidates[1].id


def test_a_missing_image_stops_the_restore_before_anything_is_written(
    source: Workspace, target: Workspace, tmp_path: Path
) -> None:
    session_id = varied_session(source)
    replay = build_replay(source, session_id)
    bundle = tmp_path / "unpacked"
    shutil.copytree(source.data_root / "images", bundle / "images")
    missing = replay["rounds"][3]["candidates"][2]["image_path"]
    (bundle / missing).unlink()
    varied_session(target)
    before = stored_state(target)
    with pytest.raises(NotFound, match=f"image {missing} is missing"):
        restore_session(target, replay, images_from=bundle)
    assert stored_state(target) == before


def test_a_failure_halfway_leaves_the_data_root_as_it_was(
    source: Workspace, target: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    session_id = varied_session(source)
    replay = build_replay(source, session_id)
    varied_session(target)
    (target.labels.path(session_id)).write_text("a stale file\n", encoding="utf-8")
    before = stored_state(target)
    folders = sorted(p for p in (target.data_root / "images").rglob("*") if p.is_dir())

    # Rows inserted, images copied, label CSV half written: then the disk fills up.
    real_append, calls = type(target.labels).append, []

    def append(labels: Any, row: dict[str, Any]) -> None:
        calls.append(row)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        real_append(labels, row)

    monkeypatch.setattr(type(target.labels), "append", append)
    with pytest.raises(OSError, match="No space left"):
        restore_session(target, replay, images_from=source.data_root, session_id=session_id)
    assert stored_state(target) == before
    assert sorted(p for p in (target.data_root / "images").rglob("*") if p.is_dir()) == folders


def test_a_different_image_already_in_place_is_refused(
    source: Workspace, target: Workspace
) -> None:
    session_id = varied_session(source)
    replay = build_replay(source, session_id)
    last = replay["rounds"][-1]["candidates"][-1]["image_path"]  # copied last
    (target.data_root / last).parent.mkdir(parents=True)
    (target.data_root / last).write_bytes(b"not the same image")
    before = stored_state(target)
    with pytest.raises(InvalidInput, match="a different file is already there"):
        restore_session(target, replay, images_from=source.data_root, session_id=session_id)
    assert stored_state(target) == before


def test_a_session_id_that_is_taken_or_unsafe_is_refused(source: Workspace) -> None:
    session_id = varied_session(source)
    replay = build_replay(source, session_id)
    before = stored_state(source)
    with pytest.raises(
        InvalidInput, match=f"session_id: this data root already has a session {session_id}"
    ):
        restore_session(source, replay, images_from=source.data_root, session_id=session_id)
    with pytest.raises(InvalidInput, match="session_id: 1-64 letters"):
        restore_session(source, replay, images_from=source.data_root, session_id="../escape")
    assert stored_state(source) == before


def test_a_fork_keeps_its_origin_only_where_the_origin_is(
    source: Workspace, target: Workspace
) -> None:
    parent_id = varied_session(source)
    origin = get_candidates(source, parent_id)[9]
    fork = fork_session(source, origin.id)
    _, first = blank_round(source, fork.id)
    submit_feedback(source, fork.id, {"mode": "winner", "winner": first[3].id})
    blank_round(source, fork.id)
    replay = build_replay(source, fork.id)
    assert replay["session"]["forked_from_candidate_id"] == origin.id
    assert replay["external_candidates"] == [
        {"id": origin.id, "session_id": parent_id, "round_index": 2, "slot": 1}
    ]
    shown = replay["rounds"][0]["candidates"][0]
    assert shown["parent_candidate_id"] == origin.id and shown["image_path"] == origin.image_path

    # Beside its origin: the link is kept; the origin's image is copied into the restored
    # session's own folder (a restore never writes into another session's folder).
    beside = restore_session(source, replay, images_from=source.data_root)
    assert get_session(source, beside).forked_from_candidate_id == origin.id
    assert [c.id for c in lineage(source, get_candidates(source, beside)[0].id)] == [
        get_candidates(source, beside)[0].id,
        *[c.id for c in lineage(source, origin.id)],
    ]
    # Without its origin: the session and its image come along, the link to nothing does not.
    assert restore_session(target, replay, images_from=source.data_root) == fork.id
    assert get_session(target, fork.id).forked_from_candidate_id is None
    restored_first = get_candidates(target, fork.id)[0]
    assert restored_first.parent_candidate_id is None
    assert restored_first.image_path == f"images/{fork.id}/from-" + origin.image_path[7:]
    assert (target.data_root / restored_first.image_path).is_file()
    assert not (target.data_root / origin.image_path).exists()
    blank_round(target, fork.id)


def mutate(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """Set (or delete, for `...`) the field at a dotted path with [i] indexes."""

    def apply(replay: dict[str, Any]) -> None:
        keys: list[Any] = []
        for part in path.split("."):
            name, _, rest = part.partition("[")
            keys.append(name)
            keys.extend(int(i) for i in rest.rstrip("]").split("][") if i) if rest else None
        holder = replay
        for key in keys[:-1]:
            holder = holder[key]
        if value is ...:
            del holder[keys[-1]]
        else:
            holder[keys[-1]] = value

    return apply


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("schema", "something/else", r"replay\.schema: expected 'stable-steering/replay'"),
        ("schema_version", 99, r"replay\.schema_version: .*reads version 1 \(got 99\)"),
        ("schema_version", ..., r"replay\.schema_version: .*\(got None\)"),
        ("session.prompt", ..., r"replay\.session\.prompt: missing"),
        ("session.id", "../../etc", r"replay\.session\.id: 1-64 letters"),
        ("session.name", "two\nlines", r"replay\.session\.name: one line of text"),
        ("session.name", "n" * 81, r"replay\.session\.name: at most 80 characters"),
        ("session.name", 7, r"replay\.session\.name: must be text"),
        (
            "rounds[3].candidates[2].seed",
            "7",
            r"replay\.rounds\[3\]\.candidates\[2\]\.seed: expected an integer",
        ),
        (
            "rounds[1].candidates[0].steering_vector",
            [0.1, "x", 0.2],
            r"steering_vector: expected a list of finite numbers",
        ),
        (
            "rounds[1].candidates[1].image_path",
            "../../escape.png",
            r"replay\.rounds\[1\]\.candidates\[1\]\.image_path: expected a relative images/",
        ),
        (
            "rounds[1].candidates[1].image_path",
            "/etc/passwd",
            r"image_path: expected a relative",
        ),
        (
            "rounds[2].candidates[1].parent_candidate_id",
            999999,
            r"parent_candidate_id: candidate 999999 is not listed",
        ),
        (
            "rounds[0].candidates[1].slot",
            0,
            r"replay\.rounds\[0\]\.candidates: slot 0 appears twice",
        ),
        ("feedback_events", {}, r"replay\.feedback_events: expected a list"),
        (
            "rounds[0].candidates[0].id",
            2**62,
            r"candidates\[0\]\.id: expected an integer from 0 to",
        ),
        (
            "feedback_events[0].raw.winner",
            999999,
            r"replay\.feedback_events\[0\]\.raw: candidate 999999 is not in its round",
        ),
        (
            "feedback_events[0].raw.mode",
            "telepathy",
            r"replay\.feedback_events\[0\]\.raw: mode: must be one of",
        ),
        (
            "feedback_events[1].confidence",
            float("nan"),
            r"confidence: expected a finite number",
        ),
        (
            "comparisons[0].event_id",
            999999,
            r"replay\.comparisons\[0\]\.event_id: no event 999999",
        ),
        (
            "comparisons[0].is_tie",
            0,
            r"replay\.comparisons\[0\]\.is_tie: expected true or false",
        ),
        (
            "synthetic_target.targets",
            [[1.0, 2.0]],
            r"replay\.synthetic_target\.targets\[0\]",
        ),
    ],
)
def test_a_bad_replay_is_refused_naming_the_field(
    logged: tuple[Workspace, dict[str, Any]],
    target: Workspace,
    tmp_path: Path,
    field: str,
    value: Any,
    message: str,
) -> None:
    source, replay = logged
    replay = copy.deepcopy(replay)
    mutate(field, value)(replay)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(replay), encoding="utf-8")
    with pytest.raises(InvalidInput, match=message):
        load_replay(path)
    before = stored_state(target)
    with pytest.raises(InvalidInput, match=message):  # a dict handed over directly, too
        restore_session(target, replay, images_from=source.data_root)
    assert stored_state(target) == before


def test_a_file_that_is_no_replay_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match=r"replay file .*nothing\.json does not exist"):
        load_replay(tmp_path / "nothing.json")
    (tmp_path / "text.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"is not JSON \(line 1"):
        load_replay(tmp_path / "text.json")
    (tmp_path / "binary.json").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(InvalidInput, match="is not UTF-8 text"):
        load_replay(tmp_path / "binary.json")
    (tmp_path / "list.json").write_text("[]", encoding="utf-8")
    with pytest.raises(InvalidInput, match="replay: expected a JSON object"):
        load_replay(tmp_path / "list.json")


def test_a_named_session_keeps_its_name_and_an_older_replay_restores_unnamed(
    source: Workspace, target: Workspace
) -> None:
    session_id = varied_session(source)
    rename_session(source, session_id, "warm cats")
    replay = build_replay(source, session_id)
    assert replay["session"]["name"] == "warm cats"
    assert get_session(
        target, restore_session(target, replay, images_from=source.data_root)
    ).name == ("warm cats")
    older = copy.deepcopy(replay)
    del older["session"]["name"]  # a replay written before sessions had names
    restored = restore_session(target, older, images_from=source.data_root)
    assert restored != session_id and get_session(target, restored).name == ""
