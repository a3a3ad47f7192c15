"""The draft funnel: 20 shown, keep 8, then 3, then 1, each stage varying what was kept."""

from __future__ import annotations

import re

import numpy as np
import pytest

from steering_core.config import SessionConfig
from steering_core.errors import InvalidInput
from steering_core.funnel import FUNNEL_STAGES, keep_limit, next_funnel_round
from steering_core.funnel_stages import funnel_keep_limit
from steering_core.sessions import (
    create_session,
    get_feedback_events,
    submit_feedback,
)
from steering_core.storage.records import CandidateRecord
from steering_core.storage.workspace import Workspace
from tests.steering_core.helpers import blank_round


def keep(
    workspace: Workspace, session_id: str, shown: list[CandidateRecord], slots: list[int]
) -> None:
    """Approve the candidates in `slots`, reject the rest of the round."""
    submit_feedback(
        workspace,
        session_id,
        {
            "mode": "approve_reject",
            "approved": [shown[slot].id for slot in slots],
            "rejected": [c.id for c in shown if c.slot not in slots],
        },
    )


def test_keep_limits_follow_the_stages() -> None:
    assert FUNNEL_STAGES == (20, 8, 3, 1)
    assert [keep_limit(breadth) for breadth in (32, 20, 9, 8, 4, 3, 2, 1)] == [
        8,
        8,
        8,
        3,
        3,
        1,
        1,
        1,
    ]


def test_a_full_funnel_ends_with_the_kept_candidate_as_incumbent(
    workspace: Workspace, tiny_config: SessionConfig
) -> None:
    session = create_session(workspace, tiny_config)
    step = next_funnel_round(workspace, session.id)
    assert (step.around, step.k, step.finished) == (None, 20, False)
    _, wide = blank_round(workspace, session.id, around=step.around, k=step.k)
    assert len(wide) == 20

    # Keep 8: the next round shows them all (one as its incumbent) and varies each.
    keep(workspace, session.id, wide, [1, 3, 5, 7, 9, 11, 13, 17])
    step = next_funnel_round(workspace, session.id)
    kept_ids = [wide[slot].id for slot in (1, 3, 5, 7, 9, 11, 13, 17)]
    assert step.around == kept_ids and step.kept == kept_ids and step.k == 17
    record, eight = blank_round(workspace, session.id, around=step.around, k=step.k)
    assert len(eight) == 17 and record.model_state["around"] == kept_ids
    reshown = [c for c in eight if c.role in ("incumbent", "kept")]
    kept_vectors = {wide[slot].steering_vector.tobytes() for slot in (1, 3, 5, 7, 9, 11, 13, 17)}
    assert {c.steering_vector.tobytes() for c in reshown} == kept_vectors
    variations = [c for c in eight if c.role == "variation"]
    assert len(reshown) == 8 and len(variations) == 9
    assert {c.parent_candidate_id for c in variations} == set(kept_ids)

    # Keeping 4 is one too many at this stage (refused, so never stored); keep 3.
    with pytest.raises(InvalidInput, match=r"approved: 4 candidates kept .* at most 3"):
        keep(workspace, session.id, eight, [2, 9, 10, 12])
    keep(workspace, session.id, eight, [2, 9, 12])
    step = next_funnel_round(workspace, session.id)
    assert step.around == [eight[slot].id for slot in (2, 9, 12)] and step.k == 7
    _, three = blank_round(workspace, session.id, around=step.around, k=step.k)
    assert len(three) == 7
    assert [c.role for c in three].count("variation") == 4  # the incumbent is a kept one

    # Keep 1: the funnel is finished and the next, normal round re-shows it as the incumbent.
    chosen = next(c for c in three if c.role == "variation")
    keep(workspace, session.id, three, [chosen.slot])
    step = next_funnel_round(workspace, session.id)
    assert step.finished and step.kept == [chosen.id] and (step.around, step.k) == (None, None)
    _, normal = blank_round(workspace, session.id, around=step.around, k=step.k)
    assert len(normal) == tiny_config.k
    np.testing.assert_array_equal(normal[0].steering_vector, chosen.steering_vector)
    assert normal[0].parent_candidate_id == chosen.id


