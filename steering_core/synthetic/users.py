"""Synthetic users: a hidden utility over candidates, and a noisy way of answering.

Every user turns its utilities into a raw judgment in any feedback mode, the same mapping a
researcher's click goes through (`steering_core.feedback`), so simulated sessions exercise
the real feedback path and are stored the same way, marked `synthetic`.

Noise (`NoiseModel`): choices follow Bradley-Terry / Luce with a temperature (Gumbel noise
on utility / temperature), which grows with fatigue over rounds; a reversal probability
flips a decision outright; near ties (a utility gap below `tie_threshold`) are answered
"cannot decide" or "tie" when the user is allowed to.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from steering_core.errors import InvalidInput
from steering_core.registry import Registry

SYNTHETIC_USERS: Registry[Any] = Registry("synthetic user")


@dataclass(frozen=True)
class Shown:
    """What a synthetic user sees of one candidate of the round."""

    candidate_id: int
    slot: int
    steering_vector: np.ndarray
    image: Any = None


@dataclass(frozen=True)
class NoiseModel:
    """How a simulated researcher errs.

    temperature: Bradley-Terry temperature in utility units (0 = always the true best).
    reversal_probability: chance that a decision is flipped to a random other answer.
    fatigue: the temperature grows by this fraction per round.
    tie_threshold: utility gaps below this are near ties.
    uses_cannot_decide / uses_reject_all: whether the user answers those at all.
    reject_below: reject-all when no candidate's utility reaches this (None: never).
    """

    temperature: float = 0.0
    reversal_probability: float = 0.0
    fatigue: float = 0.0
    tie_threshold: float = 0.0
    uses_cannot_decide: bool = False
    uses_reject_all: bool = False
    reject_below: float | None = None

    def __post_init__(self) -> None:
        checks = {
            "temperature": self.temperature >= 0,
            "reversal_probability": 0 <= self.reversal_probability <= 1,
            "fatigue": self.fatigue >= 0,
            "tie_threshold": self.tie_threshold >= 0,
        }
        for name, ok in checks.items():
            if not ok:
                raise InvalidInput(f"noise.{name}: out of range (got {getattr(self, name)!r})")

    def temperature_at(self, round_index: int) -> float:
        return self.temperature * (1 + self.fatigue * round_index)


class SyntheticUser(Protocol):
    noise: NoiseModel

    def utility(self, shown: Sequence[Shown]) -> np.ndarray:
        """The hidden, noiseless utility of each shown candidate (higher is better)."""

    def judge(
        self, shown: Sequence[Shown], mode: str, round_index: int, rng: np.random.Generator
    ) -> dict[str, Any]:
        """A raw judgment in `mode`, as the feedback module takes it."""


@dataclass
class UtilityUser:
    """Answers every feedback mode from `utility`, through its noise model.

    `scale`: the utility span that maps to the 1-5 star range (one star per quarter of it
    below the best possible utility, 0).
    """

    noise: NoiseModel = field(default_factory=NoiseModel)
    scale: float = 1.0

    def utility(self, shown: Sequence[Shown]) -> np.ndarray:
        raise NotImplementedError

    # --- the noisy perception every mode starts from ---------------------------------
    def _perceived(self, utility: np.ndarray, round_index: int, rng: np.random.Generator):  # noqa: ANN202
        temperature = self.noise.temperature_at(round_index)
        if temperature == 0:
            return utility.astype(float)
        # Gumbel noise on u / T: the argmax then follows the Luce (softmax) choice rule.
        return utility / temperature + rng.gumbel(size=utility.shape)

    def _maybe_reverse(self, choice: int, n: int, rng: np.random.Generator) -> int:
        if n > 1 and rng.random() < self.noise.reversal_probability:
            others = [i for i in range(n) if i != choice]
            return int(rng.choice(others))
        return choice

    def _near_tie(self, utility: np.ndarray) -> bool:
        if len(utility) < 2 or self.noise.tie_threshold == 0:
            return False
        top = np.sort(utility)[-2:]
        return bool(top[1] - top[0] < self.noise.tie_threshold)

    # --- every mode -------------------------------------------------------------------
    def judge(
        self, shown: Sequence[Shown], mode: str, round_index: int, rng: np.random.Generator
    ) -> dict[str, Any]:
        utility = self.utility(shown)
        ids = [s.candidate_id for s in shown]
        if (
            self.noise.uses_reject_all
            and self.noise.reject_below is not None
            and utility.max() < self.noise.reject_below
        ):
            return {"mode": "reject_all", "reason": "nothing is close"}
        if self.noise.uses_cannot_decide and mode != "rating" and self._near_tie(utility):
            return {"mode": "cannot_decide"}
        perceived = self._perceived(utility, round_index, rng)
        if mode == "winner":
            best = self._maybe_reverse(int(np.argmax(perceived)), len(ids), rng)
            return {"mode": "winner", "winner": ids[best]}
        if mode == "rating":
            # Stars are absolute: 5 at the target, one less per quarter of `scale` away.
            noise = rng.normal(scale=self.noise.temperature_at(round_index), size=utility.shape)
            stars = np.clip(np.rint(5 + 4 * (utility + noise) / self.scale), 1, 5)
            return {
                "mode": "rating",
                "ratings": {str(i): int(s) for i, s in zip(ids, stars, strict=True)},
            }
        if mode == "pairwise":
            # The incumbent (slot 0) against the candidate the user likes most otherwise.
            challenger = 1 + int(np.argmax(perceived[1:]))
            gap = utility[challenger] - utility[0]
            if self.noise.tie_threshold and abs(gap) < self.noise.tie_threshold:
                choice = "tie"
            else:
                choice = "second" if perceived[challenger] > perceived[0] else "first"
                if rng.random() < self.noise.reversal_probability:
                    choice = "first" if choice == "second" else "second"
            return {
                "mode": "pairwise",
                "first": ids[0],
                "second": ids[challenger],
                "choice": choice,
            }
        if mode == "ranking":
            order = [int(i) for i in np.argsort(-perceived)[: min(3, len(ids))]]
            if len(order) > 1 and rng.random() < self.noise.reversal_probability:
                order[0], order[1] = order[1], order[0]
            return {"mode": "ranking", "order": [ids[i] for i in order]}
        if mode == "approve_reject":
            ranked = list(np.argsort(-perceived))
            quarter = max(1, len(ids) // 4)
            return {
                "mode": "approve_reject",
                "approved": [ids[i] for i in ranked[:quarter]],
                "rejected": [ids[i] for i in ranked[-quarter:]],
            }
        if mode == "reject_all":
            return {"mode": "reject_all"}
        if mode == "cannot_decide":
            return {"mode": "cannot_decide"}
        raise InvalidInput(f"mode: a synthetic user cannot answer in mode {mode!r}")


@SYNTHETIC_USERS.register("anchor")
@dataclass
class AnchorUser(UtilityUser):
    """Wants the image at a hidden `target` steering vector: utility = -distance to it."""

    target: np.ndarray = field(default_factory=lambda: np.zeros(1))

    def utility(self, shown: Sequence[Shown]) -> np.ndarray:
        vectors = np.array([s.steering_vector for s in shown], dtype=float)
        return -np.linalg.norm(vectors - self.target, axis=1)
