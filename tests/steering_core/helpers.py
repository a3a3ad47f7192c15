"""Test helpers: rounds without a generator, and a snapshot of everything stored."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from PIL import Image

from steering_core.rounds import plan_round, store_round
from steering_core.storage.workspace import Workspace

STORED_TABLES = (
    "sessions",
    "rounds",
    "candidates",
    "feedback_events",
    "comparisons",
    "setting_changes",
    "synthetic_targets",
)


def blank_round(  # noqa: ANN201
    workspace: Workspace,
    session_id: str,
    around: Sequence[int] | None = None,
    k: int | None = None,
):
    """Plan the next round (`around`, `k`: see `plan_round`) and store it with blank images
    (no generator needed)."""
    plan = plan_round(workspace, session_id, around=around, k=k)
    images = {slot: Image.new("RGB", (8, 8), (slot * 20, 0, 0)) for slot in range(plan.config.k)}
    for slot in plan.reused_images:
        images.pop(slot)
    return store_round(workspace, plan, images)


def stored_state(workspace: Workspace) -> dict[str, Any]:
    """Every stored row (except job bookkeeping), label CSV bytes and image files, hashed."""
    state: dict[str, Any] = {}
    for table in STORED_TABLES:
        state[table] = [
            tuple(row) for row in workspace.db.query(f"SELECT * FROM {table} ORDER BY 1")
        ]
    files = {}
    for folder in (workspace.labels_dir, workspace.data_root / "images"):
        if folder.exists():
            for path in sorted(folder.rglob("*")):
                if path.is_file() and not path.name.endswith(".lock"):
                    files[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    state["files"] = files
    return state
