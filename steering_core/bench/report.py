"""Benchmark outputs: the results CSV, per-run rounds-to-target, a Markdown summary with the
information bound, and plots (regret vs round; rounds-to-target by method) as HTML and PNG.

Rounds-to-target is the first round whose incumbent is within `target_fraction` of the
initial distance; a run that never gets there counts as infinite, so medians and quartiles
are nearest-rank (no interpolation) and print as "> R" when they fall on such runs.
"""

from __future__ import annotations

import csv
import math
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from steering_core.bench.config import BenchConfig
from steering_core.bench.runner import ROW_FIELDS

GROUP = ("method", "user", "noise", "feedback", "d")


def write_results(rows: list[dict[str, Any]], path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=ROW_FIELDS)
        writer.writeheader()
        writer.writerows(rows)


def read_results(path: Path) -> list[dict[str, Any]]:
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        for name in ("d", "seed", "round"):
            row[name] = int(row[name])
        for name in ("distance", "relative_distance", "seconds"):
            row[name] = float(row[name])
    return rows


def runs_to_target(rows: list[dict[str, Any]], fraction: float) -> list[dict[str, Any]]:
    """One entry per run: its group, seed, rounds to target (inf if never) and final distance."""
    by_run: dict[tuple, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_run[(*(row[g] for g in GROUP), row["seed"])].append(row)
    runs = []
    for key, run_rows in by_run.items():
        run_rows.sort(key=lambda r: r["round"])
        reached = [r["round"] for r in run_rows if r["relative_distance"] <= fraction + 1e-12]
        runs.append(
            {
                **dict(zip((*GROUP, "seed"), key, strict=True)),
                "rounds_to_target": reached[0] if reached else math.inf,
                "final_relative_distance": run_rows[-1]["relative_distance"],
                "seconds": run_rows[0]["seconds"],
            }
        )
    return runs


def _quantile(values: list[float], q: float) -> float:
    return float(np.quantile(np.array(values, dtype=float), q, method="inverted_cdf"))


def summarize(rows: list[dict[str, Any]], config: BenchConfig) -> list[dict[str, Any]]:
    """Per group: median and IQR of rounds-to-target, share reached, ratio to the bound."""
    groups: dict[tuple, list[dict[str, Any]]] = defaultdict(list)
    for run in runs_to_target(rows, config.target_fraction):
        groups[tuple(run[g] for g in GROUP)].append(run)
    summary = []
    for key, runs in groups.items():
        rounds = [r["rounds_to_target"] for r in runs]
        entry = dict(zip(GROUP, key, strict=True))
        bound = config.information_bound(int(entry["d"]))
        median = _quantile(rounds, 0.5)
        entry.update(
            runs=len(runs),
            median=median,
            q1=_quantile(rounds, 0.25),
            q3=_quantile(rounds, 0.75),
            reached=sum(math.isfinite(r) for r in rounds) / len(rounds),
            bound=bound,
            ratio_to_bound=median / bound,
            median_final_relative_distance=_quantile(
                [r["final_relative_distance"] for r in runs], 0.5
            ),
            seconds_per_run=float(np.mean([r["seconds"] for r in runs])),
        )
        summary.append(entry)
    order = {name: i for i, name in enumerate(config.method_names())}
    summary.sort(key=lambda e: (e["user"], e["noise"], e["feedback"], e["d"], order[e["method"]]))
    return summary


def _rounds(value: float, limit: int) -> str:
    return f"> {limit}" if not math.isfinite(value) else f"{value:g}"


def markdown_summary(summary: list[dict[str, Any]], config: BenchConfig) -> str:
    """The summary table in Markdown, one table per (user, noise, feedback)."""
    lines = [
        f"# Benchmark `{config.name}`",
        "",
        f"k = {config.k}, {config.seeds} seeds, at most {config.rounds} rounds, trust radius "
        f"{config.trust_radius}; target: the incumbent within {config.target_fraction:.0%} of "
        "the initial distance. Rounds are medians [interquartile range], nearest rank; "
        "`> R`: not reached within R rounds. Bound: "
        f"`d log2(1/{config.target_fraction:g}) / log2({config.k})` rounds of winner-only "
        "feedback (the information limit); ratio = median / bound.",
    ]
    sections: dict[tuple, list[dict[str, Any]]] = defaultdict(list)
    for entry in summary:
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
    runs = runs_to_target(rows, config.target_fraction)
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


def write_report(rows: list[dict[str, Any]], config: BenchConfig, out: Path) -> dict[str, Any]:
    """Every output of a benchmark run into `out`; returns the summary and the paths."""
    write_results(rows, out / "results.csv")
    summary = summarize(rows, config)
    (out / "summary.md").write_text(markdown_summary(summary, config), encoding="utf-8")
    plots = write_plots(rows, config, out)
    return {
        "summary": summary,
        "paths": [str(out / "results.csv"), str(out / "summary.md"), *map(str, plots)],
    }
