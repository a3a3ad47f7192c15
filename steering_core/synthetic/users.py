"""Synthetic users: a hidden utility over candidates, and a noisy way of answering.

Every user turns its utilities into a raw judgment in any feedback mode, the same mapping a
researcher's click goes through (`steering_core.feedback`), so simulated sessions exercise
the real feedback path and are stored the same way, marked `synthetic`.

Noise (`NoiseModel`): choices follow Bradley-Terry / Luce with a temperature (Gumbel noise
on utility / temperature), which grows with fatigue over rounds; a reversal probability
flips a decision outright; near ties (a utility gap below `tie_threshold`) are answered
"cannot decide" or "tie" when the user is allowed to.

Users (`SYNTHETIC_USERS`): `anchor` (one hidden steering vector), `image_anchor` (hidden
background / foreground colours, judged on the images) and `diversity` (several hidden
centres, with a bonus for straying from what it already picked). Every utility is 0 at
best and negative elsewhere, in units comparable to a distance in the steering space, so one
`scale` (stars) and one noise model fit them all. Users with a target in the steering space
(anchor, diversity) say what it is (`targets`) and how far a vector is from it
(`distance_to_target`); the others answer None. How a user answers in each mode, from what
it perceived, lives with the mode (`synthetic_answer` in `steering_core/feedback/`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from steering_core.errors import InvalidInput
from steering_core.feedback import MODES_BY_NAME, Perception, mode_of
from steering_core.registry import Registry

# Every synthetic user, by registered name (a new one adds its line here; the registry test
# checks the table against the classes that register).
SYNTHETIC_USERS: Registry[type[SyntheticUser]] = Registry(
    "synthetic user",
    lazy={
        "anchor": "steering_core.synthetic.users:AnchorUser",
        "diversity": "steering_core.synthetic.users:DiversityUser",
        "image_anchor": "steering_core.synthetic.users:ImageAnchorUser",
    },
)


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

    def reset(self) -> None:
        """Forget what earlier rounds taught it: a new session starts (simulate_session)."""

    def targets(self) -> np.ndarray | None:
        """What it wants, as an `m x d` array of steering vectors; None for a user without a
        target in the steering space (an image user)."""

    def distance_to_target(self, vector: np.ndarray) -> float | None:
        """How far a `d`-vector is from what it wants; None for a user without a target in
        the steering space (an image user)."""


@dataclass
class UtilityUser:
    """Answers every feedback mode from `utility`, through its noise model.

    `scale`: the utility span that maps to the 1-5 star range (one star per quarter of it
    below the best possible utility, 0) when `relative_ratings` is off; with it on (the
    default) stars span the round shown, its best 5 and its worst 1.
    """

    noise: NoiseModel = field(default_factory=NoiseModel)
    scale: float = 1.0
    relative_ratings: bool = True

    def utility(self, shown: Sequence[Shown]) -> np.ndarray:
        raise NotImplementedError

    # --- what a user without memory or steering-space target says ---------------------
    def reset(self) -> None:
        """Nothing to forget: this user has no memory of earlier rounds."""

    def targets(self) -> np.ndarray | None:
        return None

    def distance_to_target(self, vector: np.ndarray) -> float | None:
        return None

    # --- the noisy perception every mode starts from ---------------------------------
    def _perceived(self, utility: np.ndarray, round_index: int, rng: np.random.Generator):  # noqa: ANN202
        temperature = self.noise.temperature_at(round_index)
        if temperature == 0:
            return utility.astype(float)
        # Gumbel noise on u / T: the argmax then follows the Luce (softmax) choice rule.
        return utility / temperature + rng.gumbel(size=utility.shape)

    def _near_tie(self, utility: np.ndarray) -> bool:
        if len(utility) < 2 or self.noise.tie_threshold == 0:
            return False
        top = np.sort(utility)[-2:]
        return bool(top[1] - top[0] < self.noise.tie_threshold)

    # --- every mode -------------------------------------------------------------------
    def judge(
        self, shown: Sequence[Shown], mode: str, round_index: int, rng: np.random.Generator
    ) -> dict[str, Any]:
        answering = MODES_BY_NAME.get(mode)
        if answering is None or not answering.synthetic:
            raise InvalidInput(f"mode: a synthetic user cannot answer in mode {mode!r}")
        utility = self.utility(shown)
        ids = [s.candidate_id for s in shown]
        if (
            self.noise.uses_reject_all
            and self.noise.reject_below is not None
            and utility.max() < self.noise.reject_below
        ):
            return {"mode": "reject_all", "reason": "nothing is close"}
        if (
            self.noise.uses_cannot_decide
            and answering.ties_as_cannot_decide
            and self._near_tie(utility)
        ):
            # "I cannot decide between these two": the near-tied top two, one of them
            # swapped for another candidate on a slip, like a forced pick's reversal.
            top_two = [int(i) for i in np.argsort(utility)[-2:]]
            if rng.random() < self.noise.reversal_probability:
                others = [i for i in range(len(ids)) if i not in top_two]
                if others:
                    top_two[int(rng.integers(2))] = int(rng.choice(others))
            return {"mode": "cannot_decide", "between": [ids[i] for i in top_two]}
        perceived = self._perceived(utility, round_index, rng)
        # What a forced answer looks like where this user would rather not give one: among
        # near ties they cannot tell the top two apart (a coin flip), and when nothing
        # reaches their floor they do not care which (a random order).
        if self.noise.reject_below is not None and utility.max() < self.noise.reject_below:
            perceived = rng.random(len(utility))
        elif self._near_tie(utility):
            top_two = np.argsort(utility)[-2:]
            perceived = perceived.copy()
            perceived[top_two] = perceived.max() + rng.random(2)
        seen = Perception(
            ids=ids,
            utility=utility,
            perceived=perceived,
            temperature=self.noise.temperature_at(round_index),
            reversal_probability=self.noise.reversal_probability,
            tie_threshold=self.noise.tie_threshold,
            scale=self.scale,
            relative_ratings=self.relative_ratings,
            rng=rng,
        )
        return answering.synthetic_answer(seen)


@SYNTHETIC_USERS.register("anchor")
@dataclass
class AnchorUser(UtilityUser):
    """Wants the image at a hidden `target` steering vector: utility = -distance to it."""

    target: np.ndarray = field(default_factory=lambda: np.zeros(1))

    def utility(self, shown: Sequence[Shown]) -> np.ndarray:
        vectors = np.array([s.steering_vector for s in shown], dtype=float)
        return -np.linalg.norm(vectors - self.target, axis=1)

    def targets(self) -> np.ndarray | None:
        return np.asarray(self.target, dtype=np.float64).reshape(1, -1)

    def distance_to_target(self, vector: np.ndarray) -> float:
        """Euclidean distance of a `d`-vector to the hidden target."""
        return float(np.linalg.norm(np.asarray(vector, dtype=float) - self.target))


# A missing shape counts as this far from the target foreground: black against white, the
# farthest pair of the built-in world's named colours, so no shape drawn in one of them scores
# lower (a few extreme sRGB pairs reach ~119, which the mean then simply reflects).
MISSING_SHAPE_DELTA_E = 100.0
_HEX_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")


@SYNTHETIC_USERS.register("image_anchor")
@dataclass
class ImageAnchorUser(UtilityUser):
    """Wants an image whose colours match hidden target colours; judges the images only.

    `background` / `foreground`: target hex colours ("#4363d8"), either may be None (not
    judged), not both. Utility = -(mean ΔE2000 of the targeted regions to their targets) /
    100, measured on `Shown.image` with `steering_core.metrics.colour.colour_scores`
    (regions segmented from the image itself): 0 for a perfect match, about -0.2 between
    the two closest named colours of the built-in world, -0.3 to -0.8 between clearly
    different hues, -1 for black against white or for a missing shape. The default `scale`
    of 0.5 gives 5 stars at a match and 1 star from ΔE 50 on, where the colour score of
    `steering_core.metrics` reaches 0; noise temperatures are in the same units (0.05 =
    ΔE 5, a visible but small difference).
    `random_state`: seed of the segmentation's k-means, so utilities are deterministic.
    """

    background: str | None = None
    foreground: str | None = None
    scale: float = 0.5
    random_state: int = 0

    def __post_init__(self) -> None:
        for name in ("background", "foreground"):
            value = getattr(self, name)
            if value is not None and not (
                isinstance(value, str) and _HEX_COLOUR.fullmatch(value.strip())
            ):
                raise InvalidInput(
                    f"image_anchor.{name}: must be a hex colour like '#4363d8' (got {value!r})"
                )
        if self.background is None and self.foreground is None:
            raise InvalidInput(
                "image_anchor: give a target background or foreground colour (or both)"
            )
        if not self.scale > 0:
            raise InvalidInput(f"image_anchor.scale: must be > 0 (got {self.scale!r})")

    def utility(self, shown: Sequence[Shown]) -> np.ndarray:
        # Imported here: the metrics package loads torch (~1.5 s), which users that judge
        # steering vectors alone, in large benchmarks, should not pay for.
        from steering_core.metrics.colour import colour_scores

        utilities = []
        for candidate in shown:
            if candidate.image is None:
                raise InvalidInput(
                    f"image_anchor: candidate {candidate.candidate_id} (slot {candidate.slot}) "
                    "has no image; this user judges images, so simulate the session with a "
                    "generator"
                )
            # colour_scores wants both colours; an untargeted one is never read below.
            scores = colour_scores(
                candidate.image,
                self.background or self.foreground,  # type: ignore[arg-type]
                self.foreground or self.background,  # type: ignore[arg-type]
                random_state=self.random_state,
            )
            deltas = []
            if self.background is not None:
                deltas.append(scores.background_delta_e)
            if self.foreground is not None:
                deltas.append(min(scores.foreground_delta_e, MISSING_SHAPE_DELTA_E))
            utilities.append(-float(np.mean(deltas)) / 100.0)
        return np.array(utilities)


def _nearest_distances(points: np.ndarray, others: np.ndarray) -> np.ndarray:
    """Distance of each of `n x d` points to the nearest of `m x d` others: an `n` array."""
    return np.linalg.norm(points[:, None, :] - others[None, :, :], axis=2).min(axis=1)


@SYNTHETIC_USERS.register("diversity")
@dataclass
class DiversityUser(UtilityUser):
    """Wants any of several hidden `centres`, and prefers ones it has not found yet.

    `centres`: an `m x d` array (a `d` vector is one centre). Utility of a `d`-vector x =
    -(distance to the nearest centre) + `novelty_weight` * (min(distance to the nearest
    earlier pick, `novelty_cap`) - `novelty_cap`). The novelty term is the capped distance
    to the picks, shifted by the cap so that 0 stays the best possible utility (the star
    mapping assumes it): a candidate at least `novelty_cap` from every pick loses nothing, a
    re-pick loses `novelty_weight * novelty_cap`. Before any pick everything is novel.
    With `novelty_weight` < 1 the user still prefers a centre it found over nearby points
    (quality falls faster than novelty grows), so it leaves a found centre for another only
    when a candidate near that other centre is shown: coverage measures exploration.

    Memory: `picks` holds the steering vector of the candidate each judgment named as best
    (winner, top of a ranking, pairwise choice, first approved, highest stars), recorded in
    `judge` after answering; reject-all, "cannot decide" and ties record nothing. `judge`
    clears it at round 0 and `reset()` clears it too (simulate_session calls it when a
    session starts), so a session replays exactly from its seed. One user object holds one
    session's memory: do not share it between sessions that run at the same time.
    """

    centres: np.ndarray = field(default_factory=lambda: np.zeros((1, 1)))
    novelty_weight: float = 0.5
    novelty_cap: float = 0.5
    picks: list[np.ndarray] = field(default_factory=list, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        centres = np.asarray(self.centres, dtype=float)
        centres = centres[None, :] if centres.ndim == 1 else centres
        if centres.ndim != 2 or 0 in centres.shape or not np.all(np.isfinite(centres)):
            raise InvalidInput(
                "diversity.centres: must be an m x d array of finite steering vectors, m >= 1 "
                f"(got shape {np.shape(self.centres)})"
            )
        self.centres = centres
        if not (np.isfinite(self.novelty_weight) and self.novelty_weight >= 0):
            raise InvalidInput(
                f"diversity.novelty_weight: must be >= 0 (got {self.novelty_weight!r})"
            )
        if not (np.isfinite(self.novelty_cap) and self.novelty_cap > 0):
            raise InvalidInput(f"diversity.novelty_cap: must be > 0 (got {self.novelty_cap!r})")

    def _checked(self, vectors: np.ndarray) -> np.ndarray:
        """`vectors` as an `n x d` float array, refused when `d` is not the centres' `d`."""
        array = np.asarray(vectors, dtype=float)
        if array.ndim != 2 or array.shape[1] != self.centres.shape[1]:
            raise InvalidInput(
                f"diversity: steering vectors of shape {array.shape} do not match centres "
                f"of dimension d={self.centres.shape[1]}"
            )
        return array

    def reset(self) -> None:
        """Forget every pick (a new session starts)."""
        self.picks.clear()

    def utility(self, shown: Sequence[Shown]) -> np.ndarray:
        vectors = self._checked(np.array([s.steering_vector for s in shown], dtype=float))
        quality = -_nearest_distances(vectors, self.centres)
        if not self.picks:
            return quality
        to_picks = _nearest_distances(vectors, np.array(self.picks))
        return quality + self.novelty_weight * (
            np.minimum(to_picks, self.novelty_cap) - self.novelty_cap
        )

    def judge(
        self, shown: Sequence[Shown], mode: str, round_index: int, rng: np.random.Generator
    ) -> dict[str, Any]:
        if round_index == 0:
            self.reset()
        raw = super().judge(shown, mode, round_index, rng)
        picked = mode_of(raw["mode"]).best(raw)
        if picked is not None:
            vector = next(s.steering_vector for s in shown if s.candidate_id == picked)
            self.picks.append(np.array(vector, dtype=float))  # a copy: callers may reuse theirs
        return raw

    def targets(self) -> np.ndarray | None:
        return np.asarray(self.centres, dtype=np.float64)

    def distance_to_target(self, vector: np.ndarray) -> float:
        """Distance of a `d`-vector to the nearest centre."""
        return float(
            _nearest_distances(self._checked(np.reshape(vector, (1, -1))), self.centres)[0]
        )

    def coverage(self, vectors: np.ndarray, radius: float) -> float:
        """Fraction of the centres within `radius` of at least one of `vectors` (`n x d`,
        e.g. a session's incumbents or picks); 0 when there are none."""
        if not radius >= 0:
            raise InvalidInput(f"radius: must be >= 0 (got {radius!r})")
        array = np.asarray(vectors, dtype=float)
        if array.size == 0:
            return 0.0
        found = _nearest_distances(self.centres, self._checked(array)) <= radius
        return float(found.mean())
