"""Typed rows of the system of record: sessions, rounds, candidates, feedback events,
comparisons and setting changes. `from_row` reads a database row, `to_row` gives the row to
insert (the column values by name; JSON columns as text).

A record about to be stored may have `id=None`: the database numbers it (SQLite gives an
INTEGER PRIMARY KEY the next free id when it is NULL). Every record read back has its id.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np


def now() -> str:
    """UTC timestamp with microseconds, ISO 8601."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class SessionRecord:
    id: str
    created_at: str
    prompt: str
    config: dict[str, Any]
    forked_from_candidate_id: int | None
    source: str
    # The researcher's name for the session ('' when unnamed); it may change (rename).
    name: str = ""

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> SessionRecord:
        return cls(
            id=row["id"],
            created_at=row["created_at"],
            prompt=row["prompt"],
            config=json.loads(row["config_json"]),
            forked_from_candidate_id=row["forked_from_candidate_id"],
            source=row["source"],
            name=row["name"],
        )

    def to_row(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "created_at": self.created_at,
            "name": self.name,
            "prompt": self.prompt,
            "config_json": json.dumps(self.config),
            "forked_from_candidate_id": self.forked_from_candidate_id,
            "source": self.source,
        }


@dataclass(frozen=True)
class CandidateRecord:
    id: int | None
    session_id: str
    round_index: int
    slot: int
    steering_vector: np.ndarray
    seed: int
    role: str
    parent_candidate_id: int | None
    sampler_metadata: dict[str, Any]
    image_path: str | None
    created_at: str

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> CandidateRecord:
        return cls(
            id=row["id"],
            session_id=row["session_id"],
            round_index=row["round_index"],
            slot=row["slot"],
            steering_vector=np.array(json.loads(row["steering_vector_json"]), dtype=np.float64),
            seed=row["seed"],
            role=row["role"],
            parent_candidate_id=row["parent_candidate_id"],
            sampler_metadata=json.loads(row["sampler_metadata_json"]),
            image_path=row["image_path"],
            created_at=row["created_at"],
        )

    def to_row(self, round_id: int) -> dict[str, Any]:
        """The row, in round `round_id` (the round's database id)."""
        return {
            "id": self.id,
            "session_id": self.session_id,
            "round_id": round_id,
            "round_index": self.round_index,
            "slot": self.slot,
            "steering_vector_json": json.dumps(self.steering_vector.tolist()),
            "seed": self.seed,
            "role": self.role,
            "parent_candidate_id": self.parent_candidate_id,
            "sampler_metadata_json": json.dumps(self.sampler_metadata),
            "image_path": self.image_path,
            "created_at": self.created_at,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "session_id": self.session_id,
            "round_index": self.round_index,
            "slot": self.slot,
            "steering_vector": self.steering_vector.tolist(),
            "seed": self.seed,
            "role": self.role,
            "parent_candidate_id": self.parent_candidate_id,
            "sampler_metadata": self.sampler_metadata,
            "image_path": self.image_path,
        }


@dataclass(frozen=True)
class RoundRecord:
    id: int | None
    session_id: str
    round_index: int
    created_at: str
    incumbent_candidate_id: int | None
    model_state: dict[str, Any]
    timings: dict[str, Any]

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> RoundRecord:
        return cls(
            id=row["id"],
            session_id=row["session_id"],
            round_index=row["round_index"],
            created_at=row["created_at"],
            incumbent_candidate_id=row["incumbent_candidate_id"],
            model_state=json.loads(row["model_state_json"]),
            timings=json.loads(row["timings_json"]),
        )

    def to_row(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "session_id": self.session_id,
            "round_index": self.round_index,
            "created_at": self.created_at,
            "incumbent_candidate_id": self.incumbent_candidate_id,
            "model_state_json": json.dumps(self.model_state),
            "timings_json": json.dumps(self.timings),
        }


def _named_in_raw(raw: dict[str, Any]) -> set[int]:
    """Candidate ids a raw judgment names (a critique's candidate, approvals...)."""
    if raw.get("mode") in (None, "undo"):
        return set()
    from steering_core.feedback import parse_feedback

    return set(parse_feedback(raw).candidate_ids())


