"""The experiments page: pick a benchmark run, read its summary table and plots."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard import ids
from dashboard.figures.experiments import (
    distance_curves_figure,
    final_distance_figure,
    rounds_to_target_figure,
    varying_fields,
)
from steering_core.bench.results import BenchSettings


@dataclass(frozen=True)
class Experiment:
    name: str
    folder: Path
    rows: list[dict[str, Any]]  # one per (run, round), as results.csv holds them
    runs: list[dict[str, Any]]  # one per run: rounds to target, final distance
    summary: list[dict[str, Any]]  # one per (method, user, noise, feedback, d)
    settings: BenchSettings
    introduction: str  # how to read the table, as summary.md says it
    files: list[str]


def _rounds(value: float, limit: int) -> str:
    return f"> {limit}" if not math.isfinite(value) else f"{value:g}"


def _number(value: float, digits: int) -> str:
    return f"{value:.{digits}f}" if math.isfinite(value) else "-"


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    cell: Callable[[dict[str, Any], BenchSettings], Any]
    sort: Callable[[dict[str, Any]], Any]
    numeric: bool = False


COLUMNS = (
    Column("user", "user", lambda e, s: e["user"], lambda e: e["user"]),
    Column("noise", "noise", lambda e, s: e["noise"], lambda e: e["noise"]),
    Column("feedback", "feedback", lambda e, s: e["feedback"], lambda e: e["feedback"]),
    Column("method", "method", lambda e, s: e["method"], lambda e: e["method"]),
    Column("d", "d", lambda e, s: e["d"], lambda e: e["d"], numeric=True),
    Column("runs", "runs", lambda e, s: e["runs"], lambda e: e["runs"], numeric=True),
    Column(
        "median",
        "rounds to target [IQR]",
        lambda e, s: (
            f"{_rounds(e['median'], s.rounds)} "
            f"[{_rounds(e['q1'], s.rounds)}, {_rounds(e['q3'], s.rounds)}]"
        ),
        lambda e: (e["median"], e["q3"], e["q1"]),
    ),
    Column("reached", "reached", lambda e, s: f"{e['reached']:.0%}", lambda e: e["reached"], True),
    Column("bound", "bound", lambda e, s: _number(e["bound"], 1), lambda e: e["bound"], True),
    Column(
        "ratio",
        "ratio to bound",
        lambda e, s: _number(e["ratio_to_bound"], 1),
        lambda e: e["ratio_to_bound"] if math.isfinite(e["ratio_to_bound"]) else math.inf,
        True,
    ),
    Column(
        "final",
        "final distance",
        lambda e, s: _number(e["median_final_relative_distance"], 2),
        lambda e: e["median_final_relative_distance"],
        True,
    ),
    Column(
        "seconds",
        "s / run",
        lambda e, s: _number(e["seconds_per_run"], 2),
        lambda e: e["seconds_per_run"],
        True,
    ),
)


def shown_columns(summary: Sequence[dict[str, Any]], settings: BenchSettings) -> list[Column]:
    """The table's columns: user / noise / feedback only when they differ between rows, the
    bound only when the settings give k."""
    varying = set(varying_fields(summary))
    hidden = {f for f in ("user", "noise", "feedback") if f not in varying}
    if settings.k is None:
        hidden |= {"bound", "ratio"}
    return [c for c in COLUMNS if c.key not in hidden]


def sorted_summary(
    summary: Sequence[dict[str, Any]], sort: str | None, descending: bool
) -> list[dict[str, Any]]:
    """The rows in the summary's own order (by setting, then method), or by a column."""
    column = next((c for c in COLUMNS if c.key == sort), None)
    if column is None:
        return list(summary)
    return sorted(summary, key=column.sort, reverse=descending)


def _query(**values: Any) -> str:
    return "/experiments?" + urlencode({k: v for k, v in values.items() if v not in (None, "")})


