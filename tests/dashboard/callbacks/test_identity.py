"""The open session's identity without a browser: its title and picker entry, renaming it,
the state line under the title, and forking through the fork dialog."""

from __future__ import annotations

import pytest
from dash import no_update

from dashboard import ids
from dashboard.callbacks.identity import confirm_fork, open_fork_dialog, rename, session_state
from dashboard.pages.steering import steering_page
from dashboard.state import DashboardState
from steering_core.config import SessionConfig, make_config
from steering_core.sessions import create_session, fork_session, get_session, list_sessions
from tests.dashboard.helpers import find, text
from tests.steering_core.helpers import blank_round, stored_state


def test_the_page_and_the_picker_show_the_name_and_the_fork_origin(
    state: DashboardState, tiny_config: SessionConfig
) -> None:
    parent = create_session(state.workspace, tiny_config, name="warm cats")
    blank_round(state.workspace, parent.id)
    _, round1 = blank_round(state.workspace, parent.id)
    fork = fork_session(state.workspace, round1[1].id, name="colder")
    page = steering_page(state, {"session": fork.id})
    assert text(find(page, ids.SESSION_TITLE)) == f"colder — {tiny_config.prompt}"
    labels = {o["value"]: o["label"] for o in find(page, ids.SESSION_PICKER).options}
    assert labels[fork.id].startswith("colder (")
    assert labels[fork.id].endswith(f"fork of #{parent.id}, round 1")
    assert labels[parent.id].startswith("warm cats (") and "fork of" not in labels[parent.id]
    assert find(page, ids.RENAME_NAME).value == "colder"


def test_renaming_the_open_session_changes_its_title_and_a_bad_name_changes_nothing(
    state: DashboardState, tiny_config: SessionConfig
) -> None:
    session = create_session(state.workspace, tiny_config)
    message, title = rename(state, session.id, " warm cats ")
    assert "Renamed: warm cats." in str(message) and title == f"warm cats — {tiny_config.prompt}"
    before = stored_state(state.workspace)
    message, title = rename(state, session.id, "x" * 81)
    assert "name: at most 80 characters (got 81)" in str(message) and title is no_update
    assert stored_state(state.workspace) == before
    message, title = rename(state, session.id, "")
    assert "unnamed" in str(message) and title == tiny_config.prompt


def test_the_state_line_says_round_mode_waiting_judgments_and_who_generates(
    state: DashboardState, tiny_config: SessionConfig
) -> None:
    parent = create_session(state.workspace, tiny_config)
    _, round0 = blank_round(state.workspace, parent.id)
    fork = fork_session(state.workspace, round0[2].id)
    blank_round(state.workspace, fork.id)
    blank_round(state.workspace, fork.id)
    view = {"session_id": fork.id, "round_index": None}
    line = text(session_state(state, view, {"status": "idle"}, None, None))
    assert line == (
        f"#{fork.id} · fork of #{parent.id}, round 0 · round 1 of 1 · "
        f"mode: {tiny_config.feedback_mode.replace('_', ' ')}"
    )
    past = {"session_id": fork.id, "round_index": 0}
    busy = {"status": "running", "own": False}
    line = text(session_state(state, past, busy, {"pending": 2}, "approve_reject"))
    assert line.endswith(
        "round 0 of 1 · mode: approve reject · 2 judgments waiting · "
        "another process (e.g. the CLI) is generating a round"
    )
    own = {"status": "queued", "own": True}
    assert text(session_state(state, view, own, {"pending": 1}, None)).endswith(
        "1 judgment waiting · generating a round"
    )
    assert session_state(state, {"session_id": None}, None, None, None) == ""


def test_forking_asks_for_a_prompt_and_a_name_and_opens_the_fork(
    state: DashboardState, tiny_config: SessionConfig
) -> None:
    parent = create_session(state.workspace, tiny_config)
    _, round0 = blank_round(state.workspace, parent.id)
    is_open, title, prompt, name, chosen, _ = open_fork_dialog(state, round0[3].id)
    assert is_open is True and prompt == tiny_config.prompt and name == ""
    assert title == f"Fork from candidate 4 of round 0 of #{parent.id}"
    search, message, still_open = confirm_fork(state, chosen, "a green square", " greener ")
    (fork,) = [s for s in list_sessions(state.workspace) if s["id"] != parent.id]
    assert search == f"?session={fork['id']}" and still_open is False and message is None
    record = get_session(state.workspace, fork["id"])
    assert (record.prompt, record.name) == ("a green square", "greener")
    assert record.forked_from_candidate_id == round0[3].id
    assert state.job(record.id).status == "queued"  # its first round (the worker is not running)


@pytest.mark.parametrize(
    ("prompt", "name", "expected"),
    [
        ("", "", "prompt: must not be empty"),
        ("a cat", "n" * 81, "name: at most 80 characters"),
    ],
)
def test_a_bad_fork_keeps_the_dialog_open_and_stores_nothing(
    state: DashboardState, tiny_config: SessionConfig, prompt: str, name: str, expected: str
) -> None:
    parent = create_session(state.workspace, tiny_config)
    _, round0 = blank_round(state.workspace, parent.id)
    before = stored_state(state.workspace)
    search, message, still_open = confirm_fork(state, {"candidate_id": round0[1].id}, prompt, name)
    assert search is no_update and still_open is True and expected in str(message)
    assert stored_state(state.workspace) == before


def test_a_pca_session_keeps_its_prompt_when_forked(
    state: DashboardState, tiny_config: SessionConfig
) -> None:
    config = make_config({**tiny_config.to_dict(), "basis": {"kind": "pca"}})
    parent = create_session(state.workspace, config)
    _, round0 = blank_round(state.workspace, parent.id)
    _, message, still_open = confirm_fork(
        state, {"candidate_id": round0[1].id}, "something else", ""
    )
    assert "keeps its prompt" in str(message) and still_open is True
