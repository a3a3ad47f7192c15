"""The incumbent: the current best candidate, re-shown in every round.

The preference model is fitted on every judgment of the session, but the incumbent only
moves on direct evidence: it can become any candidate of the most recently judged round that
won a comparison there and lost none, and it stays put when nothing qualifies (reject-all,
a bare "cannot decide", a critique). Among the qualifying candidates (and the current incumbent,
unless it just lost), the model's posterior mean decides. A smooth model alone would promote
candidates it predicts well even right after the researcher rejected them.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from steering_core.config import SessionConfig
from steering_core.feedback import ELSEWHERE
from steering_core.judgments import Judgments, session_judgments
from steering_core.models import PREFERENCE_MODELS, PreferenceModel
from steering_core.models.base import can
from steering_core.sessions import (
    get_candidate,
    get_round,
    get_rounds,
    get_session,
)
from steering_core.storage import judgment_store
from steering_core.storage.records import CandidateRecord
from steering_core.storage.workspace import Workspace


def fit_preference_model(
    workspace: Workspace, session_id: str, config: SessionConfig
) -> tuple[PreferenceModel, np.ndarray, list[int]]:
    """Fit the session's preference model on all its judgments; returns (model, X, ids)."""
    judgments = session_judgments(workspace, session_id)
    return fit_on_judgments(judgments, config), judgments.X, judgments.candidate_ids


def fit_on_judgments(judgments: Judgments, config: SessionConfig) -> PreferenceModel:
    """A fresh instance of the session's preference model fitted on `judgments`.

    The rater's measured inconsistency (repeated comparisons that flipped) tempers every
    weight by `1 - 2 * reversal_rate`, so a noisy rater's judgments move the model less."""
    model_class = PREFERENCE_MODELS.get(config.preference_model.name)
    model = model_class(**config.preference_model.params)
    table = judgments.X if len(judgments.X) else np.zeros((1, config.d))
    arguments = judgments.fit_arguments(can(model_class, "rankings"))
    rate, repeats = judgments.reversal_rate()
    if repeats:
        # Shrunk toward 0 with few repeats (a Beta(0, 2)-style prior), floored so that a
        # very noisy rater still counts for something.
        tempering = max(0.2, 1.0 - 2.0 * rate * repeats / (repeats + 2))
        arguments["weights"] = arguments["weights"] * tempering
        arguments["tie_weights"] = arguments["tie_weights"] * tempering
        if "rankings" in arguments:
            arguments["rankings"] = [
                replace(r, weight=r.weight * tempering) for r in arguments["rankings"]
            ]
    return model.fit(table, **arguments)


def shown_incumbent(workspace: Workspace, session_id: str) -> CandidateRecord | None:
    """The incumbent of the latest round (its slot 0), or the forked-from candidate."""
    rounds = get_rounds(workspace, session_id)
    if rounds:
        return get_round(workspace, session_id, rounds[-1].round_index)[1][0]
    session = get_session(workspace, session_id)
    if session.forked_from_candidate_id is not None:
        return get_candidate(workspace, session.forked_from_candidate_id)
    return None


def choose_incumbent(
    workspace: Workspace, session_id: str, model: PreferenceModel
) -> CandidateRecord | None:
    """The candidate the next round re-shows as its incumbent (None before round 0)."""
    current = shown_incumbent(workspace, session_id)
    connection = workspace.db.connection()
    latest = judgment_store.latest_decisive_round(connection, session_id)
    if current is None or latest is None:
        return current
    _, judged = get_round(workspace, session_id, latest)
    pairs = judgment_store.decisive_pairs(connection, session_id, latest)
    winners = {winner for winner, _ in pairs} - {ELSEWHERE}
    losers = {loser for _, loser in pairs}
    lost = {
        judged_candidate.steering_vector.tobytes()
        for judged_candidate in judged
        if judged_candidate.id in losers
    }
    eligible = [c for c in judged if c.id in winners and c.id not in losers]
    if current.steering_vector.tobytes() not in lost:
        eligible.insert(0, current)  # first, so that it wins ties
    if not eligible:
        return current
    mean, _ = model.predict(np.array([c.steering_vector for c in eligible]))
    return eligible[int(np.argmax(mean))]


def latest_round_rejected_all(workspace: Workspace, session_id: str) -> bool:
    """Whether the most recently judged round got a reject-all that is not undone."""
    return judgment_store.latest_judged_mode(workspace.db.connection(), session_id) == "reject_all"
