"""The draft funnel's stages and how many candidates a funnel round lets one keep."""

from __future__ import annotations

from typing import Any

from steering_core.errors import InvalidInput
from steering_core.feedback.base import FeedbackBase

FUNNEL_STAGES = (20, 8, 3, 1)
# The mode a funnel is judged in: approving says what to keep (the others keep too).
FUNNEL_MODE = "approve_reject"


def keep_limit(breadth: int) -> int:
    """How many candidates a round of `breadth` (see `steering_core.funnel`) lets one keep."""
    return max((stage for stage in FUNNEL_STAGES[1:] if stage < breadth), default=1)


def funnel_keep_limit(model_state: dict[str, Any], size: int) -> int | None:
    """How many candidates a funnel round lets one keep; None for a round outside a funnel.

    No funnel state is stored: a round is a funnel stage by its shape, as the funnel asks
    for it: the wide first round (`k` = 20, around nothing) or a round around the kept
    candidates with `k = 2 x kept + 1`. "More like this" and normal rounds are not."""
    k = model_state.get("k")
    around = model_state.get("around")
    if not k or size != k:
        return None
    if around:
        return keep_limit(len(around)) if len(around) >= 2 and k == 2 * len(around) + 1 else None
    return keep_limit(k) if k == FUNNEL_STAGES[0] else None


def check_funnel_keep(feedback: FeedbackBase, limit: int | None, where: str) -> None:
    """Refuse a judgment of a funnel round that keeps more than the stage lets one keep,
    naming its field (`approved`, `order`); nothing else is checked here."""
    if limit is None:
        return
    keeps = type(feedback).kept(feedback.model_dump(mode="json"))
    if keeps is None:
        return
    field, kept = keeps
    if len(kept) > limit:
        raise InvalidInput(
            f"{field}: {len(kept)} candidates kept in {where}; this funnel stage keeps at "
            f"most {limit}"
        )
