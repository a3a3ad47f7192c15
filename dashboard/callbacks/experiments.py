"""The open Experiments page re-drawn when a benchmark run appears, finishes or changes."""

from __future__ import annotations

from typing import Any

from dash import Dash, Input, Output, State, no_update

from dashboard import ids
from dashboard.callbacks.navigation import query_of
from dashboard.pages.experiments import experiments_view, runs_seen
from dashboard.state import DashboardState
from steering_core.bench.location import experiments_dir


def refresh(state: DashboardState, search: str | None, seen: list[list[Any]] | None) -> Any:
    """On the poll: (the view's children, what it shows) when a run appeared, finished or
    changed since the page was drawn; no_update otherwise."""
    now = runs_seen(experiments_dir(state.workspace.data_root))
    if now == (seen or []):
        return no_update, no_update
    return experiments_view(state, query_of(search)).children, now


def register(app: Dash, state: DashboardState) -> None:
    @app.callback(
        Output(ids.EXPERIMENTS, "children"),
        Output(ids.EXPERIMENTS_SEEN, "data"),
        Input(ids.EXPERIMENTS_POLL, "n_intervals"),
        State(ids.URL, "search"),
        State(ids.EXPERIMENTS_SEEN, "data"),
        prevent_initial_call=True,
    )
    def poll(_: int, search: str | None, seen: list[list[Any]] | None) -> Any:
        return refresh(state, search, seen)
