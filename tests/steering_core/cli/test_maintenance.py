"""`steer verify`: removed images are reported as removed, not as problems."""

from __future__ import annotations

import json
from pathlib import Path

from tests.steering_core.cli.helpers import ok, steer


def test_a_removed_image_is_reported_as_removed_not_as_a_problem(
    tmp_path: Path, session_id: str
) -> None:
    rows = json.loads(ok(steer(tmp_path, "round", session_id, "--json")).stdout)["candidates"]
    Path(rows[1]["image"]).unlink()  # as `steer gc --images --delete` does
    verify = ok(steer(tmp_path, "verify", session_id))
    assert "images removed" in verify.output and verify.output.strip().endswith("ok")
