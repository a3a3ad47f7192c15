"""Replay export: a whole session as one versioned JSON (config, rounds, candidates with
vectors and seeds, lineage, raw and normalized feedback, model state per round), built
deterministically from the database, and restored from it into any data root.

The JSON holds no export time and no absolute path: images are named by their path relative
to the data root (`images/...`), so the same stored data always gives the same bytes.
"""

from __future__ import annotations

import contextlib
import filecmp
import json
import shutil
import sqlite3
from collections.abc import Collection
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np

from steering_core.errors import InvalidInput, NotFound
from steering_core.exports.replay_schema import (
    SCHEMA_NAME,
    SESSION_ID_PATTERN,
    check_replay,
    check_replay_content,
)
from steering_core.feedback import mode_of
from steering_core.input_limits import load_json
from steering_core.storage import judgment_store, round_store, session_store
from steering_core.storage.database import defer_foreign_keys, highest_id, ids_in_use
from steering_core.storage.files import write_atomically
from steering_core.storage.records import (
    CandidateRecord,
    ComparisonRecord,
    FeedbackEventRecord,
    RoundRecord,
    SessionRecord,
    SettingChangeRecord,
    SyntheticTargetRecord,
)
from steering_core.storage.workspace import Workspace
from steering_core.trace import trace_path

REPLAY_SCHEMA_VERSION = 1


def app_version() -> str:
    """The installed package's version (the source tree's when it is not installed)."""
    try:
        return version("stable-steering")
    except PackageNotFoundError:
        from steering_core import __version__

        return __version__


# --- building ---------------------------------------------------------------------------
def _candidate(candidate: CandidateRecord) -> dict[str, Any]:
    return {
        "id": candidate.id,
        "slot": candidate.slot,
        "steering_vector": candidate.steering_vector.tolist(),
        "seed": candidate.seed,
        "role": candidate.role,
        "parent_candidate_id": candidate.parent_candidate_id,
        "sampler_metadata": candidate.sampler_metadata,
        "image_path": candidate.image_path,
        "created_at": candidate.created_at,
    }


def build_replay(workspace: Workspace, session_id: str) -> dict[str, Any]:
    """The session as a replay dict (`"latest"` names the most recent session).

    Deterministic: the same stored data gives the same `json.dumps(..., sort_keys=True)`.
    Candidates outside the session that it links to (the candidate a fork started from, the
    parent of a fork's first incumbent) are listed in `external_candidates`."""
    from steering_core.sessions import get_session

    session_id = get_session(workspace, session_id).id
    # One read transaction, so that a round stored meanwhile by another process is either
    # wholly in the replay or wholly out of it.
    with workspace.db.read_snapshot() as connection:
        session = session_store.session(connection, session_id)
        if session is None:  # deleted between the two reads
            raise NotFound(f"no session {session_id!r} in this data root")
        rounds = [
            {
                "id": record.id,
                "index": record.round_index,
                "created_at": record.created_at,
                "incumbent_candidate_id": record.incumbent_candidate_id,
                "model_state": record.model_state,
                "timings": record.timings,
                "candidates": [
                    _candidate(c)
                    for c in round_store.candidates_of_round(connection, record.id)  # type: ignore[arg-type]
                ],
            }
            for record in round_store.rounds(connection, session_id)
        ]
        events = [
            {
                "id": event.id,
                "round_index": event.round_index,
                "mode": event.mode,
                "raw": event.raw,
                "comparisons": event.comparisons,
                "confidence": event.confidence,
                "source": event.source,
                "created_at": event.created_at,
                "client_key": event.client_key,
                "undone_at": event.undone_at,
                "undoes_event_id": event.undoes_event_id,
            }
            for event in judgment_store.feedback_events(connection, session_id)
        ]
        comparisons = [
            {
                "id": c.id,
                "event_id": c.event_id,
                "winner_candidate_id": c.winner_candidate_id,
                "loser_candidate_id": c.loser_candidate_id,
                "weight": c.weight,
                "is_tie": c.is_tie,
            }
            for c in judgment_store.comparisons(connection, session_id)
        ]
        changes = [
            {
                "id": change.id,
                "from_round": change.from_round,
                "changes": change.changes,
                "created_at": change.created_at,
            }
            for change in session_store.setting_changes(connection, session_id)
        ]
        target = session_store.synthetic_target(connection, session_id)
        own = {c["id"] for r in rounds for c in r["candidates"]}
        linked = {c["parent_candidate_id"] for r in rounds for c in r["candidates"]}
        linked.add(session.forked_from_candidate_id)
        external = round_store.candidate_places(connection, sorted(linked - own - {None}))
    return {
        "schema": SCHEMA_NAME,
        "schema_version": REPLAY_SCHEMA_VERSION,
        "app_version": app_version(),
        "session": {
            "id": session.id,
            "created_at": session.created_at,
            "name": session.name,
            "prompt": session.prompt,
            "source": session.source,
            "forked_from_candidate_id": session.forked_from_candidate_id,
            "config": session.config,
        },
        "rounds": rounds,
        "feedback_events": events,
        "comparisons": comparisons,
        "setting_changes": changes,
        "synthetic_target": None
        if target is None
        else {"targets": target.targets, "user": target.user},
        "external_candidates": external,
    }


