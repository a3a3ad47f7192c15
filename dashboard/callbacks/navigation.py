"""Which page the URL shows: `/` steering (with `?session=ID`), replay, experiments,
diagnostics."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

import dash_bootstrap_components as dbc
from dash import Dash, Input, Output, html

from dashboard import ids
from dashboard.callbacks.diagnostics import diagnostics_page
from dashboard.callbacks.experiments import experiments_page
from dashboard.callbacks.replay import replay_page
from dashboard.layout.steer import setup_panel, steer_page
from dashboard.state import DashboardState
from steering_core.errors import NotFound
from steering_core.generators.base import GENERATORS
from steering_core.models import PREFERENCE_MODELS
from steering_core.samplers import SAMPLERS
from steering_core.sessions import get_session, list_sessions

# Pages other than steering register here: path -> builder(state, query) -> component.
PAGE_BUILDERS: dict[str, Callable[[DashboardState, dict[str, str]], Any]] = {
    "/replay": replay_page,
    "/experiments": experiments_page,
    "/diagnostics": diagnostics_page,
}


def query_of(search: str | None) -> dict[str, str]:
    """`?session=abc&round=2` as {"session": "abc", "round": "2"} (first value of each)."""
    return {key: values[0] for key, values in parse_qs((search or "").lstrip("?")).items()}


def steering(state: DashboardState, query: dict[str, str]) -> Any:
    """The steering page for the session named in the URL (or the newest one)."""
    sessions = list_sessions(state.workspace)
    session_id = query.get("session")
    if session_id is None and sessions:
        session_id = sessions[0]["id"]
    title = "No session yet: start one on the left"
    mode = None
    plugins: dict[str, str] = {}
    if session_id is not None:
        try:
            record = get_session(state.workspace, session_id)
        except NotFound:
            return dbc.Alert(f"No session {session_id} in this data root.", color="warning")
        title = record.prompt
        mode = record.config["feedback_mode"]
        # The settings box shows examples for the plug-ins the open session uses.
        plugins = {
            "session_sampler": record.config["sampler"]["name"],
            "session_model": record.config["preference_model"]["name"],
        }
        state.open_session(record.id)
    setup = setup_panel(
        GENERATORS.names(),
        SAMPLERS.names(),
        PREFERENCE_MODELS.names(),
        sessions,
        session_id,
        **plugins,
    )
    return steer_page(session_id, title, setup, mode)


def render_page(state: DashboardState, pathname: str | None, search: str | None) -> Any:
    """The page component for a URL."""
    path = (pathname or "/").rstrip("/") or "/"
    query = query_of(search)
    if path == "/":
        return steering(state, query)
    builder = PAGE_BUILDERS.get(path)
    if builder is None:
        return dbc.Alert([html.Strong("No such page: "), path], color="warning")
    return builder(state, query)


def register(app: Dash, state: DashboardState) -> None:
    @app.callback(
        Output(ids.PAGE, "children"),
        Input(ids.URL, "pathname"),
        Input(ids.URL, "search"),
    )
    def page(pathname: str | None, search: str | None) -> Any:
        return render_page(state, pathname, search)
