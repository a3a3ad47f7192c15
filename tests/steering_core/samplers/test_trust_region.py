"""Trust-region sampler: staying inside the radius, and exploiting the model (the contract for
every registered sampler is in test_registry.py)."""

from __future__ import annotations

import numpy as np
import pytest

from steering_core.models.bradley_terry import BradleyTerryModel
from steering_core.samplers.base import SamplerHistory
from steering_core.samplers.trust_region import AdaptiveTrustRegionSampler, TrustRegionSampler


def test_candidates_stay_within_the_trust_radius() -> None:
    history = SamplerHistory(
        incumbent=np.ones(6) * 0.1, shown=np.zeros((1, 6)), round_index=1, trust_radius=0.3
    )
    proposal = TrustRegionSampler().propose(history, None, 16, np.random.default_rng(0))
    distances = np.linalg.norm(proposal.vectors - history.incumbent, axis=1)
    assert distances.max() <= 0.3 + 1e-9
    # With no evidence everything new explores the boundary.
    assert proposal.roles[1:] == ["explore"] * 15
    assert np.allclose(distances[1:], 0.3)


def test_round_zero_shows_the_unsteered_prompt_as_baseline() -> None:
    history = SamplerHistory(
        incumbent=np.zeros(4),
        shown=np.zeros((0, 4)),
        round_index=0,
        trust_radius=0.25,
        incumbent_is_baseline=True,
    )
    proposal = TrustRegionSampler().propose(history, None, 4, np.random.default_rng(0))
    assert proposal.roles[0] == "baseline"


def test_exploit_moves_toward_the_preferred_direction() -> None:
    # Points along +x always win: the exploit candidate should step in +x.
    X = np.array([[0.2, 0, 0], [0, 0, 0], [0.4, 0, 0], [-0.2, 0, 0]])
    pairs = np.array([[0, 1], [2, 0], [1, 3], [2, 3], [0, 3]])
    model = BradleyTerryModel().fit(X, pairs)
    history = SamplerHistory(incumbent=np.zeros(3), shown=X, round_index=1, trust_radius=0.25)
    proposal = TrustRegionSampler().propose(history, model, 8, np.random.default_rng(0))
    exploit = proposal.vectors[[r == "exploit" for r in proposal.roles]]
    assert len(exploit) >= 1
    assert exploit[0][0] > 0.15


@pytest.mark.parametrize(
    "params", [{"radius": 0}, {"radius": 3}, {"exploit_fraction": 2}, {"pool_size": 0}]
)
def test_bad_parameters_are_refused(params: dict) -> None:
    with pytest.raises(ValueError):
        TrustRegionSampler(**params)


def history_with_path(path: list[list[float]], rejected_all: bool = False) -> SamplerHistory:
    vectors = np.array(path, dtype=float)
    return SamplerHistory(
        incumbent=vectors[-1],
        shown=vectors,
        round_index=len(path),
        trust_radius=0.2,
        incumbent_path=vectors,
        rejected_all=rejected_all,
    )


def test_the_improvement_streak_counts_moves_and_stays() -> None:
    assert history_with_path([[0, 0]]).improvement_streak() == 0
    assert history_with_path([[0, 0], [0.1, 0], [0.2, 0]]).improvement_streak() == 2
    assert history_with_path([[0, 0], [0.1, 0], [0.1, 0], [0.1, 0]]).improvement_streak() == -2


def test_the_adaptive_radius_grows_on_progress_and_shrinks_on_stalls() -> None:
    sampler = AdaptiveTrustRegionSampler()
    moving = history_with_path([[0, 0], [0.1, 0], [0.2, 0], [0.3, 0]])
    stalled = history_with_path([[0, 0], [0.1, 0], [0.1, 0], [0.1, 0]])
    rejected = history_with_path([[0, 0], [0.1, 0], [0.1, 0], [0.1, 0]], rejected_all=True)
    assert sampler.radius_for(moving) == pytest.approx(0.2 * 1.5**3)
    assert sampler.radius_for(stalled) == pytest.approx(0.2 * 0.7**2)
    assert sampler.radius_for(rejected) == pytest.approx(0.2 * 0.7**3)
    proposal = sampler.propose(moving, None, 6, np.random.default_rng(0))
    distances = np.linalg.norm(proposal.vectors[1:] - moving.incumbent, axis=1)
    assert np.allclose(distances, 0.2 * 1.5**3)
