"""Bradley-Terry preference model over steering vectors with a Gaussian prior.

Utility is a concave quadratic in the (rescaled) steering vector, `u(w) = a.x - b|x|^2/2`
with `x = w / length_scale`, so it can place a peak (the researcher's target) anywhere. The
weights `theta = (a, b, u_elsewhere)` get a Gaussian prior; the MAP estimate is found by
Newton's method and a Laplace approximation gives the predictive std. Ties are soft labels
(each side wins half), and reject-all comparisons are won by a shared "elsewhere" utility.

Reference: R. A. Bradley and M. E. Terry, "Rank analysis of incomplete block designs", 1952.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import expit, log_expit

from steering_core.hyperparameters import Hyperparameter, check_hyperparameters
from steering_core.models.base import (
    PREFERENCE_MODELS,
    NotFittedError,
    as_comparison_arrays,
)


@PREFERENCE_MODELS.register("bradley_terry")
class BradleyTerryModel:
    """MAP Bradley-Terry with a quadratic utility and a Laplace posterior.

    prior_strength: precision of the Gaussian prior on every weight (higher = smoother).
    length_scale: steering-vector scale; None takes the RMS norm of the fitted points.
    max_iter, tol: Newton iterations and the gradient-norm stopping tolerance.
    """

    hyperparameters = (
        Hyperparameter(
            "prior_strength",
            float,
            1.0,
            "precision of the prior (higher = smoother)",
            0,
            low_open=True,
        ),
        Hyperparameter(
            "length_scale",
            float,
            None,
            "steering-vector scale",
            0,
            low_open=True,
            none_means="the RMS norm of the fitted points",
        ),
        Hyperparameter("max_iter", int, 50, "Newton iterations", 1),
        Hyperparameter("tol", float, 1e-8, "gradient-norm stopping tolerance", 0),
    )
    capabilities = frozenset({"posterior_samples", "posterior_peaks", "peak"})

    def __init__(
        self,
        prior_strength: float = 1.0,
        length_scale: float | None = None,
        max_iter: int = 50,
        tol: float = 1e-8,
    ) -> None:
        self.prior_strength = prior_strength
        self.length_scale = length_scale
        self.max_iter = max_iter
        self.tol = tol
        check_hyperparameters(self)

    def _features(self, X: np.ndarray) -> np.ndarray:
        """`n x d` steering vectors -> `n x (d + 2)` features (the last is "elsewhere")."""
        x = np.asarray(X, dtype=np.float64) / self.length_scale_
        return np.hstack([x, -0.5 * (x**2).sum(axis=1, keepdims=True), np.zeros((len(x), 1))])

    def _length_scale(self, X: np.ndarray) -> float:
        """The fixed `length_scale`, or the RMS norm of the moved points of `X`."""
        if self.length_scale:
            return self.length_scale
        norms = np.linalg.norm(X, axis=1)
        moved = norms[norms > 0]
        return float(np.sqrt((moved**2).mean())) if len(moved) else 1.0

    def _elsewhere(self, d: int) -> np.ndarray:
        feature = np.zeros(d + 2)
        feature[-1] = 1.0
        return feature

    def fit(
        self,
        X: np.ndarray,
        comparisons: np.ndarray | None,
        weights: np.ndarray | None = None,
        ties: np.ndarray | None = None,
        tie_weights: np.ndarray | None = None,
    ) -> BradleyTerryModel:
        """Fit on an `n x d` table of steering vectors and comparisons into it."""
        X = np.atleast_2d(np.asarray(X, dtype=np.float64))
        n, d = X.shape
        pairs, weights = as_comparison_arrays(comparisons, weights, n)
        tie_pairs, tie_weights = as_comparison_arrays(ties, tie_weights, n, False)

        self.length_scale_ = self._length_scale(X)
        features = np.vstack([self._features(X), self._elsewhere(d)])
        # Row n of `features` is "elsewhere"; winner -1 indexes it.
        winners = np.where(pairs[:, 0] < 0, n, pairs[:, 0])
        differences = np.vstack(
            [
                features[winners] - features[pairs[:, 1]],
                features[tie_pairs[:, 0]] - features[tie_pairs[:, 1]],
            ]
        )
        labels = np.concatenate([np.ones(len(pairs)), np.full(len(tie_pairs), 0.5)])
        sample_weights = np.concatenate([weights, tie_weights])

        theta = np.zeros(d + 2)
        self.loss_history_: list[float] = []
        for _ in range(self.max_iter):
            z = differences @ theta
            loss = (
                -np.sum(sample_weights * (labels * log_expit(z) + (1 - labels) * log_expit(-z)))
                + 0.5 * self.prior_strength * theta @ theta
            )
            self.loss_history_.append(float(loss))
            p = expit(z)
            gradient = differences.T @ (sample_weights * (p - labels)) + self.prior_strength * theta
            hessian = (differences.T * (sample_weights * p * (1 - p))) @ differences
            hessian += self.prior_strength * np.eye(d + 2)
            if np.linalg.norm(gradient) < self.tol:
                break
            theta = theta - np.linalg.solve(hessian, gradient)
        z = differences @ theta
        p = expit(z)
        hessian = (differences.T * (sample_weights * p * (1 - p))) @ differences
        hessian += self.prior_strength * np.eye(d + 2)
        self.theta_ = theta
        self.covariance_ = np.linalg.inv(hessian)
        self.n_comparisons_ = int(len(pairs) + len(tie_pairs))
        self.d_ = d
        return self

    def predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and std of the utility of each row of an `n x d` array."""
        if not hasattr(self, "theta_"):
            raise NotFittedError("this BradleyTerryModel is not fitted yet; call fit first")
        features = self._features(np.atleast_2d(X))
        mean = features @ self.theta_
        variance = np.einsum("ij,jk,ik->i", features, self.covariance_, features)
        return mean, np.sqrt(np.maximum(variance, 0.0))

    def sample_posterior(
        self, X: np.ndarray, n_samples: int, rng: np.random.Generator
    ) -> np.ndarray:
        """`n_samples x n` joint draws of the utility of the rows of `X` (Laplace posterior)."""
        if not hasattr(self, "theta_"):
            raise NotFittedError("this BradleyTerryModel is not fitted yet; call fit first")
        thetas = rng.multivariate_normal(self.theta_, self.covariance_, size=n_samples)
        return thetas @ self._features(np.atleast_2d(X)).T

    def sample_peaks(self, n_samples: int, rng: np.random.Generator) -> np.ndarray:
        """`n_samples x d` peaks of posterior draws of the utility (the steering vector each
        draw likes best); a row is NaN where the draw has no peak (it is not concave)."""
        if not hasattr(self, "theta_"):
            raise NotFittedError("this BradleyTerryModel is not fitted yet; call fit first")
        thetas = rng.multivariate_normal(self.theta_, self.covariance_, size=n_samples)
        linear, curvature = thetas[:, : self.d_], thetas[:, self.d_]
        with np.errstate(divide="ignore", invalid="ignore"):
            peaks = linear / curvature[:, None] * self.length_scale_
        peaks[curvature <= 1e-9] = np.nan
        return peaks

    def peak(self) -> np.ndarray | None:
        """The steering vector of maximal mean utility, or None when the fit has no peak."""
        if not hasattr(self, "theta_"):
            raise NotFittedError("this BradleyTerryModel is not fitted yet; call fit first")
        linear, curvature = self.theta_[: self.d_], self.theta_[self.d_]
        if curvature <= 1e-9:
            return None
        return linear / curvature * self.length_scale_

    def state(self) -> dict[str, Any]:
        return {
            "model": self.registered_name,  # type: ignore[attr-defined]
            "theta": self.theta_.tolist(),
            "length_scale": self.length_scale_,
            "n_comparisons": self.n_comparisons_,
            "loss_history": self.loss_history_,
        }