def replay_json(replay: dict[str, Any]) -> str:
    """The replay as text. Keys keep their order (the replay's own fields in the order built,
    stored payloads such as the config in the order stored), so a session restored from the
    file stores the same JSON text, byte for byte, and exports the same file again."""
    return json.dumps(replay, ensure_ascii=False, indent=1) + "\n"


def write_replay(replay: dict[str, Any], path: Path) -> Path:
    """Write the replay JSON atomically (temporary file, fsync, rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, lambda handle: handle.write(replay_json(replay).encode("utf-8")))
    return path


def load_replay(path: Path) -> dict[str, Any]:
    """Read and check a replay JSON; InvalidInput names the file or the first bad field."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidInput(f"replay file {path} does not exist") from None
    except UnicodeDecodeError:
        raise InvalidInput(f"replay file {path} is not UTF-8 text") from None
    except OSError as error:
        raise InvalidInput(f"replay file {path} cannot be read ({error.strerror})") from None
    replay = load_json(text, f"replay file {path}")  # refuses deep nesting too
    check_replay(replay, REPLAY_SCHEMA_VERSION)
    return replay


# --- restoring --------------------------------------------------------------------------
@dataclass(frozen=True)
class _Remap:
    """Where each row of the replay goes in the target database."""

    session_id: str
    old_session_id: str
    rounds: dict[int, int]
    candidates: dict[int, int]
    events: dict[int, int]
    comparisons: dict[int, int]
    setting_changes: dict[int, int]
    linked: frozenset[int]  # candidates outside the session that the target holds
    # False for a scratch copy with ids as recorded (no images are copied there).
    moves_images: bool = True

    @classmethod
    def unchanged(cls, replay: dict[str, Any]) -> _Remap:
        def same(rows: list[dict[str, Any]]) -> dict[int, int]:
            return {row["id"]: row["id"] for row in rows}

        return cls(
            session_id=replay["session"]["id"],
            old_session_id=replay["session"]["id"],
            rounds=same(replay["rounds"]),
            candidates=same([c for r in replay["rounds"] for c in r["candidates"]]),
            events=same(replay["feedback_events"]),
            comparisons=same(replay["comparisons"]),
            setting_changes=same(replay["setting_changes"]),
            linked=frozenset(row["id"] for row in replay["external_candidates"]),
            moves_images=False,
        )

    def link(self, candidate_id: int | None) -> int | None:
        """A candidate reference of a column: this session's are moved; one outside it is
        kept only when the target holds that candidate (else it would point at nothing)."""
        if candidate_id is None or candidate_id in self.candidates:
            return self.candidates.get(candidate_id)  # type: ignore[arg-type]
        return candidate_id if candidate_id in self.linked else None

    def named(self, candidate_id: Any) -> Any:
        """A candidate id inside a JSON payload (raw judgment, metadata): moved when it is
        one of this session's, else left as it was recorded."""
        return self.candidates.get(candidate_id, candidate_id)

    def image_path(self, path: str | None) -> str | None:
        """Every image lands in the session's own folder: its own follow a new session id;
        a fork's first incumbent, which shows an image of the session it came from, gets a
        copy under `from-<that session>/` (never written into another session's folder)."""
        prefix = f"images/{self.old_session_id}/"
        if path is None or not self.moves_images:
            return path
        if path.startswith(prefix):
            return f"images/{self.session_id}/" + path[len(prefix) :]
        return f"images/{self.session_id}/from-" + path.removeprefix("images/")


