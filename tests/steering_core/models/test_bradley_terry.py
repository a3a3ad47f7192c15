"""Bradley-Terry with a prior: the model contract, the peak it finds, and its hyperparameters."""

from __future__ import annotations

import numpy as np
import pytest

from steering_core.models import PREFERENCE_MODELS
from steering_core.models.bradley_terry import BradleyTerryModel
from tests.steering_core.models.contract import anchor_comparisons, check_preference_model


@pytest.mark.parametrize("name", PREFERENCE_MODELS.names())
def test_every_registered_model_passes_the_contract(name: str) -> None:
    check_preference_model(PREFERENCE_MODELS.get(name))


def test_peak_lands_near_the_hidden_target() -> None:
    target = np.array([0.3, -0.2, 0.1])
    X, pairs = anchor_comparisons(target, n_pairs=300)
    model = BradleyTerryModel().fit(X, pairs)
    assert np.linalg.norm(model.peak() - target) < 0.1


def test_stronger_prior_shrinks_the_utilities() -> None:
    X, pairs = anchor_comparisons(np.array([0.3, 0.0, 0.0]))
    loose = BradleyTerryModel(prior_strength=0.1).fit(X, pairs).predict(X)[0]
    tight = BradleyTerryModel(prior_strength=100.0).fit(X, pairs).predict(X)[0]
    assert np.ptp(tight) < np.ptp(loose)


def test_more_comparisons_reduce_uncertainty() -> None:
    target = np.array([0.3, -0.2, 0.1])
    X, few = anchor_comparisons(target, n_pairs=10)
    _, many = anchor_comparisons(target, n_pairs=300)
    std_few = BradleyTerryModel().fit(X, few).predict(X)[1].mean()
    std_many = BradleyTerryModel().fit(X, many).predict(X)[1].mean()
    assert std_many < std_few


@pytest.mark.parametrize("params", [{"prior_strength": 0}, {"length_scale": -1}, {"max_iter": 0}])
def test_bad_hyperparameters_are_refused(params: dict) -> None:
    with pytest.raises(ValueError):
        BradleyTerryModel(**params)
