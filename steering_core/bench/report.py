"""Benchmark outputs: the results CSV, the settings as JSON, per-run rounds-to-target, a
Markdown summary with the information bound, and plots (regret vs round; rounds-to-target
by method) as HTML and PNG.

Rounds-to-target is the first round whose incumbent is within `target_fraction` of the
initial distance; a run that never gets there counts as infinite, so medians and quartiles
are nearest-rank (no interpolation) and print as "> R" when they fall on such runs.
"""

from __future__ import annotations

import csv
import json
import math
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from steering_core.bench.config import BenchConfig
from steering_core.bench.runner import ROW_FIELDS

GROUP = ("method", "user", "noise", "feedback", "d")
RESULTS = "results.csv"
SETTINGS = "settings.json"
SUMMARY = "summary.md"
SUMMARY_FIELDS = (
    "runs",
    "median",
    "q1",
    "q3",
    "reached",
    "bound",
    "ratio_to_bound",
    "median_final_relative_distance",
    "seconds_per_run",
)


def write_results(rows: list[dict[str, Any]], path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=ROW_FIELDS)
        writer.writeheader()
        writer.writerows(rows)


def _frame(rows: pd.DataFrame | list[dict[str, Any]]) -> pd.DataFrame:
    return rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(rows)


def runs_to_target(rows: pd.DataFrame | list[dict[str, Any]], fraction: float) -> pd.DataFrame:
    """One row per run (in the order the runs first appear): its group, seed, rounds to
    target (inf if never), final relative distance and seconds.

    `rows`: one per (run, round), as results.csv holds them.
    """
    frame = _frame(rows)
    keys = [*GROUP, "seed"]
    by_round = frame.sort_values("round", kind="stable")
    runs = by_round.groupby(keys, sort=False).agg(
        final_relative_distance=("relative_distance", "last"), seconds=("seconds", "first")
    )
    close = by_round[by_round["relative_distance"] <= fraction + 1e-12]
    reached = close.groupby(keys, sort=False)["round"].min().astype(float)
    runs["rounds_to_target"] = reached.reindex(runs.index).fillna(math.inf)
    order = pd.MultiIndex.from_frame(frame[keys].drop_duplicates())
    runs = runs.reindex(order).reset_index()
    return runs[[*keys, "rounds_to_target", "final_relative_distance", "seconds"]]


def _quantile(values: Any, q: float) -> float:
    return float(np.quantile(np.asarray(values, dtype=float), q, method="inverted_cdf"))


def summarize(rows: pd.DataFrame | list[dict[str, Any]], config: BenchConfig) -> pd.DataFrame:
    """Per group: median and IQR of rounds-to-target, share reached, ratio to the bound;
    ordered by setting, then method in the config's order."""
    runs = runs_to_target(rows, config.target_fraction)
    entries = []
    for key, group in runs.groupby(list(GROUP), sort=False):
        rounds = group["rounds_to_target"]
        entry: dict[str, Any] = dict(zip(GROUP, key, strict=True))
        bound = config.information_bound(int(entry["d"]))
        median = _quantile(rounds, 0.5)
        entry.update(
            runs=len(group),
            median=median,
            q1=_quantile(rounds, 0.25),
            q3=_quantile(rounds, 0.75),
            reached=float(np.isfinite(rounds).mean()),
            bound=bound,
            ratio_to_bound=median / bound,
            median_final_relative_distance=_quantile(group["final_relative_distance"], 0.5),
            seconds_per_run=float(group["seconds"].mean()),
        )
        entries.append(entry)
    order = {name: i for i, name in enumerate(config.method_names())}
    entries.sort(key=lambda e: (e["user"], e["noise"], e["feedback"], e["d"], order[e["method"]]))
    return pd.DataFrame(entries, columns=[*GROUP, *SUMMARY_FIELDS])


def _rounds(value: float, limit: int) -> str:
    return f"> {limit}" if not math.isfinite(value) else f"{value:g}"