@dataclass(frozen=True)
class FeedbackEventRecord:
    id: int | None
    session_id: str
    round_index: int
    mode: str
    raw: dict[str, Any]
    comparisons: list[dict[str, Any]]
    confidence: float
    source: str
    created_at: str
    undone_at: str | None
    undoes_event_id: int | None
    # The sender's name for the judgment (the dashboard's outbox key), so a retry stores once.
    client_key: str | None = None

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> FeedbackEventRecord:
        return cls(
            id=row["id"],
            session_id=row["session_id"],
            round_index=row["round_index"],
            mode=row["mode"],
            raw=json.loads(row["raw_json"]),
            comparisons=json.loads(row["comparisons_json"]),
            confidence=row["confidence"],
            source=row["source"],
            created_at=row["created_at"],
            undone_at=row["undone_at"],
            undoes_event_id=row["undoes_event_id"],
            client_key=row["client_key"],
        )

    def to_row(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "session_id": self.session_id,
            "round_index": self.round_index,
            "mode": self.mode,
            "raw_json": json.dumps(self.raw, sort_keys=True, ensure_ascii=False),
            "comparisons_json": json.dumps(self.comparisons),
            "confidence": self.confidence,
            "source": self.source,
            "created_at": self.created_at,
            "client_key": self.client_key,
            "undone_at": self.undone_at,
            "undoes_event_id": self.undoes_event_id,
        }

    def label_row(self) -> dict[str, Any]:
        """The event as a row of the session's label CSV."""
        named = sorted(
            {
                c
                for comparison in self.comparisons
                for c in (comparison["winner"], comparison["loser"])
            }
            - {-1}  # ELSEWHERE is not a candidate
            | _named_in_raw(self.raw)
        )
        return {
            "event_id": self.id,
            "session_id": self.session_id,
            "round_index": self.round_index,
            "mode": self.mode,
            "source": self.source,
            "confidence": self.confidence,
            "created_at": self.created_at,
            "undoes_event_id": "" if self.undoes_event_id is None else self.undoes_event_id,
            "candidate_ids": json.dumps(named),
            "raw_json": json.dumps(self.raw, sort_keys=True, ensure_ascii=False),
            "comparisons_json": json.dumps(self.comparisons),
        }


@dataclass(frozen=True)
class ComparisonRecord:
    """One weighted comparison of a judgment (`winner_candidate_id` None: nothing won)."""

    id: int | None
    event_id: int
    session_id: str
    winner_candidate_id: int | None
    loser_candidate_id: int
    weight: float
    is_tie: bool

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> ComparisonRecord:
        return cls(
            id=row["id"],
            event_id=row["event_id"],
            session_id=row["session_id"],
            winner_candidate_id=row["winner_candidate_id"],
            loser_candidate_id=row["loser_candidate_id"],
            weight=row["weight"],
            is_tie=bool(row["is_tie"]),
        )

    def to_row(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "event_id": self.event_id,
            "session_id": self.session_id,
            "winner_candidate_id": self.winner_candidate_id,
            "loser_candidate_id": self.loser_candidate_id,
            "weight": self.weight,
            "is_tie": int(self.is_tie),
        }


@dataclass(frozen=True)
class SettingChangeRecord:
    """Sampler or model settings changed between rounds, applying from `from_round`."""

    id: int | None
    session_id: str
    from_round: int
    changes: dict[str, Any]
    created_at: str

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> SettingChangeRecord:
        return cls(
            id=row["id"],
            session_id=row["session_id"],
            from_round=row["from_round"],
            changes=json.loads(row["changes_json"]),
            created_at=row["created_at"],
        )

    def to_row(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "session_id": self.session_id,
            "from_round": self.from_round,
            "changes_json": json.dumps(self.changes, sort_keys=True),
            "created_at": self.created_at,
        }


@dataclass(frozen=True)
class SyntheticTargetRecord:
    """What a synthetic user wanted (`targets`: an `m x d` list) and the user itself."""

    session_id: str
    targets: list[list[float]]
    user: dict[str, Any]

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> SyntheticTargetRecord:
        return cls(
            session_id=row["session_id"],
            targets=json.loads(row["target_json"]),
            user=json.loads(row["user_json"]),
        )

    def to_row(self) -> dict[str, Any]:
        return {
            "session_id": self.session_id,
            "target_json": json.dumps(self.targets),
            "user_json": json.dumps(self.user, sort_keys=True),
        }
