"""The two key curves beside the grid, which answer "is it learning me?": how often the model
predicted the researcher's next choice before seeing it, and the incumbent's utility; compact,
for the steering page's side column (all curves: `curves.curves_figure`)."""

from __future__ import annotations

import math

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from steering_core.views.curve_tables import next_choice_frame
from steering_core.views.curve_traces import next_choice_traces, utility_traces
from steering_core.views.curve_values import PROMPT_REFERENCE, utility_from_prompt

KEY_CURVE_TITLES = ("Predicted your next choice (%)", "Incumbent's utility")
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
    """Next-choice accuracy (with chance) above the incumbent's utility (with its band and
    the "0 = the prompt" line), from a session's `curve_tables.curve_series`."""
    rounds = [int(r) for r in series.get("round_index") or []]
    figure = make_subplots(
        rows=2, cols=1, subplot_titles=KEY_CURVE_TITLES, vertical_spacing=0.2, shared_xaxes=False
    )
    accuracy = next_choice_traces(next_choice_frame(series)) if rounds else []
    if accuracy:
        figure.add_traces(accuracy, rows=1, cols=1)
        figure.update_yaxes(range=[-5, 105], row=1, col=1)
    else:
        _note(figure, 1, "needs two judged rounds")
    utility = utility_traces(series, rounds, marker_size=5) if rounds else []
    if utility:
        figure.add_traces(utility, rows=2, cols=1)
        if utility_from_prompt(series):
            figure.add_hline(
                y=0,
                line={"dash": "dot", "color": "#666", "width": 1},
                annotation={"text": PROMPT_REFERENCE, "font": {"size": 9, "color": "#666"}},
                annotation_position="bottom left",
                row=2,
                col=1,
            )
    else:
        _note(figure, 2, "no utility yet: judge a round")
    step = max(1, math.ceil((rounds[-1] if rounds else 1) / 6))
    for row, filled in ((1, accuracy), (2, utility)):
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