def _remap_raw(raw: dict[str, Any], remap: _Remap) -> dict[str, Any]:
    raw = dict(raw)
    if raw.get("mode") == "undo":
        raw["undoes_event_id"] = remap.events[raw["undoes_event_id"]]
        return raw
    # Each mode knows which of its fields name candidates (steering_core.feedback).
    return mode_of(raw["mode"]).remap_raw(raw, remap.named)


def _remap_model_state(state: dict[str, Any], remap: _Remap) -> dict[str, Any]:
    state = dict(state)
    if state.get("incumbent_candidate_id") is not None:
        state["incumbent_candidate_id"] = remap.named(state["incumbent_candidate_id"])
    if isinstance(state.get("around"), list):
        state["around"] = [remap.named(c) for c in state["around"]]
    # The last event a round's plan saw is an event of this session: it moves with them.
    through = state.get(round_store.PLANNED_THROUGH)
    if isinstance(through, int) and through in remap.events:
        state[round_store.PLANNED_THROUGH] = remap.events[through]
    return state


def _remap_metadata(metadata: dict[str, Any], remap: _Remap) -> dict[str, Any]:
    metadata = dict(metadata)
    for key in ("around", "repeat_of"):  # ids the samplers and rounds record
        if isinstance(metadata.get(key), int):
            metadata[key] = remap.named(metadata[key])
    return metadata


def _insert(connection: sqlite3.Connection, replay: dict[str, Any], remap: _Remap) -> None:
    session, sid = replay["session"], remap.session_id
    session_store.insert_session(
        connection,
        SessionRecord(
            id=sid,
            created_at=session["created_at"],
            prompt=session["prompt"],
            config=session["config"],
            forked_from_candidate_id=remap.link(session["forked_from_candidate_id"]),
            source=session["source"],
            name=session.get("name", ""),  # a replay from before names has none
        ),
    )
    for round_row in replay["rounds"]:
        round_id = round_store.insert_round(
            connection,
            RoundRecord(
                id=remap.rounds[round_row["id"]],
                session_id=sid,
                round_index=round_row["index"],
                created_at=round_row["created_at"],
                incumbent_candidate_id=remap.link(round_row["incumbent_candidate_id"]),
                model_state=_remap_model_state(round_row["model_state"], remap),
                timings=round_row["timings"],
            ),
        )
        for candidate in round_row["candidates"]:
            round_store.insert_candidate(
                connection,
                CandidateRecord(
                    id=remap.candidates[candidate["id"]],
                    session_id=sid,
                    round_index=round_row["index"],
                    slot=candidate["slot"],
                    steering_vector=np.asarray(candidate["steering_vector"], dtype=np.float64),
                    seed=candidate["seed"],
                    role=candidate["role"],
                    parent_candidate_id=remap.link(candidate["parent_candidate_id"]),
                    sampler_metadata=_remap_metadata(candidate["sampler_metadata"], remap),
                    image_path=remap.image_path(candidate["image_path"]),
                    created_at=candidate["created_at"],
                ),
                round_id,
            )
    for event in replay["feedback_events"]:
        undoes = event["undoes_event_id"]
        judgment_store.insert_feedback_event(
            connection,
            FeedbackEventRecord(
                id=remap.events[event["id"]],
                session_id=sid,
                round_index=event["round_index"],
                mode=event["mode"],
                raw=_remap_raw(event["raw"], remap),
                comparisons=[  # in the order `NormalizedFeedback.to_json` writes them
                    {
                        "winner": remap.named(c["winner"]),
                        "loser": remap.named(c["loser"]),
                        "weight": c["weight"],
                        "tie": c["tie"],
                    }
                    for c in event["comparisons"]
                ],
                confidence=event["confidence"],
                source=event["source"],
                created_at=event["created_at"],
                undone_at=event["undone_at"],
                undoes_event_id=None if undoes is None else remap.events[undoes],
                client_key=event["client_key"],
            ),
        )
    judgment_store.insert_comparisons(
        connection,
        [
            ComparisonRecord(
                id=remap.comparisons[row["id"]],
                event_id=remap.events[row["event_id"]],
                session_id=sid,
                winner_candidate_id=remap.named(row["winner_candidate_id"]),
                loser_candidate_id=remap.candidates[row["loser_candidate_id"]],
                weight=row["weight"],
                is_tie=bool(row["is_tie"]),
            )
            for row in replay["comparisons"]
        ],
    )
    for row in replay["setting_changes"]:
        session_store.insert_setting_change(
            connection,
            SettingChangeRecord(
                id=remap.setting_changes[row["id"]],
                session_id=sid,
                from_round=row["from_round"],
                changes=row["changes"],
                created_at=row["created_at"],
            ),
        )
    target = replay["synthetic_target"]
    if target is not None:
        session_store.insert_synthetic_target(
            connection,
            SyntheticTargetRecord(session_id=sid, targets=target["targets"], user=target["user"]),
        )


