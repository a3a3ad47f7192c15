"""SQL of judgments: feedback events and the comparisons they were normalized to (see
session_store for how connections are passed)."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from steering_core.storage.records import ComparisonRecord, FeedbackEventRecord


def insert_feedback_event(connection: sqlite3.Connection, event: FeedbackEventRecord) -> int:
    """Insert a judgment (or an undo); returns its id."""
    cursor = connection.execute(
        "INSERT INTO feedback_events (id, session_id, round_index, mode, raw_json, "
        "comparisons_json, confidence, source, created_at, client_key, undone_at, "
        "undoes_event_id) VALUES (:id, :session_id, :round_index, :mode, :raw_json, "
        ":comparisons_json, :confidence, :source, :created_at, :client_key, :undone_at, "
        ":undoes_event_id)",
        event.to_row(),
    )
    return int(cursor.lastrowid)  # type: ignore[arg-type]


def insert_comparisons(connection: sqlite3.Connection, comparisons: list[ComparisonRecord]) -> None:
    connection.executemany(
        "INSERT INTO comparisons (id, event_id, session_id, winner_candidate_id, "
        "loser_candidate_id, weight, is_tie) VALUES (:id, :event_id, :session_id, "
        ":winner_candidate_id, :loser_candidate_id, :weight, :is_tie)",
        [comparison.to_row() for comparison in comparisons],
    )


def mark_undone(connection: sqlite3.Connection, event_id: int, undone_at: str) -> None:
    connection.execute(
        "UPDATE feedback_events SET undone_at = ? WHERE id = ?", (undone_at, event_id)
    )


def feedback_event(connection: sqlite3.Connection, event_id: int) -> FeedbackEventRecord | None:
    row = connection.execute("SELECT * FROM feedback_events WHERE id = ?", (event_id,)).fetchone()
    return None if row is None else FeedbackEventRecord.from_row(row)


def feedback_event_by_client_key(
    connection: sqlite3.Connection, session_id: str, client_key: str
) -> FeedbackEventRecord | None:
    """The session's judgment the sender named `client_key`, if it was stored."""
    row = connection.execute(
        "SELECT * FROM feedback_events WHERE session_id = ? AND client_key = ?",
        (session_id, client_key),
    ).fetchone()
    return None if row is None else FeedbackEventRecord.from_row(row)


def feedback_events(
    connection: sqlite3.Connection,
    session_id: str,
    include_undone: bool = True,
    round_index: int | None = None,
    modes: tuple[str, ...] | None = None,
) -> list[FeedbackEventRecord]:
    """A session's feedback events in the order given (optionally of one round only, or of
    the given modes only; without undone judgments and undos unless `include_undone`)."""
    sql = "SELECT * FROM feedback_events WHERE session_id = ?"
    parameters: tuple[str | int, ...] = (session_id,)
    if not include_undone:
        sql += " AND undone_at IS NULL AND mode != 'undo'"
    if round_index is not None:
        sql += " AND round_index = ?"
        parameters += (round_index,)
    if modes is not None:
        sql += f" AND mode IN ({', '.join('?' * len(modes))})"
        parameters += modes
    rows = connection.execute(sql + " ORDER BY id", parameters).fetchall()
    return [FeedbackEventRecord.from_row(row) for row in rows]


def last_feedback_event_id(connection: sqlite3.Connection, session_id: str) -> int | None:
    return connection.execute(
        "SELECT MAX(id) FROM feedback_events WHERE session_id = ?", (session_id,)
    ).fetchone()[0]


def last_standing_judgment(
    connection: sqlite3.Connection, session_id: str
) -> FeedbackEventRecord | None:
    """The session's most recent judgment that is not undone (undos are not judgments)."""
    row = connection.execute(
        "SELECT * FROM feedback_events WHERE session_id = ? AND undone_at IS NULL "
        "AND mode != 'undo' ORDER BY id DESC LIMIT 1",
        (session_id,),
    ).fetchone()
    return None if row is None else FeedbackEventRecord.from_row(row)


def latest_judged_mode(connection: sqlite3.Connection, session_id: str) -> str | None:
    """The mode of the last standing judgment of the most recently judged round, critiques
    left out (they decide nothing); None when there is none."""
    row = connection.execute(
        """SELECT mode FROM feedback_events WHERE session_id = ? AND undone_at IS NULL
              AND mode NOT IN ('undo', 'critique') ORDER BY round_index DESC, id DESC LIMIT 1""",
        (session_id,),
    ).fetchone()
    return None if row is None else str(row[0])


