"""Why a re-shown incumbent was kept, in the session view and the HTML report."""

from __future__ import annotations

from steering_core.config import SessionConfig
from steering_core.exports.report import render_report
from steering_core.sessions import create_session, submit_feedback, undo_last_feedback
from steering_core.storage.workspace import Workspace
from steering_core.views.session_view import session_view
from tests.steering_core.helpers import blank_round


def test_each_kept_incumbent_says_why_and_a_new_one_says_nothing(
    workspace: Workspace, tiny_config: SessionConfig
) -> None:
    session = create_session(workspace, tiny_config, name="kept reasons")
    _, round0 = blank_round(workspace, session.id)
    # Round 0: the incumbent wins: nothing beat it.
    submit_feedback(workspace, session.id, {"mode": "winner", "winner": round0[0].id})
    _, round1 = blank_round(workspace, session.id)
    # Round 1: a judgment that is undone leaves the round unjudged.
    submit_feedback(workspace, session.id, {"mode": "winner", "winner": round1[2].id})
    undo_last_feedback(workspace, session.id)
    blank_round(workspace, session.id)
    # Round 2: rejected as a whole.
    submit_feedback(workspace, session.id, {"mode": "reject_all"})
    _, round3 = blank_round(workspace, session.id)
    # Round 3: candidate 3 beats the incumbent and wins: a new incumbent.
    submit_feedback(workspace, session.id, {"mode": "winner", "winner": round3[2].id})
    blank_round(workspace, session.id)

    view = session_view(workspace, session.id)
    first = [shown.candidates[0].kept for shown in view.rounds]
    assert first == [
        "",
        "kept: nothing beat it in round 0",
        "kept: round 1 was not judged",
        "kept: round 2 was rejected as a whole",
        "",
    ]
    assert all(c.kept == "" for shown in view.rounds for c in shown.candidates[1:])

    page = render_report(workspace, session.id)
    assert '<p class="kept-note">kept: nothing beat it in round 0</p>' in page
    assert "<title>kept reasons · " in page
    assert "<tr><th>Name</th><td>kept reasons</td></tr>" in page


def test_an_incumbent_beaten_by_a_candidate_that_lost_too_is_kept_for_that(
    workspace: Workspace, tiny_config: SessionConfig
) -> None:
    session = create_session(workspace, tiny_config)
    _, round0 = blank_round(workspace, session.id)
    # Candidate 2 beats the incumbent, then loses to it: no candidate won without a loss.
    for first, second in ((round0[1], round0[0]), (round0[0], round0[1])):
        submit_feedback(
            workspace,
            session.id,
            {"mode": "pairwise", "first": first.id, "second": second.id, "choice": "first"},
        )
    blank_round(workspace, session.id)
    view = session_view(workspace, session.id)
    assert view.rounds[1].candidates[0].kept == "kept: what beat it in round 0 lost too"
