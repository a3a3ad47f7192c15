"""A snapshot of a data root (every table's rows, every file's SHA-256), to show that a
refused input changed nothing."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path
from typing import Any

DATABASE_FILE = "steering.sqlite3"
# SQLite's own files change on a read (journal, shared memory) without any row changing.
_SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")


def table_rows(database: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, sorted, read through a read-only connection."""
    if not database.exists():
        return {}
    connection = sqlite3.connect(f"{database.as_uri()}?mode=ro", uri=True)
    try:
        names = [
            row[0]
            for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
            )
        ]
        return {
            name: sorted(
                connection.execute(f'SELECT * FROM "{name}"').fetchall(),
                key=repr,
            )
            for name in names
        }
    finally:
        connection.close()


def file_hashes(folder: Path) -> dict[str, str]:
    """The SHA-256 of every file under `folder`, by path relative to it (SQLite's side
    files left out)."""
    if not folder.exists():
        return {}
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and not path.name.endswith(_SQLITE_SIDE_FILES)
    }


def snapshot(data_root: Path, labels_dir: Path | None = None) -> dict[str, Any]:
    """The rows of the data root's database and the hashes of its files and its label
    folder's (DATA_ROOT/labels when not given). The database file itself is compared by
    rows, since SQLite may rewrite its pages without changing a row."""
    labels = labels_dir if labels_dir is not None else data_root / "labels"
    files = file_hashes(data_root)
    files.pop(DATABASE_FILE, None)
    return {
        "rows": table_rows(data_root / DATABASE_FILE),
        "files": files,
        "labels": file_hashes(labels),
    }
