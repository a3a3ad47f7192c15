"""The curves of the HTML report as Plotly figures, built from `curve_tables.curve_series`.

One small figure per curve (model loss per fit, incumbent utility ± sd, step size with the
convergence verdict, value of another round, decision time, distance to the target) and how
well the model predicted each round's choice before seeing it; a curve
with nothing to draw is left out with the reason, which the report prints instead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import plotly.graph_objects as go

from steering_core.views.curve_tables import next_choice_frame
from steering_core.views.curve_traces import (
    decision_traces,
    distance_traces,
    next_choice_traces,
    utility_traces,
    value_traces,
    verdict_legend_traces,
)
from steering_core.views.curve_values import (
    LINE,
    PROMPT_REFERENCE,
    STOP_BELOW_PERCENT,
    UTILITY_AXIS,
    VERDICT_COLOURS,
    plotted_number,
    plotted_numbers,
    plotted_texts,
    utility_from_prompt,
)

HEIGHT = 300


@dataclass(frozen=True)
class Curve:
    """One curve of the report: `key` (its anchor, `curve-<key>`), a title, and either a
    figure or the reason there is nothing to draw (`empty`)."""

    key: str
    title: str
    figure: go.Figure | None = None
    empty: str = ""


def _figure(x_title: str, y_title: str, x_last: int, **y_axis: Any) -> go.Figure:
    """An empty figure in the report's look, its x axis on whole numbers up to `x_last`
    (rounds, iterations; about ten ticks); `y_axis`: more settings of the y axis."""
    figure = go.Figure()
    figure.update_layout(
        template="plotly_white",
        height=HEIGHT,
        margin={"l": 60, "r": 16, "t": 16, "b": 48},
        showlegend=False,
        hovermode="closest",
        xaxis={
            "title": {"text": x_title},
            "tickformat": "d",
            "tick0": 0,
            "dtick": max(1, math.ceil(x_last / 10)),
        },
        yaxis={"title": {"text": y_title}, **y_axis},
        font={"family": "system-ui, sans-serif", "size": 12},
    )
    return figure


def loss_curve(series: dict[str, list], rounds: list[int]) -> Curve:
    """Every fit's loss per optimizer iteration; the latest in blue, earlier ones in grey."""
    title = "Preference-model loss per fit"
    histories = (list(series.get("loss_history") or []) + [None] * len(rounds))[: len(rounds)]
    fits = [(r, h) for r, h in zip(rounds, histories, strict=True) if h]
    if not fits:
        return Curve("loss", title, empty="this preference model reports no loss")
    figure = _figure("optimizer iteration", "loss", max(len(h) for _, h in fits) - 1)
    for age, (round_index, history) in enumerate(reversed(fits)):
        losses = [plotted_number(v) for v in history]
        latest = age == 0
        figure.add_trace(
            go.Scatter(
                x=list(range(len(losses))),
                y=losses,
                mode="lines+markers" if len(losses) < 3 else "lines",
                line={
                    "color": LINE if latest else "rgba(120,120,120,0.35)",
                    "width": 2.5 if latest else 1,
                },
                hovertemplate=f"fit before round {round_index}<br>"
                + "iteration %{x}: loss %{y:.4g}<extra></extra>",
            )
        )
    # Drawn oldest first, so the latest fit lies on top.
    figure.data = figure.data[::-1]
    return Curve("loss", title + " (latest in blue)", figure)


def _legend_on_top(figure: go.Figure) -> None:
    """The figure's legend in one line above its plot, at the right."""
    figure.update_layout(
        showlegend=True,
        legend={"orientation": "h", "x": 1, "xanchor": "right", "y": 1, "yanchor": "bottom"},
        margin={"t": 40},
    )


def next_choice_curve(series: dict[str, list], rounds: list[int]) -> Curve:
    """How well the model predicted each round's judgments before seeing them, against
    chance (`next_choice.next_choice_table`)."""
    title = "Predicted the researcher's choice, before seeing it (% of comparisons)"
    traces = next_choice_traces(next_choice_frame(series))
    if not traces:
        return Curve("next_choice", title, empty="needs two judged rounds")
    figure = _figure("round", "% right", rounds[-1], range=[-5, 105])
    figure.add_traces(traces)
    _legend_on_top(figure)
    return Curve("next_choice", title, figure)


