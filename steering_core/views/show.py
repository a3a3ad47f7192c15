"""A round's candidates as rows for `steer show`: the same roles and received words as the
replay page and the report, from the session view."""

from __future__ import annotations

from typing import Any

from steering_core.storage.workspace import Workspace
from steering_core.views.session_view import session_view


def round_rows(
    workspace: Workspace, session_id: str | None, round_index: int | None = None
) -> list[dict[str, Any]]:
    """One row per candidate of a round (default: the latest) in card order: its card number
    (slot + 1, the one number the dashboard and the CLI's flags use), slot, id, role, seed,
    distance from the prompt, parent, image path, the sampler's why, what it received
    (undone judgments left out) and whether it is the session's final choice."""
    shown = session_view(workspace, session_id).round(round_index)
    rows = []
    for entry in shown.candidates:
        candidate = entry.candidate
        rows.append(
            {
                "number": candidate.slot + 1,
                "slot": candidate.slot,
                "candidate_id": candidate.id,
                "round_index": shown.round_index,
                "role": candidate.role,
                "seed": candidate.seed,
                "distance_from_prompt": float(sum(v * v for v in candidate.steering_vector) ** 0.5),
                "parent_candidate_id": candidate.parent_candidate_id,
                "image": str(workspace.data_root / candidate.image_path)
                if candidate.image_path
                else None,
                "why": candidate.sampler_metadata.get("why", ""),
                "received": [p.text for p in entry.received if not p.undone],
                "final_choice": entry.final_choice,
            }
        )
    return rows
