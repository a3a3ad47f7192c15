"""The live curves of a session, one above the other so that they read in a narrow column:
how well the model predicted the researcher's choices before seeing them, incumbent utility,
value of another round, step size, model loss, decision time and (synthetic sessions)
distance to target, with the latest verdict."""

from __future__ import annotations

import math
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from steering_core.views.curve_tables import next_choice_frame
from steering_core.views.curve_traces import (
    decision_traces,
    distance_traces,
    next_choice_traces,
    utility_traces,
    value_traces,
)
from steering_core.views.curve_values import (
    LINE,
    PROMPT_REFERENCE,
    STOP_BELOW_PERCENT,
    UTILITY_AXIS,
    VERDICT_COLOURS,
    plotted_number,
    plotted_numbers,
    utility_from_prompt,
)

# How many fits the loss panel draws: the latest in colour, the ones before it in grey.
LOSS_FITS_SHOWN = 6
# Each panel's height in pixels (plot area and its titles); the figure stacks them.
PANEL_HEIGHT = 230
# Pixels between a panel's title and its plot area: room for the panel's legend.
TITLE_LIFT = 20
# The PNG the mode bar's camera saves: twice the shown size, so it stays sharp in a paper.
PNG_SCALE = 2


def _panels(series: dict[str, list]) -> list[tuple[str, str]]:
    """(key, title) of each panel, short enough for a 380 px column; distance to target only
    when the session has one."""
    panels = [
        ("next_choice", "Predicted your choice, before seeing it (%)"),
        ("utility", "Incumbent's utility ± 1 sd"),
        ("value", "Value of another round (% of spread)"),
        ("step", "Step size (distance moved)"),
        ("loss", "Model loss per fit (latest in blue)"),
        ("decision", "Decision time (median, s)"),
    ]
    if any(plotted_number(v) is not None for v in series.get("distance_to_target") or []):
        panels.append(("distance", "Distance to the hidden target"))
    return panels


def graph_config(session_id: str | None) -> dict[str, Any]:
    """The curves graph's settings: the mode bar's camera saves a PNG named after the
    session."""
    name = f"curves-session-{session_id}" if session_id else "curves"
    return {
        "displaylogo": False,
        "toImageButtonOptions": {"format": "png", "filename": name, "scale": PNG_SCALE},
    }


def _note(figure: go.Figure, row: int, col: int, text: str) -> None:
    """Say in an empty panel why it is empty (a text trace: an axis without one is not drawn,
    and annotations placed on it would land elsewhere)."""
    figure.add_trace(
        go.Scatter(
            x=[0.5],
            y=[0.5],
            mode="text",
            showlegend=False,
            text=[text],
            textfont={"size": 12, "color": "#888"},
            hoverinfo="skip",
        ),
        row=row,
        col=col,
    )
    hidden = {"visible": False, "range": [0, 1], "fixedrange": True}
    figure.update_xaxes(**hidden, row=row, col=col)
    figure.update_yaxes(**hidden, row=row, col=col)


def _integer_ticks(count: int) -> dict[str, Any]:
    """Axis ticks on whole numbers (rounds, iterations), about ten of them."""
    return {"tickformat": "d", "tick0": 0, "dtick": max(1, math.ceil(count / 10))}


def verdict_text(series: dict[str, list]) -> str:
    """The latest round's convergence verdict and recommendation, and on a second line the
    verdict's reason (HTML; two short lines fit a narrow column)."""
    rounds = series.get("round_index") or []
    if not rounds:
        return "No rounds yet"
    status = (series.get("convergence_status") or [None] * len(rounds))[-1]
    reason = (series.get("convergence_reason") or [None] * len(rounds))[-1]
    recommendation = (series.get("recommendation") or [None] * len(rounds))[-1]
    colour = VERDICT_COLOURS.get(status or "", "#444")
    text = f"Round {rounds[-1]} · verdict: <b style='color:{colour}'>{status or 'none yet'}</b>"
    if recommendation:
        text += f" · recommendation: <b>{recommendation}</b>"
    if reason:
        text += f"<br><span style='font-size:11px;color:#555'>{reason}</span>"
    return text


def empty_curves_figure(
    message: str = "No rounds yet: the curves appear after round 0",
    title: str = "Session curves",
    height: int = 300,
) -> go.Figure:
    """A blank, readable figure that says why there is nothing to draw."""
    figure = go.Figure()
    figure.update_layout(
        template="plotly_white",
        title={"text": title, "x": 0.01, "xanchor": "left"},
        xaxis={"visible": False},
        yaxis={"visible": False},
        height=height,
        margin={"l": 30, "r": 20, "t": 60, "b": 30},
        annotations=[
            {
                "text": message,
                "x": 0.5,
                "y": 0.5,
                "xref": "paper",
                "yref": "paper",
                "showarrow": False,
                "font": {"size": 14, "color": "#666"},
            }
        ],
    )
    return figure


