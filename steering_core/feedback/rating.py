"""Rating: 1-5 stars for some or all candidates of the round."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations
from typing import Annotated, Any, ClassVar, Literal

import numpy as np
from pydantic import Field

from steering_core.feedback.base import Comparison, FeedbackBase, Perception, slot_name


class RatingFeedback(FeedbackBase):
    """1-5 stars for some or all candidates of the round."""

    mode: Literal["rating"] = "rating"
    ratings: dict[int, Annotated[int, Field(ge=1, le=5)]] = Field(min_length=1)

    candidate_fields: ClassVar[tuple[str, ...]] = ("ratings",)
    synthetic: ClassVar[bool] = True
    ties_as_cannot_decide: ClassVar[bool] = False  # equal stars say it

    def comparisons(self, shown: Sequence[int]) -> list[Comparison]:
        weight = self.confidence
        out = []
        for (a, ra), (b, rb) in combinations(self.ratings.items(), 2):
            if ra == rb:
                out.append(Comparison(a, b, weight * 0.5, tie=True))
            else:
                (high, rh), (low, rl) = sorted([(a, ra), (b, rb)], key=lambda x: -x[1])
                # A 5-vs-1 gap is as strong as a winner pick; a 1-star gap a quarter of it.
                out.append(Comparison(high, low, weight * (rh - rl) / 4))
        return out

    @classmethod
    def line(cls, raw: dict[str, Any], slots: dict[int, int]) -> str:
        stars = sorted(raw["ratings"].items(), key=lambda item: (-int(item[1]), int(item[0])))
        return "ratings: " + ", ".join(f"{slot_name(slots, int(c))} → {s}/5" for c, s in stars)

    @classmethod
    def received(cls, raw: dict[str, Any], slots: dict[int, int]) -> dict[int, list[str]]:
        return {int(c): [f"rated {int(stars)}/5"] for c, stars in raw["ratings"].items()}

    @classmethod
    def best(cls, raw: dict[str, Any]) -> int | None:
        # Equal star ratings go to the earliest slot, the incumbent first.
        top = max(raw["ratings"].values())
        return int(next(key for key, stars in raw["ratings"].items() if stars == top))

    @classmethod
    def synthetic_answer(cls, seen: Perception) -> dict[str, Any]:
        rng, utility = seen.rng, seen.utility
        noise = rng.normal(scale=seen.temperature, size=utility.shape)
        if seen.relative_ratings:
            # Stars relative to the round: its best 5, its worst 1 (people anchor on
            # what they are shown), so ratings stay informative near the target.
            low, high = utility.min(), utility.max()
            span = high - low if high > low else 1.0
            stars = np.clip(np.rint(1 + 4 * (utility + noise - low) / span), 1, 5)
        else:
            # Absolute: 5 at the target, one star less per quarter of `scale` away.
            stars = np.clip(np.rint(5 + 4 * (utility + noise) / seen.scale), 1, 5)
        # A slip in rating: a star count given at random (the reversal probability).
        slips = rng.random(len(stars)) < seen.reversal_probability
        stars = np.where(slips, rng.integers(1, 6, len(stars)), stars)
        return {
            "mode": "rating",
            "ratings": {str(i): int(s) for i, s in zip(seen.ids, stars, strict=True)},
        }
