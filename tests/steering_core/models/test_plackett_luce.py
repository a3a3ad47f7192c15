"""Plackett-Luce: rankings read as sequential choices, pairs as Bradley-Terry, one posterior."""

from __future__ import annotations

import numpy as np
import pytest

from steering_core.judgments import Ranking
from steering_core.models.bradley_terry import BradleyTerryModel
from steering_core.models.plackett_luce import PlackettLuceModel


def anchor_rounds(
    target: np.ndarray, rounds: int = 30, k: int = 6, top: int = 3, seed: int = 0
) -> tuple[np.ndarray, list[Ranking]]:
    """Rounds of `k` random points each, ranked (top `top`) by closeness to `target`."""
    rng = np.random.default_rng(seed)
    X = rng.normal(scale=0.4, size=(rounds * k, target.size))
    rankings = []
    for r in range(rounds):
        rows = np.arange(r * k, (r + 1) * k)
        ordered = rows[np.argsort(np.linalg.norm(X[rows] - target, axis=1))]
        rankings.append(Ranking(ordered[:top], ordered[top:], 1.0, r))
    return X, rankings


def test_two_option_choices_are_bradley_terry() -> None:
    X, rankings = anchor_rounds(np.array([0.3, -0.2]), k=2, top=1)
    pairs = np.array([[r.order[0], r.rest[0]] for r in rankings])
    bt = BradleyTerryModel().fit(X, pairs)
    pl = PlackettLuceModel().fit(X, None, rankings=rankings)
    np.testing.assert_allclose(pl.theta_, bt.theta_, atol=1e-8)
    pl_pairs = PlackettLuceModel().fit(X, pairs)
    np.testing.assert_allclose(pl_pairs.theta_, bt.theta_, atol=1e-8)


def test_rankings_find_the_target_and_carry_more_than_the_winner() -> None:
    target = np.array([0.3, -0.2, 0.1])
    X, top3 = anchor_rounds(target, top=3)
    winners = [Ranking(r.order[:1], np.concatenate([r.order[1:], r.rest]), 1.0, 0) for r in top3]
    ranked = PlackettLuceModel().fit(X, None, rankings=top3)
    winner_only = PlackettLuceModel().fit(X, None, rankings=winners)
    assert np.linalg.norm(ranked.peak() - target) < 0.15
    # The second and third places are information, not thrown away.
    assert ranked.predict(X)[1].mean() < winner_only.predict(X)[1].mean()
    assert ranked.loss_history_[-1] <= ranked.loss_history_[0]


def test_a_winner_pick_is_one_observation_not_k_minus_1() -> None:
    # Bradley-Terry on the pairwise expansion counts a pick among 6 as 5 comparisons and is
    # more certain than the choice model, which counts it once.
    X, rankings = anchor_rounds(np.array([0.3, -0.2, 0.1]), top=1)
    pairs = np.array([[r.order[0], loser] for r in rankings for loser in r.rest])
    expanded = BradleyTerryModel().fit(X, pairs)
    choices = PlackettLuceModel().fit(X, None, rankings=rankings)
    assert choices.predict(X)[1].mean() > expanded.predict(X)[1].mean()


def test_rankings_outside_X_are_refused() -> None:
    X = np.zeros((3, 2))
    with pytest.raises(ValueError, match="rows of X"):
        PlackettLuceModel().fit(X, None, rankings=[Ranking(np.array([0]), np.array([7]), 1, 0)])
