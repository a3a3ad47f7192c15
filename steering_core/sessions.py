"""Session orchestration: create, list, status, feedback, undo and fork.

Every function takes the `Workspace` it works on, so the CLI, the dashboard and scripts all
call the same code. Generating a round (which needs the generator) lives in `rounds`.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from steering_core import trace
from steering_core.config import SessionConfig, deep_merge, make_config
from steering_core.errors import InvalidInput, NotFound
from steering_core.feedback import check_candidates, normalize, parse_feedback
from steering_core.generators.base import GENERATORS
from steering_core.storage.records import (
    CandidateRecord,
    FeedbackEventRecord,
    RoundRecord,
    SessionRecord,
    now,
)
from steering_core.storage.workspace import Workspace

SOURCES = ("human", "synthetic", "cli", "script")

# Sessions whose label CSV this process has checked in full against the database.
_reconciled: set[tuple[str, str]] = set()


def load_session_config(session: SessionRecord) -> SessionConfig:
    return make_config(session.config, source=f"session {session.id} config", stored=True)


def check_generator_config(config: SessionConfig) -> None:
    """Ask the named backend whether its model can be loaded here (no loading)."""
    import steering_core.generators.builtin_backend  # noqa: F401  (registers the backends)

    backend = GENERATORS.get(config.generator.backend)
    check = getattr(backend, "check_config", None)
    if check is not None:
        check(config.generator)


def create_session(
    workspace: Workspace,
    config: SessionConfig,
    source: str = "human",
    forked_from_candidate_id: int | None = None,
) -> SessionRecord:
    """Validate the generator and store a new session; returns its record."""
    if source not in SOURCES:
        raise InvalidInput(f"source: must be one of {', '.join(SOURCES)} (got {source!r})")
    check_generator_config(config)
    session_id = uuid.uuid4().hex[:10]
    with workspace.db.transaction() as connection:
        connection.execute(
            "INSERT INTO sessions (id, created_at, prompt, config_json, "
            "forked_from_candidate_id, source) VALUES (?, ?, ?, ?, ?, ?)",
            (
                session_id,
                now(),
                config.prompt,
                json.dumps(config.to_dict()),
                forked_from_candidate_id,
                source,
            ),
        )
    trace.record(
        workspace,
        session_id,
        "session_created",
        origin=source,
        forked_from_candidate_id=forked_from_candidate_id,
    )
    return get_session(workspace, session_id)


def get_session(workspace: Workspace, session_id: str | None = None) -> SessionRecord:
    """A session by id; None or "latest" means the most recently created one."""
    if session_id in (None, "", "latest"):
        row = workspace.db.query_one("SELECT * FROM sessions ORDER BY created_at DESC LIMIT 1")
        if row is None:
            raise NotFound("no sessions yet in this data root; create one with `steer session new`")
    else:
        row = workspace.db.query_one("SELECT * FROM sessions WHERE id = ?", (session_id,))
        if row is None:
            raise NotFound(f"no session {session_id!r} in data root {workspace.data_root}")
    return SessionRecord.from_row(row)


def list_sessions(workspace: Workspace) -> list[dict[str, Any]]:
    """Every session with its round and feedback counts, newest first."""
    rows = workspace.db.query(
        """SELECT s.id, s.created_at, s.prompt, s.source, s.forked_from_candidate_id,
                  (SELECT COUNT(*) FROM rounds r WHERE r.session_id = s.id) AS rounds,
                  (SELECT COUNT(*) FROM feedback_events f
                    WHERE f.session_id = s.id AND f.undone_at IS NULL AND f.mode != 'undo')
                    AS judgments
             FROM sessions s ORDER BY s.created_at DESC"""
    )
    return [dict(row) for row in rows]


def get_rounds(workspace: Workspace, session_id: str, last: int | None = None) -> list[RoundRecord]:
    """A session's rounds in order (only the `last` few when given)."""
    if last is None:
        rows = workspace.db.query(
            "SELECT * FROM rounds WHERE session_id = ? ORDER BY round_index", (session_id,)
        )
    else:
        rows = workspace.db.query(
            "SELECT * FROM (SELECT * FROM rounds WHERE session_id = ? "
            "ORDER BY round_index DESC LIMIT ?) ORDER BY round_index",
            (session_id, last),
        )
    return [RoundRecord.from_row(row) for row in rows]


