"""The curves of the HTML report as Plotly figures, built from `space_view.round_series`.

One small figure per curve (model loss per fit, incumbent utility ± sd, step size with the
convergence verdict, value of another round, decision time, distance to the target); a curve
with nothing to draw is left out with the reason, which the report prints instead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import plotly.graph_objects as go

from steering_core.curve_values import (
    LINE,
    STOP_BELOW_PERCENT,
    VALUE_FLOOR_PERCENT,
    VERDICT_COLOURS,
    plotted_number,
    plotted_numbers,
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


def _texts(series: dict[str, list], key: str, length: int) -> list[str]:
    values = (list(series.get(key) or []) + [None] * length)[:length]
    return ["" if v is None else str(v) for v in values]


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


def utility_curve(series: dict[str, list], rounds: list[int]) -> Curve:
    """The incumbent's predicted utility per round with a ± 1 sd band, dots coloured by the
    round's convergence verdict."""
    n = len(rounds)
    title = "Incumbent's predicted utility ± 1 sd (dot colour = verdict)"
    mean = plotted_numbers(series, "incumbent_utility", n)
    std = plotted_numbers(series, "incumbent_uncertainty", n)
    if all(m is None for m in mean):
        return Curve("utility", title, empty="no utility stored for these rounds")
    upper = [None if m is None or s is None else m + s for m, s in zip(mean, std, strict=True)]
    lower = [None if m is None or s is None else m - s for m, s in zip(mean, std, strict=True)]
    status = _texts(series, "convergence_status", n)
    figure = _figure("round", "utility", rounds[-1])
    band = {"mode": "lines", "line": {"width": 0}, "hoverinfo": "skip"}
    figure.add_trace(go.Scatter(x=rounds, y=upper, **band))
    figure.add_trace(
        go.Scatter(x=rounds, y=lower, fill="tonexty", fillcolor="rgba(0,114,178,0.18)", **band)
    )
    figure.add_trace(
        go.Scatter(
            x=rounds,
            y=mean,
            mode="lines+markers",
            line={"color": LINE, "width": 2},
            marker={"color": [VERDICT_COLOURS.get(s, "#444") for s in status], "size": 8},
            customdata=[[s or "none", sd] for s, sd in zip(status, std, strict=True)],
            hovertemplate="round %{x}: %{y:.3g} ± %{customdata[1]:.2g}<br>"
            "verdict: %{customdata[0]}<extra></extra>",
        )
    )
    return Curve("utility", title, figure)


def convergence_curve(series: dict[str, list], rounds: list[int]) -> Curve:
    """Step size (distance between consecutive incumbents) per round, each round's marker
    coloured and labelled by its convergence verdict."""
    n = len(rounds)
    title = "Convergence: step size per round, verdict by colour"
    steps = plotted_numbers(series, "step_size", n)
    status = _texts(series, "convergence_status", n)
    reason = _texts(series, "convergence_reason", n)
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
    n = len(rounds)
    title = "Value of another round, % of utility spread (● continue, ✕ stop)"
    relative = plotted_numbers(series, "value_relative", n)
    recommendation = _texts(series, "recommendation", n)
    kept = [
        (r, 100 * v, rec)
        for r, v, rec in zip(rounds, relative, recommendation, strict=True)
        if v is not None
    ]
    if not kept:
        return Curve("value", title, empty="not measured yet (needs judgments)")
    x, percent, recs = zip(*kept, strict=True)
    stop = [rec == "stop" for rec in recs]
    figure = _figure("round", "% (log)", rounds[-1], type="log", dtick=1)
    figure.add_trace(
        go.Scatter(
            x=list(x),
            y=[max(p, VALUE_FLOOR_PERCENT) for p in percent],
            mode="lines+markers",
            line={"color": "#999", "width": 1},
            marker={
                "symbol": ["x" if s else "circle" for s in stop],
                "color": ["#D55E00" if s else "#009E73" for s in stop],
                "size": [10 if s else 7 for s in stop],
            },
            customdata=[[p, rec] for p, rec in zip(percent, recs, strict=True)],
            hovertemplate="round %{x}: %{customdata[0]:.3g} %<br>%{customdata[1]}<extra></extra>",
        )
    )
    figure.add_hline(y=STOP_BELOW_PERCENT, line={"dash": "dash", "color": "#D55E00", "width": 1})
    return Curve("value", title, figure)


def decision_curve(series: dict[str, list], rounds: list[int]) -> Curve | None:
    """Median decision time per round; None when no judgment recorded one."""
    seconds = plotted_numbers(series, "decision_seconds", len(rounds))
    if all(s is None for s in seconds):
        return None
    figure = _figure("round", "seconds", rounds[-1], rangemode="tozero")
    figure.add_trace(
        go.Bar(
            x=rounds,
            y=seconds,
            marker={"color": LINE},
            hovertemplate="round %{x}: %{y:.1f} s<extra></extra>",
        )
    )
    return Curve("decision", "Decision time per round (median, s)", figure)


def distance_curve(series: dict[str, list], rounds: list[int]) -> Curve | None:
    """The incumbent's distance to a synthetic session's hidden target; None without one."""
    distance = plotted_numbers(series, "distance_to_target", len(rounds))
    if all(d is None for d in distance):
        return None
    figure = _figure("round", "distance", rounds[-1], rangemode="tozero")
    figure.add_trace(
        go.Scatter(
            x=rounds,
            y=distance,
            mode="lines+markers",
            line={"color": "#009E73", "width": 2},
            hovertemplate="round %{x}: %{y:.3g} from the target<extra></extra>",
        )
    )
    return Curve("distance", "Incumbent's distance to the hidden target (synthetic user)", figure)


def report_curves(series: dict[str, list]) -> list[Curve]:
    """The report's curves in reading order, from `space_view.round_series`; loss, utility,
    convergence and value always (empty with a reason when there is nothing to draw),
    decision time and distance to target only when the session has them."""
    rounds = [int(r) for r in series.get("round_index") or []]
    curves = [
        loss_curve(series, rounds),
        utility_curve(series, rounds),
        convergence_curve(series, rounds),
        value_curve(series, rounds),
        decision_curve(series, rounds),
        distance_curve(series, rounds),
    ]
    return [curve for curve in curves if curve is not None]
