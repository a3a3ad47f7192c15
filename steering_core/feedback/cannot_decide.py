"""Cannot decide: no preference this round, or none between two or more named candidates."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations
from typing import Any, ClassVar, Literal

from pydantic import Field, model_validator

from steering_core.feedback.base import Comparison, FeedbackBase, Perception, slot_names


class CannotDecideFeedback(FeedbackBase):
    """The researcher cannot decide, optionally `between` two or more named candidates."""

    mode: Literal["cannot_decide"] = "cannot_decide"
    between: list[int] = Field(default_factory=list)

    candidate_fields: ClassVar[tuple[str, ...]] = ("between",)
    session_mode: ClassVar[bool] = False
    synthetic: ClassVar[bool] = True

    @model_validator(mode="after")
    def _between_is_a_choice(self) -> CannotDecideFeedback:
        if len(self.between) == 1:
            raise ValueError("between: name at least two candidates, or none (got one)")
        return self

    def comparisons(self, shown: Sequence[int]) -> list[Comparison]:
        weight = self.confidence
        out = []
        if self.between:
            # "Cannot decide between these": they tie, and each beats the rest of the round,
            # which is what a forced coin flip between them would also have said.
            named = self.between
            for a, b in combinations(named, 2):
                out.append(Comparison(a, b, weight, tie=True))
            for better in named:
                for worse in shown:
                    if worse not in set(named):
                        out.append(Comparison(better, worse, weight))
        else:
            # "Cannot decide" says the round's candidates look about equally good: weak ties
            # between every pair, each candidate's adding up to one comparison's weight.
            for a, b in combinations(shown, 2):
                out.append(Comparison(a, b, weight / max(len(shown) - 1, 1), tie=True))
        return out

    @classmethod
    def line(cls, raw: dict[str, Any], slots: dict[int, int]) -> str:
        between = raw.get("between") or []
        return "cannot decide" + (f" between {slot_names(slots, between)}" if between else "")

    @classmethod
    def received(cls, raw: dict[str, Any], slots: dict[int, int]) -> dict[int, list[str]]:
        between = [int(c) for c in raw.get("between") or []]
        words = {
            candidate: [
                f"cannot decide vs {slot_names(slots, [c for c in between if c != candidate])}"
            ]
            for candidate in between
        }
        # The rest of the round lost to the named ones (see `comparisons`).
        for candidate in slots:
            if between and candidate not in words:
                words[candidate] = [f"lost to {slot_names(slots, between)}"]
        return words

    @classmethod
    def kept(cls, raw: dict[str, Any]) -> tuple[str, list[int]] | None:
        return "approved", []

    @classmethod
    def synthetic_answer(cls, seen: Perception) -> dict[str, Any]:
        return {"mode": "cannot_decide"}
