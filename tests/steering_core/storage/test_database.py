"""The SQLite system of record: WAL, schema version, migrations, refusing unusable files."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from steering_core.errors import DataCorrupt
from steering_core.storage import database
from steering_core.storage.database import SCHEMA_VERSION, Database


def test_new_database_is_wal_at_the_current_schema(tmp_path: Path) -> None:
    db = Database(tmp_path / "s.sqlite3")
    assert db.schema_version() == SCHEMA_VERSION
    assert db.query_one("PRAGMA journal_mode")[0] == "wal"
    names = {row["name"] for row in db.query("SELECT name FROM sqlite_master")}
    assert {"sessions", "rounds", "candidates", "feedback_events", "comparisons", "jobs"} <= names
    assert {"candidates_by_session_round", "candidates_by_parent", "rounds_by_session"} <= names
    assert db.integrity_check() == "ok"


def test_a_new_migration_upgrades_an_existing_database_keeping_its_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "s.sqlite3"
    db = Database(path)
    with db.transaction() as connection:
        connection.execute(
            "INSERT INTO sessions (id, created_at, prompt, config_json) "
            "VALUES ('s1', 't', 'p', '{}')"
        )
    db.close()
    upgraded = [*database.MIGRATIONS, ["ALTER TABLE sessions ADD COLUMN title TEXT DEFAULT ''"]]
    monkeypatch.setattr(database, "MIGRATIONS", upgraded)
    monkeypatch.setattr(database, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    reopened = Database(path)
    assert reopened.schema_version() == SCHEMA_VERSION + 1
    row = reopened.query_one("SELECT id, title FROM sessions")
    assert (row["id"], row["title"]) == ("s1", "")


def test_a_database_from_a_newer_version_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    Database(path).close()
    with sqlite3.connect(path) as connection:
        connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    before = path.read_bytes()
    with pytest.raises(DataCorrupt, match="newer than this version"):
        Database(path)
    assert path.read_bytes() == before


def test_a_file_that_is_not_sqlite_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(DataCorrupt, match="not a usable SQLite file"):
        Database(path)
