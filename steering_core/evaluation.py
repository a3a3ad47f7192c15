"""Offline evaluation of preference models on logged sessions: for every round, fit on the
judgments of the rounds before it and predict that round's comparisons.

Works the same on human and synthetic sessions: it reads only what the session stored.
Accuracy is weighted by each comparison's weight (confidence, rating gap); a predicted tie
counts half; comparisons won by "elsewhere" (reject-all) have no point to score and are left
out.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from steering_core.config import PluginConfig
from steering_core.feedback import ELSEWHERE
from steering_core.incumbent import fit_on_judgments
from steering_core.judgments import session_judgments
from steering_core.models import PREFERENCE_MODELS
from steering_core.sessions import get_session, load_session_config
from steering_core.storage.workspace import Workspace


def evaluate_models(
    workspace: Workspace, session_id: str, model_names: list[str] | None = None
) -> list[dict[str, Any]]:
    """One row per model: weighted accuracy on next-round comparisons, and the counts."""
    session = get_session(workspace, session_id)
    config = load_session_config(session)
    judgments = session_judgments(workspace, session.id)
    names = model_names or PREFERENCE_MODELS.names()
    for name in names:
        PREFERENCE_MODELS.get(name)  # unknown names fail before any work
    scored = judgments.comparisons[:, 0] != ELSEWHERE
    rounds = sorted(set(judgments.comparison_rounds[scored].tolist()))
    results = []
    for name in names:
        model_config = config.model_copy(update={"preference_model": PluginConfig(name=name)})
        correct = total = 0.0
        predicted = 0
        for round_index in rounds[1:]:  # the first judged round has nothing before it
            model = fit_on_judgments(judgments.before_round(round_index), model_config)
            mask = scored & (judgments.comparison_rounds == round_index)
            pairs, weights = judgments.comparisons[mask], judgments.weights[mask]
            mean = model.predict(judgments.X)[0]
            winner, loser = mean[pairs[:, 0]], mean[pairs[:, 1]]
            hits = np.where(np.isclose(winner, loser), 0.5, (winner > loser).astype(float))
            correct += float(weights @ hits)
            total += float(weights.sum())
            predicted += len(pairs)
        results.append(
            {
                "model": name,
                "accuracy": correct / total if total else None,
                "comparisons": predicted,
                "rounds": max(len(rounds) - 1, 0),
            }
        )
    return results
