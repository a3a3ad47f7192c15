"""Figures of a benchmark run from its results: rounds to target and final distance by
method, and the median distance to the target round by round."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

# A run's setting besides its seed (steering_core.bench.report.GROUP).
SETTING_FIELDS = ("method", "user", "noise", "feedback", "d")
# Okabe-Ito without its yellow (too faint on white), then grey.
PALETTE = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#D55E00",
    "#CC79A7",
    "#56B4E9",
    "#000000",
    "#999999",
)
# Log axes labelled at 1, 2 and 5 of each decade, written out (not as small digits).
LOG_TICKS = {"dtick": "D2", "minorloglabels": "complete"}
MAX_PANELS = 12  # more settings than this would shrink each panel past reading


def varying_fields(
    entries: Sequence[dict[str, Any]], fields: Sequence[str] = SETTING_FIELDS
) -> list[str]:
    """The setting fields that take more than one value among `entries`."""
    return [f for f in fields if len({entry[f] for entry in entries}) > 1]


def setting_label(entry: dict[str, Any], fields: Sequence[str]) -> str:
    """`entry`'s values of `fields`, as a short label (d written as "d=8")."""
    parts = [f"d={entry[f]}" if f == "d" else str(entry[f]) for f in fields]
    return " · ".join(parts) or "all runs"


def _by_dimension_boxes(runs: Sequence[dict[str, Any]], value: Any, figure: go.Figure) -> list[str]:
    """Add one box trace per d (x: the other varying fields); returns the x categories."""
    fields = [f for f in varying_fields(runs) if f != "d"] or ["method"]
    categories = list(dict.fromkeys(setting_label(run, fields) for run in runs))
    for i, d in enumerate(sorted({run["d"] for run in runs})):
        chosen = [run for run in runs if run["d"] == d]
        figure.add_trace(
            go.Box(
                x=[setting_label(run, fields) for run in chosen],
                y=[value(run) for run in chosen],
                name=f"d = {d}",
                boxpoints="all",
                jitter=0.4,
                pointpos=0,
                marker={"color": PALETTE[i % len(PALETTE)], "size": 4},
                line={"color": PALETTE[i % len(PALETTE)]},
                showlegend=True,  # even for one d: the legend says which d it is
            )
        )
    figure.update_layout(
        boxmode="group",
        xaxis={"categoryorder": "array", "categoryarray": categories, "tickangle": -30},
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 1, "xanchor": "right"},
        margin={"l": 60, "r": 10, "t": 60, "b": 10},
        height=420,
        template="plotly_white",
    )
    return categories


def rounds_to_target_figure(runs: Sequence[dict[str, Any]], limit: int) -> go.Figure:
    """Rounds each run needed to reach the target, by method (one box per d).

    `runs`: one mapping per run with the setting fields and `rounds_to_target` (inf when the
    run never got there; drawn at `limit` + 1, above a dotted "never" line)."""
    figure = go.Figure()
    _by_dimension_boxes(runs, lambda run: min(run["rounds_to_target"], limit + 1), figure)
    figure.add_hline(
        y=limit + 1,
        line={"dash": "dot", "color": "#888"},
        annotation_text="never reached",
        annotation_position="top left",
    )
    figure.update_layout(
        title={"text": "Rounds until the incumbent is within the target", "font_size": 14},
        yaxis_title="rounds to target",
    )
    return figure


def final_distance_figure(runs: Sequence[dict[str, Any]], target_fraction: float) -> go.Figure:
    """The last incumbent's distance to the target relative to the start, per run, by method
    (one box per d), on a log axis with the target drawn."""
    figure = go.Figure()
    _by_dimension_boxes(runs, lambda run: run["final_relative_distance"], figure)
    figure.add_hline(y=target_fraction, line={"dash": "dot", "color": "#888"})
    # add_hline's own annotation lands at 10**y on a log axis: place the label by hand.
    figure.add_annotation(
        text=f"target ({target_fraction:.0%})",
        xref="paper",
        x=1,
        xanchor="right",
        y=math.log10(target_fraction),
        yanchor="bottom",
        showarrow=False,
        font={"size": 11, "color": "#555"},
    )
    figure.update_yaxes(type="log", title_text="final distance / initial", **LOG_TICKS)
    figure.update_layout(title={"text": "Where each run ended", "font_size": 14})
    return figure


def distance_curves_figure(rows: Sequence[dict[str, Any]], target_fraction: float) -> go.Figure:
    """Median relative distance of the incumbent to the target, round by round: one line per
    method, one panel per setting (user, noise, feedback, d) that differs between runs.

    `rows`: one mapping per (run, round) with the setting fields, `round` and
    `relative_distance`."""
    panel_fields = [f for f in varying_fields(rows) if f != "method"]
    values: dict[str, dict[str, dict[int, list[float]]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(list))
    )
    for row in rows:
        panel = setting_label(row, panel_fields)
        values[panel][row["method"]][row["round"]].append(row["relative_distance"])
    panels = list(values)[:MAX_PANELS]
    columns = min(3, len(panels))
    plot_rows = math.ceil(len(panels) / columns)
    figure = make_subplots(
        rows=plot_rows,
        cols=columns,
        subplot_titles=panels if panel_fields else None,
        horizontal_spacing=0.06,
        vertical_spacing=0.12 if plot_rows > 1 else 0.1,
    )
    methods = list(dict.fromkeys(row["method"] for row in rows))
    colours = {m: PALETTE[i % len(PALETTE)] for i, m in enumerate(methods)}
    in_legend: set[str] = set()  # each method once in the legend, whichever panel has it
    for i, panel in enumerate(panels):
        for method, by_round in values[panel].items():
            rounds = sorted(by_round)
            figure.add_trace(
                go.Scatter(
                    x=rounds,
                    y=[float(np.median(by_round[r])) for r in rounds],
                    name=method,
                    legendgroup=method,
                    showlegend=method not in in_legend,
                    mode="lines",
                    line={"color": colours[method]},
                    hovertemplate=f"{method}<br>round %{{x}}: %{{y:.3f}}<extra></extra>",
                ),
                row=i // columns + 1,
                col=i % columns + 1,
            )
            in_legend.add(method)
        figure.add_hline(
            y=target_fraction,
            line={"dash": "dot", "color": "#888"},
            row=i // columns + 1,
            col=i % columns + 1,
        )
    figure.update_yaxes(type="log", **LOG_TICKS)
    figure.update_yaxes(title_text="distance / initial", col=1)
    figure.update_xaxes(title_text="round", row=plot_rows)
    title = "Median distance of the incumbent to the target (dotted: the target)"
    if len(values) > MAX_PANELS:
        title += f"; first {MAX_PANELS} of {len(values)} settings"
    figure.update_layout(
        title={"text": title, "font_size": 14},
        height=320 * plot_rows + 110,
        legend={"orientation": "h", "y": -0.12 if plot_rows == 1 else -0.05},
        margin={"l": 60, "r": 10, "t": 70, "b": 40},
        template="plotly_white",
    )
    return figure