def insert_unchanged(connection: sqlite3.Connection, replay: dict[str, Any]) -> None:
    """Insert a checked replay's rows with their ids as recorded, no images and no labels
    (for a scratch database, e.g. the counterfactual replay's). Call inside a transaction."""
    _insert(connection, replay, _Remap.unchanged(replay))


def _id_map(connection: sqlite3.Connection, table: str, ids: list[int]) -> dict[int, int]:
    """Old id -> id in the target `table`: kept while free; from the first one taken on,
    renumbered above every id in use. Renumbering keeps the order, which matters: the latest
    judgment, the label CSV and the fit's order of comparisons all go by id."""
    taken = ids_in_use(connection, table, ids)
    ordered = sorted(ids)
    first_taken = next((old for old in ordered if old in taken), None)
    if first_taken is None:
        return {old: old for old in ordered}
    next_id = max(highest_id(connection, table), ordered[-1]) + 1
    mapping = {}
    for old in ordered:
        if old < first_taken:
            mapping[old] = old
        else:
            mapping[old], next_id = next_id, next_id + 1
    return mapping


def _plan_remap(connection: sqlite3.Connection, replay: dict[str, Any], session_id: str) -> _Remap:
    # A linked candidate is the same one only where the target holds it at the same place.
    wanted = [
        (row["id"], row["session_id"], row["round_index"], row["slot"])
        for row in replay["external_candidates"]
    ]
    held = {
        (row["id"], row["session_id"], row["round_index"], row["slot"])
        for row in round_store.candidate_places(connection, [place[0] for place in wanted])
    }
    linked = frozenset(place[0] for place in wanted if place in held)
    return _Remap(
        session_id=session_id,
        old_session_id=replay["session"]["id"],
        rounds=_id_map(connection, "rounds", [r["id"] for r in replay["rounds"]]),
        candidates=_id_map(
            connection, "candidates", [c["id"] for r in replay["rounds"] for c in r["candidates"]]
        ),
        events=_id_map(connection, "feedback_events", [e["id"] for e in replay["feedback_events"]]),
        comparisons=_id_map(connection, "comparisons", [c["id"] for c in replay["comparisons"]]),
        setting_changes=_id_map(
            connection, "setting_changes", [c["id"] for c in replay["setting_changes"]]
        ),
        linked=linked,
    )


def _session_exists(workspace: Workspace, session_id: str) -> bool:
    return session_store.session_exists(workspace.db.connection(), session_id)


def _id_in_use(workspace: Workspace, session_id: str) -> bool:
    """A session of that id, or files a removed one left (images, label CSV, trace)."""
    return (
        _session_exists(workspace, session_id)
        or (workspace.data_root / "images" / session_id).exists()
        or workspace.labels.path(session_id).exists()
        or trace_path(workspace, session_id).exists()
    )


def free_session_id(workspace: Workspace, wanted: str) -> str:
    """`wanted` when the data root has no session of that id (nor files of a removed one),
    else `wanted-2`, `wanted-3`, ..."""
    candidate, number = wanted, 1
    while _id_in_use(workspace, candidate):
        number += 1
        candidate = f"{wanted[: 64 - len(str(number)) - 1]}-{number}"
    return candidate