def summary_table(
    experiment: Experiment, sort: str | None = None, descending: bool = False
) -> dbc.Table:
    """One row per method and setting; a click on a column title sorts by it (again: the
    other way)."""
    columns = shown_columns(experiment.summary, experiment.settings)
    header = []
    for column in columns:
        active = column.key == sort
        arrow = (" ▼" if descending else " ▲") if active else ""
        href = _query(
            name=experiment.name, sort=column.key, desc="1" if active and not descending else None
        )
        header.append(
            html.Th(
                dcc.Link(column.title + arrow, href=href, title=f"sort by {column.title}"),
                className="text-end" if column.numeric else "",
            )
        )
    rows = [
        html.Tr(
            [
                html.Td(
                    column.cell(entry, experiment.settings),
                    className="text-end" if column.numeric else "",
                )
                for column in columns
            ]
        )
        for entry in sorted_summary(experiment.summary, sort, descending)
    ]
    return dbc.Table(
        [html.Thead(html.Tr(header)), html.Tbody(rows)],
        id=ids.EXPERIMENT_TABLE,
        size="sm",
        hover=True,
        striped=True,
        className="experiment-table bg-white mb-1",
    )


def experiment_picker(names: Sequence[str], current: str | None) -> dbc.Nav:
    """Every experiment folder with results, as pills (newest first)."""
    return dbc.Nav(
        [
            dbc.NavItem(dbc.NavLink(name, href=_query(name=name), active=name == current))
            for name in names
        ],
        pills=True,
        className="mb-2",
    )


# How often an open Experiments page looks for a new or finished run.
EXPERIMENTS_POLL_MS = 5000


def experiments_watch(view: html.Div, seen: list[list[Any]]) -> html.Div:
    """The page's view with a poll that re-draws it when a run appears or its results.csv
    changes (`seen`: what the view shows, [[run, results.csv mtime_ns], ...])."""
    return html.Div(
        [
            dcc.Interval(id=ids.EXPERIMENTS_POLL, interval=EXPERIMENTS_POLL_MS),
            dcc.Store(id=ids.EXPERIMENTS_SEEN, data=seen),
            view,
        ]
    )


def experiments_missing(root: Path, variable: str) -> html.Div:
    """What the page says when there is nothing to show, and how to change that."""
    where = root.resolve()
    reason = "does not exist" if not root.is_dir() else "holds no run with a results.csv"
    return html.Div(
        dbc.Alert(
            [
                html.Strong("No experiments to show. "),
                f"The experiments folder {where} {reason}. Run a benchmark with ",
                html.Code("steer bench experiments/smoke.yaml"),
                f", or point {variable} at the folder that holds the runs.",
            ],
            color="info",
        ),
        id=ids.EXPERIMENTS,
    )


def _settings_line(experiment: Experiment) -> Any:
    settings = experiment.settings
    if settings.note:
        return dbc.Alert(settings.note, color="warning", className="py-1 small")
    # The benchmark's own words on how to read the table (Markdown: it quotes `> R`).
    # Brackets escaped: "[interquartile range]" is not a link.
    text = experiment.introduction.replace("[", "\\[")
    return dcc.Markdown(text, className="small text-muted")


def experiment_view(
    names: Sequence[str],
    current: str | None,
    experiment: Experiment | None,
    problem: Any = None,
    sort: str | None = None,
    descending: bool = False,
) -> html.Div:
    """The picker, then the experiment's settings, table and plots (or why not)."""
    children: list[Any] = [html.H4("Experiments"), experiment_picker(names, current)]
    if experiment is None:
        children.append(problem)
        return html.Div(children, id=ids.EXPERIMENTS)
    settings = experiment.settings
    graph = {"displaylogo": False}
    children += [
        html.Div(
            [
                html.Span(f"{experiment.folder}", className="me-2"),
                html.Span("files: " + ", ".join(experiment.files)),
            ],
            className="small text-muted mb-1",
        ),
        _settings_line(experiment),
        summary_table(experiment, sort, descending),
        html.P(
            "Final distance: the median over the seeds of the last incumbent's distance to "
            "the target, relative to where the run started. Click a column title to sort.",
            className="small text-muted",
        ),
        dbc.Row(
            [
                dbc.Col(
                    dcc.Graph(
                        figure=rounds_to_target_figure(experiment.runs, settings.rounds),
                        config=graph,
                    ),
                    lg=6,
                ),
                dbc.Col(
                    dcc.Graph(
                        figure=final_distance_figure(experiment.runs, settings.target_fraction),
                        config=graph,
                    ),
                    lg=6,
                ),
            ],
            className="g-2",
        ),
        dcc.Graph(
            figure=distance_curves_figure(experiment.rows, settings.target_fraction),
            config=graph,
        ),
    ]
    return html.Div(children, id=ids.EXPERIMENTS)
