"""Session names (set at creation, renamed, checked) and where a fork came from."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from steering_core.config import SessionConfig
from steering_core.errors import InvalidInput
from steering_core.session_names import MAX_NAME_CHARS, fork_label, session_label
from steering_core.sessions import (
    create_session,
    fork_origin,
    fork_session,
    get_session,
    list_sessions,
    rename_session,
)
from steering_core.status import session_status
from steering_core.storage import database
from steering_core.storage.workspace import Workspace
from tests.steering_core.helpers import blank_round


def test_a_session_keeps_the_name_it_was_given_and_a_new_one(
    workspace: Workspace, tiny_config: SessionConfig
) -> None:
    session = create_session(workspace, tiny_config, name="  warm cats ")
    assert session.name == "warm cats"
    assert rename_session(workspace, session.id, "cold cats").name == "cold cats"
    assert get_session(workspace, session.id).name == "cold cats"
    assert list_sessions(workspace)[0]["name"] == "cold cats"
    assert session_status(workspace, session.id)["name"] == "cold cats"
    assert rename_session(workspace, session.id, "").name == ""
    assert create_session(workspace, tiny_config).name == ""


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("x" * (MAX_NAME_CHARS + 1), f"name: at most {MAX_NAME_CHARS} characters (got 81)"),
        ("two\nlines", "name: one line of text"),
        ("a\ttab", "name: one line of text"),
        (42, "name: must be text (got 42)"),
    ],
)
def test_a_bad_name_is_refused_naming_the_field_and_changes_nothing(
    workspace: Workspace, tiny_config: SessionConfig, name: object, expected: str
) -> None:
    session = create_session(workspace, tiny_config, name="kept")
    with pytest.raises(InvalidInput, match=re.escape(expected)):
        rename_session(workspace, session.id, name)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match=re.escape(expected)):
        create_session(workspace, tiny_config, name=name)  # type: ignore[arg-type]
    assert get_session(workspace, session.id).name == "kept"
    assert len(list_sessions(workspace)) == 1


def test_a_fork_knows_the_session_and_round_it_came_from(
    workspace: Workspace, tiny_config: SessionConfig
) -> None:
    parent = create_session(workspace, tiny_config)
    blank_round(workspace, parent.id)
    _, round1 = blank_round(workspace, parent.id)
    fork = fork_session(workspace, round1[2].id, {"prompt": "a green square"}, name="green")
    assert fork.name == "green" and fork.prompt == "a green square"
    origin = fork_origin(workspace, fork)
    assert origin is not None and (origin.session_id, origin.round_index) == (parent.id, 1)
    assert fork_origin(workspace, parent) is None
    rows = {row["id"]: row for row in list_sessions(workspace)}
    assert (rows[fork.id]["forked_from_session"], rows[fork.id]["forked_from_round"]) == (
        parent.id,
        1,
    )
    assert rows[parent.id]["forked_from_session"] is None
    assert session_status(workspace, fork.id)["forked_from"] == {
        "candidate_id": round1[2].id,
        "session_id": parent.id,
        "round_index": 1,
        "number": 3,
    }
    assert fork_label(parent.id, 1) == f"fork of #{parent.id}, round 1"
    assert session_label(fork.id, "green") == f"green (#{fork.id})"
    assert session_label(parent.id, "") == f"#{parent.id}"
    with pytest.raises(InvalidInput, match="name: at most"):
        fork_session(workspace, round1[2].id, name="y" * 200)
    assert len(list_sessions(workspace)) == 2


def test_a_data_root_from_before_names_opens_with_its_sessions_unnamed(tmp_path: Path) -> None:
    path = tmp_path / "data" / "steering.sqlite"
    path.parent.mkdir(parents=True)
    connection = sqlite3.connect(path)
    for step in database.MIGRATIONS[:5]:  # the schema before names (version 5)
        for statement in step:
            connection.execute(statement)
    connection.execute("PRAGMA user_version = 5")
    connection.execute(
        "INSERT INTO sessions (id, created_at, prompt, config_json) "
        "VALUES ('old', '2025-01-01', 'a cat', '{}')"
    )
    connection.commit()
    connection.close()
    reopened = database.Database(path)
    assert reopened.schema_version() == database.SCHEMA_VERSION
    assert reopened.query_one("SELECT name FROM sessions WHERE id = 'old'")[0] == ""