def _image_sources(
    replay: dict[str, Any], images_from: Path, removed_images: Collection[str] = ()
) -> dict[str, Path]:
    """Each image path of the replay and the file it is copied from, checked to exist
    (except `removed_images`, which may be absent)."""
    root = Path(images_from).resolve()
    paths = sorted({c["image_path"] for r in replay["rounds"] for c in r["candidates"]} - {None})
    sources = {}
    for path in paths:
        source = (root / path).resolve()
        if not source.is_relative_to(root):
            raise InvalidInput(f"image {path}: leads outside {images_from}")
        if not source.is_file() and path in removed_images:
            continue  # removed by `steer gc --images`; a new round renders it again
        if not source.is_file():
            raise NotFound(f"image {path} is missing from {images_from}")
        sources[path] = source
    return sources


def _copy_image(source: Path, destination: Path, created: list[Path]) -> None:
    """Copy one image durably; records every file and folder it creates in `created`."""
    if destination.exists():
        if destination.is_file() and filecmp.cmp(source, destination, shallow=False):
            return  # already there (a fork's image of a session this root holds)
        raise InvalidInput(f"image {destination}: a different file is already there")
    missing = [folder for folder in destination.parents if not folder.exists()]
    for folder in reversed(missing):  # outermost first
        folder.mkdir()
        created.append(folder)
    with open(source, "rb") as original:
        write_atomically(destination, lambda handle: shutil.copyfileobj(original, handle))
    created.append(destination)


def _remove_created(created: list[Path]) -> None:
    """Remove what a failed restore created, newest first (files, then their folders)."""
    for path in reversed(created):
        with contextlib.suppress(OSError):  # a folder someone wrote into meanwhile stays
            if path.is_dir():
                path.rmdir()
            else:
                path.unlink(missing_ok=True)


def _write_labels(workspace: Workspace, session_id: str, rows: list[dict[str, Any]]) -> None:
    path = workspace.labels.path(session_id)
    path.unlink(missing_ok=True)
    for row in rows:
        workspace.labels.append(row)


def restore_session(
    workspace: Workspace,
    replay: dict[str, Any],
    images_from: Path,
    session_id: str | None = None,
    removed_images: Collection[str] = (),
) -> str:
    """Insert a replay's session into the workspace and return its session id.

    `session_id` (if given) must be free; otherwise the replay's id is used, or `<id>-2`,
    `<id>-3`, ... when a session of the data root already has it. Row ids are kept where
    they are free in the target database and renumbered in order where not (`_id_map`);
    references, including ids inside raw judgments, follow. Images are copied from
    `images_from / image_path` (into the new session's folder when the id changed), except
    `removed_images` that are not there (removed by `steer gc --images`: the paths are kept
    and a new round renders them again); the label CSV is rewritten. Everything happens in
    one transaction: on any error the workspace is left as it was.
    """
    check_replay(replay, REPLAY_SCHEMA_VERSION)
    check_replay_content(replay)
    if session_id is not None:
        if not isinstance(session_id, str) or not SESSION_ID_PATTERN.fullmatch(session_id):
            raise InvalidInput(f"session_id: 1-64 letters, digits, '-' or '_' (got {session_id!r})")
        if _session_exists(workspace, session_id):
            raise InvalidInput(f"session_id: this data root already has a session {session_id}")
    new_id = session_id or free_session_id(workspace, replay["session"]["id"])
    sources = _image_sources(replay, images_from, set(removed_images))
    created: list[Path] = []
    labels_path = workspace.labels.path(new_id)
    previous_labels: bytes | None = None
    labels_written = False
    try:
        # The label lock before the database, in the order every writer takes them.
        with workspace.labels.locked(new_id), workspace.db.transaction() as connection:
            # Rows go in table by table, not in the order they were made: check the links
            # between them once, at commit.
            defer_foreign_keys(connection)
            if session_store.session_exists(connection, new_id):
                raise InvalidInput(
                    f"session_id: session {new_id} was created meanwhile; restore again"
                )
            remap = _plan_remap(connection, replay, new_id)
            _insert(connection, replay, remap)
            for path, source in sources.items():
                destination = workspace.images.resolve(remap.image_path(path))  # type: ignore[arg-type]
                _copy_image(source, destination, created)
            events = judgment_store.feedback_events(connection, new_id)
            if labels_path.exists():
                previous_labels = labels_path.read_bytes()
            labels_written = True
            _write_labels(workspace, new_id, [event.label_row() for event in events])
    except BaseException:
        _remove_created(created)
        if labels_written:
            labels_path.unlink(missing_ok=True)
            if previous_labels is not None:
                labels_path.write_bytes(previous_labels)
        raise
    return new_id
