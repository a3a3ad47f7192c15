"""Starting and re-configuring sessions from the setup panel, without a browser."""

from __future__ import annotations

from pathlib import Path

import pytest
from dash import no_update

from dashboard.callbacks.session import apply_settings, new_session_config, start_session
from dashboard.state import DashboardState
from steering_core.config import SessionConfig
from steering_core.sessions import create_session, get_session, list_sessions
from tests.steering_core.helpers import stored_state

FORM = {
    "prompt": "a red circle on a blue background",
    "negative_prompt": "",
    "preset": "fast-explore",
    "generator": "builtin",
    "model_path": None,
    "sampler": "thompson",
    "preference_model": "ideal_point",
    "feedback_mode": "ranking",
    "k": 6,
    "d": None,
    "steps": 10,
    "guidance_scale": 5.0,
}


def test_the_form_becomes_a_session_config() -> None:
    config = new_session_config(FORM)
    assert config["generator"] == {"backend": "builtin"}
    assert config["sampler"] == {"name": "thompson"} and config["k"] == 6
    assert "d" not in config  # the preset decides


def test_starting_a_session_queues_its_first_round(
    state: DashboardState, tiny_sd_path: Path
) -> None:
    form = {**FORM, "generator": "diffusers", "model_path": str(tiny_sd_path), "k": 4}
    search, message = start_session(state, {**form, "name": " warm cats "})
    (session,) = list_sessions(state.workspace)
    assert session["name"] == "warm cats"
    assert search == f"?session={session['id']}" and "started" in str(message)
    assert get_session(state.workspace, session["id"]).config["d"] == 4  # fast-explore
    assert state.job(session["id"]).status == "queued"  # the worker is not running here


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"prompt": ""}, "prompt"),
        ({"k": 99}, "k"),
        ({"steps": 0}, "steps"),
        ({"model_path": "/no/such/model"}, "generator.model"),
        ({"sampler": "no_such_sampler"}, "sampler"),
        ({"name": "n" * 81}, "name: at most 80 characters"),
        ({"name": "two\nlines"}, "name: one line of text"),
    ],
)
def test_a_bad_form_says_which_field_and_stores_nothing(
    state: DashboardState, change: dict, expected: str
) -> None:
    before = stored_state(state.workspace)
    search, message = start_session(state, {**FORM, **change})
    assert search is no_update
    assert "Invalid input" in str(message) and expected in str(message)
    assert stored_state(state.workspace) == before


def test_settings_apply_from_the_next_round(
    state: DashboardState, tiny_config: SessionConfig
) -> None:
    session = create_session(state.workspace, tiny_config)
    message = apply_settings(state, session.id, 0.4, None, '{"prior_strength": 2.0}')
    assert "trust_radius" in str(message) and "preference_model" in str(message)
    config = get_session(state.workspace, session.id).config
    assert config["trust_radius"] == 0.4
    assert config["preference_model"]["params"] == {"prior_strength": 2.0}


@pytest.mark.parametrize(
    ("radius", "sampler", "model", "expected"),
    [
        (9, None, None, "trust radius: above 0, at most 2 (got 9)"),
        (None, "{not json", None, "sampler settings: not valid JSON"),
        (None, "[1, 2]", None, "sampler settings: must be a JSON object"),
        (None, None, '{"no_such_parameter": 1}', "no_such_parameter"),
    ],
)
def test_bad_settings_say_what_is_wrong_and_change_nothing(
    state: DashboardState,
    tiny_config: SessionConfig,
    radius: object,
    sampler: str | None,
    model: str | None,
    expected: str,
) -> None:
    session = create_session(state.workspace, tiny_config)
    before = stored_state(state.workspace)
    message = apply_settings(state, session.id, radius, sampler, model)
    assert expected in str(message)
    assert stored_state(state.workspace) == before


def test_a_number_out_of_range_names_its_field_and_range_and_starts_nothing(
    state: DashboardState,
) -> None:
    before = stored_state(state.workspace)
    search, message = start_session(state, {**FORM, "k": 50, "guidance_scale": 31})
    assert search is no_update
    assert "k: 2-32 (got 50)" in str(message) and "guidance: 0-30 (got 31)" in str(message)
    assert stored_state(state.workspace) == before


def test_a_trust_radius_out_of_range_names_its_range_and_changes_nothing(
    state: DashboardState, tiny_config: SessionConfig
) -> None:
    session = create_session(state.workspace, tiny_config)
    before = stored_state(state.workspace)
    message = apply_settings(state, session.id, 5, None, None)
    assert "trust radius: above 0, at most 2 (got 5)" in str(message)
    assert "Nothing to change" not in str(message)
    assert stored_state(state.workspace) == before
