"""Feedback: every judgment a researcher can give, validated raw and normalized to comparisons.

Each mode is stored exactly as given (`raw`) and normalized into weighted comparisons
`(winner, loser, weight)` plus ties. `ELSEWHERE` (-1) stands for the implicit "better option
elsewhere" that reject-all and reject-only judgments prefer to every shown candidate.
Confidence (0-1) scales every weight of its event. Candidates are named by candidate id.

A mode is one module of this package (its fields, comparisons, words and synthetic answer;
see `base.FeedbackBase`), listed once in `FEEDBACK_MODES` below; every other list of modes
(the config's, the CLI's, the dashboard's, the benchmark's) is derived from it.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from functools import reduce
from typing import Annotated, Any, Literal

from pydantic import Field, TypeAdapter, ValidationError

from steering_core.errors import InvalidInput, shown
from steering_core.feedback.approve_reject import UNMARKED_WEIGHT, ApproveRejectFeedback
from steering_core.feedback.base import (
    ELSEWHERE,
    MAX_TEXT_CHARS,
    Comparison,
    FeedbackBase,
    NormalizedFeedback,
    Perception,
)
from steering_core.feedback.cannot_decide import CannotDecideFeedback
from steering_core.feedback.critique import CRITIQUE_TAGS, CritiqueFeedback, CritiqueTag
from steering_core.feedback.pairwise import PairwiseFeedback
from steering_core.feedback.ranking import RankingFeedback
from steering_core.feedback.rating import RatingFeedback
from steering_core.feedback.reject_all import RejectAllFeedback
from steering_core.feedback.winner import WinnerFeedback

# Every feedback mode, in the order menus and messages list them. A new mode adds its line.
FEEDBACK_MODES: tuple[type[FeedbackBase], ...] = (
    RatingFeedback,
    PairwiseFeedback,
    RankingFeedback,
    WinnerFeedback,
    ApproveRejectFeedback,
    RejectAllFeedback,
    CritiqueFeedback,
    CannotDecideFeedback,
)
FEEDBACK_MODE_NAMES: tuple[str, ...] = tuple(mode.mode_name() for mode in FEEDBACK_MODES)
MODES_BY_NAME: dict[str, type[FeedbackBase]] = dict(
    zip(FEEDBACK_MODE_NAMES, FEEDBACK_MODES, strict=True)
)
FeedbackMode = Literal[FEEDBACK_MODE_NAMES]  # type: ignore[valid-type]
# Modes a session can judge in round after round (the setup's menu), modes that settle a
# round (the next may start by itself), and modes a benchmark's synthetic users answer in.
SESSION_MODES: tuple[str, ...] = tuple(m.mode_name() for m in FEEDBACK_MODES if m.session_mode)
ADVANCING_MODES: tuple[str, ...] = tuple(m.mode_name() for m in FEEDBACK_MODES if m.advances)
BENCHMARK_MODES: tuple[str, ...] = tuple(
    m.mode_name() for m in FEEDBACK_MODES if m.session_mode and m.synthetic
)

Feedback = Annotated[reduce(operator.or_, FEEDBACK_MODES), Field(discriminator="mode")]  # type: ignore[valid-type]
_FEEDBACK_ADAPTER: TypeAdapter[Any] = TypeAdapter(Feedback)

__all__ = [
    "ADVANCING_MODES",
    "BENCHMARK_MODES",
    "CRITIQUE_TAGS",
    "ELSEWHERE",
    "FEEDBACK_MODES",
    "FEEDBACK_MODE_NAMES",
    "MAX_TEXT_CHARS",
    "MODES_BY_NAME",
    "SESSION_MODES",
    "UNMARKED_WEIGHT",
    "ApproveRejectFeedback",
    "CannotDecideFeedback",
    "Comparison",
    "CritiqueFeedback",
    "CritiqueTag",
    "Feedback",
    "FeedbackBase",
    "FeedbackMode",
    "NormalizedFeedback",
    "PairwiseFeedback",
    "Perception",
    "RankingFeedback",
    "RatingFeedback",
    "RejectAllFeedback",
    "WinnerFeedback",
    "check_candidates",
    "mode_of",
    "normalize",
    "parse_feedback",
]


def mode_of(name: str) -> type[FeedbackBase]:
    """The mode called `name`; raises InvalidInput listing the modes."""
    try:
        return MODES_BY_NAME[name]
    except (KeyError, TypeError):
        raise InvalidInput(
            f"mode: must be one of {', '.join(FEEDBACK_MODE_NAMES)} (got {shown(name)})"
        ) from None


def parse_feedback(raw: dict[str, Any]) -> FeedbackBase:
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
                    f"(got {shown(item['input'].get('mode'))})"
                )
            else:
                messages.append(f"{where}: {item['msg']} (got {shown(item.get('input'))})")
        raise InvalidInput("; ".join(messages)) from None


def check_candidates(feedback: FeedbackBase, shown: Sequence[int], where: str) -> None:
    """Every candidate the feedback names must be one of the round's `shown` candidates."""
    outside = [c for c in feedback.candidate_ids() if c not in set(shown)]
    if outside:
        raise InvalidInput(
            f"candidate {outside[0]} is not in {where} (its candidates are "
            f"{', '.join(map(str, shown))})"
        )


def normalize(feedback: FeedbackBase, shown: Sequence[int]) -> NormalizedFeedback:
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
    # A critique carries no comparison; it is kept raw.
    return NormalizedFeedback(feedback.comparisons(shown))