def rating_judgments(connection: sqlite3.Connection, session_id: str | None = None) -> list[dict]:
    """The ratings (candidate id as text -> stars) of every rating judgment that is not
    undone, oldest first: of one session, or (None) of the data root."""
    sql = "SELECT raw_json FROM feedback_events WHERE mode = 'rating' AND undone_at IS NULL"
    parameters: tuple[str, ...] = ()
    if session_id is not None:
        sql += " AND session_id = ?"
        parameters = (session_id,)
    rows = connection.execute(sql + " ORDER BY id", parameters).fetchall()
    return [json.loads(row[0]).get("ratings", {}) for row in rows]


def judged_comparisons(connection: sqlite3.Connection, session_id: str) -> list[dict[str, Any]]:
    """The comparisons of a session's judgments that are not undone, in the order stored,
    each with its judgment's round and mode: `winner_candidate_id`, `loser_candidate_id`,
    `weight`, `is_tie`, `round_index`, `mode`."""
    rows = connection.execute(
        """SELECT c.winner_candidate_id, c.loser_candidate_id, c.weight, c.is_tie,
                  f.round_index, f.mode
             FROM comparisons c JOIN feedback_events f ON f.id = c.event_id
            WHERE c.session_id = ? AND f.undone_at IS NULL ORDER BY c.id""",
        (session_id,),
    ).fetchall()
    return [dict(row) for row in rows]


def latest_decisive_round(connection: sqlite3.Connection, session_id: str) -> int | None:
    """The latest round with a comparison that is not a tie, of a judgment not undone."""
    return connection.execute(
        """SELECT MAX(f.round_index) FROM comparisons c JOIN feedback_events f ON f.id = c.event_id
            WHERE c.session_id = ? AND f.undone_at IS NULL AND c.is_tie = 0""",
        (session_id,),
    ).fetchone()[0]


def decisive_pairs(
    connection: sqlite3.Connection, session_id: str, round_index: int
) -> list[tuple[int, int]]:
    """(winner, loser) of every comparison of a round that is not a tie, of judgments not
    undone (the winner is ELSEWHERE for a reject-all)."""
    rows = connection.execute(
        """SELECT c.winner_candidate_id, c.loser_candidate_id
             FROM comparisons c JOIN feedback_events f ON f.id = c.event_id
            WHERE c.session_id = ? AND f.round_index = ? AND f.undone_at IS NULL
              AND c.is_tie = 0""",
        (session_id, round_index),
    ).fetchall()
    return [(row[0], row[1]) for row in rows]


def comparisons(connection: sqlite3.Connection, session_id: str) -> list[ComparisonRecord]:
    """Every comparison of a session (of undone judgments too), in the order stored."""
    rows = connection.execute(
        "SELECT * FROM comparisons WHERE session_id = ? ORDER BY id", (session_id,)
    ).fetchall()
    return [ComparisonRecord.from_row(row) for row in rows]


def session_version(connection: sqlite3.Connection, session_id: str) -> str:
    """A short string that changes whenever rounds or judgments of the session change
    (here or in another process): rounds, latest event id, undone judgments."""
    row = connection.execute(
        """SELECT (SELECT COUNT(*) FROM rounds WHERE session_id = :s),
                  (SELECT COALESCE(MAX(id), 0) FROM feedback_events WHERE session_id = :s),
                  (SELECT COUNT(*) FROM feedback_events
                    WHERE session_id = :s AND undone_at IS NOT NULL)""",
        {"s": session_id},
    ).fetchone()
    return f"{row[0]}.{row[1]}.{row[2]}"


def data_root_version(connection: sqlite3.Connection) -> str:
    """A short string that changes whenever any session gains candidates or judgments, or
    a judgment is undone, in any process."""
    row = connection.execute(
        """SELECT (SELECT COUNT(*) FROM sessions),
                  (SELECT COALESCE(MAX(id), 0) FROM candidates),
                  (SELECT COALESCE(MAX(id), 0) FROM feedback_events),
                  (SELECT COUNT(*) FROM feedback_events WHERE undone_at IS NOT NULL)"""
    ).fetchone()
    return ".".join(str(value) for value in row)


def withdrawn_since(
    connection: sqlite3.Connection, session_id: str, through_event_id: int
) -> int | None:
    """A judgment stored at or before event `through_event_id` and withdrawn after it (the
    id of the first such judgment), or None: a round planned from the session's events up
    to `through_event_id` used it, so that round must not be kept."""
    row = connection.execute(
        "SELECT MIN(undoes_event_id) FROM feedback_events WHERE session_id = ? "
        "AND mode = 'undo' AND id > ? AND undoes_event_id <= ?",
        (session_id, through_event_id, through_event_id),
    ).fetchone()
    return None if row is None or row[0] is None else int(row[0])
