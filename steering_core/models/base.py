"""The preference-model contract (scikit-learn style) and its registry.

`fit(X, comparisons, weights, ties, tie_weights) -> self` learns a utility over steering
vectors; `predict(X) -> (mean, std)`. `X`: an `n x d` array of steering vectors;
`comparisons`: an `m x 2` integer array of (winner row, loser row) into `X`, where a winner of
`ELSEWHERE` (-1) is the implicit better option of a reject-all; `ties`: a `t x 2` array of
rows judged equal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

from steering_core.errors import SteeringError
from steering_core.registry import Registry

PREFERENCE_MODELS: Registry[Any] = Registry("preference model")


class NotFittedError(SteeringError):
    """`predict` was called before `fit`."""


@runtime_checkable
class PreferenceModel(Protocol):
    loss_history_: list[float]

    def fit(
        self,
        X: np.ndarray,
        comparisons: np.ndarray,
        weights: np.ndarray | None = None,
        ties: np.ndarray | None = None,
        tie_weights: np.ndarray | None = None,
    ) -> PreferenceModel: ...

    def predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...

    def state(self) -> dict[str, Any]:
        """A JSON-able summary of the learned state, stored with each round."""
        ...


def as_comparison_arrays(
    comparisons: np.ndarray | None,
    weights: np.ndarray | None,
    n_points: int,
    winner_may_be_elsewhere: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Comparisons as a checked `m x 2` int array of rows of an `n_points`-row X, and their
    weights (default 1) as length `m`. Only a winner may be ELSEWHERE (-1), and only when
    `winner_may_be_elsewhere` (ties have no winner)."""
    pairs = np.zeros((0, 2), dtype=np.int64) if comparisons is None else np.asarray(comparisons)
    pairs = pairs.reshape(-1, 2).astype(np.int64)
    if weights is None:
        weights = np.ones(len(pairs))
    weights = np.asarray(weights, dtype=np.float64).reshape(-1)
    if len(weights) != len(pairs):
        raise ValueError(f"{len(pairs)} comparisons but {len(weights)} weights")
    lowest_winner = -1 if winner_may_be_elsewhere else 0
    if len(pairs) and (
        pairs.max() >= n_points or pairs[:, 0].min() < lowest_winner or pairs[:, 1].min() < 0
    ):
        raise ValueError(
            f"comparison indices must be rows of X (0-{n_points - 1}"
            + (", winner may be -1)" if winner_may_be_elsewhere else ")")
        )
    return pairs, weights


def posterior_draws(
    model: PreferenceModel, X: np.ndarray, n: int, rng: np.random.Generator
) -> np.ndarray:
    """`n x len(X)` utility draws at the rows of `X`: joint when the model offers
    `sample_posterior(X, n, rng)`, else independent normals from `predict`."""
    sampler = getattr(model, "sample_posterior", None)
    if sampler is not None:
        return sampler(X, n, rng)
    mean, std = model.predict(X)
    return mean + std * rng.standard_normal((n, len(X)))


@dataclass(frozen=True)
class ChoiceStages:
    """Judgments as choices among options, for choice models (Plackett-Luce, ideal point).

    `options`: an `S x L` int array of rows of X, the chosen option first; row `n` (one past
    X) stands for "elsewhere" and pads short stages; `mask` marks real options; `target` is
    1 on the chosen option, or 0.5 on each of a tie's two; `weights` has length `S`.
    """

    options: np.ndarray
    mask: np.ndarray
    target: np.ndarray
    weights: np.ndarray


def choice_stages(
    n_points: int,
    pairs: np.ndarray,
    weights: np.ndarray,
    tie_pairs: np.ndarray,
    tie_weights: np.ndarray,
    rankings: Sequence[Any] | None,
) -> ChoiceStages:
    """Checked comparisons (winner -1 = elsewhere) and ties as two-option choices, and each
    ranking (`order` best first, unranked `rest`, `weight`) as sequential choices with the
    unranked in every choice set. Zero-weight judgments are dropped: they carry nothing."""
    n = n_points
    stages: list[tuple[list[int], int, float]] = []  # options, chosen (-1: tie), weight
    for (winner, loser), weight in zip(pairs.tolist(), weights.tolist(), strict=True):
        stages.append(([n if winner < 0 else winner, loser], 0, weight))
    for (a, b), weight in zip(tie_pairs.tolist(), tie_weights.tolist(), strict=True):
        stages.append(([a, b], -1, weight))
    for ranking in rankings or ():
        order, rest = [int(r) for r in ranking.order], [int(r) for r in ranking.rest]
        if any(not 0 <= r < n for r in order + rest):
            raise ValueError(f"ranking rows must be rows of X (0-{n - 1})")
        for position in range(len(order)):
            if len(order[position:] + rest) > 1:
                stages.append((order[position:] + rest, 0, float(ranking.weight)))
    stages = [stage for stage in stages if stage[2] > 0]
    width = max((len(options) for options, _, _ in stages), default=2)
    options = np.full((len(stages), width), n, dtype=np.int64)
    mask = np.zeros((len(stages), width), dtype=bool)
    target = np.zeros((len(stages), width))
    for s, (choice, chosen, _) in enumerate(stages):
        options[s, : len(choice)] = choice
        mask[s, : len(choice)] = True
        if chosen < 0:
            target[s, :2] = 0.5
        else:
            target[s, chosen] = 1.0
    return ChoiceStages(options, mask, target, np.array([w for _, _, w in stages]))
