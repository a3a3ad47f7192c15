"""The steering page for the session named in the URL (or the newest one)."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc

from dashboard.layout.steer import setup_panel, steer_page
from dashboard.state import DashboardState
from steering_core.errors import NotFound
from steering_core.generators.base import GENERATORS
from steering_core.models import PREFERENCE_MODELS
from steering_core.samplers import SAMPLERS
from steering_core.sessions import get_session, list_sessions


def steering_page(state: DashboardState, query: dict[str, str]) -> Any:
    """The steering page for `?session=ID` (or the newest session), with its setup panel."""
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
