"""Session orchestration: create, list, status, feedback, undo and fork.

Every function takes the `Workspace` it works on, so the CLI, the dashboard and scripts all
call the same code. Generating a round (which needs the generator) lives in `rounds`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from steering_core import trace
from steering_core.config import SessionConfig, deep_merge, make_config
from steering_core.errors import InvalidInput, NotFound
from steering_core.feedback import MODES_BY_NAME, check_candidates, normalize, parse_feedback
from steering_core.funnel_stages import check_funnel_keep, funnel_keep_limit
from steering_core.generators.base import GENERATORS
from steering_core.session_names import check_name
from steering_core.storage import judgment_store, round_store, session_store
from steering_core.storage.records import (
    CandidateRecord,
    ComparisonRecord,
    FeedbackEventRecord,
    RoundRecord,
    SessionRecord,
    SettingChangeRecord,
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
    GENERATORS.get(config.generator.backend).check_config(config.generator)


def create_session(
    workspace: Workspace,
    config: SessionConfig,
    source: str = "human",
    forked_from_candidate_id: int | None = None,
    name: str | None = "",
) -> SessionRecord:
    """Validate the generator and the name, and store a new session; returns its record."""
    if source not in SOURCES:
        raise InvalidInput(f"source: must be one of {', '.join(SOURCES)} (got {source!r})")
    name = check_name(name)
    check_generator_config(config)
    session_id = uuid.uuid4().hex[:10]
    record = SessionRecord(
        id=session_id,
        created_at=now(),
        prompt=config.prompt,
        config=config.to_dict(),
        forked_from_candidate_id=forked_from_candidate_id,
        source=source,
        name=name,
    )
    with workspace.db.transaction() as connection:
        session_store.insert_session(connection, record)
    trace.record(
        workspace,
        session_id,
        "session_created",
        origin=source,
        forked_from_candidate_id=forked_from_candidate_id,
    )
    return get_session(workspace, session_id)


def get_session(workspace: Workspace, session_id: str | None = None) -> SessionRecord:
    """A session by id; None or "latest" means the most recently created one.

    An empty (or blank) id is refused, not read as the latest: it is what a script's unset
    variable gives, and judging whichever session was made last would be wrong."""
    if session_id is not None and not str(session_id).strip():
        raise InvalidInput("session id: empty; name a session or 'latest'")
    connection = workspace.db.connection()
    if session_id in (None, "latest"):
        record = session_store.latest_session(connection)
        if record is None:
            raise NotFound("no sessions yet in this data root; create one with `steer session new`")
    else:
        record = session_store.session(connection, session_id)
        if record is None:
            raise NotFound(f"no session {session_id!r} in data root {workspace.data_root}")
    return record


def list_sessions(workspace: Workspace) -> list[dict[str, Any]]:
    """Every session with its name, round and feedback counts and (a fork) the session and
    round it was forked from, newest first."""
    return session_store.session_summaries(workspace.db.connection())


def rename_session(workspace: Workspace, session_id: str, name: str | None) -> SessionRecord:
    """Give a session a new name ('' removes it); an invalid name changes nothing."""
    name = check_name(name)
    session = get_session(workspace, session_id)
    with workspace.db.transaction() as connection:
        session_store.rename_session(connection, session.id, name)
    trace.record(workspace, session.id, "session_renamed", name=name)
    return get_session(workspace, session.id)


def fork_origin(workspace: Workspace, session: SessionRecord) -> CandidateRecord | None:
    """The candidate a fork started from (its session and round say where); None for a
    session that is not a fork."""
    if session.forked_from_candidate_id is None:
        return None
    return round_store.candidate(workspace.db.connection(), session.forked_from_candidate_id)


def session_version(workspace: Workspace, session_id: str) -> str:
    """A short string that changes whenever rounds or judgments of the session change (here
    or in another process), for pollers that only redraw what changed."""
    return judgment_store.session_version(workspace.db.connection(), session_id)


def get_rounds(workspace: Workspace, session_id: str, last: int | None = None) -> list[RoundRecord]:
    """A session's rounds in order (only the `last` few when given)."""
    return round_store.rounds(workspace.db.connection(), session_id, last)


def latest_round_index(workspace: Workspace, session_id: str) -> int | None:
    """The index of a session's latest round (None before its first)."""
    return round_store.latest_round_index(workspace.db.connection(), session_id)


