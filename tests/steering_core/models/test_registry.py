"""Every registered preference model, present and future: the contract, its declared
attributes and capabilities, reproducibility, and hyperparameters declared as `__init__`
takes them."""

from __future__ import annotations

import numpy as np
import pytest

from steering_core.hyperparameters import check_params, declared, signature_mismatches
from steering_core.judgments import Ranking
from steering_core.models import PREFERENCE_MODELS
from steering_core.models.base import CAPABILITIES, PreferenceModel
from tests.steering_core.models.contract import anchor_comparisons, check_preference_model

MODELS = PREFERENCE_MODELS.names()
TARGET = np.array([0.3, -0.2, 0.1])


def fitted(name: str) -> tuple[PreferenceModel, np.ndarray]:
    X, pairs = anchor_comparisons(TARGET, n_points=20, n_pairs=60)
    return PREFERENCE_MODELS.get(name)().fit(X, pairs), X


@pytest.mark.parametrize("name", MODELS)
def test_the_contract(name: str) -> None:
    check_preference_model(PREFERENCE_MODELS.get(name))


@pytest.mark.parametrize("name", MODELS)
def test_what_samplers_read_exists_after_fit(name: str) -> None:
    model, _ = fitted(name)
    learned = [a for a in PreferenceModel.__annotations__ if a.endswith("_")]
    assert learned == ["loss_history_", "n_comparisons_"]
    assert isinstance(model.loss_history_, list) and model.loss_history_
    assert isinstance(model.n_comparisons_, int) and model.n_comparisons_ > 0
    assert isinstance(model, PreferenceModel)


@pytest.mark.parametrize("name", MODELS)
def test_declared_capabilities_work(name: str) -> None:
    model, X = fitted(name)
    capabilities = type(model).capabilities
    assert capabilities <= set(CAPABILITIES)
    rng = np.random.default_rng(0)
    if "posterior_samples" in capabilities:
        draws = model.sample_posterior(X, 7, rng)  # type: ignore[attr-defined]
        assert draws.shape == (7, len(X)) and np.all(np.isfinite(draws))
    if "posterior_peaks" in capabilities:
        peaks = model.sample_peaks(5, rng)  # type: ignore[attr-defined]
        assert peaks.shape == (5, X.shape[1])
    if "peak" in capabilities:
        peak = model.peak()  # type: ignore[attr-defined]
        assert peak is not None and peak.shape == (X.shape[1],)
        # The fitted comparisons prefer points near TARGET: the peak is nearer it than 0.
        assert np.linalg.norm(peak - TARGET) < np.linalg.norm(TARGET)
    if "rankings" in capabilities:
        ranked = PREFERENCE_MODELS.get(name)().fit(
            X[:4],
            np.zeros((0, 2), dtype=int),
            rankings=[Ranking(np.array([2, 0]), np.array([1, 3]), 1.0, 0)],
        )
        mean, _ = ranked.predict(X[:4])
        assert mean[2] > mean[1] and mean[2] > mean[3]


@pytest.mark.parametrize("name", MODELS)
def test_fitting_twice_gives_the_same_model(name: str) -> None:
    (first, X), (second, _) = fitted(name), fitted(name)
    np.testing.assert_array_equal(first.predict(X)[0], second.predict(X)[0])
    np.testing.assert_array_equal(first.predict(X)[1], second.predict(X)[1])
    if "posterior_samples" in type(first).capabilities:
        a = first.sample_posterior(X, 3, np.random.default_rng(4))  # type: ignore[attr-defined]
        b = second.sample_posterior(X, 3, np.random.default_rng(4))  # type: ignore[attr-defined]
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", MODELS)
def test_hyperparameters_are_declared_as_init_takes_them(name: str) -> None:
    model_class = PREFERENCE_MODELS.get(name)
    assert signature_mismatches(model_class) == []
    defaults = {spec.name: spec.default for spec in declared(model_class)}
    check_params(model_class, defaults)  # every default is in its own range
    model = model_class()
    assert {key: getattr(model, key) for key in defaults} == defaults
    for spec in declared(model_class):
        assert spec.meaning and spec.allowed()
