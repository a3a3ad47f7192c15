"""The heuristic researchers start from: the target is the (weighted) average of the winners.

Each point's net score is its weighted wins minus losses (ties count nothing; wins over it by
"elsewhere" count as losses). Points with a positive net score are winners; their
score-weighted mean is the estimated target, and utility falls with the distance to it.
There is no real uncertainty: the std is the prior's, shrinking as evidence accumulates.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from steering_core.hyperparameters import Hyperparameter, check_hyperparameters
from steering_core.models.base import PREFERENCE_MODELS, NotFittedError, as_comparison_arrays


@PREFERENCE_MODELS.register("winner_average")
class WinnerAverageModel:
    """Utility = minus the distance to the weighted mean of the winners.

    prior_std: the std of every prediction before any evidence; it shrinks as
    `prior_std / sqrt(1 + total winning weight)`.
    """

    hyperparameters = (
        Hyperparameter(
            "prior_std", float, 1.0, "std of every prediction before evidence", 0, low_open=True
        ),
    )
    capabilities: frozenset[str] = frozenset()

    def __init__(self, prior_std: float = 1.0) -> None:
        self.prior_std = prior_std
        check_hyperparameters(self)

    def fit(
        self,
        X: np.ndarray,
        comparisons: np.ndarray | None,
        weights: np.ndarray | None = None,
        ties: np.ndarray | None = None,
        tie_weights: np.ndarray | None = None,
    ) -> WinnerAverageModel:
        """`X`: `n x d` steering vectors; `comparisons`: `m x 2` (winner, loser) rows of X."""
        X = np.atleast_2d(np.asarray(X, dtype=np.float64))
        pairs, weights = as_comparison_arrays(comparisons, weights, len(X))
        score = np.zeros(len(X))
        for (winner, loser), weight in zip(pairs, weights, strict=True):
            if winner >= 0:
                score[winner] += weight
            score[loser] -= weight
        positive = np.clip(score, 0, None)
        self.total_weight_ = float(positive.sum())
        self.target_ = positive @ X / self.total_weight_ if self.total_weight_ > 0 else None
        self.loss_history_ = [float(-self.total_weight_)]
        self.n_comparisons_ = len(pairs)
        return self

    def predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if not hasattr(self, "total_weight_"):
            raise NotFittedError("this WinnerAverageModel is not fitted yet; call fit first")
        X = np.atleast_2d(np.asarray(X, dtype=np.float64))
        std = np.full(len(X), self.prior_std / np.sqrt(1 + self.total_weight_))
        if self.target_ is None:
            return np.zeros(len(X)), std
        return -np.linalg.norm(X - self.target_, axis=1), std

    def state(self) -> dict[str, Any]:
        return {
            "model": "winner_average",
            "target": None if self.target_ is None else self.target_.tolist(),
            "winning_weight": self.total_weight_,
            "n_comparisons": self.n_comparisons_,
            "loss_history": self.loss_history_,
        }
