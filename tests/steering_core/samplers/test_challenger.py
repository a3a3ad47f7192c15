"""Incumbent vs challenger: one stable step, one risky upper-confidence point, every round."""

from __future__ import annotations

import numpy as np
import pytest

from steering_core.samplers.base import SamplerHistory
from steering_core.samplers.challenger import IncumbentChallengerSampler
from tests.steering_core.samplers.contract import check_sampler
from tests.steering_core.samplers.test_eubo import preferring_plus_x


def test_the_contract() -> None:
    check_sampler(IncumbentChallengerSampler)


def test_one_stable_and_one_risky_option_per_round() -> None:
    X, model = preferring_plus_x(d=4)
    history = SamplerHistory(incumbent=np.zeros(4), shown=X, round_index=1, trust_radius=0.25)
    proposal = IncumbentChallengerSampler().propose(history, model, 8, np.random.default_rng(0))
    assert proposal.roles.count("challenger") == 1
    assert proposal.roles.count("exploit") == 1
    assert proposal.roles[1:].count("explore") == 5
    challenger = proposal.roles.index("challenger")
    distances = [meta["distance_from_incumbent"] for meta in proposal.metadata]
    uncertainty = [meta["uncertainty"] for meta in proposal.metadata]
    others = [i for i in range(8) if i != challenger]
    assert distances[challenger] > 0.25 or uncertainty[challenger] > max(
        uncertainty[i] for i in others
    )


def test_the_exploit_is_a_short_step_toward_the_predicted_best() -> None:
    X, model = preferring_plus_x()
    history = SamplerHistory(incumbent=np.zeros(3), shown=X, round_index=1, trust_radius=0.25)
    proposal = IncumbentChallengerSampler().propose(history, model, 4, np.random.default_rng(0))
    exploit = proposal.roles.index("exploit")
    step = proposal.vectors[exploit] - history.incumbent
    assert np.linalg.norm(step) <= 0.5 * 0.25 + 1e-12
    assert step[0] > 0.8 * np.linalg.norm(step)
    utilities = [meta["predicted_utility"] for meta in proposal.metadata]
    assert utilities[exploit] > utilities[0]


def test_with_one_new_slot_rounds_alternate_between_the_two() -> None:
    X, model = preferring_plus_x()
    sampler = IncumbentChallengerSampler()
    roles = []
    for round_index in (2, 3):
        history = SamplerHistory(
            incumbent=np.zeros(3), shown=X, round_index=round_index, trust_radius=0.25
        )
        roles.append(sampler.propose(history, model, 2, np.random.default_rng(0)).roles[1])
    assert roles == ["exploit", "challenger"]


def test_without_evidence_the_exploit_follows_the_last_move() -> None:
    path = np.array([[0.0, 0.0], [0.0, 0.1], [0.0, 0.1]])
    history = SamplerHistory(
        incumbent=path[-1], shown=path, round_index=3, trust_radius=0.2, incumbent_path=path
    )
    proposal = IncumbentChallengerSampler().propose(history, None, 5, np.random.default_rng(0))
    exploit = proposal.vectors[proposal.roles.index("exploit")]
    np.testing.assert_allclose(exploit, [0.0, 0.2])
    challenger = proposal.vectors[proposal.roles.index("challenger")]
    assert np.linalg.norm(challenger - history.incumbent) > 0.2


@pytest.mark.parametrize(
    "params",
    [{"exploit_step": 0}, {"challenger_radius": 0.5}, {"beta": -1}, {"pool_size": 1}],
)
def test_bad_parameters_are_refused(params: dict) -> None:
    name = next(iter(params))
    with pytest.raises(ValueError, match=name):
        IncumbentChallengerSampler(**params)
