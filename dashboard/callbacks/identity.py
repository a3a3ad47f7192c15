"""The open session's identity: renaming it, the state line under its title, and forking
from a candidate through the fork dialog (a new prompt and a name, both optional)."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import Dash, Input, Output, State, no_update

from dashboard import ids
from dashboard.callbacks.session import error_message
from dashboard.layout.identity import session_title, status_line, status_parts
from dashboard.state import DashboardState
from steering_core.errors import SteeringError
from steering_core.session_names import fork_label
from steering_core.sessions import (
    fork_origin,
    fork_session,
    get_candidate,
    get_session,
    latest_round_index,
    rename_session,
)
from steering_core.views.judgment_words import card_name

RUNNING = ("queued", "running")


def rename(state: DashboardState, session_id: str | None, name: str | None) -> tuple[Any, Any]:
    """Rename the open session; returns (message, the page's new title)."""
    if not session_id:
        return dbc.Alert("Open a session first.", color="warning", className="py-1"), no_update
    try:
        record = rename_session(state.workspace, session_id, name)
    except SteeringError as error:
        return error_message(error), no_update
    said = f"Renamed: {record.name}." if record.name else "The session is unnamed now."
    message = dbc.Alert(said, color="success", className="py-1")
    return message, session_title(record.name, record.prompt)


def round_text(latest: int | None, shown: int | None) -> str:
    """'round 3 of 5' (the round on screen, of the latest), or that none is stored yet."""
    if latest is None:
        return "no round yet"
    return f"round {latest if shown is None else shown} of {latest}"


def generating_text(job: dict[str, Any] | None) -> str:
    """Who is generating a round of the session now ('' when nobody is)."""
    if not job or job.get("status") not in RUNNING:
        return ""
    if job.get("own", True):
        return "generating a round"
    return "another process (e.g. the CLI) is generating a round"


def session_state(
    state: DashboardState,
    view: dict[str, Any] | None,
    job: dict[str, Any] | None,
    outbox: dict[str, Any] | None,
    mode: str | None,
) -> Any:
    """The state line: id, fork origin, round, mode, waiting judgments (the outbox that
    assets/judging.js publishes), and whether a round is being generated, and by whom."""
    session_id = (view or {}).get("session_id")
    if not session_id:
        return ""
    try:
        session = get_session(state.workspace, session_id)
        origin = fork_origin(state.workspace, session)
        latest = latest_round_index(state.workspace, session_id)
    except SteeringError:
        return ""  # the grid says what is wrong
    fork = "" if origin is None else fork_label(origin.session_id, origin.round_index)
    parts = status_parts(
        session.id,
        fork,
        round_text(latest, (view or {}).get("round_index")),
        mode or session.config["feedback_mode"],
        int((outbox or {}).get("pending") or 0),
        generating_text(job),
    )
    return status_line(parts)


def open_fork_dialog(state: DashboardState, candidate_id: int | None) -> tuple[Any, ...]:
    """(open, title, prompt, name, candidate, message) of the fork dialog for a candidate:
    the prompt starts as its session's, the name empty."""
    if candidate_id is None:
        return (no_update,) * 6
    try:
        candidate = get_candidate(state.workspace, int(candidate_id))
        parent = get_session(state.workspace, candidate.session_id)
    except SteeringError as error:
        return no_update, no_update, no_update, no_update, no_update, error_message(error)
    title = f"Fork from {card_name(candidate)} of #{candidate.session_id}"
    return True, title, parent.prompt, "", {"candidate_id": candidate.id}, None


def confirm_fork(
    state: DashboardState, forked: dict[str, Any] | None, prompt: str | None, name: str | None
) -> tuple[Any, Any, Any]:
    """Fork with the dialog's prompt (unchanged: the parent's) and name, and queue the fork's
    first round; returns (URL search, dialog message, dialog open)."""
    candidate_id = (forked or {}).get("candidate_id")
    if candidate_id is None:
        return no_update, no_update, no_update
    try:
        candidate = get_candidate(state.workspace, int(candidate_id))
        parent = get_session(state.workspace, candidate.session_id)
        overrides = {} if prompt in (None, parent.prompt) else {"prompt": prompt}
        record = fork_session(state.workspace, candidate.id, overrides, name=name)
        state.start_round(record.id)
    except SteeringError as error:
        return no_update, error_message(error), True
    return f"?session={record.id}", None, False


def register(app: Dash, state: DashboardState) -> None:
    @app.callback(
        Output(ids.RENAME_MESSAGE, "children"),
        Output(ids.SESSION_TITLE, "children", allow_duplicate=True),
        Input(ids.RENAME, "n_clicks"),
        State(ids.SESSION, "data"),
        State(ids.RENAME_NAME, "value"),
        prevent_initial_call=True,
    )
    def renamed(clicks: int | None, session: dict | None, name: str | None) -> Any:
        if not clicks:  # built with the page, not clicked
            return no_update, no_update
        return rename(state, (session or {}).get("session_id"), name)

    @app.callback(
        Output(ids.SESSION_STATUS, "children"),
        Input(ids.VIEW, "data"),
        Input(ids.VERSION, "data"),
        Input(ids.JOB, "data"),
        Input(ids.OUTBOX, "data"),
        Input(ids.MODE_SWITCH, "value"),
    )
    def glance(view: dict | None, _: Any, job: dict | None, outbox: dict | None, mode: Any) -> Any:
        return session_state(state, view, job, outbox, mode)

    # The browser tab says which session is open.
    app.clientside_callback(
        """function (title) {
            document.title = (title ? title + " · " : "") + "StableSteering";
            return typeof title === "string" ? title : "";
        }""",
        Output(ids.SESSION_TITLE, "title"),
        Input(ids.SESSION_TITLE, "children"),
    )

    @app.callback(
        Output(ids.FORK_DIALOG, "is_open"),
        Output(ids.FORK_DIALOG_TITLE, "children"),
        Output(ids.FORK_PROMPT, "value"),
        Output(ids.FORK_NAME, "value"),
        Output(ids.FORK_CANDIDATE, "data"),
        Output(ids.FORK_MESSAGE, "children"),
        Input(ids.FORK, "n_clicks"),
        State(ids.INSPECTED, "data"),
        prevent_initial_call=True,
    )
    def ask_fork(clicks: int | None, inspected: dict | None) -> Any:
        if not clicks:
            return (no_update,) * 6
        return open_fork_dialog(state, (inspected or {}).get("candidate_id"))

    @app.callback(
        Output(ids.URL, "search", allow_duplicate=True),
        Output(ids.FORK_MESSAGE, "children", allow_duplicate=True),
        Output(ids.FORK_DIALOG, "is_open", allow_duplicate=True),
        Input(ids.FORK_CONFIRM, "n_clicks"),
        State(ids.FORK_CANDIDATE, "data"),
        State(ids.FORK_PROMPT, "value"),
        State(ids.FORK_NAME, "value"),
        prevent_initial_call=True,
    )
    def fork_now(clicks: int | None, forked: dict | None, prompt: Any, name: Any) -> Any:
        if not clicks:
            return no_update, no_update, no_update
        return confirm_fork(state, forked, prompt, name)

    @app.callback(
        Output(ids.FORK_DIALOG, "is_open", allow_duplicate=True),
        Input(ids.FORK_CANCEL, "n_clicks"),
        prevent_initial_call=True,
    )
    def cancel_fork(clicks: int | None) -> Any:
        return False if clicks else no_update
