"""The steering space, inspector and curves callbacks, without a browser."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from dash import Patch, no_update

from dashboard.callbacks.identity import confirm_fork
from dashboard.callbacks.space import (
    curves,
    inspect,
    mark_best,
    more_like_these,
    recolour,
    space_figure,
    tag,
)
from dashboard.figures.space import HEAT_TRACE, POINTS_TRACE
from dashboard.state import DashboardState
from steering_core.config import SessionConfig
from steering_core.sessions import (
    create_session,
    get_candidate,
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
    body, title = inspect(state, incumbent.id)
    # One number per candidate: its card number in its round, never its stored id.
    assert title == "Candidate 1 of round 1"
    text = str(body)
    assert "card 1 of round 1" in text and f"candidate {incumbent.id}" not in text
    assert "r0" in text and "r1" in text  # lineage back to round 0
    assert "no candidate" in str(inspect(state, 10**6)[0])


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
        details = str(inspect(state, candidate.id)[0])
        if candidate.id in labels:
            assert "none yet" not in details, (labels[candidate.id], details)
        if labels.get(candidate.id) == "lost":
            words = ("lost to", "rejected", "ranked", "not in the top")
            assert any(word in details for word in words)


def _places(figure: object) -> dict[int, tuple[float, float]]:
    trace = figure.data[POINTS_TRACE]  # type: ignore[attr-defined]
    return {
        int(c): (float(x), float(y))
        for c, x, y in zip(trace.customdata, trace.x, trace.y, strict=True)
    }


def test_a_new_round_keeps_the_map_and_its_zoom_until_the_researcher_refits(
    state: DashboardState, tiny_config: SessionConfig
) -> None:
    session_id, candidates = judged_session(state, tiny_config)
    before = space_figure(state, session_id, "session", "round")
    submit_feedback(state.workspace, session_id, {"mode": "winner", "winner": candidates[5].id})
    blank_round(state.workspace, session_id)
    after = space_figure(state, session_id, "session", "round")
    # Every candidate already on the map stays where it was.
    old, new = _places(before), _places(after)
    assert len(new) == len(old) + 4
    for candidate, place in old.items():
        np.testing.assert_allclose(new[candidate], place, rtol=1e-6)
    # Plotly keeps the researcher's zoom while `uirevision` is unchanged and the figure
    # leaves the axis ranges to it.
    assert after.layout.uirevision == before.layout.uirevision
    for figure in (before, after):
        assert figure.layout.xaxis.range is None and figure.layout.yaxis.range is None
    # "Refit map": a new plane (through the new incumbent), and the zoom starts afresh.
    refitted = space_figure(state, session_id, "session", "round", refit=True)
    assert refitted.layout.uirevision != after.layout.uirevision
    moved = _places(refitted)
    assert any(not np.allclose(moved[c], new[c]) for c in new)
    # ...and that plane is kept in turn.
    again = space_figure(state, session_id, "session", "round")
    assert again.layout.uirevision == refitted.layout.uirevision
    assert _places(again) == moved

    # The researcher's zoom, made on this map, comes back with the next round's figure; a
    # zoom made on another map (before the refit) does not.
    zoom = {"revision": again.layout.uirevision, "x": [-0.1, 0.2], "y": [-0.3, 0.0]}
    zoomed = space_figure(state, session_id, "session", "round", zoom=zoom)
    assert list(zoomed.layout.xaxis.range) == [-0.1, 0.2]
    assert list(zoomed.layout.yaxis.range) == [-0.3, 0.0]
    assert zoomed.layout.xaxis.autorange is False
    stale = {**zoom, "revision": after.layout.uirevision}
    unzoomed = space_figure(state, session_id, "session", "round", zoom=stale)
    assert unzoomed.layout.xaxis.range is None and unzoomed.layout.xaxis.autorange is True


def test_the_heat_map_has_a_titled_colour_scale(
    state: DashboardState, tiny_config: SessionConfig
) -> None:
    session_id, _ = judged_session(state, tiny_config)
    heat = space_figure(state, session_id, "session", "label").data[HEAT_TRACE]
    assert heat.showscale is True
    assert "predicted utility" in heat.colorbar.title.text


def test_more_like_these_starts_a_round_around_the_lasso_selection(
    state: DashboardState, tiny_config: SessionConfig
) -> None:
    session_id, candidates = judged_session(state, tiny_config)
    chosen = [candidates[1].id, candidates[6].id]
    selection = {
        "points": [
            {"curveNumber": POINTS_TRACE, "customdata": chosen[0]},
            {"curveNumber": POINTS_TRACE, "customdata": chosen[1]},
            {"curveNumber": 2, "customdata": [chosen[1], 1]},  # the incumbent path's step
        ]
    }
    job, message = more_like_these(state, session_id, selection)
    assert "job_id" in job and "Next round" in str(message)
    assert state.worker.snapshot(job["job_id"]).kind == "round"
    # Nothing selected: it says how to select, and starts nothing.
    job, message = more_like_these(state, session_id, {"points": []})
    assert job is no_update and "lasso" in str(message)
    # Another session's points only: a clear message.
    other, others = judged_session(state, tiny_config)
    job, message = more_like_these(state, session_id, {"points": [{"customdata": others[1].id}]})
    assert job is no_update and "belongs to session" in str(message)
    assert get_candidate(state.workspace, others[1].id).session_id == other
