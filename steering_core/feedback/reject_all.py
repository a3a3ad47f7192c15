"""Reject all: none of the round is good; every shown candidate loses to a better option
elsewhere."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, Literal

from pydantic import Field

from steering_core.feedback.base import (
    ELSEWHERE,
    MAX_TEXT_CHARS,
    Comparison,
    FeedbackBase,
    Perception,
    quoted,
)


class RejectAllFeedback(FeedbackBase):
    """None of the round is good: every shown candidate loses to something better elsewhere."""

    mode: Literal["reject_all"] = "reject_all"
    reason: str = Field(default="", max_length=MAX_TEXT_CHARS)

    session_mode: ClassVar[bool] = False
    synthetic: ClassVar[bool] = True

    def comparisons(self, shown: Sequence[int]) -> list[Comparison]:
        return [Comparison(ELSEWHERE, worse, self.confidence) for worse in shown]

    @classmethod
    def line(cls, raw: dict[str, Any], slots: dict[int, int]) -> str:
        return "rejected the whole round" + (
            f": {quoted(raw['reason'])}" if raw.get("reason") else ""
        )

    @classmethod
    def received(cls, raw: dict[str, Any], slots: dict[int, int]) -> dict[int, list[str]]:
        reason = f": {quoted(raw['reason'])}" if raw.get("reason") else ""
        return {candidate: [f"rejected with the whole round{reason}"] for candidate in slots}

    @classmethod
    def kept(cls, raw: dict[str, Any]) -> tuple[str, list[int]] | None:
        return "approved", []

    @classmethod
    def synthetic_answer(cls, seen: Perception) -> dict[str, Any]:
        return {"mode": "reject_all"}
