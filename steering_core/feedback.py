"""Feedback: every judgment a researcher can give, validated raw and normalized to comparisons.

Each mode is stored exactly as given (`raw`) and normalized into weighted comparisons
`(winner, loser, weight)` plus ties. `ELSEWHERE` (-1) stands for the implicit "better option
elsewhere" that reject-all and reject-only judgments prefer to every shown candidate.
Confidence (0-1) scales every weight of its event. Candidates are named by candidate id.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator

from steering_core.errors import InvalidInput

ELSEWHERE = -1
FeedbackMode = Literal[
    "rating",
    "pairwise",
    "ranking",
    "winner",
    "approve_reject",
    "reject_all",
    "critique",
    "cannot_decide",
]
FEEDBACK_MODE_NAMES: tuple[str, ...] = get_args(FeedbackMode)
CritiqueTag = Literal["composition", "realism", "lighting", "colour", "faithfulness", "artifacts"]
CRITIQUE_TAGS: tuple[str, ...] = get_args(CritiqueTag)
MAX_TEXT_CHARS = 5000
# Approve/reject: how much an approved candidate beats an unmarked one (and an unmarked one
# a rejected one), relative to approved-over-rejected.
UNMARKED_WEIGHT = 0.5


class _Feedback(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    confidence: float = Field(default=1.0, ge=0.0, le=1.0)
    decision_seconds: float | None = Field(default=None, ge=0.0)

    def named_candidates(self) -> dict[str, list[int]]:
        """The candidate ids this judgment names, by the field that names them."""
        return {}

    def candidate_ids(self) -> list[int]:
        """Every candidate id this judgment names."""
        return [c for ids in self.named_candidates().values() for c in ids]


class RatingFeedback(_Feedback):
    """1-5 stars for some or all candidates of the round."""

    mode: Literal["rating"] = "rating"
    ratings: dict[int, Annotated[int, Field(ge=1, le=5)]] = Field(min_length=1)

    def named_candidates(self) -> dict[str, list[int]]:
        return {"ratings": list(self.ratings)}


class PairwiseFeedback(_Feedback):
    """One of two candidates is better, or they are tied."""

    mode: Literal["pairwise"] = "pairwise"
    first: int
    second: int
    choice: Literal["first", "second", "tie"]

    @model_validator(mode="after")
    def _distinct(self) -> PairwiseFeedback:
        if self.first == self.second:
            raise ValueError("pairwise: first and second must be different candidates")
        return self

    def named_candidates(self) -> dict[str, list[int]]:
        return {"first": [self.first], "second": [self.second]}


class RankingFeedback(_Feedback):
    """Top-k ranking, best first; ranked candidates beat every unranked one of the round."""

    mode: Literal["ranking"] = "ranking"
    order: list[int] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> RankingFeedback:
        duplicates = sorted({c for c in self.order if self.order.count(c) > 1})
        if duplicates:
            raise ValueError(f"ranking: candidates ranked twice: {duplicates}")
        return self

    def named_candidates(self) -> dict[str, list[int]]:
        return {"order": list(self.order)}


class WinnerFeedback(_Feedback):
    """One candidate is best of the round."""

    mode: Literal["winner"] = "winner"
    winner: int

    def named_candidates(self) -> dict[str, list[int]]:
        return {"winner": [self.winner]}


class ApproveRejectFeedback(_Feedback):
    """Some candidates approved, some rejected: approved beat rejected, and (at half weight)
    the unmarked ones; unmarked ones beat rejected at half weight; with nothing approved the
    rejected also lose to a better option elsewhere."""

    mode: Literal["approve_reject"] = "approve_reject"
    approved: list[int] = Field(default_factory=list)
    rejected: list[int] = Field(default_factory=list)

    @model_validator(mode="after")
    def _disjoint(self) -> ApproveRejectFeedback:
        if not self.approved and not self.rejected:
            raise ValueError("approve_reject: approve or reject at least one candidate")
        both = sorted(set(self.approved) & set(self.rejected))
        if both:
            raise ValueError(f"approve_reject: candidates both approved and rejected: {both}")
        return self

    def named_candidates(self) -> dict[str, list[int]]:
        return {"approved": list(self.approved), "rejected": list(self.rejected)}


class RejectAllFeedback(_Feedback):
    """None of the round is good: every shown candidate loses to something better elsewhere."""

    mode: Literal["reject_all"] = "reject_all"
    reason: str = Field(default="", max_length=MAX_TEXT_CHARS)


class CritiqueFeedback(_Feedback):
    """Tags and free text about one candidate or the whole round; no comparison."""

    mode: Literal["critique"] = "critique"
    candidate: int | None = None
    tags: list[CritiqueTag]
    text: str = Field(default="", max_length=MAX_TEXT_CHARS)

    @model_validator(mode="after")
    def _something(self) -> CritiqueFeedback:
        if not self.tags and not self.text.strip():
            raise ValueError("critique: give at least one tag or some text")
        return self

    def named_candidates(self) -> dict[str, list[int]]:
        return {} if self.candidate is None else {"candidate": [self.candidate]}


class CannotDecideFeedback(_Feedback):
    """The researcher cannot decide, optionally `between` two or more named candidates."""

    mode: Literal["cannot_decide"] = "cannot_decide"
    between: list[int] = Field(default_factory=list)

    @model_validator(mode="after")
    def _between_is_a_choice(self) -> CannotDecideFeedback:
        if len(self.between) == 1:
            raise ValueError("between: name at least two candidates, or none (got one)")
        if len(set(self.between)) != len(self.between):
            raise ValueError(f"between: a candidate is named twice (got {self.between})")
        return self

    def named_candidates(self) -> dict[str, list[int]]:
        return {"between": list(self.between)}


Feedback = Annotated[
    RatingFeedback
    | PairwiseFeedback
    | RankingFeedback
    | WinnerFeedback
    | ApproveRejectFeedback
    | RejectAllFeedback
    | CritiqueFeedback
    | CannotDecideFeedback,
    Field(discriminator="mode"),
]
_FEEDBACK_ADAPTER: TypeAdapter[Any] = TypeAdapter(Feedback)


def parse_feedback(raw: dict[str, Any]) -> _Feedback:
    """Validate a raw feedback mapping (with its `mode`); raises InvalidInput naming the field."""
    try:
        return _FEEDBACK_ADAPTER.validate_python(raw)
    except ValidationError as error:
        messages = []
        for item in error.errors(include_url=False):
            where = ".".join(str(p) for p in item["loc"][1:]) or "feedback"
            if item["type"] == "value_error":
                messages.append(str(item["ctx"]["error"]))
            elif item["type"] == "union_tag_invalid":
                messages.append(
                    f"mode: must be one of {', '.join(FEEDBACK_MODE_NAMES)} "
                    f"(got {item['input'].get('mode')!r})"
                )
            else:
                messages.append(f"{where}: {item['msg']} (got {item.get('input')!r})")
        raise InvalidInput("; ".join(messages)) from None


@dataclass(frozen=True)
class Comparison:
    """`winner` beat `loser` (candidate ids; `winner` may be ELSEWHERE), or they tied."""

    winner: int
    loser: int
    weight: float
    tie: bool = False


@dataclass(frozen=True)
class NormalizedFeedback:
    comparisons: list[Comparison] = field(default_factory=list)

    def to_json(self) -> list[dict[str, Any]]:
        return [
            {"winner": c.winner, "loser": c.loser, "weight": c.weight, "tie": c.tie}
            for c in self.comparisons
        ]


def check_candidates(feedback: _Feedback, shown: Sequence[int], where: str) -> None:
    """Every candidate the feedback names must be one of the round's `shown` candidates."""
    outside = [c for c in feedback.candidate_ids() if c not in set(shown)]
    if outside:
        raise InvalidInput(
            f"candidate {outside[0]} is not in {where} (its candidates are "
            f"{', '.join(map(str, shown))})"
        )


