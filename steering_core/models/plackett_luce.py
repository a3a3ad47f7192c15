"""Plackett-Luce preference model: rankings and winner picks as sequential choices.

A top-k ranking of a round is read as k choices: the first from everything shown, the second
from what is left, and so on, each with probability `exp(u_i) / sum_j exp(u_j)`; unranked
candidates stay in every choice set. A winner pick is one such choice among all k shown, so
nothing is collapsed to pairs: "A beat 7 others" is one observation, not 7 independent
ones. Pairwise comparisons, ties and reject-all are two-option choices (Bradley-Terry).
The utility, prior and Laplace posterior are Bradley-Terry's quadratic ones.

References: R. L. Plackett, "The analysis of permutations", 1975; R. D. Luce, "Individual
Choice Behavior", 1959.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.special import logsumexp

from steering_core.models.base import PREFERENCE_MODELS, as_comparison_arrays, choice_stages
from steering_core.models.bradley_terry import BradleyTerryModel


@PREFERENCE_MODELS.register("plackett_luce")
class PlackettLuceModel(BradleyTerryModel):
    """MAP Plackett-Luce with Bradley-Terry's quadratic utility and Laplace posterior.

    Hyperparameters as BradleyTerryModel. `fit` also takes `rankings`: objects with `order`
    (rows of X, best first), `rest` (rows shown but unranked) and `weight`.
    """

    capabilities = BradleyTerryModel.capabilities | {"rankings"}

    def fit(
        self,
        X: np.ndarray,
        comparisons: np.ndarray | None,
        weights: np.ndarray | None = None,
        ties: np.ndarray | None = None,
        tie_weights: np.ndarray | None = None,
        rankings: Sequence[object] | None = None,
    ) -> PlackettLuceModel:
        """Fit on an `n x d` table of steering vectors, comparisons, ties and rankings."""
        X = np.atleast_2d(np.asarray(X, dtype=np.float64))
        n, d = X.shape
        pairs, weights = as_comparison_arrays(comparisons, weights, n)
        tie_pairs, tie_weights = as_comparison_arrays(ties, tie_weights, n, False)
        self.length_scale_ = self._length_scale(X)

        # Row n of the feature table is "elsewhere"; a winner of -1 indexes it.
        stages = choice_stages(n, pairs, weights, tie_pairs, tie_weights, rankings)
        features = np.vstack([self._features(X), self._elsewhere(d)])
        mask, target, stage_weights = stages.mask, stages.target, stages.weights
        option_features = features[stages.options] * mask[..., None]  # S x L x p, 0 at padding

        theta = np.zeros(d + 2)
        self.loss_history_: list[float] = []
        for _ in range(self.max_iter):
            loss, gradient, hessian = self._newton_terms(
                theta, option_features, mask, target, stage_weights
            )
            self.loss_history_.append(loss)
            if np.linalg.norm(gradient) < self.tol:
                break
            theta = theta - np.linalg.solve(hessian, gradient)
        _, _, hessian = self._newton_terms(theta, option_features, mask, target, stage_weights)
        self.theta_ = theta
        self.covariance_ = np.linalg.inv(hessian)
        self.n_comparisons_ = len(stage_weights)
        self.d_ = d
        return self

    def _newton_terms(
        self,
        theta: np.ndarray,
        option_features: np.ndarray,
        mask: np.ndarray,
        target: np.ndarray,
        stage_weights: np.ndarray,
    ) -> tuple[float, np.ndarray, np.ndarray]:
        """Negative log posterior, its gradient and Hessian at `theta`."""
        z = np.where(mask, option_features @ theta, -np.inf)
        log_p = z - logsumexp(z, axis=1, keepdims=True)
        p = np.where(mask, np.exp(log_p), 0.0)
        loss = -np.sum(stage_weights * (target * np.where(mask, log_p, 0.0)).sum(axis=1))
        loss += 0.5 * self.prior_strength * theta @ theta
        # d(-log p_chosen)/d theta = E_p[features] - E_target[features] per stage.
        expected = np.einsum("sl,slp->sp", p, option_features)
        observed = np.einsum("sl,slp->sp", target, option_features)
        gradient = (stage_weights[:, None] * (expected - observed)).sum(axis=0)
        gradient += self.prior_strength * theta
        second = np.einsum("s,sl,slp,slq->pq", stage_weights, p, option_features, option_features)
        hessian = second - np.einsum("s,sp,sq->pq", stage_weights, expected, expected)
        hessian += self.prior_strength * np.eye(len(theta))
        return float(loss), gradient, hessian
