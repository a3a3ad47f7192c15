"""Pairwise GP: the model contract, where its mean peaks, its uncertainty, its fitted
hyperparameters, its posterior draws, and the evidence gradient that fits them."""

from __future__ import annotations

import numpy as np
import pytest

from steering_core.models import PREFERENCE_MODELS
from steering_core.models.pairwise_gp import (
    PairwiseGPModel,
    _Comparisons,
    _squared_distances,
)
from tests.steering_core.models.contract import anchor_comparisons, check_preference_model

TARGET = np.array([0.3, -0.2, 0.1])


def test_passes_the_preference_model_contract() -> None:
    assert PREFERENCE_MODELS.get("pairwise_gp") is PairwiseGPModel
    check_preference_model(PairwiseGPModel)


def test_mean_peaks_near_the_target_as_comparisons_accumulate() -> None:
    pool = np.random.default_rng(1).uniform(-0.6, 0.6, size=(2000, 3))
    distances = []
    for n_pairs in (10, 300):
        X, pairs = anchor_comparisons(TARGET, n_points=60, n_pairs=n_pairs)
        mean, _ = PairwiseGPModel().fit(X, pairs).predict(pool)
        distances.append(np.linalg.norm(pool[np.argmax(mean)] - TARGET))
    assert distances[1] < 0.15
    assert distances[1] < distances[0]


def test_uncertainty_is_lowest_where_judged_and_zero_at_the_prompt() -> None:
    X, pairs = anchor_comparisons(TARGET)
    model = PairwiseGPModel().fit(X, pairs)
    _, std_judged = model.predict(X)
    _, std_far = model.predict(4 * X)
    assert std_judged.mean() < 0.5 * std_far.mean()
    # Utility is measured from the unsteered prompt, as in Bradley-Terry.
    mean0, std0 = model.predict(np.zeros((1, 3)))
    assert mean0[0] == 0 and std0[0] == 0


def test_more_comparisons_reduce_uncertainty() -> None:
    X, few = anchor_comparisons(TARGET, n_pairs=10)
    _, many = anchor_comparisons(TARGET, n_pairs=300)
    fixed = {"lengthscale": 0.5, "outputscale": 2.0}
    std_few = PairwiseGPModel(**fixed).fit(X, few).predict(X)[1].mean()
    std_many = PairwiseGPModel(**fixed).fit(X, many).predict(X)[1].mean()
    assert std_many < std_few


def _comparisons_by(utility: np.ndarray, n_pairs: int, rng: np.random.Generator) -> np.ndarray:
    i, j = rng.integers(0, len(utility), size=(2, n_pairs))
    i, j = i[i != j], j[i != j]
    return np.where((utility[i] > utility[j])[:, None], np.c_[i, j], np.c_[j, i])


def test_fitted_lengthscale_follows_how_fast_the_utility_changes() -> None:
    rng = np.random.default_rng(0)
    X = rng.uniform(-0.5, 0.5, size=(80, 2))
    smooth = PairwiseGPModel().fit(X, _comparisons_by(X[:, 0], 400, rng))
    rough = PairwiseGPModel().fit(X, _comparisons_by(np.sin(25 * X[:, 0]), 400, rng))
    assert rough.lengthscale_ < 0.25 * smooth.lengthscale_
    assert rough.state()["fitted_hyperparameters"] == ["lengthscale", "outputscale"]


def test_fixed_hyperparameters_are_kept_and_newton_loss_never_rises() -> None:
    X, pairs = anchor_comparisons(TARGET)
    model = PairwiseGPModel(lengthscale=0.3, outputscale=2.0).fit(X, pairs)
    assert (model.lengthscale_, model.outputscale_) == (0.3, 2.0)
    assert np.all(np.diff(model.loss_history_) <= 0)
    half = PairwiseGPModel(lengthscale=0.3).fit(X, pairs)
    assert half.lengthscale_ == 0.3 and half.outputscale_ != 2.0


def test_evidence_loss_curve_falls() -> None:
    X, pairs = anchor_comparisons(TARGET, n_pairs=300)
    history = PairwiseGPModel().fit(X, pairs).loss_history_
    assert len(history) > 2
    assert np.all(np.diff(history) <= 1e-6 * abs(history[0]))


def test_posterior_draws_are_joint_reproducible_and_centred_on_the_mean() -> None:
    X, pairs = anchor_comparisons(TARGET)
    model = PairwiseGPModel().fit(X, pairs)
    pool = np.random.default_rng(2).uniform(-0.5, 0.5, size=(50, 3))
    draws = model.sample_posterior(pool, 4000, np.random.default_rng(0))
    assert draws.shape == (4000, 50)
    again = model.sample_posterior(pool, 4000, np.random.default_rng(0))
    assert np.array_equal(draws, again)
    assert not np.array_equal(draws, model.sample_posterior(pool, 4000, np.random.default_rng(1)))
    mean, std = model.predict(pool)
    assert np.all(np.abs(draws.mean(axis=0) - mean) < 5 * std / np.sqrt(4000) + 1e-9)
    assert np.allclose(draws.std(axis=0), std, rtol=0.1, atol=1e-6)
    # Joint: two nearly coincident points move together in every draw.
    close = model.sample_posterior(
        np.array([[0.2, 0.1, 0.0], [0.2, 0.1, 1e-4]]), 200, np.random.default_rng(3)
    )
    assert np.corrcoef(close.T)[0, 1] > 0.99


