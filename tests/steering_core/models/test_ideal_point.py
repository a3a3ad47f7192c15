"""The ideal-point model: picks localise the target at any scale, slips do not drag it."""

from __future__ import annotations

import numpy as np
import pytest

from steering_core.judgments import Ranking
from steering_core.models.ideal_point import IdealPointModel


def picking_rounds(
    target: np.ndarray, rounds: int = 25, k: int = 8, spread: float = 0.3, seed: int = 0
) -> tuple[np.ndarray, list[Ranking]]:
    """Rounds of `k` points around the origin; the researcher picks the one nearest `target`."""
    rng = np.random.default_rng(seed)
    X = rng.normal(scale=spread, size=(rounds * k, target.size))
    rankings = []
    for r in range(rounds):
        rows = np.arange(r * k, (r + 1) * k)
        best = rows[np.argmin(np.linalg.norm(X[rows] - target, axis=1))]
        rankings.append(Ranking(np.array([best]), rows[rows != best], 1.0, r))
    return X, rankings


def test_winner_picks_localise_the_target_with_honest_uncertainty() -> None:
    target = np.array([0.3, -0.2, 0.1, 0.05])
    X, rankings = picking_rounds(target)
    model = IdealPointModel().fit(X, None, rankings=rankings)
    error = np.linalg.norm(model.peak() - target)
    assert error < 0.1
    spread = np.sqrt(np.trace(model.covariance_[:4, :4]))
    assert error < 3 * spread  # the posterior does not claim more than it knows
    mean, std = model.predict(np.vstack([target, np.zeros(4)]))
    assert mean[0] > mean[1] and std[0] > 0
    assert std[1] == 0  # the prompt is the zero of utility, by definition


def test_picks_measured_in_their_own_units_work_at_any_scale() -> None:
    target = np.array([0.3, -0.2, 0.1, 0.05])
    X, rankings = picking_rounds(target)
    coarse = IdealPointModel().fit(X, None, rankings=rankings).peak()
    fine = IdealPointModel(target_scale=0.05).fit(X / 10, None, rankings=rankings).peak()
    np.testing.assert_allclose(fine * 10, coarse, atol=0.03)


def test_a_slip_does_not_drag_the_target() -> None:
    target = np.array([0.3, -0.2, 0.1, 0.05])
    X, rankings = picking_rounds(target, seed=1)
    clean = IdealPointModel().fit(X, None, rankings=rankings).peak()
    # The researcher slips once: picks the farthest candidate of round 3.
    rows = np.concatenate([rankings[3].order, rankings[3].rest])
    worst = rows[np.argmax(np.linalg.norm(X[rows] - target, axis=1))]
    slipped = list(rankings)
    slipped[3] = Ranking(np.array([worst]), rows[rows != worst], 1.0, 3)
    noisy = IdealPointModel().fit(X, None, rankings=slipped).peak()
    without_lapse = IdealPointModel(lapse=0.0).fit(X, None, rankings=slipped).peak()
    assert np.linalg.norm(noisy - clean) < np.linalg.norm(without_lapse - clean) + 1e-9
    assert np.linalg.norm(noisy - target) < 0.1


def test_posterior_draws_are_reproducible_and_centred() -> None:
    X, rankings = picking_rounds(np.array([0.3, -0.2, 0.1, 0.05]))
    model = IdealPointModel().fit(X, None, rankings=rankings)
    a = model.sample_peaks(500, np.random.default_rng(3))
    b = model.sample_peaks(500, np.random.default_rng(3))
    np.testing.assert_array_equal(a, b)
    assert np.linalg.norm(a.mean(axis=0) - model.peak()) < 0.02
    assert model.sample_posterior(X[:5], 7, np.random.default_rng(0)).shape == (7, 5)


@pytest.mark.parametrize(
    "params", [{"target_scale": 0}, {"decisiveness": -1}, {"lapse": 1.0}, {"max_iter": 0}]
)
def test_bad_hyperparameters_are_refused(params: dict) -> None:
    with pytest.raises(ValueError):
        IdealPointModel(**params)