def get_round(
    workspace: Workspace, session_id: str, round_index: int | None = None
) -> tuple[RoundRecord, list[CandidateRecord]]:
    """A round (the latest when `round_index` is None) and its candidates in slot order."""
    connection = workspace.db.connection()
    record = round_store.round_at(connection, session_id, round_index)
    if record is None and round_index is None:
        raise NotFound(f"session {session_id} has no rounds yet; run `steer round` first")
    if record is None:
        raise NotFound(f"session {session_id} has no round {round_index}")
    return record, round_store.candidates_of_round(connection, record.id)  # type: ignore[arg-type]


def get_candidate(workspace: Workspace, candidate_id: int) -> CandidateRecord:
    record = round_store.candidate(workspace.db.connection(), candidate_id)
    if record is None:
        raise NotFound(f"no candidate {candidate_id} in data root {workspace.data_root}")
    return record


def get_candidates(workspace: Workspace, session_id: str) -> list[CandidateRecord]:
    return round_store.candidates_of_session(workspace.db.connection(), session_id)


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
    return judgment_store.feedback_events(
        workspace.db.connection(), session_id, include_undone, round_index
    )


def _label_rows(workspace: Workspace, session_id: str) -> list[dict[str, Any]]:
    return [event.label_row() for event in get_feedback_events(workspace, session_id)]


def _sync_labels(workspace: Workspace, session_id: str) -> None:
    """Make the label CSV mirror the database before appending to it (inside the lock).

    The whole file is checked once per process; after that only its tail is compared with
    the database, so a row left out or torn by another process's crash is still repaired.
    """
    key = (str(workspace.labels_dir), session_id)
    if key in _reconciled:
        last = judgment_store.last_feedback_event_id(workspace.db.connection(), session_id)
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
    where = f"round {round_record.round_index} of session {session.id}"
    check_candidates(feedback, shown, where=where)
    # A funnel stage keeps at most so many: refused here, not first at the next stage.
    check_funnel_keep(feedback, funnel_keep_limit(round_record.model_state, len(shown)), where)
    normalized = normalize(feedback, shown)
    stored_raw = feedback.model_dump(mode="json")
    with workspace.labels.locked(session.id, timeout=lock_timeout):
        _sync_labels(workspace, session.id)
        with workspace.db.transaction() as connection:
            if client_key is not None:
                stored = judgment_store.feedback_event_by_client_key(
                    connection, session.id, client_key
                )
                if stored is not None:
                    return stored
            new_event = FeedbackEventRecord(
                id=None,
                session_id=session.id,
                round_index=round_record.round_index,
                mode=feedback.mode,
                raw=stored_raw,
                comparisons=normalized.to_json(),
                confidence=feedback.confidence,
                source=source,
                created_at=now(),
                undone_at=None,
                undoes_event_id=None,
                client_key=client_key,
            )
            event_id = judgment_store.insert_feedback_event(connection, new_event)
            judgment_store.insert_comparisons(
                connection,
                [
                    ComparisonRecord(
                        id=None,
                        event_id=event_id,
                        session_id=session.id,
                        winner_candidate_id=c.winner,
                        loser_candidate_id=c.loser,
                        weight=c.weight,
                        is_tie=c.tie,
                    )
                    for c in normalized.comparisons
                ],
            )
            event = judgment_store.feedback_event(connection, event_id)
        assert event is not None  # stored in the transaction just committed
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


@dataclass(frozen=True)
class Withdrawal:
    """What an undo did: the `undo` event logged, the judgment it withdrew (`withdrawn`),
    that judgment in words, and the rounds planned from it that were discarded."""

    event: FeedbackEventRecord
    withdrawn: FeedbackEventRecord
    words: str
    discarded_rounds: list[int]

    def describe(self) -> str:
        """One line: which judgment of which round was withdrawn, and what was discarded."""
        text = (
            f"withdrew round {self.withdrawn.round_index}'s judgment #{self.withdrawn.id} "
            f"({self.words})"
        )
        if self.discarded_rounds:
            names = ", ".join(str(r) for r in self.discarded_rounds)
            plural = "s" if len(self.discarded_rounds) > 1 else ""
            text += f"; discarded round{plural} {names}, planned from it"
        return text


def judgment_words(workspace: Workspace, event: FeedbackEventRecord) -> str:
    """A stored judgment in a few words, candidates named as the grid numbers them."""
    mode = MODES_BY_NAME.get(event.mode)
    record = round_store.round_at(workspace.db.connection(), event.session_id, event.round_index)
    slots = (
        {}
        if record is None or record.id is None
        else {
            c.id: c.slot
            for c in round_store.candidates_of_round(workspace.db.connection(), record.id)
        }  # type: ignore[misc]
    )
    return mode.line(event.raw, slots) if mode else event.mode.replace("_", " ")


