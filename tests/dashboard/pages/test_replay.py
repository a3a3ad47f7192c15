"""The replay page without a browser: rounds index, every candidate, judgments and the links
from a winner back to the round its parent came from."""

from __future__ import annotations

from typing import Any

import pytest

from dashboard import ids
from dashboard.callbacks.navigation import render_page
from dashboard.pages.replay import replay_page
from dashboard.state import DashboardState
from steering_core.config import SessionConfig
from steering_core.sessions import (
    create_session,
    fork_session,
    get_round,
    submit_feedback,
    undo_last_feedback,
)
from steering_core.storage.records import CandidateRecord
from tests.dashboard.helpers import find, find_all, links, text
from tests.steering_core.helpers import blank_round


def card(page: Any, candidate: CandidateRecord) -> Any:
    return find(page, f"candidate-{candidate.id}")


def judged_session(state: DashboardState, config: SessionConfig, winners: list[int]) -> tuple:
    """A session whose round i is won by slot winners[i], plus one round not judged yet."""
    session = create_session(state.workspace, config)
    rounds = []
    for slot in winners:
        _, candidates = blank_round(state.workspace, session.id)
        rounds.append(candidates)
        submit_feedback(
            state.workspace, session.id, {"mode": "winner", "winner": candidates[slot].id}
        )
    _, candidates = blank_round(state.workspace, session.id)
    rounds.append(candidates)
    return session, rounds


def test_the_rounds_index_links_to_one_section_per_round(
    state: DashboardState, tiny_config: SessionConfig
) -> None:
    session, rounds = judged_session(state, tiny_config, [2, 0, 3])
    page = replay_page(state, {"session": session.id})

    index = find(page, ids.REPLAY_INDEX)
    assert [href for _, href in links(index)] == ["#round-0", "#round-1", "#round-2", "#round-3"]
    sections = [section.id for section in find_all(page, "replay-round")]
    assert sections == ["round-0", "round-1", "round-2", "round-3"]
    # Round 1's winner was its incumbent: no new incumbent came from it; round 3 is not judged.
    classes = {text(link): link.className for link in find_all(index, "round-link")}
    assert "moved" in classes["0"] and "moved" not in classes["1"]
    assert "unjudged" in classes["3"] and "unjudged" not in classes["2"]
    # Every candidate of every round, with its thumbnail served from the image route.
    for candidates in rounds:
        for candidate in candidates:
            (image,) = find_all(card(page, candidate), "replay-image")
            assert image.to_plotly_json()["props"]["data-src"] == f"/{candidate.image_path}"


def test_a_carried_forward_winner_links_to_the_round_it_came_from(
    state: DashboardState, tiny_config: SessionConfig
) -> None:
    session, rounds = judged_session(state, tiny_config, [2, 3])
    page = replay_page(state, {"session": session.id})

    # Round 0's winner is re-shown as round 1's incumbent: carried forward to round 1.
    winner_0 = card(page, rounds[0][2])
    assert "carried" in winner_0.className.split()
    assert ("carried forward → round 1", "#round-1") in links(winner_0)
    # Round 1's winner came from round 0's winner (the incumbent every candidate grew from):
    # one click on "from round 0" goes back there.
    winner_1 = card(page, rounds[1][3])
    assert ("carried forward → round 2", "#round-2") in links(winner_1)
    assert ("from round 0", "#round-0") in links(winner_1)
    # Round 2's incumbent is round 1's winner, shown again.
    incumbent_2 = card(page, rounds[2][0])
    assert rounds[2][0].parent_candidate_id == rounds[1][3].id
    assert ("from round 1", "#round-1") in links(incumbent_2)
    # The losers say nothing about lineage.
    assert links(card(page, rounds[1][1])) == []
    assert "winner" in text(winner_1) and "winner" not in text(card(page, rounds[1][1]))


def test_the_final_choice_is_the_incumbent_the_next_round_would_show(
    state: DashboardState, tiny_config: SessionConfig
) -> None:
    session, rounds = judged_session(state, tiny_config, [1])
    submit_feedback(state.workspace, session.id, {"mode": "winner", "winner": rounds[1][2].id})
    page = replay_page(state, {"session": session.id})

    assert "final" in card(page, rounds[1][2]).className.split()
    assert len(find_all(page, "final")) == 1
    panel = find(page, ids.REPLAY_FINAL)
    assert links(panel) == [("round 1, candidate 3", "#round-1")]
    # The next round does re-show it.
    blank_round(state.workspace, session.id)
    _, next_round = get_round(state.workspace, session.id)
    assert next_round[0].parent_candidate_id == rounds[1][2].id


