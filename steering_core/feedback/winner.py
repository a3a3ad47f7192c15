"""Winner: one candidate is the best of the round (it beats every other one)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, Literal

import numpy as np

from steering_core.feedback.base import Comparison, FeedbackBase, Perception, slot_name


class WinnerFeedback(FeedbackBase):
    """One candidate is best of the round."""

    mode: Literal["winner"] = "winner"
    winner: int

    candidate_fields: ClassVar[tuple[str, ...]] = ("winner",)
    synthetic: ClassVar[bool] = True

    def comparisons(self, shown: Sequence[int]) -> list[Comparison]:
        return [Comparison(self.winner, c, self.confidence) for c in shown if c != self.winner]

    @classmethod
    def line(cls, raw: dict[str, Any], slots: dict[int, int]) -> str:
        return f"winner: {slot_name(slots, raw['winner'])}"

    @classmethod
    def received(cls, raw: dict[str, Any], slots: dict[int, int]) -> dict[int, list[str]]:
        winner = int(raw["winner"])
        words = {winner: ["winner"]}
        for candidate in slots:
            if candidate != winner:
                words[candidate] = [f"lost to {slot_name(slots, winner)}"]
        return words

    @classmethod
    def best(cls, raw: dict[str, Any]) -> int | None:
        return int(raw["winner"])

    @classmethod
    def kept(cls, raw: dict[str, Any]) -> tuple[str, list[int]] | None:
        return "winner", [raw["winner"]]

    @classmethod
    def synthetic_answer(cls, seen: Perception) -> dict[str, Any]:
        best = seen.maybe_reverse(int(np.argmax(seen.perceived)))
        return {"mode": "winner", "winner": seen.ids[best]}