def latest_round_index(workspace: Workspace, session_id: str) -> int | None:
    """The index of a session's latest round (None before its first)."""
    return workspace.db.query_one(
        "SELECT MAX(round_index) FROM rounds WHERE session_id = ?", (session_id,)
    )[0]


def get_round(
    workspace: Workspace, session_id: str, round_index: int | None = None
) -> tuple[RoundRecord, list[CandidateRecord]]:
    """A round (the latest when `round_index` is None) and its candidates in slot order."""
    if round_index is None:
        row = workspace.db.query_one(
            "SELECT * FROM rounds WHERE session_id = ? ORDER BY round_index DESC LIMIT 1",
            (session_id,),
        )
        if row is None:
            raise NotFound(f"session {session_id} has no rounds yet; run `steer round` first")
    else:
        row = workspace.db.query_one(
            "SELECT * FROM rounds WHERE session_id = ? AND round_index = ?",
            (session_id, round_index),
        )
        if row is None:
            raise NotFound(f"session {session_id} has no round {round_index}")
    record = RoundRecord.from_row(row)
    candidates = workspace.db.query(
        "SELECT * FROM candidates WHERE round_id = ? ORDER BY slot", (record.id,)
    )
    return record, [CandidateRecord.from_row(c) for c in candidates]


def get_candidate(workspace: Workspace, candidate_id: int) -> CandidateRecord:
    row = workspace.db.query_one("SELECT * FROM candidates WHERE id = ?", (candidate_id,))
    if row is None:
        raise NotFound(f"no candidate {candidate_id} in data root {workspace.data_root}")
    return CandidateRecord.from_row(row)


def get_candidates(workspace: Workspace, session_id: str) -> list[CandidateRecord]:
    rows = workspace.db.query(
        "SELECT * FROM candidates WHERE session_id = ? ORDER BY round_index, slot", (session_id,)
    )
    return [CandidateRecord.from_row(row) for row in rows]


def lineage(workspace: Workspace, candidate_id: int) -> list[CandidateRecord]:
    """The candidate and its ancestors, back to round 0 (of the first session forked from)."""
    chain = [get_candidate(workspace, candidate_id)]
    while chain[-1].parent_candidate_id is not None and len(chain) < 100_000:
        chain.append(get_candidate(workspace, chain[-1].parent_candidate_id))
    return chain


def get_feedback_events(
    workspace: Workspace,
    session_id: str,
    include_undone: bool = True,
    round_index: int | None = None,
) -> list[FeedbackEventRecord]:
    """A session's feedback events in the order given (optionally of one round only)."""
    sql = "SELECT * FROM feedback_events WHERE session_id = ?"
    parameters: tuple[Any, ...] = (session_id,)
    if not include_undone:
        sql += " AND undone_at IS NULL AND mode != 'undo'"
    if round_index is not None:
        sql += " AND round_index = ?"
        parameters += (round_index,)
    rows = workspace.db.query(sql + " ORDER BY id", parameters)
    return [FeedbackEventRecord.from_row(row) for row in rows]


def _label_rows(workspace: Workspace, session_id: str) -> list[dict[str, Any]]:
    return [event.label_row() for event in get_feedback_events(workspace, session_id)]


def _sync_labels(workspace: Workspace, session_id: str) -> None:
    """Make the label CSV mirror the database before appending to it (inside the lock).

    The whole file is checked once per process; after that only its tail is compared with
    the database, so a row left out or torn by another process's crash is still repaired.
    """
    key = (str(workspace.labels_dir), session_id)
    if key in _reconciled:
        last = workspace.db.query_one(
            "SELECT MAX(id) FROM feedback_events WHERE session_id = ?", (session_id,)
        )[0]
        if workspace.labels.last_event_id(session_id) == last:
            return
    workspace.labels.reconcile(session_id, _label_rows(workspace, session_id))
    _reconciled.add(key)