def introduction(
    k: int, seeds: int, rounds: int, trust_radius: float, target_fraction: float
) -> str:
    """How to read the summary table, in words (summary.md and the Experiments page)."""
    return (
        f"k = {k}, {seeds} seeds, at most {rounds} rounds, trust radius "
        f"{trust_radius}; target: the incumbent within {target_fraction:.0%} of "
        "the initial distance. Rounds are medians [interquartile range], nearest rank; "
        "`> R`: not reached within R rounds. Bound: "
        f"`d log2(1/{target_fraction:g}) / log2({k})` rounds of winner-only "
        "feedback (the information limit); ratio = median / bound."
    )


def markdown_summary(summary: pd.DataFrame, config: BenchConfig) -> str:
    """The summary table in Markdown, one table per (user, noise, feedback)."""
    lines = [
        f"# Benchmark `{config.name}`",
        "",
        introduction(
            config.k, config.seeds, config.rounds, config.trust_radius, config.target_fraction
        ),
    ]
    sections: dict[tuple, list[dict[str, Any]]] = defaultdict(list)
    for entry in summary.to_dict("records"):
        sections[(entry["user"], entry["noise"], entry["feedback"])].append(entry)
    for (user, noise, feedback), entries in sections.items():
        lines += [
            "",
            f"## user {user}, noise {noise}, feedback {feedback}",
            "",
            "| method | d | rounds to target | reached | bound | ratio to bound "
            "| final distance | s / run |",
            "|---|---:|---|---:|---:|---:|---:|---:|",
        ]
        for e in entries:
            rounds = (
                f"{_rounds(e['median'], config.rounds)} "
                f"[{_rounds(e['q1'], config.rounds)}, {_rounds(e['q3'], config.rounds)}]"
            )
            ratio = f"{e['ratio_to_bound']:.1f}" if math.isfinite(e["ratio_to_bound"]) else "-"
            lines.append(
                f"| {e['method']} | {e['d']} | {rounds} | {e['reached']:.0%} | {e['bound']:.1f} "
                f"| {ratio} | {e['median_final_relative_distance']:.2f} "
                f"| {e['seconds_per_run']:.2f} |"
            )
    return "\n".join(lines) + "\n"


def _curves(rows: list[dict[str, Any]]) -> dict[tuple, dict[str, tuple[list, list]]]:
    """(user, noise, feedback, d) -> method -> (rounds, median relative distance)."""
    values: dict[tuple, dict[str, dict[int, list[float]]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(list))
    )
    for row in rows:
        key = (row["user"], row["noise"], row["feedback"], row["d"])
        values[key][row["method"]][row["round"]].append(row["relative_distance"])
    return {
        key: {
            method: (sorted(by_round), [float(np.median(by_round[r])) for r in sorted(by_round)])
            for method, by_round in methods.items()
        }
        for key, methods in values.items()
    }


