"""Why a round re-shows the incumbent of the round before ("kept: nothing beat it in round
4"), from the judgments of that round still in force. Pure functions: no database access.

The incumbent moves only on direct evidence (see `steering_core.incumbent`): it stays when
nothing beat it, when what beat it lost too, or when its round was not judged at all.
"""

from __future__ import annotations

from collections.abc import Sequence

from steering_core.feedback import ELSEWHERE
from steering_core.storage.records import CandidateRecord, FeedbackEventRecord


def kept_reason(
    incumbent: CandidateRecord,
    previous: Sequence[CandidateRecord],
    previous_events: Sequence[FeedbackEventRecord],
) -> str:
    """Why `incumbent` (slot 0 of a round) is the incumbent the round before showed too, in
    words; '' when it is not (a new incumbent, a fork's start, round 0). `previous`: the
    candidates of the round before, `previous_events`: that round's feedback events."""
    # Slot 0 is every round's incumbent, whatever its role says (round 0's baseline stays
    # "baseline" while it is kept).
    if incumbent.slot != 0 or not previous:
        return ""
    vector = incumbent.steering_vector.tobytes()
    if previous[0].steering_vector.tobytes() != vector:
        return ""
    round_index = previous[0].round_index
    same = {c.id for c in previous if c.steering_vector.tobytes() == vector}
    in_force = [e for e in previous_events if e.mode != "undo" and e.undone_at is None]
    if not in_force:
        return f"kept: round {round_index} was not judged"
    beaten_by = {
        comparison["winner"]
        for event in in_force
        for comparison in event.comparisons
        if comparison["loser"] in same
        and not comparison["tie"]
        and comparison["winner"] not in (ELSEWHERE, None)
    }
    if not beaten_by:
        if all(event.mode == "reject_all" for event in in_force):
            return f"kept: round {round_index} was rejected as a whole"
        return f"kept: nothing beat it in round {round_index}"
    return f"kept: what beat it in round {round_index} lost too"