def test_a_ranking_keeps_its_order_and_a_winner_finishes(
    workspace: Workspace, tiny_config: SessionConfig
) -> None:
    session = create_session(workspace, tiny_config)
    _, shown = blank_round(workspace, session.id, k=8)
    submit_feedback(workspace, session.id, {"mode": "ranking", "order": [shown[5].id, shown[2].id]})
    step = next_funnel_round(workspace, session.id)
    assert step.around == [shown[5].id, shown[2].id] and step.k == 5
    submit_feedback(workspace, session.id, {"mode": "winner", "winner": shown[4].id})
    step = next_funnel_round(workspace, session.id)  # the latest judgment counts
    assert step.finished and step.kept == [shown[4].id]


@pytest.mark.parametrize(
    ("judgment", "expected"),
    [
        (None, "approved: round 0 of session {session} has no judgment yet"),
        ({"mode": "reject_all"}, "approved: nothing was kept in round 0"),
        ({"mode": "approve_reject", "rejected": [1]}, "approved: nothing was kept"),
        ({"mode": "rating", "ratings": {1: 4}}, "mode: the funnel keeps what"),
        ({"mode": "ranking", "order": [1, 2, 3, 4]}, "order: 4 candidates kept"),
    ],
)
def test_keeping_nothing_or_too_much_is_refused_naming_the_field(
    workspace: Workspace, tiny_config: SessionConfig, judgment: dict | None, expected: str
) -> None:
    session = create_session(workspace, tiny_config)
    _, shown = blank_round(workspace, session.id, k=5)  # breadth 5: keep at most 3
    if judgment is not None:
        # Slots in the parametrization become the round's candidate ids.
        for field in ("rejected", "order"):
            if field in judgment:
                judgment[field] = [shown[slot].id for slot in judgment[field]]
        if "ratings" in judgment:
            judgment["ratings"] = {shown[s].id: v for s, v in judgment["ratings"].items()}
        submit_feedback(workspace, session.id, judgment)
    with pytest.raises(InvalidInput, match=re.escape(expected.format(session=session.id))):
        next_funnel_round(workspace, session.id)


def test_a_funnel_round_refuses_a_ninth_approval_when_it_is_submitted(
    workspace: Workspace, tiny_config: SessionConfig
) -> None:
    session = create_session(workspace, tiny_config)
    _, wide = blank_round(workspace, session.id, k=FUNNEL_STAGES[0])
    with pytest.raises(InvalidInput, match=r"approved: 9 candidates kept in round 0 .* at most 8"):
        keep(workspace, session.id, wide, list(range(9)))
    assert get_feedback_events(workspace, session.id) == []
    keep(workspace, session.id, wide, list(range(8)))  # 8 is the stage's limit
    assert len(get_feedback_events(workspace, session.id)) == 1


def test_only_funnel_rounds_limit_what_is_kept(
    workspace: Workspace, tiny_config: SessionConfig
) -> None:
    assert funnel_keep_limit({"k": 20, "around": None}, 20) == 8
    assert funnel_keep_limit({"k": 17, "around": list(range(8))}, 17) == 3
    assert funnel_keep_limit({"k": 7, "around": [1, 2, 3]}, 7) == 1
    # A normal round, "more like this" (around one, the session's k), a chosen k.
    assert funnel_keep_limit({}, 8) is None
    assert funnel_keep_limit({"k": None, "around": [4]}, 8) is None
    assert funnel_keep_limit({"k": 12, "around": None}, 12) is None
    # Approving most of a normal round stays allowed.
    session = create_session(workspace, tiny_config)
    _, shown = blank_round(workspace, session.id)
    keep(workspace, session.id, shown, list(range(len(shown))))
    assert len(get_feedback_events(workspace, session.id)) == 1