def curves_figure(series: dict[str, list]) -> go.Figure:
    """Subplots of a session's per-round series (`space_view.round_series`), titled with
    the latest convergence verdict; an empty series gives `empty_curves_figure()`."""
    rounds = [int(r) for r in series.get("round_index") or []]
    if not rounds:
        return empty_curves_figure()
    n = len(rounds)
    panels = _panels(series)
    rows = len(panels)
    height = PANEL_HEIGHT * rows + 60
    figure = make_subplots(
        rows=rows,
        cols=1,
        subplot_titles=[title for _, title in panels],
        # About 95 px between panels: the x axis title, the next panel's title and legend.
        vertical_spacing=95 / height,
    )
    col = 1
    for row, (key, _) in enumerate(panels, start=1):
        draw = {
            "next_choice": _next_choice,
            "loss": _loss,
            "utility": _utility,
            "step": _step,
            "value": _value,
            "decision": _decision,
            "distance": _distance,
        }[key]
        draw(figure, series, rounds, n, row, col)
        if key != "loss" and figure.get_subplot(row, col).xaxis.visible is not False:
            figure.update_xaxes(title_text="round", **_integer_ticks(rounds[-1]), row=row, col=col)
    # Titles left-aligned over their panel and lifted, so its legend fits below them.
    figure.update_annotations(
        font_size=12,
        x=0,
        xanchor="left",
        yshift=TITLE_LIFT,
        selector={"yref": "paper", "showarrow": False},
    )
    figure.update_xaxes(title_standoff=2)
    figure.update_yaxes(title_standoff=4)
    figure.update_layout(
        template="plotly_white",
        title={
            "text": verdict_text(series),
            "x": 0.01,
            "xanchor": "left",
            # Two lines from 6 px below the top (Plotly's top anchor cuts a first line).
            "y": 1 - 20 / height,
            "yref": "container",
            "yanchor": "top",
            "font": {"size": 12},
        },
        height=height,
        margin={"l": 48, "r": 8, "t": 96, "b": 36},
        hovermode="closest",
        uirevision="curves",
        font={"size": 11},
    )
    return figure


def _panel_legend(figure: go.Figure, row: int, col: int) -> dict[str, Any]:
    """A legend in one line between a panel's title and its plot area."""
    top = figure.get_subplot(row, col).yaxis.domain[1]
    return {
        "orientation": "h",
        "x": 0,
        "xanchor": "left",
        "y": top,
        "yanchor": "bottom",
        "font": {"size": 10},
        "bgcolor": "rgba(255,255,255,0.8)",
        "itemwidth": 30,
        "tracegroupgap": 0,
    }


def _loss(
    figure: go.Figure, series: dict[str, list], rounds: list[int], n: int, row: int, col: int
) -> None:
    histories = (list(series.get("loss_history") or []) + [None] * n)[:n]
    fits = [(r, h) for r, h in zip(rounds, histories, strict=True) if h]
    if not fits:
        _note(figure, row, col, "this preference model reports no loss")
        return
    shown = fits[-LOSS_FITS_SHOWN:]
    for age, (round_index, history) in enumerate(reversed(shown)):
        losses = [plotted_number(v) for v in history]
        figure.add_trace(
            go.Scatter(
                x=list(range(len(losses))),
                y=losses,
                mode="lines+markers" if len(losses) < 3 else "lines",
                name=f"fit before round {round_index}",
                showlegend=False,
                line={
                    "color": LINE if age == 0 else f"rgba(120,120,120,{0.6 - 0.1 * age:.2f})",
                    "width": 2.5 if age == 0 else 1,
                },
                hovertemplate=f"fit before round {round_index}<br>"
                + "iteration %{x}: loss %{y:.4g}<extra></extra>",
            ),
            row=row,
            col=col,
        )
    longest = max(len(history) for _, history in shown)
    figure.update_xaxes(
        title_text="optimizer iteration", **_integer_ticks(longest - 1), row=row, col=col
    )
    figure.update_yaxes(title_text="loss", row=row, col=col)


def verdict_key_text() -> str:
    """The verdict colours as one line of HTML: a coloured dot before each verdict."""
    return "  ".join(
        f"<span style='color:{colour}'>●</span> {verdict}"
        for verdict, colour in VERDICT_COLOURS.items()
    )


