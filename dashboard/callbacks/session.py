"""Starting, opening and re-configuring sessions from the setup panel."""

from __future__ import annotations

import json
from typing import Any

import dash_bootstrap_components as dbc
from dash import Dash, Input, Output, State, html, no_update

from dashboard import ids
from dashboard.layout import setup_defaults as defaults
from dashboard.state import DashboardState
from steering_core.config import make_config
from steering_core.errors import InvalidInput, SteeringError
from steering_core.sessions import change_settings, create_session, get_session


def error_message(error: SteeringError) -> dbc.Alert:
    """A core error as the page shows it: its kind, then the message naming the field."""
    colour = "warning" if error.kind == "invalid input" else "danger"
    return dbc.Alert([f"{error.kind.capitalize()}: ", str(error)], color=colour, className="py-2")


def new_session_config(form: dict[str, Any]) -> dict[str, Any]:
    """The setup form's values as a session config mapping; an empty field is left out, so
    the config's default applies (the dashboard's own sampler and model for those two)."""
    config: dict[str, Any] = {
        "prompt": form.get("prompt") or "",
        "negative_prompt": form.get("negative_prompt") or "",
        "generator": {},
        "sampler": {"name": form.get("sampler") or defaults.SAMPLER},
        "preference_model": {"name": form.get("preference_model") or defaults.PREFERENCE_MODEL},
    }
    if form.get("generator"):
        config["generator"]["backend"] = form["generator"]
    if form.get("model_path"):
        config["generator"]["model"] = form["model_path"]
    for field in ("preset", "feedback_mode", "k", "d", "steps", "guidance_scale"):
        if form.get(field) not in (None, ""):
            config[field] = form[field]
    return config


# The setup form's number fields: form key -> (SessionConfig field, the label on the page).
NUMBER_FIELDS = {
    "k": ("k", "k"),
    "d": ("d", "d"),
    "steps": ("steps", "steps"),
    "guidance_scale": ("guidance_scale", "guidance"),
}


def range_errors(form: dict[str, Any]) -> dict[str, str]:
    """Each number field of the form outside the config's bounds, with what is wrong
    ({"k": "k: 2-32 (got 50)"}); the page marks those fields."""
    errors = {}
    for key, (field, label) in NUMBER_FIELDS.items():
        error = defaults.out_of_range(field, label, form.get(key))
        if error:
            errors[key] = error
    return errors


def range_message(errors: dict[str, str]) -> dbc.Alert:
    """Out-of-range fields as one warning, one field a line, like a core error's."""
    lines = [html.Div(f"Invalid input: {error}") for error in errors.values()]
    return dbc.Alert(lines, color="warning", className="py-2")


def start_session(state: DashboardState, form: dict[str, Any]) -> tuple[Any, Any]:
    """Create the session, queue its first round; returns (URL search, message)."""
    errors = range_errors(form)
    if errors:
        return no_update, range_message(errors)
    try:
        config = make_config(new_session_config(form), source="new session")
        record = create_session(state.workspace, config, name=form.get("name"))
        state.start_round(record.id)
    except SteeringError as error:
        return no_update, error_message(error)
    return f"?session={record.id}", dbc.Alert("Session started.", color="success")


def parse_params(text: str | None, field: str) -> dict[str, Any] | None:
    """A settings box's JSON object (None when empty); errors name the box."""
    if not text or not text.strip():
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidInput(
            f"{field}: not valid JSON ({error.msg} at column {error.colno})"
        ) from None
    if not isinstance(value, dict):
        raise InvalidInput(f'{field}: must be a JSON object like {{"name": value}}')
    return value