def test_each_round_lists_the_judgments_it_got(
    state: DashboardState, tiny_config: SessionConfig
) -> None:
    session = create_session(state.workspace, tiny_config)
    _, first = blank_round(state.workspace, session.id)
    ratings = {str(first[1].id): 5, str(first[2].id): 2}
    submit_feedback(state.workspace, session.id, {"mode": "rating", "ratings": ratings})
    submit_feedback(state.workspace, session.id, {"mode": "winner", "winner": first[3].id})
    undo_last_feedback(state.workspace, session.id)
    blank_round(state.workspace, session.id)
    submit_feedback(
        state.workspace,
        session.id,
        {"mode": "reject_all", "reason": "too dark", "confidence": 0.5},
    )
    page = replay_page(state, {"session": session.id})

    round_0 = text(find(page, "round-0"))
    assert "ratings: 2 → 5/5, 3 → 2/5" in round_0
    assert "winner: 4 (undone)" in round_0
    # What the undone judgment said about each candidate is struck through.
    undone = find_all(card(page, first[3]), "undone")
    assert [text(badge) for badge in undone] == ["winner"]
    assert "rated 5/5" in text(card(page, first[1]))
    assert "rejected the whole round: “too dark” (confidence 50%)" in text(find(page, "round-1"))


def test_a_long_session_is_drawn_a_page_of_rounds_at_a_time(
    state: DashboardState, tiny_config: SessionConfig
) -> None:
    """Rounds 0-9 on the first page, 10-12 on the next; links across pages open the page
    that holds the round."""
    session, rounds = judged_session(state, tiny_config, [1] * 12)
    first = replay_page(state, {"session": session.id})
    assert [s.id for s in find_all(first, "replay-round")] == [f"round-{i}" for i in range(10)]
    index = dict(links(find(first, ids.REPLAY_INDEX)))
    assert len(index) == 13
    assert index["3"] == "#round-3"
    assert index["11"] == f"/replay?session={session.id}&from=10#round-11"
    # Round 9's winner is carried to round 10, on the next page.
    assert ("carried forward → round 10", f"/replay?session={session.id}&from=10#round-10") in (
        links(card(first, rounds[9][1]))
    )
    assert ("rounds 10-12 →", f"/replay?session={session.id}&from=10") in links(first)

    second = replay_page(state, {"session": session.id, "from": "10"})
    assert [s.id for s in find_all(second, "replay-round")] == ["round-10", "round-11", "round-12"]
    # Round 10's incumbent came from round 9: one click back to the page before.
    assert ("from round 9", f"/replay?session={session.id}&from=0#round-9") in links(
        card(second, rounds[10][0])
    )
    assert links(find(second, ids.REPLAY_FINAL)) == [("round 12, candidate 1", "#round-12")]
    # A page past the end shows the last one; a page that is not a number, the first.
    assert (
        find_all(replay_page(state, {"session": session.id, "from": "99"}), "replay-round")[0].id
        == "round-10"
    )
    assert (
        find_all(replay_page(state, {"session": session.id, "from": "x"}), "replay-round")[0].id
        == "round-0"
    )


def test_a_fork_links_back_to_the_parent_session_and_the_parent_to_the_fork(
    state: DashboardState, tiny_config: SessionConfig
) -> None:
    parent, rounds = judged_session(state, tiny_config, [1])
    fork = fork_session(state.workspace, rounds[1][2].id)
    _, forked = blank_round(state.workspace, fork.id)

    page = replay_page(state, {"session": fork.id})
    assert (
        "from round 1 of the parent session",
        f"/replay?session={parent.id}&from=0#round-1",
    ) in links(card(page, forked[0]))

    parent_page = replay_page(state, {"session": parent.id})
    assert (f"forked into {fork.id}", f"/replay?session={fork.id}") in links(
        card(parent_page, rounds[1][2])
    )


def test_without_a_session_the_page_lists_the_sessions(
    state: DashboardState, tiny_config: SessionConfig
) -> None:
    assert "No sessions" in text(render_page(state, "/replay", ""))
    first = create_session(state.workspace, tiny_config)
    second = create_session(state.workspace, tiny_config)
    page = render_page(state, "/replay", "")
    hrefs = [href for _, href in links(page)]
    assert hrefs == [f"/replay?session={second.id}", f"/replay?session={first.id}"]


def test_an_unknown_session_or_a_session_without_rounds_is_a_message(
    state: DashboardState, tiny_config: SessionConfig
) -> None:
    page = render_page(state, "/replay", "?session=nope")
    assert "Invalid input" in text(page) and "nope" in text(page)
    assert ("← every session", "/replay") in links(page)
    session = create_session(state.workspace, tiny_config)
    assert "no rounds yet" in text(replay_page(state, {"session": session.id}))


def test_the_queries_do_not_grow_with_the_rounds(
    state: DashboardState, tiny_config: SessionConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 100-round replay stays fast: its queries are per session, not per round."""
    calls = {"n": 0}
    database = state.workspace.db
    for name in ("query", "query_one"):
        original = getattr(database, name)

        def counted(*args: Any, _original: Any = original, **kwargs: Any) -> Any:
            calls["n"] += 1
            return _original(*args, **kwargs)

        monkeypatch.setattr(database, name, counted)

    def queries(rounds: int) -> int:
        session, _ = judged_session(state, tiny_config, [1] * rounds)
        calls["n"] = 0
        replay_page(state, {"session": session.id})
        return calls["n"]

    assert queries(3) == queries(12)
