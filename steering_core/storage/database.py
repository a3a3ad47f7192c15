"""SQLite (WAL) system of record: schema, migrations, per-thread connections, transactions.

Every write runs in `BEGIN IMMEDIATE` so that two processes on one data root serialize their
writes instead of failing; `synchronous=FULL` makes a committed transaction durable before
the call that made it returns.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from steering_core.errors import DataCorrupt

SCHEMA_VERSION = 6

# What a busy or unreachable data root raises (a lock held too long, a vanished disk): the
# caller may keep what it was storing and try again.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    sqlite3.OperationalError,
    TimeoutError,
    OSError,
)

# What SQLite raises when another process held the database's lock past the busy timeout.
DatabaseBusy = sqlite3.OperationalError

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
    [
        # When the process running a job started (seconds since the epoch), so that a job
        # whose process is gone is told apart from one of a new process given the same pid.
        "ALTER TABLE jobs ADD COLUMN process_started REAL",
    ],
    [
        # A researcher's name for a session ('' when unnamed), shown beside its id.
        "ALTER TABLE sessions ADD COLUMN name TEXT NOT NULL DEFAULT ''",
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

    @contextmanager
    def read_snapshot(self) -> Iterator[sqlite3.Connection]:
        """One read transaction: what another process commits meanwhile is either wholly
        seen or not at all. Inside a transaction already, that one is the snapshot."""
        connection = self.connection()
        if connection.in_transaction:
            yield connection
            return
        connection.execute("BEGIN")
        try:
            yield connection
        finally:
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


# Tables whose rows have an INTEGER PRIMARY KEY `id` (the ones a restore may renumber).
NUMBERED_TABLES = ("rounds", "candidates", "feedback_events", "comparisons", "setting_changes")


def ids_in_use(connection: sqlite3.Connection, table: str, ids: list[int]) -> set[int]:
    """Which of `ids` rows of `table` already have."""
    if table not in NUMBERED_TABLES:
        raise ValueError(f"{table} is not a numbered table")
    rows = connection.execute(
        f"SELECT id FROM {table} WHERE id IN (SELECT value FROM json_each(?))", (json.dumps(ids),)
    ).fetchall()
    return {row[0] for row in rows}


def highest_id(connection: sqlite3.Connection, table: str) -> int:
    """The highest id of a row of `table` (0 when it has none)."""
    if table not in NUMBERED_TABLES:
        raise ValueError(f"{table} is not a numbered table")
    return int(connection.execute(f"SELECT MAX(id) FROM {table}").fetchone()[0] or 0)


def defer_foreign_keys(connection: sqlite3.Connection) -> None:
    """Check the links between rows once, at commit, for the rest of this transaction (for
    rows inserted table by table rather than in the order they were made)."""
    connection.execute("PRAGMA defer_foreign_keys = ON")


# Every table of sessions, children first, so that emptying them never trips over a reference.
SESSION_TABLES = (
    "comparisons",
    "feedback_events",
    "candidates",
    "rounds",
    "setting_changes",
    "synthetic_targets",
    "sessions",
)


def make_scratch(connection: sqlite3.Connection) -> None:
    """Turn off what only a lasting database needs: durability (nothing in a scratch database
    must survive a crash) and foreign keys (candidates of other sessions, such as a fork's
    origin, are not in it)."""
    connection.execute("PRAGMA foreign_keys = OFF")
    connection.execute("PRAGMA synchronous = OFF")


def delete_all_sessions(connection: sqlite3.Connection) -> None:
    """Empty every table of sessions (of a scratch database; call inside a transaction)."""
    for table in SESSION_TABLES:
        connection.execute(f"DELETE FROM {table}")
