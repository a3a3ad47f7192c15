"""The experiments page's data: benchmark runs found under the experiments folder, read by
the benchmark's own reader (`steering_core.bench.results.read_bench`).

The folder is the one `steer bench` writes to by default (`steering_core.bench.location`):
$STEER_EXPERIMENTS_DIR, else experiments/ derived from the dashboard's data root.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from dash import html

from dashboard.callbacks.session import error_message
from dashboard.layout.experiments import (
    Experiment,
    experiment_view,
    experiments_missing,
    experiments_watch,
)
from dashboard.state import DashboardState
from steering_core.bench.location import EXPERIMENTS_DIR_ENV, experiments_dir
from steering_core.bench.report import RESULTS
from steering_core.bench.results import read_bench
from steering_core.errors import NotFound, SteeringError


def experiment_names(root: Path) -> list[str]:
    """The folders under `root` that hold a results.csv, newest result first."""
    if not root.is_dir():
        return []
    found = [(p.parent.stat().st_mtime, p.parent.name) for p in root.glob(f"*/{RESULTS}")]
    return [name for _, name in sorted(found, key=lambda item: (-item[0], item[1]))]


@functools.lru_cache(maxsize=8)
def _load(folder: str, _stamp: tuple[int, int]) -> Experiment:
    path = Path(folder)
    results = read_bench(path)
    # The figures and the table take one mapping per row.
    return Experiment(
        name=path.name,
        folder=path,
        rows=results.rows.to_dict("records"),
        runs=results.runs.to_dict("records"),
        summary=results.summary.to_dict("records"),
        settings=results.settings,
        introduction=results.settings.introduction(),
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


def runs_seen(root: Path) -> list[list[Any]]:
    """Every run under `root` with its results.csv's modification time, [[run, mtime_ns],
    ...] newest first: a change means the page is out of date."""
    seen = []
    for name in experiment_names(root):
        try:
            seen.append([name, (root / name / RESULTS).stat().st_mtime_ns])
        except FileNotFoundError:  # removed since it was listed
            continue
    return seen


def experiments_view(state: DashboardState, query: dict[str, str]) -> html.Div:
    """One benchmark's table and plots (or why not), without the poll."""
    root = experiments_dir(state.workspace.data_root)
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


def experiments_page(state: DashboardState, query: dict[str, str]) -> Any:
    """`/experiments?name=NAME&sort=COLUMN&desc=1`: one benchmark's table and plots, re-drawn
    when a run appears or changes (`callbacks.experiments.refresh`)."""
    seen = runs_seen(experiments_dir(state.workspace.data_root))
    return experiments_watch(experiments_view(state, query), seen)
