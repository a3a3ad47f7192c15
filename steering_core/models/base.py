"""The preference-model contract (scikit-learn style) and its registry.

`fit(X, comparisons, weights, ties, tie_weights) -> self` learns a utility over steering
vectors; `predict(X) -> (mean, std)`. `X`: an `n x d` array of steering vectors;
`comparisons`: an `m x 2` integer array of (winner row, loser row) into `X`, where a winner of
`ELSEWHERE` (-1) is the implicit better option of a reject-all; `ties`: a `t x 2` array of
rows judged equal.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np

from steering_core.errors import SteeringError
from steering_core.hyperparameters import Hyperparameter, check_declaration
from steering_core.registry import Registry


class NotFittedError(SteeringError):
    """`predict` was called before `fit`."""


# Optional abilities a model declares in its class-level `capabilities`, and the method each
# promises (None: an argument of `fit`). Samplers ask `can(model, ...)`, never `hasattr`.
CAPABILITIES: dict[str, str | None] = {
    # sample_posterior(X, n, rng) -> `n x len(X)` joint utility draws at the rows of X
    "posterior_samples": "sample_posterior",
    # sample_peaks(n, rng) -> `n x d` best points of n posterior draws
    "posterior_peaks": "sample_peaks",
    # peak() -> length `d` best point of the posterior mean (None before evidence)
    "peak": "peak",
    # fit(..., rankings=...) reads whole rankings, not only their pairwise comparisons
    "rankings": None,
}


@runtime_checkable
class PreferenceModel(Protocol):
    """What every preference model provides, and what samplers may read after `fit`.

    `n_comparisons_`: the judgments the fit saw (0: the prior alone, no evidence yet);
    `loss_history_`: the fit's loss per iteration, for the live loss curve.
    """

    hyperparameters: ClassVar[tuple[Hyperparameter, ...]]
    capabilities: ClassVar[frozenset[str]]
    loss_history_: list[float]
    n_comparisons_: int

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


def can(model: PreferenceModel | type[PreferenceModel] | None, capability: str) -> bool:
    """Whether a model (or model class) declares `capability` (one of CAPABILITIES)."""
    if capability not in CAPABILITIES:
        raise ValueError(f"unknown capability {capability!r}; known: {', '.join(CAPABILITIES)}")
    return model is not None and capability in getattr(model, "capabilities", frozenset())


def has_evidence(model: PreferenceModel | None) -> bool:
    """A fitted model that saw at least one judgment (not the prior alone)."""
    return model is not None and model.n_comparisons_ > 0


def check_model_class(model_class: type[PreferenceModel]) -> None:
    """The contract PREFERENCE_MODELS enforces as each model registers: hyperparameters
    declared as `__init__` takes them, and every declared capability known and provided."""
    check_declaration(model_class)
    declared = getattr(model_class, "capabilities", None)
    if not isinstance(declared, frozenset):
        raise TypeError(f"{model_class.__qualname__}: capabilities must be a frozenset")
    for capability in declared:
        if capability not in CAPABILITIES:
            raise TypeError(f"{model_class.__qualname__}: unknown capability {capability!r}")
        method = CAPABILITIES[capability]
        if method is not None and not callable(getattr(model_class, method, None)):
            raise TypeError(
                f"{model_class.__qualname__}: declares {capability} but has no {method}"
            )
    if "rankings" in declared and "rankings" not in inspect.signature(model_class.fit).parameters:
        raise TypeError(f"{model_class.__qualname__}: declares rankings but fit takes none")


# Every preference model, by registered name: listed without importing, imported on `get`.
# A new model adds its line here (tests/steering_core/test_registries.py checks the table).
PREFERENCE_MODELS: Registry[type[PreferenceModel]] = Registry(
    "preference model",
    lazy={
        "bradley_terry": "steering_core.models.bradley_terry:BradleyTerryModel",
        "ideal_point": "steering_core.models.ideal_point:IdealPointModel",
        "pairwise_gp": "steering_core.models.pairwise_gp:PairwiseGPModel",
        "plackett_luce": "steering_core.models.plackett_luce:PlackettLuceModel",
        "winner_average": "steering_core.models.winner_average:WinnerAverageModel",
    },
    check=check_model_class,
)


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
    """`n x len(X)` utility draws at the rows of `X`: joint when the model can give
    posterior samples, else independent normals from `predict`."""
    if can(model, "posterior_samples"):
        return model.sample_posterior(X, n, rng)  # type: ignore[attr-defined]
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
