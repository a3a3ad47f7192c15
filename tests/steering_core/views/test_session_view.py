"""The session view every reader formats: judgments and what each candidate received in
words, undone ones marked; the final choice, its lineage and where candidates were carried;
the rows `steer show` prints."""

from __future__ import annotations

import pytest

from steering_core.errors import NotFound
from steering_core.sessions import fork_session, get_candidates
from steering_core.storage.workspace import Workspace
from steering_core.views.session_view import session_view
from steering_core.views.show import round_rows
from tests.steering_core.exports.report_sessions import judged_session
from tests.steering_core.helpers import blank_round


def test_judgments_and_received_words_with_undone_ones_marked(workspace: Workspace) -> None:
    view = session_view(workspace, judged_session(workspace))
    assert [r.round_index for r in view.rounds] == [0, 1, 2, 3, 4]
    lines = [(j.line, j.undone) for j in view.round(2).judgments]
    assert lines == [
        ("pair 2 vs 5: 5 is better", False),
        ("ranking: 4 > 2", True),
        ("approved 3; rejected 1", False),
    ]
    fourth = view.round(2).candidates[3]
    # Unmarked by "approved 3; rejected 1": below 3, above 1.
    assert [(p.text, p.undone) for p in fourth.received] == [
        ("ranked 1st of 2", True),
        ("lost to 3", False),
        ("beat 1", False),
    ]
    assert not view.round(4).judged and view.round(3).judged
    assert view.judgments == 7  # the undone ranking left out


def test_final_choice_lineage_and_carried_to_agree(workspace: Workspace) -> None:
    view = session_view(workspace, judged_session(workspace))
    final = view.final.candidate
    assert final is not None and view.final.note == ""
    assert view.candidate(final.id).final_choice
    # Oldest first; the last step is the final choice's image (re-showings merged).
    assert view.lineage[0].rounds[0] == 0
    assert final.round_index in view.lineage[-1].rounds
    # Round 0's winner (slot 2) is re-shown by round 1 as its incumbent.
    winner = view.round(0).candidates[2]
    assert winner.carried_to == 1 and winner.carried_forward
    assert view.round(1).candidates[0].origin.candidate_id == winner.candidate.id
    assert view.round(0).incumbent_moved


def test_forks_are_read_only_when_other_sessions_are(workspace: Workspace) -> None:
    session_id = judged_session(workspace)
    origin = get_candidates(workspace, session_id)[7]
    fork = fork_session(workspace, origin.id)
    blank_round(workspace, fork.id)
    assert session_view(workspace, session_id).candidate(origin.id).forks == (fork.id,)
    assert (
        session_view(workspace, session_id, other_sessions=False).candidate(origin.id).forks == ()
    )
    incumbent = session_view(workspace, fork.id, other_sessions=False).round(0).candidates[0]
    assert incumbent.origin.candidate_id == origin.id and incumbent.origin.round_index is None


def test_show_rows_name_what_each_candidate_received(workspace: Workspace) -> None:
    session_id = judged_session(workspace)
    rows = round_rows(workspace, session_id, 1)
    assert [row["slot"] for row in rows] == [0, 1, 2, 3, 4]
    assert rows[1]["received"] == [
        "rated 4/5",
        "critique [lighting]: “too dark” (confidence 60%)",
    ]
    assert round_rows(workspace, session_id)[0]["round_index"] == 4
    with pytest.raises(NotFound):
        round_rows(workspace, session_id, 9)
