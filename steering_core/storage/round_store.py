"""SQL of rounds and their candidates (see session_store for how connections are passed)."""

from __future__ import annotations

import json
import sqlite3

from steering_core.storage.records import CandidateRecord, RoundRecord


def insert_round(connection: sqlite3.Connection, round_record: RoundRecord) -> int:
    """Insert a round; returns its id (the record's, or the one the database gave)."""
    cursor = connection.execute(
        "INSERT INTO rounds (id, session_id, round_index, created_at, incumbent_candidate_id, "
        "model_state_json, timings_json) VALUES (:id, :session_id, :round_index, :created_at, "
        ":incumbent_candidate_id, :model_state_json, :timings_json)",
        round_record.to_row(),
    )
    return int(cursor.lastrowid)  # type: ignore[arg-type]


def set_incumbent(connection: sqlite3.Connection, round_id: int, candidate_id: int) -> None:
    connection.execute(
        "UPDATE rounds SET incumbent_candidate_id = ? WHERE id = ?", (candidate_id, round_id)
    )


def insert_candidate(
    connection: sqlite3.Connection, candidate: CandidateRecord, round_id: int
) -> int:
    """Insert a candidate of round `round_id`; returns its id."""
    cursor = connection.execute(
        "INSERT INTO candidates (id, session_id, round_id, round_index, slot, "
        "steering_vector_json, seed, role, parent_candidate_id, sampler_metadata_json, "
        "image_path, created_at) VALUES (:id, :session_id, :round_id, :round_index, :slot, "
        ":steering_vector_json, :seed, :role, :parent_candidate_id, :sampler_metadata_json, "
        ":image_path, :created_at)",
        candidate.to_row(round_id),
    )
    return int(cursor.lastrowid)  # type: ignore[arg-type]


def rounds(
    connection: sqlite3.Connection, session_id: str, last: int | None = None
) -> list[RoundRecord]:
    """A session's rounds in order (only the `last` few when given)."""
    if last is None:
        rows = connection.execute(
            "SELECT * FROM rounds WHERE session_id = ? ORDER BY round_index", (session_id,)
        ).fetchall()
    else:
        rows = connection.execute(
            "SELECT * FROM (SELECT * FROM rounds WHERE session_id = ? "
            "ORDER BY round_index DESC LIMIT ?) ORDER BY round_index",
            (session_id, last),
        ).fetchall()
    return [RoundRecord.from_row(row) for row in rows]


def round_count(connection: sqlite3.Connection, session_id: str) -> int:
    return int(
        connection.execute(
            "SELECT COUNT(*) FROM rounds WHERE session_id = ?", (session_id,)
        ).fetchone()[0]
    )


def latest_round_index(connection: sqlite3.Connection, session_id: str) -> int | None:
    """The index of a session's latest round (None before its first)."""
    return connection.execute(
        "SELECT MAX(round_index) FROM rounds WHERE session_id = ?", (session_id,)
    ).fetchone()[0]


def round_at(
    connection: sqlite3.Connection, session_id: str, round_index: int | None = None
) -> RoundRecord | None:
    """A session's round by index (the latest when `round_index` is None)."""
    if round_index is None:
        row = connection.execute(
            "SELECT * FROM rounds WHERE session_id = ? ORDER BY round_index DESC LIMIT 1",
            (session_id,),
        ).fetchone()
    else:
        row = connection.execute(
            "SELECT * FROM rounds WHERE session_id = ? AND round_index = ?",
            (session_id, round_index),
        ).fetchone()
    return None if row is None else RoundRecord.from_row(row)


def candidates_of_round(connection: sqlite3.Connection, round_id: int) -> list[CandidateRecord]:
    """A round's candidates in slot order."""
    rows = connection.execute(
        "SELECT * FROM candidates WHERE round_id = ? ORDER BY slot", (round_id,)
    ).fetchall()
    return [CandidateRecord.from_row(row) for row in rows]


def candidate(connection: sqlite3.Connection, candidate_id: int) -> CandidateRecord | None:
    row = connection.execute("SELECT * FROM candidates WHERE id = ?", (candidate_id,)).fetchone()
    return None if row is None else CandidateRecord.from_row(row)


def candidates_of_session(connection: sqlite3.Connection, session_id: str) -> list[CandidateRecord]:
    """A session's candidates by round and slot."""
    rows = connection.execute(
        "SELECT * FROM candidates WHERE session_id = ? ORDER BY round_index, slot", (session_id,)
    ).fetchall()
    return [CandidateRecord.from_row(row) for row in rows]


def incumbents(
    connection: sqlite3.Connection, session_id: str
) -> list[tuple[int, int, list[float]]]:
    """(round index, candidate id, steering vector) of every round's incumbent (its slot 0),
    in round order."""
    rows = connection.execute(
        "SELECT round_index, id, steering_vector_json FROM candidates "
        "WHERE session_id = ? AND slot = 0 ORDER BY round_index",
        (session_id,),
    ).fetchall()
    return [(row[0], row[1], json.loads(row[2])) for row in rows]


def incumbent_vectors(connection: sqlite3.Connection, session_id: str) -> list[list[float]]:
    """The steering vector of every round's incumbent (its slot 0), in round order."""
    return [vector for _, _, vector in incumbents(connection, session_id)]


