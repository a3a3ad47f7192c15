"""A judged session for the report's tests: every feedback mode, an undo, an unjudged round."""

from __future__ import annotations

from typing import Any

from steering_core.config import make_config
from steering_core.sessions import create_session, submit_feedback, undo_last_feedback
from steering_core.storage.workspace import Workspace
from tests.steering_core.helpers import blank_round


def judged_session(workspace: Workspace) -> str:
    """A human session of five rounds (k=5) judged in every feedback mode, one judgment
    undone, the last round not judged; returns its id."""
    config = make_config({"prompt": "a red circle", "negative_prompt": "blurry", "k": 5, "d": 3})
    session_id = create_session(workspace, config).id

    def feedback(raw: dict[str, Any]) -> None:
        submit_feedback(workspace, session_id, raw)

    _, c = blank_round(workspace, session_id)
    feedback({"mode": "winner", "winner": c[2].id, "decision_seconds": 3.25})
    _, c = blank_round(workspace, session_id)
    feedback({"mode": "rating", "ratings": {c[1].id: 4, c[3].id: 2}})
    feedback(
        {
            "mode": "critique",
            "candidate": c[1].id,
            "tags": ["lighting"],
            "text": "too dark",
            "confidence": 0.6,
        }
    )
    _, c = blank_round(workspace, session_id)
    feedback({"mode": "pairwise", "first": c[1].id, "second": c[4].id, "choice": "second"})
    feedback({"mode": "ranking", "order": [c[3].id, c[1].id]})
    undo_last_feedback(workspace, session_id)
    feedback({"mode": "approve_reject", "approved": [c[2].id], "rejected": [c[0].id]})
    _, c = blank_round(workspace, session_id)
    feedback({"mode": "reject_all", "reason": "all too red"})
    feedback({"mode": "cannot_decide", "between": [c[1].id, c[2].id]})
    blank_round(workspace, session_id)
    return session_id
