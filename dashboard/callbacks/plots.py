"""The steering page's side column: its two key curves (the full curves and the steering
space have callbacks of their own in `callbacks.space`)."""

from __future__ import annotations

from typing import Any

from dash import Dash, Input, Output, State

from dashboard import ids
from dashboard.figures.curves import empty_curves_figure
from dashboard.figures.key_curves import key_curves_figure
from dashboard.state import DashboardState
from steering_core.errors import SteeringError
from steering_core.views.curve_tables import curve_series


def key_curves(state: DashboardState, session_id: str | None) -> Any:
    """The two key curves of a session, or a blank figure that says why there are none."""
    if not session_id:
        return empty_curves_figure("No session yet", title="")
    try:
        return key_curves_figure(curve_series(state.workspace, session_id))
    except SteeringError as error:
        return empty_curves_figure(str(error), title="")


def register(app: Dash, state: DashboardState) -> None:
    @app.callback(
        Output(ids.KEY_CURVES, "figure"),
        Input(ids.VERSION, "data"),
        State(ids.SESSION, "data"),
    )
    def live_key_curves(_: str | None, session: dict | None) -> Any:
        return key_curves(state, (session or {}).get("session_id"))
