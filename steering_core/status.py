"""Where a session stands: its round, its current incumbent and its judgment counts."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from steering_core.incumbent import choose_incumbent, fit_preference_model
from steering_core.sessions import (
    fork_origin,
    get_feedback_events,
    get_rounds,
    get_session,
    load_session_config,
)
from steering_core.storage import round_store
from steering_core.storage.workspace import Workspace


def session_status(workspace: Workspace, session_id: str | None = None) -> dict[str, Any]:
    """Round, incumbent and counts of a session, as a JSON-able mapping."""
    session = get_session(workspace, session_id)
    rounds = get_rounds(workspace, session.id)
    events = get_feedback_events(workspace, session.id)
    judgments = [e for e in events if e.mode != "undo" and e.undone_at is None]
    comparisons = sum(len(e.comparisons) for e in judgments)
    shown = round_store.candidate_count(workspace.db.connection(), session.id)
    origin = fork_origin(workspace, session)
    status: dict[str, Any] = {
        "session_id": session.id,
        "name": session.name,
        "prompt": session.prompt,
        "created_at": session.created_at,
        "source": session.source,
        "forked_from_candidate_id": session.forked_from_candidate_id,
        # Where a fork started: the candidate, its session and round (None: not a fork).
        "forked_from": None
        if origin is None
        else {
            "candidate_id": origin.id,
            "session_id": origin.session_id,
            "round_index": origin.round_index,
            "number": origin.slot + 1,  # its card number in that round
        },
        "rounds": len(rounds),
        "latest_round": rounds[-1].round_index if rounds else None,
        "candidates_shown": shown,
        "judgments": len(judgments),
        "judgments_by_mode": dict(Counter(e.mode for e in judgments)),
        "undone": sum(1 for e in events if e.undone_at is not None),
        "comparisons": comparisons,
        "incumbent": None,
        "labels_csv": str(workspace.labels.path(session.id)),
    }
    config = load_session_config(session)
    model, _, _ = fit_preference_model(workspace, session.id, config)
    incumbent = choose_incumbent(workspace, session.id, model)
    if incumbent is not None:
        mean, std = model.predict(incumbent.steering_vector[None])
        status["incumbent"] = {
            "candidate_id": incumbent.id,
            "round_index": incumbent.round_index,
            "number": incumbent.slot + 1,  # its card number in that round
            "steering_vector": [round(v, 4) for v in incumbent.steering_vector.tolist()],
            "distance_from_prompt": float(np.linalg.norm(incumbent.steering_vector)),
            "predicted_utility": float(mean[0]),
            "uncertainty": float(std[0]),
            "image_path": incumbent.image_path,
        }
    return status