def judgment_to_undo(workspace: Workspace, session_id: str) -> FeedbackEventRecord | None:
    """The judgment an undo would withdraw now: the session's latest one still standing."""
    session = get_session(workspace, session_id)
    return judgment_store.last_standing_judgment(workspace.db.connection(), session.id)


def withdraw_last_judgment(
    workspace: Workspace, session_id: str, source: str = "human"
) -> Withdrawal:
    """Withdraw the session's most recent judgment that is not already undone, and discard
    every round planned from it.

    The judgment stays stored (marked undone) and an `undo` event is logged, so the label
    CSV keeps the full history; undone comparisons no longer reach the preference model.
    A round whose plan used the judgment (see `rounds.plan_round`) is deleted with its
    candidates in the same transaction (its images stay on disk until `steer gc --images`),
    so the session reads as if the judgment never made a round; the trace keeps a
    `round_discarded` event for each. A round still being made is refused when it is saved.
    Refused, changing nothing, when something outside those rounds points at them (a fork).
    """
    session = get_session(workspace, session_id)
    with workspace.labels.locked(session.id):
        _sync_labels(workspace, session.id)
        with workspace.db.transaction() as connection:
            target = judgment_store.last_standing_judgment(connection, session.id)
            if target is None or target.id is None:
                raise InvalidInput(f"session {session.id} has no judgment to undo")
            discarded = round_store.rounds_planned_from(
                connection, session.id, target.id, target.round_index, target.created_at
            )
            discarded_ids = [r.id for r in discarded if r.id is not None]
            outside = round_store.references_from_outside(connection, discarded_ids)
            if outside:
                names = ", ".join(str(r.round_index) for r in discarded)
                raise InvalidInput(
                    f"session {session.id}: cannot undo judgment #{target.id}: round(s) {names} "
                    f"were planned from it and are in use elsewhere ({'; '.join(outside[:3])})"
                )
            words = judgment_words(workspace, target)
            shown = {
                r.round_index: [c.id for c in round_store.candidates_of_round(connection, r.id)]  # type: ignore[arg-type]
                for r in discarded
            }
            round_store.delete_rounds(connection, discarded_ids)
            stamp = now()
            judgment_store.mark_undone(connection, target.id, stamp)
            undo = FeedbackEventRecord(
                id=None,
                session_id=session.id,
                round_index=target.round_index,
                mode="undo",
                raw={"mode": "undo", "undoes_event_id": target.id},
                comparisons=[],
                confidence=1.0,
                source=source,
                created_at=stamp,
                undone_at=None,
                undoes_event_id=target.id,
            )
            event = judgment_store.feedback_event(
                connection, judgment_store.insert_feedback_event(connection, undo)
            )
        assert event is not None  # stored in the transaction just committed
        workspace.labels.append(event.label_row())
    _trace_feedback(workspace, event)
    for round_index in sorted(shown):
        trace.record(
            workspace,
            session.id,
            "round_discarded",
            round_index=round_index,
            candidate_ids=shown[round_index],
            withdrawn_event_id=target.id,
            undo_event_id=event.id,
        )
    return Withdrawal(
        event=event,
        withdrawn=target,
        words=words,
        discarded_rounds=sorted(shown),
    )


def undo_last_feedback(
    workspace: Workspace, session_id: str, source: str = "human"
) -> FeedbackEventRecord:
    """Withdraw the session's most recent standing judgment (see `withdraw_last_judgment`);
    returns the `undo` event."""
    return withdraw_last_judgment(workspace, session_id, source).event


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
    name: str | None = "",
) -> SessionRecord:
    """A new session, called `name`, that starts from a past candidate (its round 0
    incumbent).

    The fork keeps the parent's steering space (basis, seed and `d`) so the candidate's
    steering vector means the same; `overrides` may change anything else. A new prompt moves
    the origin the vector is applied to (allowed for a random basis, which does not depend on
    the prompt).
    """
    name = check_name(name)
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
    return create_session(
        workspace, config, source=source, forked_from_candidate_id=candidate.id, name=name
    )


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
        next_round = round_store.round_count(connection, session.id)
        session_store.update_config(connection, session.id, config.to_dict())
        session_store.insert_setting_change(
            connection,
            SettingChangeRecord(
                id=None,
                session_id=session.id,
                from_round=next_round,
                changes=changes,
                created_at=now(),
            ),
        )
    return config


def setting_changes(workspace: Workspace, session_id: str) -> list[dict[str, Any]]:
    """Every settings change of a session, oldest first, with the round it applies from."""
    return [
        {"from_round": c.from_round, "changes": c.changes, "created_at": c.created_at}
        for c in session_store.setting_changes(workspace.db.connection(), session_id)
    ]
