"""Pairwise: one of two candidates is better, or they are tied."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import model_validator

from steering_core.feedback.base import Comparison, FeedbackBase, Perception, slot_name


class PairwiseFeedback(FeedbackBase):
    """One of two candidates is better, or they are tied."""

    mode: Literal["pairwise"] = "pairwise"
    first: int
    second: int
    choice: Literal["first", "second", "tie"]

    candidate_fields: ClassVar[tuple[str, ...]] = ("first", "second")
    synthetic: ClassVar[bool] = True

    @model_validator(mode="after")
    def _distinct(self) -> PairwiseFeedback:
        if self.first == self.second:
            raise ValueError("pairwise: first and second must be different candidates")
        return self

    def comparisons(self, shown: Sequence[int]) -> list[Comparison]:
        if self.choice == "tie":
            return [Comparison(self.first, self.second, self.confidence, tie=True)]
        if self.choice == "first":
            return [Comparison(self.first, self.second, self.confidence)]
        return [Comparison(self.second, self.first, self.confidence)]

    @classmethod
    def line(cls, raw: dict[str, Any], slots: dict[int, int]) -> str:
        first, second = slot_name(slots, raw["first"]), slot_name(slots, raw["second"])
        if raw["choice"] == "tie":
            return f"pair {first} vs {second}: tie"
        better = first if raw["choice"] == "first" else second
        return f"pair {first} vs {second}: {better} is better"

    @classmethod
    def received(cls, raw: dict[str, Any], slots: dict[int, int]) -> dict[int, list[str]]:
        first, second = int(raw["first"]), int(raw["second"])
        if raw["choice"] == "tie":
            return {
                first: [f"tied with {slot_name(slots, second)}"],
                second: [f"tied with {slot_name(slots, first)}"],
            }
        better, worse = (first, second) if raw["choice"] == "first" else (second, first)
        return {
            better: [f"won vs {slot_name(slots, worse)}"],
            worse: [f"lost vs {slot_name(slots, better)}"],
        }

    @classmethod
    def best(cls, raw: dict[str, Any]) -> int | None:
        return {"first": raw["first"], "second": raw["second"]}.get(raw["choice"])

    @classmethod
    def synthetic_answer(cls, seen: Perception) -> dict[str, Any]:
        # The incumbent (slot 0) against the candidate the user likes most otherwise.
        perceived, utility = seen.perceived, seen.utility
        challenger = 1 + int(np.argmax(perceived[1:]))
        gap = utility[challenger] - utility[0]
        if seen.tie_threshold and abs(gap) < seen.tie_threshold:
            choice = "tie"
        else:
            choice = "second" if perceived[challenger] > perceived[0] else "first"
            if seen.rng.random() < seen.reversal_probability:
                choice = "first" if choice == "second" else "second"
        return {
            "mode": "pairwise",
            "first": seen.ids[0],
            "second": seen.ids[challenger],
            "choice": choice,
        }
