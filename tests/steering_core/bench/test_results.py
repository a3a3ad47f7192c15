"""The one reader of benchmark outputs: results.csv and settings.json as DataFrames, with
the same summary as the run wrote."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from steering_core.bench.config import BenchConfig
from steering_core.bench.report import markdown_summary, summarize, write_results, write_settings
from steering_core.bench.results import read_bench
from steering_core.errors import DataCorrupt

CONFIG = BenchConfig(
    name="tiny", methods=["trust_region+bradley_terry"], baselines=["es_1k"], seeds=2, rounds=3, k=4
)


def bench_rows() -> list[dict]:
    """Ours reaches the target at round 2 (seed 0) or never (seed 1); es_1k never does."""
    rows = []
    for method in ("trust_region+bradley_terry", "es_1k"):
        for seed in (0, 1):
            for round_index in range(4):
                reaches = method != "es_1k" and seed == 0
                relative = 0.05 if reaches and round_index >= 2 else 1.0 - 0.1 * round_index
                rows.append(
                    {
                        "method": method,
                        "user": "anchor",
                        "noise": "none",
                        "feedback": "winner",
                        "d": 2,
                        "seed": seed,
                        "round": round_index,
                        "distance": relative,
                        "relative_distance": relative,
                        "seconds": 0.25 + seed,
                        "session_id": "",
                    }
                )
    return rows


def test_a_run_folder_reads_back_as_dataframes_with_its_settings(tmp_path: Path) -> None:
    rows = bench_rows()
    write_results(rows, tmp_path / "results.csv")
    write_settings(CONFIG, tmp_path)
    results = read_bench(tmp_path)
    assert isinstance(results.rows, pd.DataFrame) and len(results.rows) == len(rows)
    assert results.rows["round"].dtype.kind == "i" and results.rows["seconds"].dtype.kind == "f"
    assert (results.settings.k, results.settings.rounds, results.settings.seeds) == (4, 3, 2)
    runs = results.runs.set_index(["method", "seed"])["rounds_to_target"]
    assert runs[("trust_region+bradley_terry", 0)] == 2
    assert math.isinf(runs[("trust_region+bradley_terry", 1)])
    # The summary the reader gives is the one the run wrote into summary.md.
    assert markdown_summary(results.summary, CONFIG) == markdown_summary(
        summarize(rows, CONFIG), CONFIG
    )
    assert results.summary["reached"].tolist() == [0.5, 0.0]
    assert "k = 4, 2 seeds, at most 3 rounds" in results.settings.introduction()


def test_without_settings_the_reader_says_what_it_assumes(tmp_path: Path) -> None:
    write_results(bench_rows(), tmp_path / "results.csv")
    results = read_bench(tmp_path)
    assert results.settings.k is None and results.settings.rounds == 3
    assert "assuming the target is 10%" in results.settings.note
    assert results.summary["bound"].isna().all()


def test_a_float_where_a_round_belongs_names_the_line(tmp_path: Path) -> None:
    rows = bench_rows()
    rows[3]["round"] = 1.5
    write_results(rows, tmp_path / "results.csv")
    with pytest.raises(DataCorrupt, match=r"line 5: column round has '1.5'"):
        read_bench(tmp_path)
