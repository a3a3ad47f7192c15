"""qEUBO: greedy expected-best selection, its diminishing gains, and the move toward the target."""

from __future__ import annotations

import numpy as np
import pytest

from steering_core.models.base import posterior_draws
from steering_core.models.bradley_terry import BradleyTerryModel
from steering_core.models.winner_average import WinnerAverageModel
from steering_core.samplers.base import SamplerHistory
from steering_core.samplers.eubo import EUBOSampler, expected_best, greedy_expected_best
from steering_core.samplers.trust_region import sample_ball
from tests.steering_core.samplers.contract import check_sampler


def preferring_plus_x(d: int = 3) -> tuple[np.ndarray, BradleyTerryModel]:
    """Shown points and a Bradley-Terry model fitted on comparisons where +x always wins."""
    X = np.zeros((6, d))
    X[[0, 2, 3], 0] = [0.2, 0.4, -0.2]
    X[4, 1], X[5, 1] = 0.2, -0.2
    pairs = np.array([[0, 1], [2, 0], [1, 3], [2, 3], [0, 3], [2, 4], [2, 5], [0, 4]])
    return X, BradleyTerryModel().fit(X, pairs)


def test_the_contract() -> None:
    check_sampler(EUBOSampler)


def test_greedy_gains_never_increase_and_add_up() -> None:
    draws = np.random.default_rng(0).normal(size=(200, 50))
    chosen, gains = greedy_expected_best(draws, 10)
    assert len(chosen) == len(set(chosen)) == 10
    assert 0 not in chosen
    assert np.all(np.diff(gains) <= 1e-12)
    assert expected_best(draws, [0, *chosen]) == pytest.approx(
        expected_best(draws, [0]) + sum(gains)
    )


def test_the_greedy_set_beats_random_picks_from_the_pool() -> None:
    _, model = preferring_plus_x()
    rng = np.random.default_rng(1)
    incumbent = np.zeros(3)
    points = np.vstack([incumbent, sample_ball(incumbent, 0.5, 256, rng)])
    draws = posterior_draws(model, points, 128, rng)
    chosen, _ = greedy_expected_best(draws, 7)
    greedy = expected_best(draws, [0, *chosen])
    random_sets = [
        expected_best(draws, [0, *rng.choice(np.arange(1, len(points)), 7, replace=False)])
        for _ in range(50)
    ]
    assert greedy > max(random_sets)


def test_greedy_stops_when_nothing_can_beat_the_incumbent() -> None:
    draws = np.zeros((10, 5))
    draws[:, 0] = 1.0
    assert greedy_expected_best(draws, 3) == ([], [])


def test_proposals_move_toward_the_preferred_direction() -> None:
    X, model = preferring_plus_x()
    history = SamplerHistory(incumbent=np.zeros(3), shown=X, round_index=1, trust_radius=0.25)
    proposal = EUBOSampler().propose(history, model, 8, np.random.default_rng(0))
    utilities = [meta["predicted_utility"] for meta in proposal.metadata]
    assert max(utilities[1:]) > utilities[0]
    assert proposal.vectors[1:, 0].mean() > 0.1
    gains = [meta["expected_best_gain"] for meta in proposal.metadata[1:]]
    assert np.all(np.diff(gains) <= 1e-12)
    assert proposal.metadata[-1]["expected_best"] > proposal.metadata[0]["expected_best"]
    assert "exploit" in proposal.roles


def test_a_model_without_joint_draws_works() -> None:
    X, _ = preferring_plus_x()
    model = WinnerAverageModel().fit(X, np.array([[2, 0], [2, 1], [0, 1]]))
    history = SamplerHistory(incumbent=np.zeros(3), shown=X, round_index=1, trust_radius=0.25)
    proposal = EUBOSampler().propose(history, model, 6, np.random.default_rng(0))
    assert proposal.vectors[1:, 0].mean() > 0


class CertainModel:
    """A posterior with no doubt: the incumbent (the origin) is the best point there is."""

    n_comparisons_ = 10
    capabilities = frozenset({"posterior_samples"})

    def predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return -np.linalg.norm(X, axis=1), np.zeros(len(X))

    def sample_posterior(self, X: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
        return np.tile(self.predict(X)[0], (n, 1))


def test_with_nothing_to_gain_the_round_spreads_out() -> None:
    history = SamplerHistory(
        incumbent=np.zeros(4), shown=np.zeros((1, 4)), round_index=1, trust_radius=0.25
    )
    proposal = EUBOSampler().propose(history, CertainModel(), 5, np.random.default_rng(0))
    assert len({v.tobytes() for v in proposal.vectors}) == 5
    assert all(meta["expected_best_gain"] == 0.0 for meta in proposal.metadata[1:])


def test_without_a_model_the_round_spreads_on_the_boundary() -> None:
    history = SamplerHistory(
        incumbent=np.full(5, 0.1), shown=np.zeros((1, 5)), round_index=0, trust_radius=0.3
    )
    proposal = EUBOSampler().propose(history, None, 8, np.random.default_rng(0))
    distances = np.linalg.norm(proposal.vectors[1:] - history.incumbent, axis=1)
    np.testing.assert_allclose(distances, 0.3)


@pytest.mark.parametrize(
    "params",
    [{"pool_radius": 0}, {"pool_size": 8}, {"n_draws": 0}, {"n_best_shown": -1}, {"near_best": -1}],
)
def test_bad_parameters_are_refused(params: dict) -> None:
    name = next(iter(params))
    with pytest.raises(ValueError, match=name):
        EUBOSampler(**params)
