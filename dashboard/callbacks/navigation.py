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
from dashboard.pages.experiments import experiments_page
from dashboard.pages.replay import replay_page
from dashboard.pages.steering import steering_page
from dashboard.state import DashboardState

# Every page: path -> builder(state, query) -> component.
PAGE_BUILDERS: dict[str, Callable[[DashboardState, dict[str, str]], Any]] = {
    "/": steering_page,
    "/replay": replay_page,
    "/experiments": experiments_page,
    "/diagnostics": diagnostics_page,
}


def query_of(search: str | None) -> dict[str, str]:
    """`?session=abc&round=2` as {"session": "abc", "round": "2"} (first value of each)."""
    return {key: values[0] for key, values in parse_qs((search or "").lstrip("?")).items()}


def render_page(state: DashboardState, pathname: str | None, search: str | None) -> Any:
    """The page component for a URL."""
    path = (pathname or "/").rstrip("/") or "/"
    builder = PAGE_BUILDERS.get(path)
    if builder is None:
        return dbc.Alert([html.Strong("No such page: "), path], color="warning")
    return builder(state, query_of(search))


def register(app: Dash, state: DashboardState) -> None:
    @app.callback(
        Output(ids.PAGE, "children"),
        Input(ids.URL, "pathname"),
        Input(ids.URL, "search"),
    )
    def page(pathname: str | None, search: str | None) -> Any:
        return render_page(state, pathname, search)
