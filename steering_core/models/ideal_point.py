"""Ideal-point preference model: the researcher wants one point of the steering space (the
target), and prefers candidates nearer to it.

Utility `u(w) = |target| - |w - target|`: the gain in closeness over the unsteered prompt
(the prompt has utility 0). Choices follow Luce's rule on distances measured in units of
the judgment's own spread, with a lapse: `p_i = (1 - lapse) softmax(-beta d_i / s)_i +
lapse / n`, where `s` is the mean distance between the options of that judgment. Measuring
in the round's own units keeps every pick equally informative whether the candidates are
far apart (early) or close together (near the end), and the lapse keeps an occasional slip
from dragging the target away. Rankings are sequential choices (Plackett-Luce; unranked
candidates stay in every choice set), pairwise judgments and reject-all are two-option
choices ("elsewhere" has a learned utility), ties are soft labels, confidence weights the
log likelihood. MAP by L-BFGS, Laplace approximation (a Gaussian over target, log beta and
the elsewhere utility), predictions by Monte Carlo over it.

Why not Bradley-Terry's quadratic utility: its utility differences vanish near the peak, so
decisive picks close to the target look like coin flips and the search stalls; and with
raw distances a decisive researcher drives beta up until the Laplace posterior is far
narrower than the region the picks allow (both measured, docs/DECISIONS.md).

References: C. H. Coombs, "A Theory of Data", 1964 (ideal points); R. D. Luce,
"Individual Choice Behavior", 1959; R. L. Plackett, "The analysis of permutations", 1975.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.optimize import minimize
from scipy.special import logsumexp

from steering_core.hyperparameters import Hyperparameter, check_hyperparameters
from steering_core.models.base import (
    PREFERENCE_MODELS,
    NotFittedError,
    as_comparison_arrays,
    choice_stages,
)

# Distances are smoothed, sqrt(r^2 + s^2) with s this fraction of the judgment's spread: a
# sharp cone at every shown point would trap the optimizer at the last winner.
SMOOTHING = 0.05
N_PREDICTIVE_DRAWS = 128


@PREFERENCE_MODELS.register("ideal_point")
class IdealPointModel:
    """MAP ideal-point model with a lapse rate and a Laplace posterior.

    target_scale: prior std of every coordinate of the target (steering units).
    decisiveness: prior median of beta (logits per mean distance between the options).
    lapse: the share of judgments made at random (slips); fixed, 0 <= lapse < 1.
    max_iter: L-BFGS iterations.
    """

    hyperparameters = (
        Hyperparameter(
            "target_scale", float, 0.5, "prior std of the target's coordinates", 0, low_open=True
        ),
        Hyperparameter(
            "decisiveness",
            float,
            5.0,
            "prior median of beta (logits per distance)",
            0,
            low_open=True,
        ),
        Hyperparameter(
            "lapse", float, 0.1, "share of judgments made at random", 0, 1, high_open=True
        ),
        Hyperparameter("max_iter", int, 200, "L-BFGS iterations", 1),
    )
    capabilities = frozenset({"posterior_samples", "posterior_peaks", "peak", "rankings"})

    def __init__(
        self,
        target_scale: float = 0.5,
        decisiveness: float = 5.0,
        lapse: float = 0.1,
        max_iter: int = 200,
    ) -> None:
        self.target_scale = target_scale
        self.decisiveness = decisiveness
        self.lapse = lapse
        self.max_iter = max_iter
        check_hyperparameters(self)

    def fit(
        self,
        X: np.ndarray,
        comparisons: np.ndarray | None,
        weights: np.ndarray | None = None,
        ties: np.ndarray | None = None,
        tie_weights: np.ndarray | None = None,
        rankings: Sequence[Any] | None = None,
    ) -> IdealPointModel:
        """Fit on an `n x d` table of steering vectors, `m x 2` comparisons (winner -1 =
        elsewhere), `t x 2` ties and rankings (`order`, `rest` rows and a `weight`)."""
        X = np.atleast_2d(np.asarray(X, dtype=np.float64))
        n, d = X.shape
        pairs, weights = as_comparison_arrays(comparisons, weights, n)
        tie_pairs, tie_weights = as_comparison_arrays(ties, tie_weights, n, False)
        stages = choice_stages(n, pairs, weights, tie_pairs, tie_weights, rankings)
        self._index, self._mask = stages.options, stages.mask
        self._target, self._stage_weights = stages.target, stages.weights
        self._points = np.vstack([X, np.zeros((1, d))])  # row n: "elsewhere"
        self._is_elsewhere = self._index == n
        self._n_options = self._mask.sum(axis=1, keepdims=True)
        self._spread = self._stage_spreads()
        self.d_ = d
        self.n_comparisons_ = len(self._stage_weights)

        start = self._start(X, pairs, weights)
        self.loss_history_: list[float] = [self._objective(start)[0]]
        result = minimize(
            self._objective,
            start,
            jac=True,
            method="L-BFGS-B",
            options={"maxiter": self.max_iter},
            callback=lambda theta: self.loss_history_.append(self._objective(theta)[0]),
        )
        self.theta_ = result.x
        self.covariance_ = self._laplace_covariance(result.x)
        # Fixed standard-normal draws: a fitted model's predictions are deterministic.
        normals = np.random.default_rng(0).standard_normal((N_PREDICTIVE_DRAWS, len(result.x)))
        self._draws = self.theta_ + normals @ self._covariance_factor().T
        return self

    def _stage_spreads(self) -> np.ndarray:
        """The mean distance between the shown options of each judgment (its own units)."""
        spreads = np.ones(len(self._index))
        for s in range(len(self._index)):
            options = self._index[s][self._mask[s] & ~self._is_elsewhere[s]]
            if len(options) > 1:
                points = self._points[options]
                gaps = np.linalg.norm(points[:, None] - points[None], axis=2)
                mean_gap = gaps.sum() / (len(options) * (len(options) - 1))
                spreads[s] = max(mean_gap, 1e-6)
        return spreads

    def _start(self, X: np.ndarray, pairs: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """Start at the net-win-weighted mean of the winners (between shown points, not on
        one), or the origin without any."""
        score = np.zeros(len(X))
        for (winner, loser), weight in zip(pairs.tolist(), weights.tolist(), strict=True):
            if winner >= 0:
                score[winner] += weight
            score[loser] -= weight
        positive = np.clip(score, 0, None)
        target = positive @ X / positive.sum() if positive.sum() > 0 else np.zeros(X.shape[1])
        return np.concatenate([target, [np.log(self.decisiveness), 0.0]])

    def _objective(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        """Negative log posterior and its gradient in theta = (target, log beta, u_else)."""
        d = self.d_
        target, log_beta, elsewhere = theta[:d], theta[d], theta[d + 1]
        beta = np.exp(log_beta)
        spread = self._spread[:, None]
        offsets = self._points[self._index] - target  # S x L x d
        distance = np.sqrt((offsets**2).sum(axis=2) + (SMOOTHING * spread) ** 2) / spread
        utility = np.where(self._is_elsewhere, elsewhere, -beta * distance)
        z = np.where(self._mask, utility, -np.inf)
        q = np.exp(z - logsumexp(z, axis=1, keepdims=True))
        p = (1 - self.lapse) * q + self.lapse / self._n_options
        p = np.where(self._mask, p, 1.0)
        loss = -float(np.sum(self._stage_weights * (self._target * np.log(p)).sum(axis=1)))
        # d loss / d z_m = -w (1 - lapse) q_m (T_m / p_m - sum_l T_l q_l / p_l)
        ratio = self._target / p
        dz = -(self._stage_weights[:, None] * (1 - self.lapse)) * q
        dz *= ratio - (ratio * q).sum(axis=1, keepdims=True)
        dz = np.where(self._mask, dz, 0.0)
        on_points = np.where(self._is_elsewhere, 0.0, dz)
        # z = -beta r / s: dz/dt = beta (x - t) / (r s) = beta (x - t) / (distance s^2).
        grad_target = np.einsum("sl,sld->d", on_points * beta / (distance * spread**2), offsets)
        grad_log_beta = float(np.sum(on_points * (-beta * distance)))
        grad_elsewhere = float(np.sum(np.where(self._is_elsewhere, dz, 0.0)))
        # Priors: target ~ N(0, scale^2), log beta ~ N(log decisiveness, 0.5^2),
        # u_else ~ N(0, 2^2).
        log_beta_offset = log_beta - np.log(self.decisiveness)
        loss += 0.5 * float(target @ target) / self.target_scale**2
        loss += 0.5 * log_beta_offset**2 / 0.25 + 0.5 * elsewhere**2 / 4
        gradient = np.concatenate(
            [
                grad_target + target / self.target_scale**2,
                [grad_log_beta + log_beta_offset / 0.25, grad_elsewhere + elsewhere / 4],
            ]
        )
        return loss, gradient

    def _laplace_covariance(self, theta: np.ndarray) -> np.ndarray:
        """Inverse Hessian of the negative log posterior (central differences of the
        gradient), its eigenvalues floored so that it is a proper covariance."""
        step = 1e-6
        columns = []
        for i in range(len(theta)):
            shift = np.zeros(len(theta))
            shift[i] = step
            forward, backward = self._objective(theta + shift), self._objective(theta - shift)
            columns.append((forward[1] - backward[1]) / (2 * step))
        hessian = np.array(columns)
        values, vectors = np.linalg.eigh(0.5 * (hessian + hessian.T))
        return (vectors / np.maximum(values, 1e-6)) @ vectors.T

    def _covariance_factor(self) -> np.ndarray:
        values, vectors = np.linalg.eigh(self.covariance_)
        return vectors * np.sqrt(np.maximum(values, 0.0))

    # --- predictions -------------------------------------------------------------------
    def _check_fitted(self) -> None:
        if not hasattr(self, "theta_"):
            raise NotFittedError("this IdealPointModel is not fitted yet; call fit first")

    def _utilities(self, targets: np.ndarray, X: np.ndarray) -> np.ndarray:
        """`len(targets) x len(X)` utilities `|t| - |x - t|` of the rows of `X`."""
        distance = np.linalg.norm(X[None, :, :] - targets[:, None, :], axis=2)
        return np.linalg.norm(targets, axis=1)[:, None] - distance

    def predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and std of the utility of each row of an `n x d` array. Without
        any judgment the model prefers nothing: mean 0, std from the prior."""
        self._check_fitted()
        X = np.atleast_2d(np.asarray(X, dtype=np.float64))
        draws = self._utilities(self._draws[:, : self.d_], X)
        if self.n_comparisons_ == 0:
            return np.zeros(len(X)), draws.std(axis=0)
        return draws.mean(axis=0), draws.std(axis=0)

    def _sample_thetas(self, n_samples: int, rng: np.random.Generator) -> np.ndarray:
        normals = rng.standard_normal((n_samples, len(self.theta_)))
        return self.theta_ + normals @ self._covariance_factor().T

    def sample_posterior(
        self, X: np.ndarray, n_samples: int, rng: np.random.Generator
    ) -> np.ndarray:
        """`n_samples x n` joint draws of the utility of the rows of `X`."""
        self._check_fitted()
        targets = self._sample_thetas(n_samples, rng)[:, : self.d_]
        return self._utilities(targets, np.atleast_2d(np.asarray(X, dtype=np.float64)))

    def sample_peaks(self, n_samples: int, rng: np.random.Generator) -> np.ndarray:
        """`n_samples x d` posterior draws of the target (each draw's best vector)."""
        self._check_fitted()
        return self._sample_thetas(n_samples, rng)[:, : self.d_]

    def peak(self) -> np.ndarray:
        """The MAP target."""
        self._check_fitted()
        return self.theta_[: self.d_].copy()

    def state(self) -> dict[str, Any]:
        return {
            "model": "ideal_point",
            "target": self.theta_[: self.d_].tolist(),
            "target_std": np.sqrt(np.diag(self.covariance_)[: self.d_]).tolist(),
            "decisiveness": float(np.exp(self.theta_[self.d_])),
            "elsewhere_utility": float(self.theta_[self.d_ + 1]),
            "n_comparisons": self.n_comparisons_,
            "loss_history": self.loss_history_,
        }
