"""SQLite (WAL) system of record: schema, migrations, per-thread connections, transactions.

Every write runs in `BEGIN IMMEDIATE` so that two processes on one data root serialize their
writes instead of failing; `synchronous=FULL` makes a committed transaction durable before
the call that made it returns.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from steering_core.errors import DataCorrupt

SCHEMA_VERSION = 4

# Each entry migrates the schema from version i to i + 1; never edit a released entry.
MIGRATIONS: list[list[str]] = [
    [
        """CREATE TABLE sessions (
            id TEXT PRIMARY KEY,
            created_at TEXT NOT NULL,
            prompt TEXT NOT NULL,
            config_json TEXT NOT NULL,
            forked_from_candidate_id INTEGER REFERENCES candidates(id),
            source TEXT NOT NULL DEFAULT 'human'
        )""",
        """CREATE TABLE rounds (
            id INTEGER PRIMARY KEY,
            session_id TEXT NOT NULL REFERENCES sessions(id),
            round_index INTEGER NOT NULL,
            created_at TEXT NOT NULL,
            incumbent_candidate_id INTEGER,
            model_state_json TEXT NOT NULL DEFAULT '{}',
            timings_json TEXT NOT NULL DEFAULT '{}',
            UNIQUE (session_id, round_index)
        )""",
        """CREATE TABLE candidates (
            id INTEGER PRIMARY KEY,
            session_id TEXT NOT NULL REFERENCES sessions(id),
            round_id INTEGER NOT NULL REFERENCES rounds(id),
            round_index INTEGER NOT NULL,
            slot INTEGER NOT NULL,
            steering_vector_json TEXT NOT NULL,
            seed INTEGER NOT NULL,
            role TEXT NOT NULL,
            parent_candidate_id INTEGER REFERENCES candidates(id),
            sampler_metadata_json TEXT NOT NULL DEFAULT '{}',
            image_path TEXT,
            created_at TEXT NOT NULL,
            UNIQUE (round_id, slot)
        )""",
        "CREATE INDEX candidates_by_session_round ON candidates (session_id, round_index, slot)",
        "CREATE INDEX candidates_by_parent ON candidates (parent_candidate_id)",
        "CREATE INDEX rounds_by_session ON rounds (session_id, round_index)",
        """CREATE TABLE feedback_events (
            id INTEGER PRIMARY KEY,
            session_id TEXT NOT NULL REFERENCES sessions(id),
            round_index INTEGER NOT NULL,
            mode TEXT NOT NULL,
            raw_json TEXT NOT NULL,
            comparisons_json TEXT NOT NULL,
            confidence REAL NOT NULL,
            source TEXT NOT NULL,
            created_at TEXT NOT NULL,
            undone_at TEXT,
            undoes_event_id INTEGER REFERENCES feedback_events(id)
        )""",
        "CREATE INDEX feedback_by_session ON feedback_events (session_id, id)",
        """CREATE TABLE comparisons (
            id INTEGER PRIMARY KEY,
            event_id INTEGER NOT NULL REFERENCES feedback_events(id),
            session_id TEXT NOT NULL,
            winner_candidate_id INTEGER,
            loser_candidate_id INTEGER NOT NULL,
            weight REAL NOT NULL,
            is_tie INTEGER NOT NULL
        )""",
        "CREATE INDEX comparisons_by_session ON comparisons (session_id, event_id)",
        """CREATE TABLE jobs (
            id TEXT PRIMARY KEY,
            session_id TEXT,
            kind TEXT NOT NULL,
            status TEXT NOT NULL,
            phase TEXT NOT NULL,
            message TEXT NOT NULL DEFAULT '',
            progress_json TEXT NOT NULL DEFAULT '{}',
            result_json TEXT NOT NULL DEFAULT '{}',
            error TEXT,
            error_kind TEXT,
            created_at TEXT NOT NULL,
            started_at TEXT,
            finished_at TEXT,
            pid INTEGER,
            host TEXT
        )""",
        "CREATE INDEX jobs_by_session ON jobs (session_id, created_at)",
        """CREATE TABLE job_events (
            id INTEGER PRIMARY KEY,
            job_id TEXT NOT NULL REFERENCES jobs(id),
            at TEXT NOT NULL,
            phase TEXT NOT NULL,
            message TEXT NOT NULL DEFAULT ''
        )""",
        "CREATE INDEX job_events_by_job ON job_events (job_id, id)",
    ],
    [
        # Settings of the data root itself, e.g. where its label CSVs live.
        "CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    ],
    [
        # A judgment the dashboard sends twice (a retry after a lost acknowledgement) is
        # stored once: the browser names each judgment with a key of its own.
        "ALTER TABLE feedback_events ADD COLUMN client_key TEXT",
        """CREATE UNIQUE INDEX feedback_by_client_key ON feedback_events (session_id, client_key)
            WHERE client_key IS NOT NULL""",
        # Sampler and model settings changed between rounds, and the round they apply from.
        """CREATE TABLE setting_changes (
            id INTEGER PRIMARY KEY,
            session_id TEXT NOT NULL REFERENCES sessions(id),
            from_round INTEGER NOT NULL,
            changes_json TEXT NOT NULL,
            created_at TEXT NOT NULL
        )""",
    ],
    [
        # What a synthetic user wanted (an anchor's target, a diversity user's centres, as
        # an m x d list) and the user itself, so the dashboard can plot distance to target.
        """CREATE TABLE synthetic_targets (
            session_id TEXT PRIMARY KEY,
            target_json TEXT NOT NULL,
            user_json TEXT NOT NULL
        )""",
    ],
]


class Database:
    """One SQLite file; each thread gets its own connection (sqlite3 objects are per thread)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.migrate()

    def connection(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            try:
                connection = sqlite3.connect(self.path, timeout=60, isolation_level=None)
                connection.row_factory = sqlite3.Row
                connection.execute("PRAGMA busy_timeout = 60000")
                connection.execute("PRAGMA journal_mode = WAL")
                connection.execute("PRAGMA synchronous = FULL")
                connection.execute("PRAGMA foreign_keys = ON")
            except sqlite3.DatabaseError as error:
                raise DataCorrupt(
                    f"database {self.path} is not a usable SQLite file: {error}"
                ) from None
            self._local.connection = connection
        return connection

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction that takes the write lock at once (BEGIN IMMEDIATE)."""
        connection = self.connection()
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield connection
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        else:
            connection.execute("COMMIT")

    def query(self, sql: str, parameters: tuple | dict = ()) -> list[sqlite3.Row]:
        return self.connection().execute(sql, parameters).fetchall()

    def query_one(self, sql: str, parameters: tuple | dict = ()) -> sqlite3.Row | None:
        return self.connection().execute(sql, parameters).fetchone()

    def schema_version(self) -> int:
        return int(self.connection().execute("PRAGMA user_version").fetchone()[0])

    def migrate(self) -> None:
        """Bring the schema to SCHEMA_VERSION; refuse a data root from a newer version."""
        try:
            with self.transaction() as connection:
                version = int(connection.execute("PRAGMA user_version").fetchone()[0])
                if version > SCHEMA_VERSION:
                    raise DataCorrupt(
                        f"database {self.path} has schema version {version}, newer than this "
                        f"version of the tool understands ({SCHEMA_VERSION}); upgrade the tool"
                    )
                for step in range(version, SCHEMA_VERSION):
                    for statement in MIGRATIONS[step]:
                        connection.execute(statement)
                    connection.execute(f"PRAGMA user_version = {step + 1}")
        except sqlite3.DatabaseError as error:
            raise DataCorrupt(
                f"database {self.path} is not a usable SQLite file: {error}"
            ) from None

    def setting(self, key: str) -> str | None:
        row = self.query_one("SELECT value FROM settings WHERE key = ?", (key,))
        return None if row is None else str(row[0])

    def remember(self, key: str, value: str) -> str:
        """Store a setting unless one is already there; returns the stored value."""
        with self.transaction() as connection:
            connection.execute(
                "INSERT OR IGNORE INTO settings (key, value) VALUES (?, ?)", (key, value)
            )
            return str(
                connection.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()[0]
            )

    def integrity_check(self) -> str:
        return str(self.connection().execute("PRAGMA integrity_check").fetchone()[0])

    def close(self) -> None:
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None
