"""Typed rows of the system of record: sessions, rounds, candidates and feedback events."""

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

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> SessionRecord:
        return cls(
            id=row["id"],
            created_at=row["created_at"],
            prompt=row["prompt"],
            config=json.loads(row["config_json"]),
            forked_from_candidate_id=row["forked_from_candidate_id"],
            source=row["source"],
        )


@dataclass(frozen=True)
class CandidateRecord:
    id: int
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
    id: int
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


def _named_in_raw(raw: dict[str, Any]) -> set[int]:
    """Candidate ids a raw judgment names (a critique's candidate, approvals...)."""
    if raw.get("mode") in (None, "undo"):
        return set()
    from steering_core.feedback import parse_feedback

    return set(parse_feedback(raw).candidate_ids())


@dataclass(frozen=True)
class FeedbackEventRecord:
    id: int
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
        )

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
