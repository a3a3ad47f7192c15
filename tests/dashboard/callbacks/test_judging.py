"""The round on screen, without a browser: which round, its grid, labels, mode switch."""

from __future__ import annotations

import json

from dash import no_update

from dashboard import ids
from dashboard.callbacks.judging import show_round, step_round, switch_mode, undo_label
from dashboard.layout.grid import grid_mode, round_controls
from dashboard.pages.steering import steering_page
from dashboard.state import DashboardState
from steering_core.config import SessionConfig
from steering_core.sessions import (
    create_session,
    get_session,
    submit_feedback,
    undo_last_feedback,
)
from steering_core.storage.records import CandidateRecord
from tests.dashboard.helpers import find, find_all, text, walk
from tests.steering_core.helpers import blank_round


def grid_attributes(grid: object) -> dict:
    return {
        "round": grid.to_plotly_json()["props"]["data-round"],
        "latest": grid.to_plotly_json()["props"]["data-latest"],
        "mode": grid.to_plotly_json()["props"]["data-mode"],
        "candidates": json.loads(grid.to_plotly_json()["props"]["data-candidates"]),
    }


def test_the_grid_shows_the_latest_round_or_the_one_asked_for(
    state: DashboardState, tiny_config: SessionConfig
) -> None:
    session = create_session(state.workspace, tiny_config)
    _, first = blank_round(state.workspace, session.id)
    submit_feedback(state.workspace, session.id, {"mode": "winner", "winner": first[1].id})
    _, second = blank_round(state.workspace, session.id)

    grid, banner, label = show_round(state, {"session_id": session.id}, None)
    shown = grid_attributes(grid)
    assert shown["round"] == "1" and shown["latest"] == "true"
    assert shown["candidates"] == [c.id for c in second]
    assert label == "round 1 of 1" and "WINNER" in str(banner)

    grid, _, label = show_round(state, {"session_id": session.id, "round_index": 0}, None)
    shown = grid_attributes(grid)
    assert shown["round"] == "0" and shown["latest"] == "false"
    assert "winner" in str(grid)  # round 0's card shows the judgment it received


def test_a_past_round_shows_the_mode_it_was_judged_in(
    state: DashboardState, tiny_config: SessionConfig
) -> None:
    session = create_session(state.workspace, tiny_config)
    _, first = blank_round(state.workspace, session.id)
    submit_feedback(state.workspace, session.id, {"mode": "winner", "winner": first[1].id})
    blank_round(state.workspace, session.id)
    blank_round(state.workspace, session.id)  # round 1: never judged

    grid, banner, _ = show_round(state, {"session_id": session.id, "round_index": 0}, "rating")
    assert grid_attributes(grid)["mode"] == "winner" and "WINNER" in str(banner)
    grid, banner, _ = show_round(state, {"session_id": session.id, "round_index": 1}, "rating")
    assert grid_attributes(grid)["mode"] == "rating" and "RATING" in str(banner)
    grid, banner, _ = show_round(state, {"session_id": session.id}, "rating")
    assert grid_attributes(grid)["mode"] == "rating"  # the open round: the mode in use


def test_the_round_in_the_url_is_the_round_shown(
    state: DashboardState, tiny_config: SessionConfig
) -> None:
    session = create_session(state.workspace, tiny_config)
    for _ in range(3):
        blank_round(state.workspace, session.id)

    def view_for(round_text: str) -> dict:
        page = steering_page(state, {"session": session.id, "round": round_text})
        return find(page, ids.VIEW).data

    grid, _, label = show_round(state, view_for("1"), None)
    assert grid_attributes(grid)["round"] == "1" and label == "round 1 of 2"
    assert view_for("2")["round_index"] is None  # the latest: the grid follows new rounds

    grid, _, label = show_round(state, view_for("9"), None)
    assert "no round 9" in text(grid) and "latest is round 2" in text(grid)
    assert label == "round - of 2"
    page = steering_page(state, {"session": session.id, "round": "last"})
    assert "'last' is not a round number" in text(page)


def test_an_unknown_session_is_a_message_not_a_crash(state: DashboardState) -> None:
    grid, _, label = show_round(state, {"session_id": "nope"}, None)
    assert "Invalid input" in str(grid) and "nope" in str(grid) and label == "-"


def test_stepping_through_rounds_stops_at_both_ends(
    state: DashboardState, tiny_config: SessionConfig
) -> None:
    session = create_session(state.workspace, tiny_config)
    for _ in range(3):
        blank_round(state.workspace, session.id)
    view = {"session_id": session.id, "round_index": None}
    back = step_round(state, view, -1)
    assert back["round_index"] == 1
    assert step_round(state, {**view, "round_index": 0}, -1)["round_index"] == 0
    assert step_round(state, back, +1)["round_index"] is None  # the latest again


