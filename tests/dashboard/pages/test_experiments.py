"""The experiments page without a browser: the folders found, the summary table from
results.csv and settings.json, sorting, and clear messages for a missing folder or a damaged
CSV."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from dash import no_update

from dashboard import ids
from dashboard.callbacks.experiments import refresh
from dashboard.callbacks.navigation import render_page
from dashboard.pages.experiments import (
    EXPERIMENTS_DIR_ENV,
    experiment_names,
    experiments_page,
    load_experiment,
)
from dashboard.state import DashboardState
from steering_core.bench.config import BenchConfig
from steering_core.bench.report import write_results, write_settings
from steering_core.cli import cli
from tests.dashboard.helpers import find, links, text, walk

METHODS = ("thompson+ideal_point", "es_1k")
DIMENSIONS = (2, 3)
ROUNDS = 5


def bench_rows() -> list[dict[str, Any]]:
    """Two methods x two d x two seeds; thompson reaches the target by round 2 (d=2) or 3
    (d=3), es_1k never does."""
    rows = []
    for method in METHODS:
        for d in DIMENSIONS:
            for seed in (0, 1):
                for round_index in range(ROUNDS + 1):
                    if method == "es_1k":
                        relative = 1.0 - 0.1 * round_index
                    else:
                        relative = max(0.05, 1.0 - 0.5 * round_index / (d - 1))
                    rows.append(
                        {
                            "method": method,
                            "user": "anchor",
                            "noise": "reversal 0.1",
                            "feedback": "winner",
                            "d": d,
                            "seed": seed,
                            "round": round_index,
                            "distance": relative / 2,
                            "relative_distance": relative,
                            "seconds": 0.5,
                            "session_id": f"s{seed}",
                        }
                    )
    return rows


def write_experiment(root: Path, name: str = "tiny", settings: bool = True) -> Path:
    """An experiment folder as `steer bench` writes it (results.csv and settings.json)."""
    folder = root / name
    folder.mkdir(parents=True)
    rows = bench_rows()
    write_results(rows, folder / "results.csv")
    if settings:
        config = BenchConfig(
            name=name,
            methods=[METHODS[0]],
            baselines=[METHODS[1]],
            dimensions=list(DIMENSIONS),
            seeds=2,
            rounds=ROUNDS,
            k=4,
        )
        write_settings(config, folder)
    return folder


@pytest.fixture
def experiments_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "experiments"
    root.mkdir()
    monkeypatch.setenv(EXPERIMENTS_DIR_ENV, str(root))
    return root


def table_rows(page: Any) -> list[list[str]]:
    table = find(page, ids.EXPERIMENT_TABLE)
    body = next(c for c in walk(table) if type(c).__name__ == "Tbody")
    return [[text(cell) for cell in row.children] for row in body.children]


def table_header(page: Any) -> list[str]:
    table = find(page, ids.EXPERIMENT_TABLE)
    head = next(c for c in walk(table) if type(c).__name__ == "Thead")
    return [text(cell) for cell in head.children.children]


def test_the_table_has_one_row_per_method_and_setting(
    state: DashboardState, experiments_root: Path
) -> None:
    write_experiment(experiments_root)
    page = render_page(state, "/experiments", "")

    rows = table_rows(page)
    assert len(rows) == len(METHODS) * len(DIMENSIONS)
    header = table_header(page)
    # user, noise and feedback are the same on every row: said once, not in columns.
    assert header[:3] == ["method", "d", "runs"] and "bound" in header
    by_method_d = {(row[0], row[1]): row for row in rows}
    assert by_method_d[("thompson+ideal_point", "2")][3] == "2 [2, 2]"
    assert by_method_d[("thompson+ideal_point", "3")][3] == "4 [4, 4]"
    assert by_method_d[("es_1k", "2")][3] == f"> {ROUNDS} [> {ROUNDS}, > {ROUNDS}]"
    assert by_method_d[("es_1k", "2")][header.index("reached")] == "0%"
    # The settings from settings.json, in summary.md's words, and three plots.
    assert "k = 4, 2 seeds, at most 5 rounds" in text(page)
    assert sum(type(c).__name__ == "Graph" for c in walk(page)) == 3


def test_a_click_on_a_column_title_sorts_and_a_second_click_reverses(
    state: DashboardState, experiments_root: Path
) -> None:
    write_experiment(experiments_root)
    page = experiments_page(state, {"name": "tiny"})
    sort_link = dict((t, h) for t, h in links(find(page, ids.EXPERIMENT_TABLE)))
    assert sort_link["rounds to target [IQR]"] == "/experiments?name=tiny&sort=median"

    ascending = experiments_page(state, {"name": "tiny", "sort": "median"})
    assert [row[3].split()[0] for row in table_rows(ascending)] == ["2", "4", ">", ">"]
    again = dict(links(find(ascending, ids.EXPERIMENT_TABLE)))
    assert again["rounds to target [IQR] ▲"] == "/experiments?name=tiny&sort=median&desc=1"
    descending = experiments_page(state, {"name": "tiny", "sort": "median", "desc": "1"})
    assert [row[3].split()[0] for row in table_rows(descending)] == [">", ">", "4", "2"]


def test_the_picker_lists_every_run_and_opens_the_newest(
    state: DashboardState, experiments_root: Path
) -> None:
    older = write_experiment(experiments_root, "older")
    write_experiment(experiments_root, "newer")
    (experiments_root / "no-results-yet").mkdir()
    older_time = (experiments_root / "newer").stat().st_mtime - 60
    os.utime(older, (older_time, older_time))
    assert experiment_names(experiments_root) == ["newer", "older"]
    page = experiments_page(state, {})
    nav = [(t, h) for t, h in links(page) if h.startswith("/experiments?name=")][:2]
    assert nav == [("newer", "/experiments?name=newer"), ("older", "/experiments?name=older")]
    assert "experiments/newer" in text(page)


def test_a_missing_folder_says_where_it_looked_and_how_to_change_it(
    state: DashboardState, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(EXPERIMENTS_DIR_ENV, str(tmp_path / "nowhere"))
    page = render_page(state, "/experiments", "")
    assert "does not exist" in text(page) and str(tmp_path / "nowhere") in text(page)
    assert EXPERIMENTS_DIR_ENV in text(page)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("method,d,seed\nx,2,0\n", "missing column(s) user, noise, feedback, round"),
        (
            "method,user,noise,feedback,d,seed,round,distance,relative_distance,seconds\n"
            "m+n,anchor,none,winner,2,0,zero,0.5,1.0,0.1\n",
            "line 2: column round has 'zero', not a number",
        ),
        ("method,user,noise,feedback,d,seed,round,relative_distance,seconds\n", "only a header"),
        (b"\xff\xfe\x00garbage", "not a readable CSV"),
    ],
)
def test_a_malformed_csv_is_a_message_naming_the_file(
    state: DashboardState, experiments_root: Path, content: str | bytes, message: str
) -> None:
    folder = experiments_root / "broken"
    folder.mkdir()
    path = folder / "results.csv"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    page = experiments_page(state, {"name": "broken"})
    assert "Runtime:" in text(page) and message in text(page) and str(path) in text(page)
    assert ("broken", "/experiments?name=broken") in links(page)  # the picker stays


def test_an_unknown_experiment_is_a_message(state: DashboardState, experiments_root: Path) -> None:
    write_experiment(experiments_root)
    page = experiments_page(state, {"name": "zzz"})
    assert "Invalid input" in text(page) and "no experiment 'zzz'" in text(page)


def test_without_settings_json_the_target_is_assumed_and_said(
    state: DashboardState, experiments_root: Path
) -> None:
    write_experiment(experiments_root, settings=False)
    experiment = load_experiment(experiments_root / "tiny")
    assert experiment.settings.k is None and experiment.settings.rounds == ROUNDS
    assert all(math.isnan(entry["bound"]) for entry in experiment.summary)
    page = experiments_page(state, {"name": "tiny"})
    assert "assuming the target is 10%" in text(page)
    assert "bound" not in table_header(page)
    assert len(table_rows(page)) == len(METHODS) * len(DIMENSIONS)


def test_a_rewritten_csv_is_read_again(experiments_root: Path) -> None:
    folder = write_experiment(experiments_root)
    first = load_experiment(folder)
    assert load_experiment(folder) is first  # cached
    rows = [row for row in bench_rows() if row["method"] == METHODS[0]]
    write_results(rows, folder / "results.csv")
    assert len(load_experiment(folder).summary) == len(DIMENSIONS)


def test_a_steer_bench_run_with_the_default_out_is_on_the_page(
    state: DashboardState, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The page looked in ./experiments of the folder the dashboard started in, the CLI wrote
    # beside its config: run from another folder, the run never appeared.
    monkeypatch.delenv(EXPERIMENTS_DIR_ENV, raising=False)
    config = tmp_path / "configs" / "tiny.yaml"
    config.parent.mkdir()
    tiny = {"name": "tiny", "methods": ["thompson+ideal_point"], "baselines": ["es_1k"]}
    settings = {"dimensions": [2], "seeds": 1, "rounds": 2, "k": 4, "workers": 1}
    config.write_text(yaml.safe_dump({**tiny, **settings}))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    data_root = str(state.workspace.data_root)
    result = CliRunner().invoke(cli, ["--data-root", data_root, "bench", str(config)])
    assert result.exit_code == 0, result.output
    page = render_page(state, "/experiments", "")
    assert "does not exist" not in text(page)
    assert find(page, ids.EXPERIMENT_TABLE) and "tiny" in text(page)


def test_an_open_page_redraws_when_a_run_appears_or_changes(
    state: DashboardState, experiments_root: Path
) -> None:
    # A run that finished while the page was open appeared only after a reload.
    page = render_page(state, "/experiments", "")
    seen = find(page, ids.EXPERIMENTS_SEEN).data
    assert seen == [] and "No experiments" in text(page)
    assert refresh(state, "", seen) == (no_update, no_update)  # nothing new: nothing sent
    write_experiment(experiments_root, "tiny")
    children, seen = refresh(state, "", seen)
    assert [name for name, _ in seen] == ["tiny"] and "tiny" in text(children)
    assert refresh(state, "", seen) == (no_update, no_update)
    results = experiments_root / "tiny" / "results.csv"
    os.utime(results, ns=(results.stat().st_atime_ns, results.stat().st_mtime_ns + 10**9))
    children, again = refresh(state, "", seen)
    assert again != seen and "tiny" in text(children)
