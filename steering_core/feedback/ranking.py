"""Ranking: the top of the round, best first; ranked candidates beat every unranked one."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import Field

from steering_core.feedback.base import (
    Comparison,
    FeedbackBase,
    Perception,
    ordinal,
    slot_name,
)


class RankingFeedback(FeedbackBase):
    """Top-k ranking, best first; ranked candidates beat every unranked one of the round."""

    mode: Literal["ranking"] = "ranking"
    order: list[int] = Field(min_length=1)

    candidate_fields: ClassVar[tuple[str, ...]] = ("order",)
    synthetic: ClassVar[bool] = True

    def comparisons(self, shown: Sequence[int]) -> list[Comparison]:
        order, weight = self.order, self.confidence
        out = []
        for i, better in enumerate(order):
            for worse in order[i + 1 :]:
                out.append(Comparison(better, worse, weight))
        unranked = [c for c in shown if c not in set(order)]
        for better in order:
            for worse in unranked:
                out.append(Comparison(better, worse, weight))
        return out

    @classmethod
    def line(cls, raw: dict[str, Any], slots: dict[int, int]) -> str:
        return "ranking: " + " > ".join(slot_name(slots, c) for c in raw["order"])

    @classmethod
    def received(cls, raw: dict[str, Any], slots: dict[int, int]) -> dict[int, list[str]]:
        order = [int(c) for c in raw["order"]]
        words = {
            c: [f"ranked {ordinal(place)} of {len(order)}"] for place, c in enumerate(order, 1)
        }
        for candidate in slots:
            if candidate not in order:
                words[candidate] = [f"not in the top {len(order)}"]
        return words

    @classmethod
    def best(cls, raw: dict[str, Any]) -> int | None:
        return int(raw["order"][0])

    @classmethod
    def kept(cls, raw: dict[str, Any]) -> tuple[str, list[int]] | None:
        return "order", list(raw["order"])

    @classmethod
    def synthetic_answer(cls, seen: Perception) -> dict[str, Any]:
        order = [int(i) for i in np.argsort(-seen.perceived)[: min(3, len(seen.ids))]]
        if len(order) > 1 and seen.rng.random() < seen.reversal_probability:
            order[0], order[1] = order[1], order[0]
        return {"mode": "ranking", "order": [seen.ids[i] for i in order]}
