"""Where benchmark runs live: the same folder for `steer bench` and the Experiments page."""

from __future__ import annotations

from pathlib import Path

import pytest

from steering_core.bench.location import EXPERIMENTS_DIR_ENV, experiments_dir


def test_runs_live_beside_the_default_data_root_else_inside_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(EXPERIMENTS_DIR_ENV, raising=False)
    monkeypatch.delenv("STEER_DATA_ROOT", raising=False)
    monkeypatch.chdir(tmp_path)
    assert experiments_dir() == tmp_path / "experiments"  # beside ./data, with the configs
    assert experiments_dir("data") == tmp_path / "experiments"
    assert experiments_dir(tmp_path / "study") == tmp_path / "study" / "experiments"
    monkeypatch.setenv("STEER_DATA_ROOT", str(tmp_path / "other"))
    assert experiments_dir() == tmp_path / "other" / "experiments"
    monkeypatch.setenv(EXPERIMENTS_DIR_ENV, str(tmp_path / "runs"))
    assert experiments_dir(tmp_path / "study") == tmp_path / "runs"
