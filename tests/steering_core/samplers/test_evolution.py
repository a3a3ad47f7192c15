"""The (1, k) evolution strategy: Gaussian mutations whose step follows the 1/5th success rule."""

from __future__ import annotations

import numpy as np
import pytest

from steering_core.samplers.base import SamplerHistory
from steering_core.samplers.evolution import EvolutionStrategySampler
from tests.steering_core.samplers.contract import check_sampler
from tests.steering_core.samplers.test_eubo import preferring_plus_x


def test_the_contract() -> None:
    check_sampler(EvolutionStrategySampler)


def history_with_path(moves: list[bool], d: int = 4) -> SamplerHistory:
    """An incumbent path that moved (True) or stayed (False) in each round."""
    path = [np.zeros(d)]
    for moved in moves:
        path.append(path[-1] + (0.1 if moved else 0.0))
    vectors = np.array(path)
    return SamplerHistory(
        incumbent=vectors[-1],
        shown=vectors,
        round_index=len(moves),
        trust_radius=0.2,
        incumbent_path=vectors,
    )


def test_the_step_grows_after_a_streak_of_improvements_and_shrinks_after_stalls() -> None:
    sampler = EvolutionStrategySampler()
    assert sampler.step_factor(history_with_path([])) == 1.0
    assert sampler.step_factor(history_with_path([True] * 3)) == pytest.approx(1.5**3)
    assert sampler.step_factor(history_with_path([False] * 4)) == pytest.approx(1 / 1.5)
    # One success in five rounds leaves the step where it was: the 1/5th rule.
    assert sampler.step_factor(history_with_path([True] + [False] * 4)) == pytest.approx(1.0)
    # Clamped, at every round, so recovery from a long stall is quick.
    assert sampler.step_factor(history_with_path([False] * 100)) == pytest.approx(0.1)
    assert sampler.step_factor(history_with_path([False] * 100 + [True])) == pytest.approx(0.15)
    assert EvolutionStrategySampler(adapt=False).step_factor(history_with_path([True] * 3)) == 1


def test_mutation_norms_follow_the_adapted_step() -> None:
    sampler = EvolutionStrategySampler()
    steady, improving = history_with_path([]), history_with_path([True] * 3, d=16)
    proposal = sampler.propose(steady, None, 32, np.random.default_rng(0))
    norms = np.linalg.norm(proposal.vectors[1:] - steady.incumbent, axis=1)
    assert norms.mean() == pytest.approx(0.2, rel=0.25)
    grown = sampler.propose(improving, None, 32, np.random.default_rng(0))
    grown_norms = np.linalg.norm(grown.vectors[1:] - improving.incumbent, axis=1)
    assert grown_norms.mean() == pytest.approx(0.2 * 1.5**3, rel=0.2)
    assert grown.metadata[0]["step_size"] == pytest.approx(0.2 * 1.5**3)
    assert grown.metadata[0]["improvement_streak"] == 3


def test_the_model_only_annotates() -> None:
    X, model = preferring_plus_x()
    history = SamplerHistory(incumbent=np.zeros(3), shown=X, round_index=1, trust_radius=0.25)
    sampler = EvolutionStrategySampler()
    with_model = sampler.propose(history, model, 8, np.random.default_rng(0))
    without = sampler.propose(history, None, 8, np.random.default_rng(0))
    np.testing.assert_array_equal(with_model.vectors, without.vectors)
    assert "predicted_utility" in with_model.metadata[1]


@pytest.mark.parametrize(
    "params",
    [{"sigma": 0}, {"grow": 1}, {"min_factor": 0}, {"max_factor": 0.5}],
)
def test_bad_parameters_are_refused(params: dict) -> None:
    name = next(iter(params))
    with pytest.raises(ValueError, match=name):
        EvolutionStrategySampler(**params)