def apply_settings(
    state: DashboardState,
    session_id: str | None,
    trust_radius: float | None,
    sampler_params: str | None,
    model_params: str | None,
) -> dbc.Alert:
    """Change the session's settings from its next round on; says what changed."""
    if not session_id:
        return dbc.Alert("Open a session first.", color="warning")
    error = defaults.out_of_range("trust_radius", "trust radius", trust_radius)
    if error:
        return range_message({"trust_radius": error})
    try:
        session = get_session(state.workspace, session_id)
        changes: dict[str, Any] = {}
        if trust_radius not in (None, ""):
            changes["trust_radius"] = trust_radius
        sampler = parse_params(sampler_params, "sampler settings")
        if sampler is not None:
            changes["sampler"] = {"name": session.config["sampler"]["name"], "params": sampler}
        model = parse_params(model_params, "model settings")
        if model is not None:
            changes["preference_model"] = {
                "name": session.config["preference_model"]["name"],
                "params": model,
            }
        if not changes:
            return dbc.Alert("Nothing to change.", color="secondary")
        change_settings(state.workspace, session_id, changes)
    except SteeringError as error:
        return error_message(error)
    return dbc.Alert(f"Applies from the next round: {', '.join(changes)}.", color="success")


def register(app: Dash, state: DashboardState) -> None:
    @app.callback(
        Output(ids.URL, "search", allow_duplicate=True),
        Output(ids.SETUP_MESSAGE, "children"),
        Output(ids.K, "invalid"),
        Output(ids.D, "invalid"),
        Output(ids.STEPS, "invalid"),
        Output(ids.GUIDANCE, "invalid"),
        Input(ids.START, "n_clicks"),
        State(ids.PROMPT, "value"),
        State(ids.NEGATIVE_PROMPT, "value"),
        State(ids.PRESET, "value"),
        State(ids.GENERATOR, "value"),
        State(ids.MODEL_PATH, "value"),
        State(ids.SAMPLER, "value"),
        State(ids.PREFERENCE_MODEL, "value"),
        State(ids.FEEDBACK_MODE, "value"),
        State(ids.K, "value"),
        State(ids.D, "value"),
        State(ids.STEPS, "value"),
        State(ids.GUIDANCE, "value"),
        State(ids.SESSION_NAME, "value"),
        prevent_initial_call=True,
    )
    def start(clicks: int | None, *values: Any) -> tuple[Any, ...]:
        # The steering page is built by the router after load, and Dash runs callbacks of
        # components inserted that way despite prevent_initial_call: only a click starts.
        if not clicks:
            return (no_update,) * 6
        names = [
            "prompt",
            "negative_prompt",
            "preset",
            "generator",
            "model_path",
            "sampler",
            "preference_model",
            "feedback_mode",
            "k",
            "d",
            "steps",
            "guidance_scale",
            "name",
        ]
        form = dict(zip(names, values, strict=True))
        errors = range_errors(form)
        marks = tuple(key in errors for key in NUMBER_FIELDS)
        return (*start_session(state, form), *marks)

    @app.callback(
        Output(ids.URL, "search", allow_duplicate=True),
        Input(ids.RESUME, "n_clicks"),
        State(ids.SESSION_PICKER, "value"),
        prevent_initial_call=True,
    )
    def resume(_: int, session_id: str | None) -> Any:
        return f"?session={session_id}" if session_id else no_update

    @app.callback(
        Output(ids.SETTINGS_MESSAGE, "children"),
        Output(ids.TRUST_RADIUS, "invalid"),
        Input(ids.APPLY_SETTINGS, "n_clicks"),
        State(ids.SESSION, "data"),
        State(ids.TRUST_RADIUS, "value"),
        State(ids.SAMPLER_PARAMS, "value"),
        State(ids.MODEL_PARAMS, "value"),
        prevent_initial_call=True,
    )
    def settings(
        clicks: int | None, session: dict, radius: Any, sampler: Any, model: Any
    ) -> tuple[Any, Any]:
        if not clicks:  # built with the page, not clicked (see `start`)
            return no_update, no_update
        message = apply_settings(state, (session or {}).get("session_id"), radius, sampler, model)
        return message, defaults.out_of_range("trust_radius", "trust radius", radius) is not None
