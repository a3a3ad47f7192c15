"""The replay page: the session picker, or one session's view (`steering_core.views`) a page
of rounds at a time."""

from __future__ import annotations

from typing import Any

from dash import dcc, html

from dashboard.callbacks.session import error_message
from dashboard.layout.replay import replay_view, session_list
from dashboard.state import DashboardState
from steering_core.errors import SteeringError
from steering_core.sessions import list_sessions
from steering_core.views.session_view import session_view


def first_round(query: dict[str, str]) -> int:
    """The round a page starts at (`from=20`); anything else than a number starts at 0."""
    text = query.get("from", "")
    return int(text) if text.isdigit() else 0


def replay_page(state: DashboardState, query: dict[str, str]) -> Any:
    """`/replay`: the session picker, or `/replay?session=ID&from=N`: that session's rounds,
    a page of them from round N."""
    session_id = query.get("session")
    try:
        if not session_id:
            return session_list(list_sessions(state.workspace))
        return replay_view(session_view(state.workspace, session_id), first_round(query))
    except SteeringError as error:
        return html.Div([error_message(error), dcc.Link("← every session", href="/replay")])