def submit_feedback(
    workspace: Workspace,
    session_id: str,
    raw: dict[str, Any],
    round_index: int | None = None,
    source: str = "human",
    client_key: str | None = None,
    lock_timeout: float = 60,
) -> FeedbackEventRecord:
    """Validate, normalize and store one judgment; returns once it is durable in the
    database and in the label CSV. Nothing is stored when the judgment is invalid.

    `client_key` names the judgment on the sender's side: a second submission with the same
    key (a retry after a lost acknowledgement) returns the stored event and stores nothing.
    `lock_timeout`: how long to wait for another process holding the session's labels."""
    if client_key is not None and not 1 <= len(client_key) <= 64:
        raise InvalidInput(f"client_key: 1-64 characters (got {len(client_key)})")
    if source not in SOURCES:
        raise InvalidInput(f"source: must be one of {', '.join(SOURCES)} (got {source!r})")
    session = get_session(workspace, session_id)
    feedback = parse_feedback(raw)
    round_record, candidates = get_round(workspace, session.id, round_index)
    shown = [c.id for c in candidates]
    check_candidates(
        feedback, shown, where=f"round {round_record.round_index} of session {session.id}"
    )
    normalized = normalize(feedback, shown)
    stored_raw = feedback.model_dump(mode="json")
    with workspace.labels.locked(session.id, timeout=lock_timeout):
        _sync_labels(workspace, session.id)
        with workspace.db.transaction() as connection:
            if client_key is not None:
                row = connection.execute(
                    "SELECT * FROM feedback_events WHERE session_id = ? AND client_key = ?",
                    (session.id, client_key),
                ).fetchone()
                if row is not None:
                    return FeedbackEventRecord.from_row(row)
            cursor = connection.execute(
                "INSERT INTO feedback_events (session_id, round_index, mode, raw_json, "
                "comparisons_json, confidence, source, created_at, client_key) "
                "VALUES (?,?,?,?,?,?,?,?,?)",
                (
                    session.id,
                    round_record.round_index,
                    feedback.mode,
                    json.dumps(stored_raw, sort_keys=True, ensure_ascii=False),
                    json.dumps(normalized.to_json()),
                    feedback.confidence,
                    source,
                    now(),
                    client_key,
                ),
            )
            event_id = cursor.lastrowid
            connection.executemany(
                "INSERT INTO comparisons (event_id, session_id, winner_candidate_id, "
                "loser_candidate_id, weight, is_tie) VALUES (?,?,?,?,?,?)",
                [
                    (event_id, session.id, c.winner, c.loser, c.weight, int(c.tie))
                    for c in normalized.comparisons
                ],
            )
            row = connection.execute(
                "SELECT * FROM feedback_events WHERE id = ?", (event_id,)
            ).fetchone()
        event = FeedbackEventRecord.from_row(row)
        workspace.labels.append(event.label_row())
    _trace_feedback(workspace, event, client_key)
    return event


def _trace_feedback(
    workspace: Workspace, event: FeedbackEventRecord, client_key: str | None = None
) -> None:
    trace.record(
        workspace,
        event.session_id,
        "feedback",
        event_id=event.id,
        round_index=event.round_index,
        mode=event.mode,
        origin=event.source,
        comparisons=len(event.comparisons),
        client_key=client_key,
        undoes_event_id=event.undoes_event_id,
    )


def undo_last_feedback(
    workspace: Workspace, session_id: str, source: str = "human"
) -> FeedbackEventRecord:
    """Withdraw the session's most recent judgment that is not already undone.

    The judgment stays stored (marked undone) and an `undo` event is logged, so the label
    CSV keeps the full history; undone comparisons no longer reach the preference model.
    """
    session = get_session(workspace, session_id)
    with workspace.labels.locked(session.id):
        _sync_labels(workspace, session.id)
        with workspace.db.transaction() as connection:
            target = connection.execute(
                "SELECT * FROM feedback_events WHERE session_id = ? AND undone_at IS NULL "
                "AND mode != 'undo' ORDER BY id DESC LIMIT 1",
                (session.id,),
            ).fetchone()
            if target is None:
                raise InvalidInput(f"session {session.id} has no judgment to undo")
            stamp = now()
            connection.execute(
                "UPDATE feedback_events SET undone_at = ? WHERE id = ?", (stamp, target["id"])
            )
            cursor = connection.execute(
                "INSERT INTO feedback_events (session_id, round_index, mode, raw_json, "
                "comparisons_json, confidence, source, created_at, undoes_event_id) "
                "VALUES (?,?,?,?,?,?,?,?,?)",
                (
                    session.id,
                    target["round_index"],
                    "undo",
                    json.dumps({"mode": "undo", "undoes_event_id": target["id"]}),
                    "[]",
                    1.0,
                    source,
                    stamp,
                    target["id"],
                ),
            )
            row = connection.execute(
                "SELECT * FROM feedback_events WHERE id = ?", (cursor.lastrowid,)
            ).fetchone()
        event = FeedbackEventRecord.from_row(row)
        workspace.labels.append(event.label_row())
    _trace_feedback(workspace, event)
    return event


