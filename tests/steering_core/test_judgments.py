"""Judgments: rounds of comparisons, the rater's measured consistency, and its use in fitting."""

from __future__ import annotations

import numpy as np

from steering_core.config import SessionConfig
from steering_core.incumbent import fit_on_judgments
from steering_core.judgments import Judgments, session_judgments
from steering_core.sessions import create_session, submit_feedback
from steering_core.storage.workspace import Workspace
from tests.steering_core.helpers import blank_round


def judgments_of(pairs: list[tuple[int, int]], rounds: list[int], n: int = 4) -> Judgments:
    empty = np.zeros((0, 2), dtype=np.int64)
    return Judgments(
        X=np.random.default_rng(0).normal(size=(n, 2)),
        candidate_ids=list(range(n)),
        comparisons=np.array(pairs, dtype=np.int64).reshape(-1, 2),
        weights=np.ones(len(pairs)),
        comparison_rounds=np.array(rounds, dtype=np.int64),
        from_ranking=np.zeros(len(pairs), dtype=bool),
        ties=empty,
        tie_weights=np.zeros(0),
        tie_rounds=np.zeros(0, dtype=np.int64),
    )


def test_reversal_rate_counts_flipped_repeats_across_rounds() -> None:
    # (0,1) repeated and flipped; (2,3) repeated and kept; (0,2) twice in one round: no repeat.
    judgments = judgments_of(
        [(0, 1), (2, 3), (0, 2), (0, 2), (1, 0), (2, 3), (-1, 3)], [0, 0, 1, 1, 2, 3, 3]
    )
    assert judgments.reversal_rate() == (0.5, 2)
    assert judgments_of([(0, 1)], [0]).reversal_rate() == (0.0, 0)


def test_an_inconsistent_rater_moves_the_model_less(tiny_config: SessionConfig) -> None:
    config = tiny_config.model_copy(update={"d": 2})
    consistent = judgments_of([(0, 1), (0, 1), (0, 1), (2, 3)], [0, 1, 2, 3])
    flipping = judgments_of([(0, 1), (1, 0), (0, 1), (2, 3)], [0, 1, 2, 3])
    X = consistent.X
    sure = fit_on_judgments(consistent, config).predict(X[2:])[0]
    unsure = fit_on_judgments(flipping, config).predict(X[2:])[0]
    # The (2, 3) comparison is the same in both; the flipping rater's counts for less.
    assert np.ptp(unsure) < np.ptp(sure)


def test_before_round_keeps_only_earlier_judgments(
    workspace: Workspace, tiny_config: SessionConfig
) -> None:
    session = create_session(workspace, tiny_config)
    for _ in range(3):
        _, candidates = blank_round(workspace, session.id)
        submit_feedback(workspace, session.id, {"mode": "winner", "winner": candidates[1].id})
    judgments = session_judgments(workspace, session.id)
    assert sorted(set(judgments.comparison_rounds.tolist())) == [0, 1, 2]
    earlier = judgments.before_round(2)
    assert set(earlier.comparison_rounds.tolist()) == {0, 1}
    assert [r.round_index for r in earlier.rankings] == [0, 1]
    assert len(earlier.X) == len(judgments.X)
