"""The one reader of a benchmark's outputs (`steer bench` and the dashboard's Experiments
page): results.csv and settings.json of a run folder, as pandas DataFrames."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from pydantic import ValidationError

from steering_core.bench.config import BenchConfig
from steering_core.bench.report import (
    GROUP,
    RESULTS,
    SETTINGS,
    introduction,
    runs_to_target,
    summarize,
)
from steering_core.errors import DataCorrupt, NotFound

INTEGER_COLUMNS = ("d", "seed", "round")
FLOAT_COLUMNS = ("distance", "relative_distance", "seconds")
REQUIRED_COLUMNS = (*GROUP, "seed", "round", "relative_distance", "seconds")
TEXT_COLUMNS = ("method", "user", "noise", "feedback", "session_id")


@dataclass(frozen=True)
class BenchSettings:
    """What results.csv does not say. `k` is None without settings.json (no bound then)."""

    k: int | None
    rounds: int
    target_fraction: float
    seeds: int | None = None
    trust_radius: float | None = None
    note: str = ""  # how the settings were found, when not from settings.json

    def introduction(self) -> str:
        """How to read the summary (as summary.md says it), or "" without settings.json."""
        if self.k is None or self.seeds is None or self.trust_radius is None:
            return ""
        return introduction(
            self.k, self.seeds, self.rounds, self.trust_radius, self.target_fraction
        )


@dataclass(frozen=True)
class BenchResults:
    """A benchmark run folder, read: `rows` one per (run, round) as results.csv holds
    them, `runs` one per run, `summary` one per (method, user, noise, feedback, d)."""

    folder: Path
    rows: pd.DataFrame
    runs: pd.DataFrame
    summary: pd.DataFrame
    settings: BenchSettings


def read_rows(path: Path) -> pd.DataFrame:
    """results.csv with numbers parsed; a damaged file raises DataCorrupt naming the file,
    the line and the column."""
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except FileNotFoundError:
        raise NotFound(f"{path} does not exist (the run may not have finished)") from None
    except (UnicodeDecodeError, pd.errors.ParserError) as error:
        raise DataCorrupt(f"{path}: not a readable CSV ({error})") from None
    except pd.errors.EmptyDataError:
        raise DataCorrupt(f"{path}: not a readable CSV (it is empty)") from None
    missing = [column for column in REQUIRED_COLUMNS if column not in frame.columns]
    if missing:
        raise DataCorrupt(
            f"{path}: not a benchmark results CSV, missing column(s) {', '.join(missing)}"
        )
    if frame.empty:
        raise DataCorrupt(f"{path}: no results in it (only a header)")
    for names, kind in ((INTEGER_COLUMNS, "integer"), (FLOAT_COLUMNS, "float")):
        for name in names:
            if name not in frame.columns:
                continue  # `distance` is optional: the pages use the relative one
            numbers = pd.to_numeric(frame[name], errors="coerce")
            bad = numbers.isna() | (numbers % 1 != 0 if kind == "integer" else False)
            if bad.any():
                row = int(bad.to_numpy().nonzero()[0][0])
                raise DataCorrupt(
                    f"{path}, line {row + 2}: column {name} has {frame[name].iloc[row]!r}, "
                    "not a number"
                )
            frame[name] = numbers.astype(int if kind == "integer" else float)
    for name in TEXT_COLUMNS:
        if name in frame.columns:
            frame[name] = frame[name].astype(object)
    return frame


def read_settings(folder: Path, rows: pd.DataFrame) -> BenchSettings:
    """The settings `steer bench` wrote beside its results, or defaults said to be
    assumed when settings.json is missing or unreadable."""
    path = folder / SETTINGS
    try:
        config = BenchConfig.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, ValidationError):
        fraction = BenchConfig.model_fields["target_fraction"].default
        note = (
            f"{SETTINGS} is missing or unreadable: assuming the target is "
            f"{fraction:.0%} of the initial distance and the round limit is the last round "
            "in the CSV; no information bound."
        )
        return BenchSettings(
            k=None, rounds=int(rows["round"].max()), target_fraction=fraction, note=note
        )
    return BenchSettings(
        k=config.k,
        rounds=config.rounds,
        target_fraction=config.target_fraction,
        seeds=config.seeds,
        trust_radius=config.trust_radius,
    )


def summary_config(name: str, rows: pd.DataFrame, settings: BenchSettings) -> BenchConfig:
    """A BenchConfig carrying what summarize() reads: the methods in the CSV's order (ours,
    then the baselines), k, the round limit and the target."""
    methods = list(dict.fromkeys(rows["method"]))
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


def read_bench(folder: Path) -> BenchResults:
    """A benchmark run folder's rows, runs, summary and settings."""
    folder = Path(folder)
    rows = read_rows(folder / RESULTS)
    settings = read_settings(folder, rows)
    summary = summarize(rows, summary_config(folder.name, rows, settings))
    if settings.k is None:
        summary["bound"] = summary["ratio_to_bound"] = math.nan
    return BenchResults(
        folder=folder,
        rows=rows,
        runs=runs_to_target(rows, settings.target_fraction),
        summary=summary,
        settings=settings,
    )
