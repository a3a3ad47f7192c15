"""The steering page for the session named in the URL (or the newest one)."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc

from dashboard.layout.identity import session_title
from dashboard.layout.steer import setup_panel, steer_page
from dashboard.state import DashboardState
from steering_core.errors import NotFound
from steering_core.generators.base import GENERATORS
from steering_core.models import PREFERENCE_MODELS
from steering_core.samplers import SAMPLERS
from steering_core.sessions import get_session, latest_round_index, list_sessions


def steering_page(state: DashboardState, query: dict[str, str]) -> Any:
    """The steering page for `?session=ID&round=N` (or the newest session, its latest round),
    with its setup panel."""
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
        title = session_title(record.name, record.prompt)
        mode = record.config["feedback_mode"]
        # The settings box shows examples for the plug-ins the open session uses.
        plugins = {
            "session_sampler": record.config["sampler"]["name"],
            "session_model": record.config["preference_model"]["name"],
            "session_name": record.name,
        }
        state.open_session(record.id)
    round_text = query.get("round")
    round_index = None
    if round_text is not None and session_id is not None:
        if not round_text.isdigit():
            return dbc.Alert(f"Round {round_text!r} is not a round number.", color="warning")
        round_index = int(round_text)
        # The latest round is shown as "the latest", so the grid follows the rounds after it.
        if round_index == latest_round_index(state.workspace, session_id):
            round_index = None
    setup = setup_panel(
        GENERATORS.names(),
        SAMPLERS.names(),
        PREFERENCE_MODELS.names(),
        sessions,
        session_id,
        **plugins,
    )
    return steer_page(session_id, title, setup, mode, round_index)
