"""Thompson sampling: posterior draws steer proposals toward what the researcher prefers."""

from __future__ import annotations

import numpy as np
import pytest

from steering_core.models.bradley_terry import BradleyTerryModel
from steering_core.models.winner_average import WinnerAverageModel
from steering_core.samplers.base import SamplerHistory
from steering_core.samplers.thompson import ThompsonSampler, posterior_draws


def preferring_plus_x() -> tuple[np.ndarray, np.ndarray]:
    X = np.array([[0.2, 0, 0], [0, 0, 0], [0.4, 0, 0], [-0.2, 0, 0], [0, 0.2, 0], [0, -0.2, 0]])
    pairs = np.array([[0, 1], [2, 0], [1, 3], [2, 3], [0, 3], [2, 4], [2, 5], [0, 4]])
    return X, pairs


@pytest.mark.parametrize("model_class", [BradleyTerryModel, WinnerAverageModel])
def test_proposals_lean_toward_the_preferred_direction(model_class: type) -> None:
    X, pairs = preferring_plus_x()
    model = model_class().fit(X, pairs)
    history = SamplerHistory(incumbent=np.zeros(3), shown=X, round_index=1, trust_radius=0.25)
    proposal = ThompsonSampler().propose(history, model, 9, np.random.default_rng(0))
    assert proposal.vectors[1:, 0].mean() > 0.15


def test_joint_draws_agree_with_the_posterior_mean() -> None:
    X, pairs = preferring_plus_x()
    model = BradleyTerryModel().fit(X, pairs)
    draws = posterior_draws(model, X, 4000, np.random.default_rng(1))
    mean, std = model.predict(X)
    np.testing.assert_allclose(draws.mean(axis=0), mean, atol=0.1)
    np.testing.assert_allclose(draws.std(axis=0), std, rtol=0.1)


def test_bad_parameters_are_refused() -> None:
    with pytest.raises(ValueError):
        ThompsonSampler(pool_radius=0)
