"""Is the model learning the researcher? How well it predicted each round's judgments before
seeing them: per round, the preference model fitted only on the judgments of the rounds
before it (what that round was planned with) orders the round's comparisons, and picks the
candidate it expects the researcher to choose; both scored against what was chosen.

Comparisons are scored unweighted (a predicted tie counts half); a researcher's ties and a
reject-all's "something elsewhere" have no order to predict and are left out. A round with
nothing judged, or with no judgment before it, has no value (a gap in the curve).
"""

from __future__ import annotations

import hashlib
from dataclasses import replace

import diskcache
import numpy as np
import pandas as pd

from steering_core.config import SessionConfig
from steering_core.derived import cached
from steering_core.feedback import ELSEWHERE
from steering_core.incumbent import fit_on_judgments
from steering_core.judgments import Judgments, session_judgments
from steering_core.models.base import has_evidence
from steering_core.sessions import get_candidates, get_rounds, get_session, load_session_config
from steering_core.storage import judgment_store
from steering_core.storage.workspace import Workspace

# Chance of ordering two candidates as the researcher did by guessing.
PAIR_CHANCE = 0.5
COLUMNS = (
    "round_index",
    "comparisons",  # the round's comparisons with an order to predict
    "agreed",  # how many of them the model ordered as the researcher did (ties: half)
    "accuracy",  # agreed / comparisons
    "running_accuracy",  # agreed / comparisons over every round so far
    "chance",  # PAIR_CHANCE wherever accuracy has a value
    "picks",  # the round's choices of one among several (winner, ranking's first)
    "picks_predicted",  # how many of them were the model's favourite among the options
    "pick_chance",  # the mean of 1 / options over those choices
)


def next_choice_table(workspace: Workspace, session_id: str) -> pd.DataFrame:
    """One row per round of the session (COLUMNS; NaN where a round has no value), kept in
    the derived cache: a fit per judged round is too slow to redo on every poll (a pairwise
    GP takes 2-3 s for 30 rounds). The key is what it depends on: the session's rounds and
    judgments and its model settings; each round's fit is kept too, so a new judgment
    refits only the rounds it is earlier than."""
    session = get_session(workspace, session_id)
    config = load_session_config(session)
    depends_on = {
        "session": session.id,
        "session_version": judgment_store.session_version(workspace.db.connection(), session.id),
        "model": config.preference_model.model_dump(mode="json"),
    }

    def compute() -> pd.DataFrame:
        judgments = session_judgments(workspace, session.id)
        rounds = [r.round_index for r in get_rounds(workspace, session.id)]
        shown = _rows_shown_by(workspace, session.id)
        return score_rounds(judgments, rounds, shown, config, workspace.derived)

    return cached(workspace.derived, "next_choice", depends_on, compute)


def _rows_shown_by(workspace: Workspace, session_id: str) -> dict[int, int]:
    """Per round, how many rows of `session_judgments(...).X` had been shown by its end (X
    lists distinct vectors in the order first shown, rounds in order)."""
    seen: set[bytes] = set()
    shown: dict[int, int] = {}
    for candidate in get_candidates(workspace, session_id):
        seen.add(candidate.steering_vector.tobytes())
        shown[candidate.round_index] = len(seen)
    return shown


def score_rounds(
    judgments: Judgments,
    rounds: list[int],
    rows_shown: dict[int, int],
    config: SessionConfig,
    cache: diskcache.Cache | None = None,
) -> pd.DataFrame:
    """COLUMNS for each of `rounds`: round r's judgments predicted by a model fitted on the
    judgments of rounds before r over the points shown by round r (`rows_shown[r]` rows of
    X: later rounds' points are not yet known when r is planned); each fit's predictions
    kept in `cache` when given."""
    rows = []
    agreed_so_far = compared_so_far = 0.0
    for round_index in rounds:
        row: dict[str, float | int | None] = {"round_index": round_index}
        mean = _predicted_utility(
            judgments, round_index, rows_shown.get(round_index, 0), config, cache
        )
        if mean is not None:
            row.update(_scores(judgments, round_index, mean))
        if row.get("comparisons"):
            agreed_so_far += row["agreed"]  # type: ignore[operator]
            compared_so_far += row["comparisons"]  # type: ignore[operator]
            row["running_accuracy"] = agreed_so_far / compared_so_far
        rows.append(row)
    return pd.DataFrame(rows, columns=list(COLUMNS)).astype({"round_index": int})


def _predicted_utility(
    judgments: Judgments,
    round_index: int,
    n_rows: int,
    config: SessionConfig,
    cache: diskcache.Cache | None,
) -> np.ndarray | None:
    """The predicted utility of the first `n_rows` points from the judgments of the rounds
    before `round_index`; None when the round has nothing to score or nothing came before."""
    judged = (judgments.comparison_rounds == round_index).any() or any(
        r.round_index == round_index for r in judgments.rankings
    )
    if not judged or n_rows == 0:
        return None
    earlier = judgments.before_round(round_index)
    earlier = replace(earlier, X=earlier.X[:n_rows], candidate_ids=earlier.candidate_ids[:n_rows])

    def predict() -> np.ndarray | None:
        model = fit_on_judgments(earlier, config)
        return model.predict(earlier.X)[0] if has_evidence(model) else None

    if cache is None:
        return predict()
    depends_on = {
        "judgments": _fingerprint(earlier),
        "model": config.preference_model.model_dump(mode="json"),
    }
    return cached(cache, "next_choice_fit", depends_on, predict)


def _fingerprint(judgments: Judgments) -> str:
    """A digest of everything a fit reads from `judgments`."""
    digest = hashlib.sha256()
    arrays = [
        judgments.X,
        judgments.comparisons,
        judgments.weights,
        judgments.from_ranking,
        judgments.ties,
        judgments.tie_weights,
    ]
    for ranking in judgments.rankings:
        arrays += [ranking.order, ranking.rest, np.array([ranking.weight])]
    for array in arrays:
        digest.update(str(array.shape).encode())
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


def _scores(judgments: Judgments, round_index: int, mean: np.ndarray) -> dict[str, float | int]:
    """The round's comparisons and choices scored against the predicted utility `mean`."""
    scores: dict[str, float | int] = {}
    scored = (judgments.comparison_rounds == round_index) & (
        judgments.comparisons[:, 0] != ELSEWHERE
    )
    pairs = judgments.comparisons[scored]
    if len(pairs):
        winner, loser = mean[pairs[:, 0]], mean[pairs[:, 1]]
        hits = np.where(np.isclose(winner, loser), 0.5, (winner > loser).astype(float))
        scores.update(
            comparisons=len(pairs),
            agreed=float(hits.sum()),
            accuracy=float(hits.mean()),
            chance=PAIR_CHANCE,
        )
    picks = [r for r in judgments.rankings if r.round_index == round_index]
    options = [np.concatenate([r.order, r.rest]) for r in picks]
    chosen = [(int(r.order[0]), o) for r, o in zip(picks, options, strict=True) if len(o) > 1]
    if chosen:
        scores.update(
            picks=len(chosen),
            picks_predicted=sum(int(o[np.argmax(mean[o])]) == c for c, o in chosen),
            pick_chance=float(np.mean([1 / len(o) for _, o in chosen])),
        )
    return scores