def test_labels_count_repeats_and_skip_undone_judgments(
    state: DashboardState, tiny_config: SessionConfig
) -> None:
    """The grid's cards say what each candidate received in the replay page's and the
    report's words, a repeated phrase once with its count, undone judgments left out."""
    session = create_session(state.workspace, tiny_config)
    _, shown = blank_round(state.workspace, session.id)
    for _ in range(3):
        submit_feedback(state.workspace, session.id, {"mode": "winner", "winner": shown[2].id})
    ratings = {str(shown[0].id): 4, str(shown[1].id): 1}
    submit_feedback(state.workspace, session.id, {"mode": "rating", "ratings": ratings})
    between = {"mode": "cannot_decide", "between": [shown[1].id, shown[3].id]}
    submit_feedback(state.workspace, session.id, between)
    submit_feedback(state.workspace, session.id, {"mode": "winner", "winner": shown[3].id})
    undo_last_feedback(state.workspace, session.id)
    grid, _, _ = show_round(state, {"session_id": session.id, "round_index": 0}, None)

    def labels(candidate: CandidateRecord) -> list[str]:
        card = find_all(grid, "candidate-card")[candidate.slot]
        return [text(badge) for badge in find_all(card, "badges")[0].children[1:]]  # after role

    # Outside "cannot decide between 2 and 4", a candidate lost to both (as its hover says).
    assert labels(shown[2]) == ["winner x3", "lost to 2, 4"]
    assert labels(shown[0]) == ["lost to 3 x3", "rated 4/5", "lost to 2, 4"]
    assert labels(shown[1]) == ["lost to 3 x3", "rated 1/5", "cannot decide vs 4"]
    assert labels(shown[3]) == ["lost to 3 x3", "cannot decide vs 2"]  # its win was undone


def test_switching_the_mode_stores_it_for_the_session(
    state: DashboardState, tiny_config: SessionConfig
) -> None:
    session = create_session(state.workspace, tiny_config)
    assert switch_mode(state, session.id, "ranking") is no_update
    assert get_session(state.workspace, session.id).config["feedback_mode"] == "ranking"
    message = switch_mode(state, session.id, "telepathy")
    assert "feedback_mode" in str(message)
    assert get_session(state.workspace, session.id).config["feedback_mode"] == "ranking"


def test_the_undo_judgment_button_names_the_judgment_and_round_it_withdraws(
    state: DashboardState, tiny_config: SessionConfig
) -> None:
    session = create_session(state.workspace, tiny_config)
    _, shown = blank_round(state.workspace, session.id)
    assert undo_label(state, session.id) == ("Undo judgment (none stored)", True)
    submit_feedback(state.workspace, session.id, {"mode": "winner", "winner": shown[2].id})
    blank_round(state.workspace, session.id)
    assert undo_label(state, session.id) == ("Undo round 0's judgment (winner: 3)", False)
    undo_last_feedback(state.workspace, session.id)
    assert undo_label(state, session.id) == ("Undo judgment (none stored)", True)
    assert undo_label(state, None) == ("Undo judgment", True)


def test_a_kept_incumbents_card_says_why(state: DashboardState, tiny_config: SessionConfig) -> None:
    session = create_session(state.workspace, tiny_config)
    _, first = blank_round(state.workspace, session.id)
    submit_feedback(state.workspace, session.id, {"mode": "winner", "winner": first[0].id})
    blank_round(state.workspace, session.id)
    grid, _, _ = show_round(state, {"session_id": session.id}, None)
    notes = find_all(grid, "kept-note")
    assert [text(note) for note in notes] == ["kept: nothing beat it in round 0"]
    assert find_all(find(grid, ids.card(0)), "kept-note") == notes
    grid, _, _ = show_round(state, {"session_id": session.id, "round_index": 0}, None)
    assert "kept" not in str(grid)


def test_only_the_mode_in_use_has_its_controls(
    state: DashboardState, tiny_config: SessionConfig
) -> None:
    session = create_session(state.workspace, tiny_config)
    blank_round(state.workspace, session.id)
    view = {"session_id": session.id}
    controls = {}
    for mode in ("rating", "approve_reject", "pairwise", "winner"):
        grid, _, _ = show_round(state, view, mode)
        shown = [*walk(grid), *round_controls(grid_mode(grid))]
        actions = {getattr(c, "data-action", None) for c in shown}
        controls[mode] = actions - {None, "pick", "inspect"}
    assert controls == {
        "rating": {"rate"},
        "approve_reject": {"approve", "reject"},
        "pairwise": {"A", "B", "tie"},
        "winner": set(),
    }


def test_a_round_of_two_in_pairwise_mode_shows_the_pair_large(
    state: DashboardState, tiny_config: SessionConfig
) -> None:
    session = create_session(state.workspace, tiny_config)
    blank_round(state.workspace, session.id, k=2)
    grid, _, _ = show_round(state, {"session_id": session.id}, "pairwise")
    assert "pair-round" in grid.className.split()
    grid, _, _ = show_round(state, {"session_id": session.id}, "winner")
    assert "pair-round" not in grid.className.split()


def test_a_funnel_round_tells_the_page_how_many_it_keeps(
    state: DashboardState, tiny_config: SessionConfig
) -> None:
    session = create_session(state.workspace, tiny_config)
    blank_round(state.workspace, session.id)
    grid, _, _ = show_round(state, {"session_id": session.id}, None)
    assert grid.to_plotly_json()["props"]["data-keep-limit"] == ""  # a normal round
    blank_round(state.workspace, session.id, k=20)  # the funnel's wide round
    grid, _, _ = show_round(state, {"session_id": session.id}, None)
    assert grid.to_plotly_json()["props"]["data-keep-limit"] == "8"
