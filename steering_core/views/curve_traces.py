"""Plotly traces of the per-round curves that the dashboard's live curves and the HTML
report draw alike; each places them in its own figure. A builder returns [] when its curve
has nothing to draw (the caller says why). Only the traces named for the legend (verdict
colours, next-choice lines) show in it."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from steering_core.views.curve_values import (
    LINE,
    VALUE_FLOOR_PERCENT,
    VERDICT_COLOURS,
    plotted_numbers,
    plotted_texts,
)


def utility_traces(
    series: dict[str, list], rounds: list[int], marker_size: int
) -> list[go.Scatter]:
    """The incumbent's predicted utility per round with a ± 1 sd band, dots coloured by the
    round's convergence verdict."""
    n = len(rounds)
    mean = plotted_numbers(series, "incumbent_utility", n)
    std = plotted_numbers(series, "incumbent_uncertainty", n)
    if all(m is None for m in mean):
        return []
    upper = [None if m is None or s is None else m + s for m, s in zip(mean, std, strict=True)]
    lower = [None if m is None or s is None else m - s for m, s in zip(mean, std, strict=True)]
    status = plotted_texts(series, "convergence_status", n)
    band = {"mode": "lines", "line": {"width": 0}, "hoverinfo": "skip", "showlegend": False}
    return [
        go.Scatter(x=rounds, y=upper, **band),
        go.Scatter(x=rounds, y=lower, fill="tonexty", fillcolor="rgba(0,114,178,0.18)", **band),
        go.Scatter(
            x=rounds,
            y=mean,
            mode="lines+markers",
            showlegend=False,
            line={"color": LINE, "width": 2},
            marker={
                "color": [VERDICT_COLOURS.get(s, "#444") for s in status],
                "size": marker_size,
            },
            customdata=[[s or "none", sd] for s, sd in zip(status, std, strict=True)],
            hovertemplate="round %{x}: %{y:.3g} ± %{customdata[1]:.2g}<br>"
            "verdict: %{customdata[0]}<extra></extra>",
        ),
    ]


def value_traces(series: dict[str, list], rounds: list[int]) -> list[go.Scatter]:
    """The value of another round as a percentage of the utility spread (for a log axis:
    values below the floor drawn at it), crosses where the round recommended stopping."""
    n = len(rounds)
    relative = plotted_numbers(series, "value_relative", n)
    recommendation = plotted_texts(series, "recommendation", n)
    kept = [
        (r, 100 * v, rec)
        for r, v, rec in zip(rounds, relative, recommendation, strict=True)
        if v is not None
    ]
    if not kept:
        return []
    x, percent, recs = zip(*kept, strict=True)
    stop = [rec == "stop" for rec in recs]
    return [
        go.Scatter(
            x=list(x),
            y=[max(p, VALUE_FLOOR_PERCENT) for p in percent],
            mode="lines+markers",
            showlegend=False,
            line={"color": "#999", "width": 1},
            marker={
                "symbol": ["x" if s else "circle" for s in stop],
                "color": ["#D55E00" if s else "#009E73" for s in stop],
                "size": [10 if s else 7 for s in stop],
            },
            customdata=[[p, rec] for p, rec in zip(percent, recs, strict=True)],
            hovertemplate="round %{x}: %{customdata[0]:.3g} %<br>%{customdata[1]}<extra></extra>",
        )
    ]


def decision_traces(series: dict[str, list], rounds: list[int]) -> list[go.Bar]:
    """The median decision time per round, as bars."""
    seconds = plotted_numbers(series, "decision_seconds", len(rounds))
    if all(s is None for s in seconds):
        return []
    return [
        go.Bar(
            x=rounds,
            y=seconds,
            marker={"color": LINE},
            showlegend=False,
            hovertemplate="round %{x}: %{y:.1f} s<extra></extra>",
        )
    ]


def distance_traces(series: dict[str, list], rounds: list[int]) -> list[go.Scatter]:
    """The incumbent's distance to a synthetic session's hidden target per round."""
    distance = plotted_numbers(series, "distance_to_target", len(rounds))
    if all(d is None for d in distance):
        return []
    return [
        go.Scatter(
            x=rounds,
            y=distance,
            mode="lines+markers",
            showlegend=False,
            line={"color": "#009E73", "width": 2},
            hovertemplate="round %{x}: %{y:.3g} from the target<extra></extra>",
        )
    ]


def verdict_legend_traces() -> list[go.Scatter]:
    """Legend entries for the verdict colours of the utility dots (no data of their own)."""
    return [
        go.Scatter(
            x=[None],
            y=[None],
            mode="markers",
            marker={"color": colour, "size": 8},
            name=verdict,
            showlegend=True,
            hoverinfo="skip",
        )
        for verdict, colour in VERDICT_COLOURS.items()
    ]


def next_choice_traces(frame: pd.DataFrame) -> list[go.Scatter]:
    """From `curve_tables.next_choice_frame`: the share of each round's comparisons the
    model ordered as the researcher did before seeing them (dots), the running share over
    all rounds so far (line) and chance (dashed), in percent."""
    scored = frame.dropna(subset=["accuracy"])
    if scored.empty:
        return []
    # Plain lists: the figure's JSON stays readable numbers (not base64 arrays).
    rounds = scored["round"].tolist()
    picks = [
        ""
        if pd.isna(n)
        else f"<br>their pick was its favourite: {p:.0f} of {n:.0f} (chance {100 * c:.0f} %)"
        for n, p, c in zip(
            scored["picks"], scored["picks_predicted"], scored["pick_chance"], strict=True
        )
    ]
    return [
        go.Scatter(
            x=rounds,
            y=(100 * scored["chance"]).tolist(),
            mode="lines",
            name="chance",
            line={"color": "#999", "dash": "dash", "width": 1},
            hovertemplate="chance: %{y:.0f} %<extra></extra>",
        ),
        go.Scatter(
            x=rounds,
            y=(100 * scored["accuracy"]).tolist(),
            mode="markers",
            name="this round",
            marker={"color": LINE, "size": 6, "opacity": 0.6},
            customdata=list(zip(scored["agreed"], scored["comparisons"], picks, strict=True)),
            hovertemplate="round %{x}: %{y:.0f} % (%{customdata[0]:.3g} of "
            "%{customdata[1]:.0f} comparisons)%{customdata[2]}<extra></extra>",
        ),
        go.Scatter(
            x=rounds,
            y=(100 * scored["running_accuracy"]).tolist(),
            mode="lines",
            name="all rounds so far",
            line={"color": "#009E73", "width": 2},
            hovertemplate="rounds up to %{x}: %{y:.0f} %<extra></extra>",
        ),
    ]