def utility_curve(series: dict[str, list], rounds: list[int]) -> Curve:
    """The incumbent's predicted utility per round with a ± 1 sd band, dots coloured by the
    round's convergence verdict (with their legend), and 0 = the prompt where the model
    measures utility from it."""
    title = "Incumbent's predicted utility ± 1 sd"
    traces = utility_traces(series, rounds, marker_size=8)
    if not traces:
        return Curve("utility", title, empty="no utility stored for these rounds")
    figure = _figure("round", UTILITY_AXIS, rounds[-1])
    figure.add_traces(traces)
    figure.add_traces(verdict_legend_traces())
    _legend_on_top(figure)
    if utility_from_prompt(series):
        figure.add_hline(
            y=0,
            line={"dash": "dot", "color": "#666", "width": 1},
            annotation={"text": PROMPT_REFERENCE, "font": {"size": 11, "color": "#666"}},
            annotation_position="bottom left",
        )
    return Curve("utility", title, figure)


def convergence_curve(series: dict[str, list], rounds: list[int]) -> Curve:
    """Step size (distance between consecutive incumbents) per round, each round's marker
    coloured and labelled by its convergence verdict."""
    n = len(rounds)
    title = "Convergence: step size per round, verdict by colour"
    steps = plotted_numbers(series, "step_size", n)
    status = plotted_texts(series, "convergence_status", n)
    reason = plotted_texts(series, "convergence_reason", n)
    if all(s is None for s in steps) and not any(status):
        return Curve("convergence", title, empty="one round so far: no step and no verdict yet")
    figure = _figure("round", "distance moved", rounds[-1], rangemode="tozero")
    figure.add_trace(
        go.Scatter(
            x=rounds,
            y=steps,
            mode="lines+markers",
            line={"color": "#999", "width": 1},
            marker={"color": [VERDICT_COLOURS.get(s, "#444") for s in status], "size": 9},
            customdata=[[s or "none", r] for s, r in zip(status, reason, strict=True)],
            hovertemplate="round %{x}: moved %{y:.3g}<br>verdict: %{customdata[0]}"
            "<br>%{customdata[1]}<extra></extra>",
        )
    )
    return Curve("convergence", title, figure)


def value_curve(series: dict[str, list], rounds: list[int]) -> Curve:
    """The value of another round as a percentage of the utility spread (log axis), with
    the stop threshold; crosses mark rounds that recommended stopping."""
    title = "Value of another round, % of utility spread (● continue, ✕ stop)"
    traces = value_traces(series, rounds)
    if not traces:
        return Curve("value", title, empty="not measured yet (needs judgments)")
    figure = _figure("round", "% (log)", rounds[-1], type="log", dtick=1)
    figure.add_traces(traces)
    figure.add_hline(y=STOP_BELOW_PERCENT, line={"dash": "dash", "color": "#D55E00", "width": 1})
    return Curve("value", title, figure)


def decision_curve(series: dict[str, list], rounds: list[int]) -> Curve | None:
    """Median decision time per round; None when no judgment recorded one."""
    traces = decision_traces(series, rounds)
    if not traces:
        return None
    figure = _figure("round", "seconds", rounds[-1], rangemode="tozero")
    figure.add_traces(traces)
    return Curve("decision", "Decision time per round (median, s)", figure)


def distance_curve(series: dict[str, list], rounds: list[int]) -> Curve | None:
    """The incumbent's distance to a synthetic session's hidden target; None without one."""
    traces = distance_traces(series, rounds)
    if not traces:
        return None
    figure = _figure("round", "distance", rounds[-1], rangemode="tozero")
    figure.add_traces(traces)
    return Curve("distance", "Incumbent's distance to the hidden target (synthetic user)", figure)


def report_curves(series: dict[str, list]) -> list[Curve]:
    """The report's curves in reading order, from `curve_tables.curve_series`; next choice,
    loss, utility,
    convergence and value always (empty with a reason when there is nothing to draw),
    decision time and distance to target only when the session has them."""
    rounds = [int(r) for r in series.get("round_index") or []]
    curves = [
        next_choice_curve(series, rounds),
        loss_curve(series, rounds),
        utility_curve(series, rounds),
        convergence_curve(series, rounds),
        value_curve(series, rounds),
        decision_curve(series, rounds),
        distance_curve(series, rounds),
    ]
    return [curve for curve in curves if curve is not None]
