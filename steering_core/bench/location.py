"""Where benchmark runs live: one default for `steer bench --out` and the dashboard's
Experiments page, derived from the data root."""

from __future__ import annotations

import os
from pathlib import Path

from steering_core.storage.workspace import DATA_ROOT_ENV, DEFAULT_DATA_ROOT

EXPERIMENTS_DIR_ENV = "STEER_EXPERIMENTS_DIR"
EXPERIMENTS = "experiments"


def experiments_dir(data_root: Path | str | None = None) -> Path:
    """The folder of benchmark runs (one subfolder per run): $STEER_EXPERIMENTS_DIR, else
    ./experiments beside the default ./data (where the benchmark configs are), else
    DATA_ROOT/experiments, as the label folder is chosen. `data_root` as the workspace
    takes it: the argument, else $STEER_DATA_ROOT, else ./data."""
    named = os.environ.get(EXPERIMENTS_DIR_ENV)
    if named:
        return Path(named).resolve()
    root = Path(data_root or os.environ.get(DATA_ROOT_ENV) or DEFAULT_DATA_ROOT).resolve()
    if root == DEFAULT_DATA_ROOT.resolve():
        return root.parent / EXPERIMENTS
    return root / EXPERIMENTS
