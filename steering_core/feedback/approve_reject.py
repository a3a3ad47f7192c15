"""Approve / reject: some candidates approved, some rejected, the rest left unmarked."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import Field, model_validator

from steering_core.feedback.base import (
    ELSEWHERE,
    Comparison,
    FeedbackBase,
    Perception,
    slot_names,
)

# How much an approved candidate beats an unmarked one (and an unmarked one a rejected one),
# relative to approved-over-rejected.
UNMARKED_WEIGHT = 0.5


class ApproveRejectFeedback(FeedbackBase):
    """Some candidates approved, some rejected: approved beat rejected, and (at half weight)
    the unmarked ones; unmarked ones beat rejected at half weight; with nothing approved the
    rejected also lose to a better option elsewhere."""

    mode: Literal["approve_reject"] = "approve_reject"
    approved: list[int] = Field(default_factory=list)
    rejected: list[int] = Field(default_factory=list)

    candidate_fields: ClassVar[tuple[str, ...]] = ("approved", "rejected")
    synthetic: ClassVar[bool] = True

    @model_validator(mode="after")
    def _disjoint(self) -> ApproveRejectFeedback:
        if not self.approved and not self.rejected:
            raise ValueError("approve_reject: approve or reject at least one candidate")
        both = sorted(set(self.approved) & set(self.rejected))
        if both:
            raise ValueError(f"approve_reject: candidates both approved and rejected: {both}")
        return self

    def comparisons(self, shown: Sequence[int]) -> list[Comparison]:
        weight = self.confidence
        marked = set(self.approved) | set(self.rejected)
        unmarked = [c for c in shown if c not in marked]
        out = []
        for better in self.approved:
            for worse in self.rejected:
                out.append(Comparison(better, worse, weight))
            for worse in unmarked:
                out.append(Comparison(better, worse, weight * UNMARKED_WEIGHT))
        for worse in self.rejected:
            for better in unmarked:
                out.append(Comparison(better, worse, weight * UNMARKED_WEIGHT))
            if not self.approved:
                out.append(Comparison(ELSEWHERE, worse, weight))
        return out

    @classmethod
    def line(cls, raw: dict[str, Any], slots: dict[int, int]) -> str:
        parts = []
        if raw.get("approved"):
            parts.append(f"approved {slot_names(slots, raw['approved'])}")
        if raw.get("rejected"):
            parts.append(f"rejected {slot_names(slots, raw['rejected'])}")
        return "; ".join(parts)

    @classmethod
    def received(cls, raw: dict[str, Any], slots: dict[int, int]) -> dict[int, list[str]]:
        words: dict[int, list[str]] = {}
        for candidate in raw.get("approved", []):
            words.setdefault(int(candidate), []).append("approved")
        for candidate in raw.get("rejected", []):
            words.setdefault(int(candidate), []).append("rejected")
        # An unmarked candidate is compared too (below the approved, above the rejected):
        # say so, as the steering space's "lost" / "won" label does.
        approved = [int(c) for c in raw.get("approved", [])]
        rejected = [int(c) for c in raw.get("rejected", [])]
        for candidate in slots:
            if candidate in approved or candidate in rejected:
                continue
            if approved:
                words.setdefault(candidate, []).append(f"lost to {slot_names(slots, approved)}")
            if rejected:
                words.setdefault(candidate, []).append(f"beat {slot_names(slots, rejected)}")
        return words

    @classmethod
    def best(cls, raw: dict[str, Any]) -> int | None:
        return int(raw["approved"][0]) if raw["approved"] else None

    @classmethod
    def kept(cls, raw: dict[str, Any]) -> tuple[str, list[int]] | None:
        return "approved", list(raw["approved"])

    @classmethod
    def synthetic_answer(cls, seen: Perception) -> dict[str, Any]:
        ranked = list(np.argsort(-seen.perceived))
        quarter = max(1, len(seen.ids) // 4)
        return {
            "mode": "approve_reject",
            "approved": [seen.ids[i] for i in ranked[:quarter]],
            "rejected": [seen.ids[i] for i in ranked[-quarter:]],
        }
