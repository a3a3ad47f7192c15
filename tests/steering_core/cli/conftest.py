"""The CLI tests' session: made with `steer session new` on the tiny pipeline."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.steering_core.cli.helpers import new_session


@pytest.fixture
def session_id(tmp_path: Path, tiny_sd_path: Path) -> str:
    return new_session(tmp_path, tiny_sd_path)
