"""SQL of sessions, their setting changes and synthetic users' targets.

Functions take the connection they run on: inside `Database.transaction()` pass the
connection it yields; to read, `workspace.db.connection()` (the same one, per thread).
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from steering_core.storage.records import SessionRecord, SettingChangeRecord, SyntheticTargetRecord


def insert_session(connection: sqlite3.Connection, session: SessionRecord) -> None:
    connection.execute(
        "INSERT INTO sessions (id, created_at, name, prompt, config_json, "
        "forked_from_candidate_id, source) VALUES (:id, :created_at, :name, :prompt, "
        ":config_json, :forked_from_candidate_id, :source)",
        session.to_row(),
    )


def session(connection: sqlite3.Connection, session_id: str) -> SessionRecord | None:
    row = connection.execute("SELECT * FROM sessions WHERE id = ?", (session_id,)).fetchone()
    return None if row is None else SessionRecord.from_row(row)


def rename_session(connection: sqlite3.Connection, session_id: str, name: str) -> bool:
    """Set a session's name; False when there is no such session."""
    cursor = connection.execute("UPDATE sessions SET name = ? WHERE id = ?", (name, session_id))
    return cursor.rowcount > 0


def latest_session(connection: sqlite3.Connection) -> SessionRecord | None:
    """The most recently created session."""
    row = connection.execute("SELECT * FROM sessions ORDER BY created_at DESC LIMIT 1").fetchone()
    return None if row is None else SessionRecord.from_row(row)


def session_exists(connection: sqlite3.Connection, session_id: str) -> bool:
    return (
        connection.execute("SELECT 1 FROM sessions WHERE id = ?", (session_id,)).fetchone()
        is not None
    )


def session_summaries(connection: sqlite3.Connection) -> list[dict[str, Any]]:
    """Every session with its round and judgment counts (undone ones and undos left out),
    newest first; a fork with the session and round of the candidate it started from
    (`forked_from_session`, `forked_from_round`; None for a session that is not a fork)."""
    rows = connection.execute(
        """SELECT s.id, s.created_at, s.name, s.prompt, s.source, s.forked_from_candidate_id,
                  o.session_id AS forked_from_session, o.round_index AS forked_from_round,
                  (SELECT COUNT(*) FROM rounds r WHERE r.session_id = s.id) AS rounds,
                  (SELECT COUNT(*) FROM feedback_events f
                    WHERE f.session_id = s.id AND f.undone_at IS NULL AND f.mode != 'undo')
                    AS judgments
             FROM sessions s LEFT JOIN candidates o ON o.id = s.forked_from_candidate_id
            ORDER BY s.created_at DESC"""
    ).fetchall()
    return [dict(row) for row in rows]


def update_config(connection: sqlite3.Connection, session_id: str, config: dict[str, Any]) -> None:
    connection.execute(
        "UPDATE sessions SET config_json = ? WHERE id = ?", (json.dumps(config), session_id)
    )


def insert_setting_change(connection: sqlite3.Connection, change: SettingChangeRecord) -> None:
    connection.execute(
        "INSERT INTO setting_changes (id, session_id, from_round, changes_json, created_at) "
        "VALUES (:id, :session_id, :from_round, :changes_json, :created_at)",
        change.to_row(),
    )


def setting_changes(connection: sqlite3.Connection, session_id: str) -> list[SettingChangeRecord]:
    """A session's setting changes, oldest first."""
    rows = connection.execute(
        "SELECT * FROM setting_changes WHERE session_id = ? ORDER BY id", (session_id,)
    ).fetchall()
    return [SettingChangeRecord.from_row(row) for row in rows]


def insert_synthetic_target(
    connection: sqlite3.Connection, target: SyntheticTargetRecord, replace: bool = False
) -> None:
    """Store a synthetic session's target (`replace`: over one stored before)."""
    if replace:
        connection.execute(
            "DELETE FROM synthetic_targets WHERE session_id = ?", (target.session_id,)
        )
    connection.execute(
        "INSERT INTO synthetic_targets (session_id, target_json, user_json) "
        "VALUES (:session_id, :target_json, :user_json)",
        target.to_row(),
    )


def synthetic_target(
    connection: sqlite3.Connection, session_id: str
) -> SyntheticTargetRecord | None:
    row = connection.execute(
        "SELECT * FROM synthetic_targets WHERE session_id = ?", (session_id,)
    ).fetchone()
    return None if row is None else SyntheticTargetRecord.from_row(row)


def session_ids(connection: sqlite3.Connection) -> list[str]:
    """The id of every session, in id order."""
    return [row[0] for row in connection.execute("SELECT id FROM sessions ORDER BY id")]


def session_count(connection: sqlite3.Connection) -> int:
    return int(connection.execute("SELECT COUNT(*) FROM sessions").fetchone()[0])