def rebuild_labels(workspace: Workspace, session_id: str) -> dict[str, Any]:
    """Rewrite a session's label CSV from the database (the old file is kept as .bak)."""
    session = get_session(workspace, session_id)
    with workspace.labels.locked(session.id):
        rows = _label_rows(workspace, session.id)
        backup = workspace.labels.rebuild(session.id, rows)
    return {"path": str(workspace.labels.path(session.id)), "rows": len(rows), "backup": backup}


def fork_session(
    workspace: Workspace,
    candidate_id: int,
    overrides: dict[str, Any] | None = None,
    source: str = "human",
) -> SessionRecord:
    """A new session that starts from a past candidate (its round 0 incumbent).

    The fork keeps the parent's steering space (basis, seed and `d`) so the candidate's
    steering vector means the same; `overrides` may change anything else. A new prompt moves
    the origin the vector is applied to (allowed for a random basis, which does not depend on
    the prompt).
    """
    candidate = get_candidate(workspace, candidate_id)
    parent = get_session(workspace, candidate.session_id)
    overrides = overrides or {}
    for locked in ("d", "basis", "seed"):
        if locked in overrides and overrides[locked] != parent.config.get(locked):
            raise InvalidInput(f"{locked}: a fork keeps its parent's steering space")
    prompt_changes = "prompt" in overrides and overrides["prompt"] != parent.config["prompt"]
    if prompt_changes and parent.config["basis"]["kind"] != "random_orthogonal":
        # PCA and attribute bases are built from the prompt: a new prompt is a new space.
        raise InvalidInput(
            "prompt: a fork of a session with a pca or attribute basis keeps its prompt"
        )
    config = make_config(deep_merge(parent.config, overrides), source="fork")
    return create_session(workspace, config, source=source, forked_from_candidate_id=candidate.id)


# What may change between rounds: how the next round is proposed, never the steering space.
CHANGEABLE_SETTINGS = ("trust_radius", "sampler", "preference_model", "feedback_mode")


def change_settings(
    workspace: Workspace, session_id: str, changes: dict[str, Any]
) -> SessionConfig:
    """Change sampler and model settings of a session; they apply from its next round.

    `changes` may hold `trust_radius`, `feedback_mode`, and `sampler` / `preference_model`
    as `{"name": ..., "params": {...}}` (params replace the old ones). The change and the
    round it applies from are recorded; an invalid change stores nothing."""
    session = get_session(workspace, session_id)
    unknown = sorted(set(changes) - set(CHANGEABLE_SETTINGS))
    if unknown:
        raise InvalidInput(
            f"{unknown[0]}: cannot change between rounds "
            f"(changeable: {', '.join(CHANGEABLE_SETTINGS)})"
        )
    merged = {**session.config, **changes}
    config = make_config(merged, source="settings")
    with workspace.db.transaction() as connection:
        next_round = connection.execute(
            "SELECT COUNT(*) FROM rounds WHERE session_id = ?", (session.id,)
        ).fetchone()[0]
        connection.execute(
            "UPDATE sessions SET config_json = ? WHERE id = ?",
            (json.dumps(config.to_dict()), session.id),
        )
        connection.execute(
            "INSERT INTO setting_changes (session_id, from_round, changes_json, created_at) "
            "VALUES (?,?,?,?)",
            (session.id, next_round, json.dumps(changes, sort_keys=True), now()),
        )
    return config


def setting_changes(workspace: Workspace, session_id: str) -> list[dict[str, Any]]:
    """Every settings change of a session, oldest first, with the round it applies from."""
    rows = workspace.db.query(
        "SELECT from_round, changes_json, created_at FROM setting_changes "
        "WHERE session_id = ? ORDER BY id",
        (session_id,),
    )
    return [{"from_round": r[0], "changes": json.loads(r[1]), "created_at": r[2]} for r in rows]