def normalize(feedback: _Feedback, shown: Sequence[int]) -> NormalizedFeedback:
    """Turn a validated judgment on the round's `shown` candidates into weighted comparisons.

    A judgment that names a candidate outside `shown` is refused (InvalidInput naming the
    field and the shown ids): it would otherwise turn into comparisons against the round."""
    for field_name, named in feedback.named_candidates().items():
        outside = [c for c in named if c not in set(shown)]
        if outside:
            raise InvalidInput(
                f"{field_name}: candidate {outside[0]} was not shown in this round "
                f"(shown: {', '.join(map(str, shown))})"
            )
    weight = feedback.confidence
    out: list[Comparison] = []
    if isinstance(feedback, RatingFeedback):
        for (a, ra), (b, rb) in combinations(feedback.ratings.items(), 2):
            if ra == rb:
                out.append(Comparison(a, b, weight * 0.5, tie=True))
            else:
                (high, rh), (low, rl) = sorted([(a, ra), (b, rb)], key=lambda x: -x[1])
                # A 5-vs-1 gap is as strong as a winner pick; a 1-star gap a quarter of it.
                out.append(Comparison(high, low, weight * (rh - rl) / 4))
    elif isinstance(feedback, PairwiseFeedback):
        if feedback.choice == "tie":
            out.append(Comparison(feedback.first, feedback.second, weight, tie=True))
        elif feedback.choice == "first":
            out.append(Comparison(feedback.first, feedback.second, weight))
        else:
            out.append(Comparison(feedback.second, feedback.first, weight))
    elif isinstance(feedback, RankingFeedback):
        order = feedback.order
        for i, better in enumerate(order):
            for worse in order[i + 1 :]:
                out.append(Comparison(better, worse, weight))
        unranked = [c for c in shown if c not in set(order)]
        for better in order:
            for worse in unranked:
                out.append(Comparison(better, worse, weight))
    elif isinstance(feedback, WinnerFeedback):
        for loser in shown:
            if loser != feedback.winner:
                out.append(Comparison(feedback.winner, loser, weight))
    elif isinstance(feedback, ApproveRejectFeedback):
        marked = set(feedback.approved) | set(feedback.rejected)
        unmarked = [c for c in shown if c not in marked]
        for better in feedback.approved:
            for worse in feedback.rejected:
                out.append(Comparison(better, worse, weight))
            for worse in unmarked:
                out.append(Comparison(better, worse, weight * UNMARKED_WEIGHT))
        for worse in feedback.rejected:
            for better in unmarked:
                out.append(Comparison(better, worse, weight * UNMARKED_WEIGHT))
            if not feedback.approved:
                out.append(Comparison(ELSEWHERE, worse, weight))
    elif isinstance(feedback, RejectAllFeedback):
        for worse in shown:
            out.append(Comparison(ELSEWHERE, worse, weight))
    elif isinstance(feedback, CannotDecideFeedback) and feedback.between:
        # "Cannot decide between these": they tie, and each beats the rest of the round,
        # which is what a forced coin flip between them would also have said.
        named = feedback.between
        for a, b in combinations(named, 2):
            out.append(Comparison(a, b, weight, tie=True))
        for better in named:
            for worse in shown:
                if worse not in set(named):
                    out.append(Comparison(better, worse, weight))
    elif isinstance(feedback, CannotDecideFeedback):
        # "Cannot decide" says the round's candidates look about equally good: weak ties
        # between every pair, each candidate's adding up to one comparison's weight.
        for a, b in combinations(shown, 2):
            out.append(Comparison(a, b, weight / max(len(shown) - 1, 1), tie=True))
    # A critique carries no comparison; it is kept raw.
    return NormalizedFeedback(out)