def _verdict_key(figure: go.Figure, row: int, col: int) -> None:
    """The legend of the utility dots' colours, between the panel's title and its plot: a
    line of text, since Plotly's legend spaces four entries too widely for a narrow column."""
    subplot = figure.get_subplot(row, col)
    figure.add_annotation(
        text=verdict_key_text(),
        x=0,
        xref=f"{subplot.yaxis.anchor} domain",
        xanchor="left",
        y=1,
        yref=f"{subplot.xaxis.anchor} domain",
        yanchor="bottom",
        showarrow=False,
        font={"size": 10, "color": "#444"},
    )


def _next_choice(
    figure: go.Figure, series: dict[str, list], rounds: list[int], n: int, row: int, col: int
) -> None:
    traces = next_choice_traces(next_choice_frame(series))
    if not traces:
        _note(figure, row, col, "needs two judged rounds")
        return
    for trace in traces:
        trace.legend = "legend"
    figure.add_traces(traces, rows=row, cols=col)
    figure.update_layout(legend=_panel_legend(figure, row, col))
    figure.update_yaxes(title_text="% right", range=[-5, 105], row=row, col=col)


def _utility(
    figure: go.Figure, series: dict[str, list], rounds: list[int], n: int, row: int, col: int
) -> None:
    traces = utility_traces(series, rounds, marker_size=7)
    if not traces:
        _note(figure, row, col, "no utility stored for these rounds")
        return
    figure.add_traces(traces, rows=row, cols=col)
    _verdict_key(figure, row, col)
    if utility_from_prompt(series):
        figure.add_hline(
            y=0,
            line={"dash": "dot", "color": "#666", "width": 1},
            annotation={"text": PROMPT_REFERENCE, "font": {"size": 10, "color": "#666"}},
            annotation_position="bottom left",
            row=row,
            col=col,
        )
    figure.update_yaxes(title_text=UTILITY_AXIS, row=row, col=col)


def _step(
    figure: go.Figure, series: dict[str, list], rounds: list[int], n: int, row: int, col: int
) -> None:
    steps = plotted_numbers(series, "step_size", n)
    if all(s is None for s in steps):
        _note(figure, row, col, "one round so far: no step yet")
        return
    figure.add_trace(
        go.Scatter(
            x=rounds,
            y=steps,
            mode="lines+markers",
            showlegend=False,
            line={"color": LINE},
            hovertemplate="round %{x}: moved %{y:.3g}<extra></extra>",
        ),
        row=row,
        col=col,
    )
    figure.update_yaxes(title_text="distance", rangemode="tozero", row=row, col=col)


def _value(
    figure: go.Figure, series: dict[str, list], rounds: list[int], n: int, row: int, col: int
) -> None:
    traces = value_traces(series, rounds)
    if not traces:
        _note(figure, row, col, "not measured yet (needs judgments)")
        return
    figure.add_traces(traces, rows=row, cols=col)
    figure.add_hline(
        y=STOP_BELOW_PERCENT,
        line={"dash": "dash", "color": "#D55E00", "width": 1},
        row=row,
        col=col,
    )
    subplot = figure.get_subplot(row, col)
    figure.add_annotation(
        text=f"stop below {STOP_BELOW_PERCENT:g} %",
        x=1,
        xref=f"{subplot.yaxis.anchor} domain",  # an x axis's name is its y axis's anchor
        xanchor="right",
        # Annotations on a log axis are placed by the log10 of the value.
        y=math.log10(STOP_BELOW_PERCENT),
        yref=subplot.xaxis.anchor,
        yanchor="bottom",
        showarrow=False,
        font={"size": 10, "color": "#D55E00"},
    )
    figure.update_yaxes(type="log", dtick=1, title_text="% (log)", row=row, col=col)


def _decision(
    figure: go.Figure, series: dict[str, list], rounds: list[int], n: int, row: int, col: int
) -> None:
    traces = decision_traces(series, rounds)
    if not traces:
        _note(figure, row, col, "no decision times recorded (the dashboard records them)")
        return
    figure.add_traces(traces, rows=row, cols=col)
    figure.update_yaxes(title_text="seconds", rangemode="tozero", row=row, col=col)


def _distance(
    figure: go.Figure, series: dict[str, list], rounds: list[int], n: int, row: int, col: int
) -> None:
    figure.add_traces(distance_traces(series, rounds), rows=row, cols=col)
    figure.update_yaxes(title_text="distance", rangemode="tozero", row=row, col=col)
