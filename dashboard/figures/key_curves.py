"""The two key curves beside the grid: is the incumbent getting better, and is another round
worth it; compact, for the steering page's side column (all curves: `curves.curves_figure`)."""

from __future__ import annotations

import math

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from steering_core.views.curve_traces import utility_traces, value_traces
from steering_core.views.curve_values import STOP_BELOW_PERCENT

KEY_CURVE_TITLES = ("Incumbent's predicted utility", "Value of another round (%)")
# Small print for a ~340 px wide column; the figure has no height of its own: the graph is
# responsive and takes the height the page's CSS gives it.
FONT_SIZE = 10


def _note(figure: go.Figure, row: int, text: str) -> None:
    """Say in an empty panel why it is empty (a text trace, so that the axis is drawn there)."""
    figure.add_trace(
        go.Scatter(
            x=[0.5],
            y=[0.5],
            mode="text",
            text=[text],
            textfont={"size": FONT_SIZE, "color": "#888"},
            hoverinfo="skip",
        ),
        row=row,
        col=1,
    )
    hidden = {"visible": False, "range": [0, 1], "fixedrange": True}
    figure.update_xaxes(**hidden, row=row, col=1)
    figure.update_yaxes(**hidden, row=row, col=1)


def key_curves_figure(series: dict[str, list]) -> go.Figure:
    """Utility (with its band) and the value of another round, one above the other, from a
    session's `space_view.round_series`."""
    rounds = [int(r) for r in series.get("round_index") or []]
    figure = make_subplots(
        rows=2, cols=1, subplot_titles=KEY_CURVE_TITLES, vertical_spacing=0.2, shared_xaxes=False
    )
    utility = utility_traces(series, rounds, marker_size=5) if rounds else []
    if utility:
        figure.add_traces(utility, rows=1, cols=1)
    else:
        _note(figure, 1, "no utility yet: judge a round")
    value = value_traces(series, rounds) if rounds else []
    if value:
        figure.add_traces(value, rows=2, cols=1)
        figure.add_hline(
            y=STOP_BELOW_PERCENT,
            line={"dash": "dash", "color": "#D55E00", "width": 1},
            row=2,
            col=1,
        )
        figure.update_yaxes(type="log", dtick=1, row=2, col=1)
    else:
        _note(figure, 2, "not measured yet (needs judgments)")
    step = max(1, math.ceil((rounds[-1] if rounds else 1) / 6))
    for row, filled in ((1, utility), (2, value)):
        if filled:
            figure.update_xaxes(tickformat="d", tick0=0, dtick=step, row=row, col=1)
    figure.update_annotations(font_size=FONT_SIZE + 1, selector={"yref": "paper"})
    figure.update_layout(
        template="plotly_white",
        showlegend=False,
        font={"size": FONT_SIZE},
        margin={"l": 38, "r": 8, "t": 22, "b": 22},
        hovermode="closest",
        uirevision="key-curves",
    )
    return figure