def test_duplicate_rows_unjudged_rows_and_zero_weights_change_nothing() -> None:
    X, pairs = anchor_comparisons(TARGET, n_points=20, n_pairs=60)
    reference = PairwiseGPModel().fit(X, pairs)
    # Rows 20-39 repeat rows 0-19; half the comparisons point at the copies; rows 40-44 are
    # never judged; a zero-weight comparison and a comparison of a row with its copy are noise.
    noisy_X = np.vstack([X, X, np.random.default_rng(0).normal(size=(5, 3))])
    noisy_pairs = pairs.copy()
    noisy_pairs[::2] += 20
    noisy_pairs = np.vstack([noisy_pairs, [[0, 41], [3, 23]]])
    weights = np.r_[np.ones(len(pairs)), 0.0, 1.0]
    model = PairwiseGPModel().fit(noisy_X, noisy_pairs, weights)
    assert np.allclose(model.predict(noisy_X[:20])[0], reference.predict(X)[0], atol=1e-6)
    assert np.allclose(model.predict(noisy_X[20:40])[0], reference.predict(X)[0], atol=1e-6)
    assert model.n_comparisons_ == len(pairs) + 2


def test_a_weight_of_two_counts_as_the_comparison_twice() -> None:
    X, pairs = anchor_comparisons(TARGET, n_points=20, n_pairs=40)
    weights = np.r_[2.0, np.ones(len(pairs) - 1)]
    weighted = PairwiseGPModel().fit(X, pairs, weights)
    repeated = PairwiseGPModel().fit(X, np.vstack([pairs[:1], pairs]))
    assert np.allclose(weighted.predict(X)[0], repeated.predict(X)[0], atol=1e-6)


def test_nearly_coincident_points_fit_stably() -> None:
    X, pairs = anchor_comparisons(TARGET, n_points=20, n_pairs=60)
    crowded = np.vstack([X, X + 1e-9])
    more = np.vstack([pairs, pairs[:20] + np.array([20, 0])])
    mean, std = PairwiseGPModel(lengthscale=3.0).fit(crowded, more).predict(crowded)
    assert np.all(np.isfinite(mean)) and np.all(np.isfinite(std))


def test_reject_all_raises_elsewhere_above_the_rejected() -> None:
    X, _ = anchor_comparisons(TARGET, n_points=6)
    model = PairwiseGPModel().fit(X, np.array([[-1, i] for i in range(6)]))
    mean, _ = model.predict(X)
    assert np.all(mean < model.elsewhere_utility_)
    # On the whole they fall below the prompt; one need not, since with f(0) = 0 a point
    # across the origin from a rejected one is pushed the other way (a linear trend).
    assert mean.mean() < 0


@pytest.mark.parametrize("n_pairs", [15, 80])  # fewer and more comparisons than points
def test_evidence_gradient_matches_finite_differences(n_pairs: int) -> None:
    rng = np.random.default_rng(0)
    points = rng.normal(scale=0.4, size=(25, 3))
    pairs = _comparisons_by(-np.linalg.norm(points - 0.2, axis=1), n_pairs, rng)
    data = _Comparisons(
        winner=np.r_[pairs[:, 0], 25, 25],  # two reject-alls won by elsewhere (latent 25)
        loser=np.r_[pairs[:, 1], 0, 1],
        label=np.r_[np.full(len(pairs) - 5, 1.0), np.full(5, 0.5), 1.0, 1.0],
        weight=rng.uniform(0.5, 2.0, len(pairs) + 2),
        n_latent=26,
    )
    geometry = (_squared_distances(points, points), (points**2).sum(axis=1))
    model = PairwiseGPModel(tol=1e-14)

    def log_evidence(lengthscale: float, outputscale: float) -> float:
        fit = model._laplace(geometry, data, lengthscale, outputscale, None)
        return -fit.negative_log_evidence

    for lengthscale, outputscale in ((0.3, 1.2), (1.0, 3.0)):
        fit = model._laplace(geometry, data, lengthscale, outputscale, None)
        analytic = model._log_evidence_gradient(fit, geometry, data)
        step = 1e-5
        numeric = {
            "lengthscale": (
                log_evidence(lengthscale * np.exp(step), outputscale)
                - log_evidence(lengthscale * np.exp(-step), outputscale)
            )
            / (2 * step),
            "outputscale": (
                log_evidence(lengthscale, outputscale * np.exp(step))
                - log_evidence(lengthscale, outputscale * np.exp(-step))
            )
            / (2 * step),
        }
        for name in numeric:
            assert analytic[name] == pytest.approx(numeric[name], rel=1e-4, abs=1e-6)


def test_predict_refuses_vectors_of_another_dimension() -> None:
    X, pairs = anchor_comparisons(TARGET)
    with pytest.raises(ValueError, match="columns"):
        PairwiseGPModel().fit(X, pairs).predict(np.zeros((2, 4)))


def test_negative_weights_are_refused() -> None:
    X, pairs = anchor_comparisons(TARGET)
    with pytest.raises(ValueError, match="weights"):
        PairwiseGPModel().fit(X, pairs, -np.ones(len(pairs)))


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"lengthscale": 0}, "lengthscale"),
        ({"lengthscale": -1.0}, "lengthscale"),
        ({"outputscale": 0}, "outputscale"),
        ({"noise_std": 0}, "noise_std"),
        ({"lengthscale_bounds": (0.5, 0.1)}, "lengthscale_bounds"),
        ({"outputscale_bounds": (0, 1)}, "outputscale_bounds"),
        ({"lengthscale_bounds": (0.1,)}, "lengthscale_bounds"),
        ({"max_iter": 0}, "max_iter"),
        ({"tol": 0}, "tol"),
        ({"hyperparameter_max_iter": 0}, "hyperparameter_max_iter"),
    ],
)
def test_bad_hyperparameters_are_refused(params: dict, named: str) -> None:
    with pytest.raises(ValueError, match=named):
        PairwiseGPModel(**params)
