"""The experiments page's data: benchmark runs found under the experiments folder, read from
their `results.csv` (and the settings line of their `summary.md`).

The folder is `experiments/` of the directory the dashboard was started in, or the one the
environment variable `STEER_EXPERIMENTS_DIR` names.
"""

from __future__ import annotations

import csv
import functools
import math
import os
import re
from pathlib import Path
from typing import Any

from dashboard.callbacks.session import error_message
from dashboard.layout.experiments import (
    BenchSettings,
    Experiment,
    experiment_view,
    experiments_missing,
)
from dashboard.state import DashboardState
from steering_core.bench.config import BenchConfig
from steering_core.bench.report import GROUP, runs_to_target, summarize
from steering_core.errors import DataCorrupt, NotFound, SteeringError

EXPERIMENTS_DIR_ENV = "STEER_EXPERIMENTS_DIR"
DEFAULT_EXPERIMENTS_DIR = Path("experiments")
RESULTS = "results.csv"
SUMMARY = "summary.md"
INTEGER_COLUMNS = ("d", "seed", "round")
FLOAT_COLUMNS = ("distance", "relative_distance", "seconds")
REQUIRED_COLUMNS = (*GROUP, "seed", "round", "relative_distance", "seconds")
# The settings line summary.md opens with (steering_core.bench.report.markdown_summary); the
# CSV alone does not say k, the round limit or the target.
SETTINGS_LINE = re.compile(
    r"k = (?P<k>\d+), (?P<seeds>\d+) seeds, at most (?P<rounds>\d+) rounds, "
    r"trust radius (?P<trust_radius>[0-9.e+-]+);.*?log2\(1/(?P<fraction>[0-9.e+-]+)\)",
    re.DOTALL,
)


def experiments_dir() -> Path:
    """Where benchmark outputs are looked for: $STEER_EXPERIMENTS_DIR or ./experiments."""
    return Path(os.environ.get(EXPERIMENTS_DIR_ENV) or DEFAULT_EXPERIMENTS_DIR)


def experiment_names(root: Path) -> list[str]:
    """The folders under `root` that hold a results.csv, newest result first."""
    if not root.is_dir():
        return []
    found = [(p.parent.stat().st_mtime, p.parent.name) for p in root.glob(f"*/{RESULTS}")]
    return [name for _, name in sorted(found, key=lambda item: (-item[0], item[1]))]


def read_results(path: Path) -> list[dict[str, Any]]:
    """results.csv's rows with numbers parsed; a damaged file raises DataCorrupt naming the
    file, the line and the column."""
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise DataCorrupt(
                    f"{path}: not a benchmark results CSV, missing column(s) {', '.join(missing)}"
                )
            rows = []
            for row in reader:
                for names, kind in ((INTEGER_COLUMNS, int), (FLOAT_COLUMNS, float)):
                    for name in names:
                        if name not in row:
                            continue  # `distance` is optional: the pages use the relative one
                        try:
                            row[name] = kind(row[name])
                        except (TypeError, ValueError):
                            raise DataCorrupt(
                                f"{path}, line {reader.line_num}: column {name} has "
                                f"{row[name]!r}, not a number"
                            ) from None
                rows.append(row)
    except FileNotFoundError:
        raise NotFound(f"{path} does not exist (the run may not have finished)") from None
    except (UnicodeDecodeError, csv.Error) as error:
        raise DataCorrupt(f"{path}: not a readable CSV ({error})") from None
    if not rows:
        raise DataCorrupt(f"{path}: no results in it (only a header)")
    return rows


def read_settings(folder: Path, rows: list[dict[str, Any]]) -> tuple[BenchSettings, str]:
    """(settings, introduction) from summary.md, or defaults said to be assumed."""
    try:
        text = (folder / SUMMARY).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        text = ""
    match = SETTINGS_LINE.search(text)
    if match is None:
        fraction = BenchConfig.model_fields["target_fraction"].default
        note = (
            f"{SUMMARY} is missing or has no settings line: assuming the target is "
            f"{fraction:.0%} of the initial distance and the round limit is the last round "
            "in the CSV; no information bound."
        )
        rounds = max(row["round"] for row in rows)
        return BenchSettings(k=None, rounds=rounds, target_fraction=fraction, note=note), ""
    paragraphs = [p.strip() for p in text.split("\n\n") if p.strip()]
    introduction = next((p for p in paragraphs if p.startswith("k = ")), "")
    settings = BenchSettings(
        k=int(match["k"]),
        rounds=int(match["rounds"]),
        target_fraction=float(match["fraction"]),
        seeds=int(match["seeds"]),
        trust_radius=float(match["trust_radius"]),
    )
    return settings, introduction


def settings_config(name: str, rows: list[dict[str, Any]], settings: BenchSettings) -> BenchConfig:
    """A BenchConfig carrying what summarize() reads: the methods in the CSV's order (ours,
    then the baselines), k, the round limit and the target."""
    methods = list(dict.fromkeys(row["method"] for row in rows))
    # Not validated: a method from an old run may no longer be registered, and the table
    # should still show it.
    return BenchConfig.model_construct(
        name=name,
        methods=[m for m in methods if "+" in m],
        baselines=[m for m in methods if "+" not in m],
        k=settings.k or 2,
        rounds=settings.rounds,
        target_fraction=settings.target_fraction,
    )


@functools.lru_cache(maxsize=8)
def _load(folder: str, _stamp: tuple[int, int]) -> Experiment:
    path = Path(folder)
    rows = read_results(path / RESULTS)
    settings, introduction = read_settings(path, rows)
    summary = summarize(rows, settings_config(path.name, rows, settings))
    if settings.k is None:
        for entry in summary:
            entry["bound"] = entry["ratio_to_bound"] = math.nan
    return Experiment(
        name=path.name,
        folder=path,
        rows=rows,
        runs=runs_to_target(rows, settings.target_fraction),
        summary=summary,
        settings=settings,
        introduction=introduction,
        files=sorted(p.name for p in path.iterdir() if p.is_file()),
    )


def load_experiment(folder: Path) -> Experiment:
    """An experiment folder's results, summary and settings (re-read when results.csv
    changes: a 50 000-row CSV takes a fraction of a second, every sort click would pay it)."""
    try:
        stat = (folder / RESULTS).stat()
    except FileNotFoundError:
        raise NotFound(
            f"{folder / RESULTS} does not exist (the run may not have finished)"
        ) from None
    return _load(str(folder.resolve()), (stat.st_mtime_ns, stat.st_size))


def experiments_page(state: DashboardState, query: dict[str, str]) -> Any:
    """`/experiments?name=NAME&sort=COLUMN&desc=1`: one benchmark's table and plots."""
    root = experiments_dir()
    names = experiment_names(root)
    if not names:
        return experiments_missing(root, EXPERIMENTS_DIR_ENV)
    name = query.get("name") or names[0]
    try:
        if name not in names:
            raise NotFound(f"no experiment {name!r} with a {RESULTS} in {root}")
        experiment = load_experiment(root / name)
    except SteeringError as error:
        return experiment_view(names, name, None, problem=error_message(error))
    sort = query.get("sort")
    descending = query.get("desc") == "1"
    return experiment_view(names, name, experiment, sort=sort, descending=descending)