def write_plots(rows: list[dict[str, Any]], config: BenchConfig, out: Path) -> list[Path]:
    """regret.html/png (median distance to target vs round) and rounds.html/png (rounds to
    target by method); the HTML carries Plotly's JavaScript, so it opens offline."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    curves = _curves(rows)
    keys = sorted(curves)
    titles = [f"{u}, {n}, {f}, d={d}" for u, n, f, d in keys]
    columns = min(3, len(keys))
    plot_rows = math.ceil(len(keys) / columns)
    regret = make_subplots(rows=plot_rows, cols=columns, subplot_titles=titles)
    palette = {m: i for i, m in enumerate(config.method_names())}
    colours = [
        "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
        "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
    ]  # fmt: skip
    for i, key in enumerate(keys):
        for method, (x, y) in curves[key].items():
            regret.add_trace(
                go.Scatter(
                    x=x,
                    y=y,
                    name=method,
                    legendgroup=method,
                    showlegend=i == 0,
                    line={"color": colours[palette[method] % len(colours)]},
                ),
                row=i // columns + 1,
                col=i % columns + 1,
            )
    regret.update_yaxes(type="log", dtick=1, title_text="distance / initial")
    regret.update_xaxes(title_text="round")
    regret.update_layout(
        title=f"{config.name}: median distance of the incumbent to the hidden target",
        height=420 * plot_rows + 120,
        width=480 * columns + 80,
        legend={"orientation": "h", "y": -0.18},
    )
    runs = runs_to_target(rows, config.target_fraction).to_dict("records")
    rounds_figure = go.Figure()
    for method in config.method_names():
        for d in config.dimensions:
            chosen = [r for r in runs if r["method"] == method and r["d"] == d]
            # Runs that never reached the target are drawn at the round limit + 1.
            y = [min(r["rounds_to_target"], config.rounds + 1) for r in chosen]
            rounds_figure.add_trace(
                go.Box(y=y, name=f"{method} d={d}", boxpoints="all", jitter=0.4)
            )
    rounds_figure.update_layout(
        title=f"{config.name}: rounds until the incumbent is within "
        f"{config.target_fraction:.0%} of the initial distance (limit {config.rounds}+1 = never)",
        yaxis_title="rounds",
        showlegend=False,
        height=520,
    )
    paths = []
    for figure, name in ((regret, "regret"), (rounds_figure, "rounds")):
        path = out / f"{name}.html"
        figure.write_html(path, include_plotlyjs=True, full_html=True)
        paths.append(path)
    paths += _png_plots(curves, keys, runs, config, out)
    return paths


def _png_plots(
    curves: dict, keys: list, runs: list[dict[str, Any]], config: BenchConfig, out: Path
) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    columns = min(3, len(keys))
    plot_rows = math.ceil(len(keys) / columns)
    figure, axes = plt.subplots(
        plot_rows, columns, figsize=(5 * columns, 3.6 * plot_rows), squeeze=False
    )
    for i, key in enumerate(keys):
        axis = axes[i // columns][i % columns]
        for method, (x, y) in curves[key].items():
            axis.plot(x, y, label=method)
        axis.set_yscale("log")
        axis.set_title("{}, {}, {}, d={}".format(*key), fontsize=9)
        axis.set_xlabel("round")
        axis.set_ylabel("distance / initial")
        axis.axhline(config.target_fraction, color="grey", linestyle=":", linewidth=1)
    for j in range(len(keys), plot_rows * columns):
        axes[j // columns][j % columns].axis("off")
    axes[0][0].legend(fontsize=7)
    figure.tight_layout()
    regret = out / "regret.png"
    figure.savefig(regret, dpi=110)
    plt.close(figure)

    labels, data = [], []
    for method in config.method_names():
        for d in config.dimensions:
            chosen = [r for r in runs if r["method"] == method and r["d"] == d]
            labels.append(f"{method}\nd={d}")
            data.append([min(r["rounds_to_target"], config.rounds + 1) for r in chosen])
    figure, axis = plt.subplots(figsize=(max(6, 0.9 * len(labels)), 4.5))
    axis.boxplot(data)
    axis.set_xticks(range(1, len(labels) + 1), labels, rotation=60, ha="right", fontsize=7)
    axis.set_ylabel(f"rounds to target ({config.rounds + 1} = never)")
    figure.tight_layout()
    rounds = out / "rounds.png"
    figure.savefig(rounds, dpi=110)
    plt.close(figure)
    return [regret, rounds]


def write_settings(config: BenchConfig, out: Path) -> Path:
    """settings.json: the run's config, so that a reader of results.csv knows k, the round
    limit and the target without parsing summary.md."""
    path = out / SETTINGS
    path.write_text(json.dumps(config.model_dump(mode="json"), indent=2) + "\n", encoding="utf-8")
    return path


def write_report(rows: list[dict[str, Any]], config: BenchConfig, out: Path) -> dict[str, Any]:
    """Every output of a benchmark run into `out`; returns the summary and the paths."""
    write_results(rows, out / RESULTS)
    settings = write_settings(config, out)
    summary = summarize(rows, config)
    (out / SUMMARY).write_text(markdown_summary(summary, config), encoding="utf-8")
    plots = write_plots(rows, config, out)
    return {
        "summary": summary,
        "paths": [str(out / RESULTS), str(settings), str(out / SUMMARY), *map(str, plots)],
    }
