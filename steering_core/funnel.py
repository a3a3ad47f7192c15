"""The draft funnel: a wide first round, then rounds of variations of what the researcher kept.

`FUNNEL_STAGES = (20, 8, 3, 1)`: the first round shows 20 candidates (`steer round --k 20`,
or `--funnel` on a session without rounds); from then on the researcher keeps at most 8,
then 3, then 1. The rule, read from the latest round alone (no funnel state is stored, so a
funnel can start from any round):

- What was kept is what the round's latest judgment (undone ones and critiques aside) kept:
  the approved candidates of an approve/reject judgment, the ranked ones of a ranking (in its
  order), or a winner (each mode says what it keeps: `kept` in `steering_core/feedback/`).
  Any other mode is refused (`mode`); keeping nothing (only rejections, a reject-all,
  "cannot decide") is refused (`approved`).
- How many may be kept: the largest stage below the round's breadth, where the breadth is
  the number of candidates the round was built around, or its size when it was not built
  around any (20 -> 8, 8 -> 3, 3 -> 1; a normal round of 8 -> 3). Keeping more is refused,
  naming the judgment's field (`approved`, `order`).
- A judgment of a funnel round (`feedback.funnel_stages.funnel_keep_limit`) keeping more is
  refused when it is submitted (`submit_feedback`), so it is never stored.
- Kept several: the next round is built around them with `k = 2 x kept + 1`: the incumbent,
  each kept candidate re-shown, and at least one variation of each (8 -> 17, 3 -> 7).
- Kept one: the funnel is finished. The next round is a normal one, and the kept candidate
  is its incumbent (it won the round and lost nothing there; see `steering_core.incumbent`).
"""

from __future__ import annotations

from dataclasses import dataclass

from steering_core.errors import InvalidInput
from steering_core.feedback import MODES_BY_NAME
from steering_core.funnel_stages import FUNNEL_MODE, FUNNEL_STAGES, keep_limit
from steering_core.sessions import get_feedback_events, get_round, get_rounds, get_session
from steering_core.storage.workspace import Workspace

__all__ = ["FUNNEL_MODE", "FUNNEL_STAGES", "FunnelStep", "keep_limit", "next_funnel_round"]


@dataclass(frozen=True)
class FunnelStep:
    """The next round of the funnel.

    `around`, `k`: what to pass to `plan_round` / `generate_round` / `Worker.submit_round`
    (both None: a normal round); `kept`: candidate ids the latest round's judgment kept;
    `finished`: one was kept and normal rounds continue from it.
    """

    around: list[int] | None
    k: int | None
    kept: list[int]
    finished: bool = False


def next_funnel_round(workspace: Workspace, session_id: str | None) -> FunnelStep:
    """The next funnel round of a session, from its latest round and that round's judgment.

    A session without rounds starts the funnel: a round of `FUNNEL_STAGES[0]` candidates.
    Raises InvalidInput naming the field when the judgment kept nothing or too much."""
    session = get_session(workspace, session_id)
    if not get_rounds(workspace, session.id):
        return FunnelStep(around=None, k=FUNNEL_STAGES[0], kept=[])
    latest, candidates = get_round(workspace, session.id)
    around = latest.model_state.get("around")
    limit = keep_limit(len(around) if around else len(candidates))
    where = f"round {latest.round_index} of session {session.id}"
    events = [
        event
        for event in get_feedback_events(workspace, session.id, include_undone=False)
        if event.round_index == latest.round_index and event.mode != "critique"
    ]
    if not events:
        raise InvalidInput(
            f"approved: {where} has no judgment yet; approve the candidates to keep "
            f"(at most {limit})"
        )
    judgment = events[-1]
    keeps = MODES_BY_NAME[judgment.mode].kept(judgment.raw)
    if keeps is None:
        raise InvalidInput(
            f"mode: the funnel keeps what an approve/reject judgment approved, a ranking "
            f"ranked or a winner won; the latest judgment of {where} is {judgment.mode!r}"
        )
    field, kept = keeps
    if not kept:
        raise InvalidInput(
            f"{field}: nothing was kept in {where} ({judgment.mode}); approve at least one "
            f"candidate (at most {limit})"
        )
    if len(kept) > limit:
        raise InvalidInput(
            f"{field}: {len(kept)} candidates kept in {where}; this funnel stage keeps at "
            f"most {limit}"
        )
    if len(kept) == 1:
        return FunnelStep(around=None, k=None, kept=kept, finished=True)
    # At most 8 kept: 17 candidates, within the config's 2-32.
    return FunnelStep(around=kept, k=2 * len(kept) + 1, kept=kept)
