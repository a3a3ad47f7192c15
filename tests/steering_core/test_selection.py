"""'More like these': a lasso selection becomes the few candidates a round is built around."""

from __future__ import annotations

import numpy as np
import pytest

from steering_core.config import SessionConfig, make_config
from steering_core.errors import InvalidInput
from steering_core.selection import anchors_of_selection
from steering_core.sessions import create_session, get_candidates, submit_feedback
from steering_core.storage.workspace import Workspace
from tests.steering_core.helpers import blank_round


def test_more_like_these_proposes_a_round_spread_over_the_selection(
    workspace: Workspace, tiny_config: SessionConfig
) -> None:
    config = make_config({**tiny_config.to_dict(), "k": 8})
    session = create_session(workspace, config)
    _, first = blank_round(workspace, session.id)
    submit_feedback(workspace, session.id, {"mode": "winner", "winner": first[3].id})
    _, second = blank_round(workspace, session.id)
    selected = [c.id for c in first[1:6]] + [second[0].id]  # second[0] re-shows first[3]
    around = anchors_of_selection(workspace, session.id, selected)
    # Three of k = 8 (half of the 7 new slots at most), distinct, all from the selection.
    assert len(around) == 3 and len(set(around)) == 3 and set(around) <= set(selected)
    assert second[0].id not in around  # the same image as first[3]
    # The first is the one nearest the selection's centre.
    vectors = {c.id: c.steering_vector for c in first + second}
    distinct = [c for c in selected if c != second[0].id]
    centre = np.mean([vectors[c] for c in distinct], axis=0)
    assert around[0] == min(distinct, key=lambda c: np.linalg.norm(vectors[c] - centre))
    # The round built around them: each new image is one of them or a variation of one.
    _, proposed = blank_round(workspace, session.id, around=around)
    # (An anchor that is the new incumbent is shown in slot 0, and varied.)
    assert {c.role for c in proposed[1:]} == {"kept", "variation"}
    assert {c.parent_candidate_id for c in proposed[1:]} == set(around)
    # A selection of two anchors both.
    assert sorted(anchors_of_selection(workspace, session.id, selected[:2])) == sorted(selected[:2])


def test_a_selection_outside_the_session_is_refused(
    workspace: Workspace, tiny_config: SessionConfig
) -> None:
    session = create_session(workspace, tiny_config)
    other = create_session(workspace, tiny_config)
    blank_round(workspace, session.id)
    blank_round(workspace, other.id)
    theirs = [c.id for c in get_candidates(workspace, other.id)]
    with pytest.raises(InvalidInput, match="selection: none of the 4 selected"):
        anchors_of_selection(workspace, session.id, theirs)
    with pytest.raises(InvalidInput, match="selection: candidate ids are whole numbers"):
        anchors_of_selection(workspace, session.id, ["7"])  # type: ignore[list-item]
    ours = get_candidates(workspace, session.id)[1].id
    assert anchors_of_selection(workspace, session.id, [*theirs, ours]) == [ours]