def candidate_count(connection: sqlite3.Connection, session_id: str | None = None) -> int:
    """How many candidates were shown, in one session or (None) in the data root."""
    if session_id is None:
        return int(connection.execute("SELECT COUNT(*) FROM candidates").fetchone()[0])
    return int(
        connection.execute(
            "SELECT COUNT(*) FROM candidates WHERE session_id = ?", (session_id,)
        ).fetchone()[0]
    )


# The columns of a point of the steering-space plot, its vector as JSON text: parsing
# 60,000 of them is left to the caller, who does it in one `json.loads`.
_POINTS = (
    "SELECT c.id, c.session_id, c.round_index, c.slot, c.role, c.image_path, "
    "c.steering_vector_json, s.source FROM candidates c JOIN sessions s ON s.id = c.session_id "
)


def candidate_points(connection: sqlite3.Connection, session_id: str) -> list[sqlite3.Row]:
    """A session's candidates by round and slot, as rows of (id, session_id, round_index,
    slot, role, image_path, steering_vector_json, source of the session)."""
    return connection.execute(
        _POINTS + "WHERE c.session_id = ? ORDER BY c.round_index, c.slot", (session_id,)
    ).fetchall()


def candidate_points_of_dimension(
    connection: sqlite3.Connection, d: int, last_session_id: str
) -> list[sqlite3.Row]:
    """The candidates of every session whose steering space has `d` dimensions, as rows
    like `candidate_points`: by session (oldest first, `last_session_id` last), round, slot."""
    return connection.execute(
        _POINTS + "WHERE json_extract(s.config_json, '$.d') = ? "
        "ORDER BY c.session_id = ?, s.created_at, c.session_id, c.round_index, c.slot",
        (d, last_session_id),
    ).fetchall()


def image_references(
    connection: sqlite3.Connection, session_id: str | None = None
) -> list[tuple[str, str]]:
    """Every (image path, session id) where a candidate of the session shows the image; of
    one session's candidates when `session_id` is given."""
    rows = connection.execute(
        "SELECT DISTINCT image_path, session_id FROM candidates WHERE image_path IS NOT NULL "
        "AND (:session IS NULL OR session_id = :session)",
        {"session": session_id},
    ).fetchall()
    return [(row[0], row[1]) for row in rows]


def candidate_places(
    connection: sqlite3.Connection, candidate_ids: list[int]
) -> list[dict[str, int | str]]:
    """Where each of the candidates is (id, session_id, round_index, slot), by id; ids the
    database does not hold are left out."""
    rows = connection.execute(
        "SELECT id, session_id, round_index, slot FROM candidates "
        "WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id",
        (json.dumps(candidate_ids),),
    ).fetchall()
    return [dict(row) for row in rows]


# The key of a round's model state naming the last feedback event its plan saw: the plan
# was fitted on every judgment up to it that was standing then.
PLANNED_THROUGH = "planned_through_event_id"


def rounds_planned_from(
    connection: sqlite3.Connection,
    session_id: str,
    event_id: int,
    event_round_index: int,
    event_created_at: str,
) -> list[RoundRecord]:
    """The session's rounds whose plan used judgment `event_id` (one of round
    `event_round_index`, stored at `event_created_at`), latest first: every later round
    planned after the judgment was stored. A round stored before plans named their last
    event counts when it was created after the judgment."""
    rows = connection.execute(
        "SELECT * FROM rounds WHERE session_id = :session AND round_index > :round "
        "AND (json_extract(model_state_json, :key) >= :event "
        "OR (json_extract(model_state_json, :key) IS NULL AND created_at > :at)) "
        "ORDER BY round_index DESC",
        {
            "session": session_id,
            "round": event_round_index,
            "key": f"$.{PLANNED_THROUGH}",
            "event": event_id,
            "at": event_created_at,
        },
    ).fetchall()
    return [RoundRecord.from_row(row) for row in rows]


def references_from_outside(connection: sqlite3.Connection, round_ids: list[int]) -> list[str]:
    """What outside the given rounds points at their candidates, in words: sessions forked
    from one of them, candidates of other rounds descended from one of them."""
    rounds_json = json.dumps(round_ids)
    inside = "SELECT id FROM candidates WHERE round_id IN (SELECT value FROM json_each(?))"
    forks = connection.execute(
        f"SELECT id, forked_from_candidate_id FROM sessions WHERE forked_from_candidate_id IN "
        f"({inside}) ORDER BY created_at",
        (rounds_json,),
    ).fetchall()
    children = connection.execute(
        f"SELECT id, parent_candidate_id FROM candidates WHERE parent_candidate_id IN ({inside}) "
        "AND round_id NOT IN (SELECT value FROM json_each(?)) ORDER BY id",
        (rounds_json, rounds_json),
    ).fetchall()
    return [f"session {row[0]} is a fork of candidate #{row[1]}" for row in forks] + [
        f"candidate #{row[0]} descends from candidate #{row[1]}" for row in children
    ]


def delete_rounds(connection: sqlite3.Connection, round_ids: list[int]) -> None:
    """Delete rounds and their candidates (nothing outside them may point at these)."""
    rounds_json = json.dumps(round_ids)
    connection.execute(
        "DELETE FROM candidates WHERE round_id IN (SELECT value FROM json_each(?))", (rounds_json,)
    )
    connection.execute(
        "DELETE FROM rounds WHERE id IN (SELECT value FROM json_each(?))", (rounds_json,)
    )
