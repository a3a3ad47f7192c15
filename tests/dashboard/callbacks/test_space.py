"""The steering space, inspector and curves callbacks, without a browser."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from dash import Patch

from dashboard.callbacks.identity import confirm_fork
from dashboard.callbacks.space import curves, inspect, mark_best, recolour, space_figure, tag
from dashboard.state import DashboardState
from steering_core.config import SessionConfig
from steering_core.sessions import (
    create_session,
    get_feedback_events,
    list_sessions,
    submit_feedback,
)
from steering_core.space_view import candidate_labels
from steering_core.status import session_status
from tests.steering_core.helpers import blank_round


def judged_session(state: DashboardState, config: SessionConfig) -> tuple[str, list]:
    session = create_session(state.workspace, config)
    _, first = blank_round(state.workspace, session.id)
    submit_feedback(state.workspace, session.id, {"mode": "winner", "winner": first[2].id})
    _, second = blank_round(state.workspace, session.id)
    return session.id, first + second


def test_the_space_shows_every_candidate_and_a_colour_change_is_a_patch(
    state: DashboardState, tiny_config: SessionConfig
) -> None:
    session_id, candidates = judged_session(state, tiny_config)
    figure = space_figure(state, session_id, "session", "round")
    scatter = next(t for t in figure.data if t.type == "scattergl" and t.customdata is not None)
    assert sorted(int(c) for c in scatter.customdata) == sorted(c.id for c in candidates)
    patch = recolour(state, session_id, "session", "label")
    assert isinstance(patch, Patch)


def test_the_inspector_shows_the_candidate_and_its_lineage(
    state: DashboardState, tiny_config: SessionConfig
) -> None:
    _, candidates = judged_session(state, tiny_config)
    incumbent = candidates[4]  # round 1's slot 0: round 0's winner re-shown
    text = str(inspect(state, incumbent.id))
    assert f"candidate {incumbent.id} · round 1" in text
    assert "r0" in text and "r1" in text  # lineage back to round 0
    assert "no candidate" in str(inspect(state, 10**6))


def test_inspector_actions_store_judgments_and_fork(
    state: DashboardState, tiny_config: SessionConfig
) -> None:
    session_id, candidates = judged_session(state, tiny_config)
    chosen = candidates[6]
    assert "Stored" in str(mark_best(state, chosen.id))
    assert session_status(state.workspace, session_id)["incumbent"]["candidate_id"] == chosen.id
    assert "Tagged" in str(tag(state, chosen.id, ["lighting"]))
    modes = [e.mode for e in get_feedback_events(state.workspace, session_id)]
    assert modes == ["winner", "winner", "critique"]
    assert "tags" in str(tag(state, chosen.id, ["vibes"]))  # a bad tag is a message
    search, _, _ = confirm_fork(state, {"candidate_id": chosen.id}, None, None)
    forked = [s for s in list_sessions(state.workspace) if s["id"] != session_id]
    assert search == f"?session={forked[0]['id']}"


def test_curves_and_label_statistics(state: DashboardState, tiny_config: SessionConfig) -> None:
    session_id, _ = judged_session(state, tiny_config)
    figure, table = curves(state, session_id)
    assert figure.data and "judgments" in str(table).lower()


@pytest.mark.parametrize(
    "judgment",
    [
        lambda shown: {"mode": "winner", "winner": shown[2]},
        lambda shown: {"mode": "approve_reject", "approved": [shown[1]]},
        lambda shown: {"mode": "approve_reject", "approved": [shown[1]], "rejected": [shown[3]]},
        lambda shown: {"mode": "approve_reject", "rejected": [shown[3]]},
        lambda shown: {"mode": "cannot_decide", "between": [shown[0], shown[2]]},
        lambda shown: {"mode": "ranking", "order": [shown[3], shown[0]]},
    ],
)
def test_the_inspector_lists_what_the_hover_labels(
    state: DashboardState, tiny_config: SessionConfig, judgment: Callable[[list[int]], dict]
) -> None:
    # A candidate that lost because another won the round is "lost" on hover: the inspector
    # must not say "judgments: none yet" for it.
    session = create_session(state.workspace, tiny_config)
    _, shown = blank_round(state.workspace, session.id)
    submit_feedback(state.workspace, session.id, judgment([c.id for c in shown]))
    labels = candidate_labels(state.workspace, session.id)
    assert labels  # the judgment labelled someone
    for candidate in shown:
        details = str(inspect(state, candidate.id))
        if candidate.id in labels:
            assert "none yet" not in details, (labels[candidate.id], details)
        if labels.get(candidate.id) == "lost":
            words = ("lost to", "rejected", "ranked", "not in the top")
            assert any(word in details for word in words)
