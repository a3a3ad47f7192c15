"""The benchmark: a tiny grid runs end to end in two processes, reproducibly, with every
output; bad configs fail naming the field."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from steering_core.bench.config import load_bench_config, make_bench_config
from steering_core.bench.report import summarize
from steering_core.bench.results import read_bench
from steering_core.bench.runner import run_bench, tasks
from steering_core.cli import cli
from steering_core.errors import InvalidInput

TINY = {
    "name": "tiny",
    "methods": ["trust_region+bradley_terry", "thompson+plackett_luce"],
    "baselines": ["es_1k", "cma_es", "botorch_eubo"],
    "noise": [{"reversal_probability": 0.1}],
    "dimensions": [2, 3],
    "seeds": 2,
    "rounds": 3,
    "k": 4,
    "workers": 2,
}


def test_a_grid_runs_in_parallel_and_reproduces_from_its_config(tmp_path: Path) -> None:
    config = make_bench_config(TINY)
    assert len(tasks(config)) == 5 * 2 * 2
    first = run_bench(config, tmp_path / "a")
    again = run_bench(config.model_copy(update={"workers": 1}), tmp_path / "b")

    def outcome(rows: list[dict]) -> list[tuple]:
        return [(r["method"], r["d"], r["seed"], r["round"], r["distance"]) for r in rows]

    assert outcome(first) == outcome(again)  # the same numbers whatever the process count
    assert {r["method"] for r in first} == set(config.method_names())
    assert all(r["round"] <= 3 for r in first)
    # The tool's own methods ran as stored synthetic sessions.
    assert all(r["session_id"] for r in first if "+" in r["method"])
    summary = summarize(first, config).to_dict("records")
    assert {e["method"] for e in summary} == set(config.method_names())
    assert all(e["bound"] == pytest.approx(e["d"] * 3.3219 / 2, rel=1e-3) for e in summary)


def test_steer_bench_writes_csv_markdown_and_plots(tmp_path: Path) -> None:
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump({**TINY, "baselines": ["es_1k"], "dimensions": [2]}))
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["bench", str(path), "--out", str(out), "--workers", "1"])
    assert result.exit_code == 0, result.output
    names = ("results.csv", "settings.json", "summary.md", "regret.html", "regret.png")
    for name in (*names, "rounds.png"):
        assert (out / name).stat().st_size > 0, name
    # What the CLI prints is what the one reader reads back, and summary.md says the same.
    results = read_bench(out)
    assert results.settings.k == 4 and results.settings.rounds == 3
    assert (out / "summary.md").read_text() in result.output
    with (out / "results.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 3 * 2 * (3 + 1)  # methods x seeds x (rounds + the start)
    assert "| es_1k | 2 |" in (out / "summary.md").read_text()
    assert "plotly" in (out / "regret.html").read_text()[:200000].lower()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"dimensions": [0]}, "dimensions"),
        ({"seeds": 0}, "seeds"),
        ({"baselines": ["hill_climbing"]}, "unknown baselines"),
        ({"methods": ["trust_region"]}, r"SAMPLER\+MODEL"),
        ({"methods": ["nope+bradley_terry"]}, "unknown sampler 'nope'"),
        ({"methods": ["random+nope"]}, "unknown preference model 'nope'"),
        ({"feedback": ["telepathy"]}, "feedback"),
        ({"noise": [{"reversal_probability": 2}]}, "noise.0.reversal_probability"),
        ({"colour": "red"}, "colour: unknown field"),
        ({"methods": [], "baselines": []}, "at least one method"),
    ],
)
def test_bad_bench_configs_name_the_field(change: dict, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        make_bench_config({**TINY, **change})


def test_a_bad_bench_file_is_a_one_line_cli_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("rounds: [1, 2\n")
    result = CliRunner().invoke(cli, ["bench", str(path)])
    assert result.exit_code == 2 and "not valid YAML at line 2" in result.output
    with pytest.raises(InvalidInput, match="does not exist"):
        load_bench_config(tmp_path / "missing.yaml")
