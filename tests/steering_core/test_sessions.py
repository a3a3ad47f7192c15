"""Session orchestration: create, feedback, undo, fork, status, and the incumbent moving."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from steering_core.config import SessionConfig
from steering_core.errors import InvalidInput, NotFound
from steering_core.feedback import ELSEWHERE
from steering_core.judgments import session_judgments
from steering_core.sessions import (
    change_settings,
    create_session,
    fork_session,
    get_feedback_events,
    get_rounds,
    get_session,
    latest_round_index,
    lineage,
    list_sessions,
    setting_changes,
    submit_feedback,
    undo_last_feedback,
)
from steering_core.status import session_status
from steering_core.storage.workspace import Workspace
from tests.steering_core.helpers import blank_round, stored_state


def test_create_stores_the_validated_config(
    workspace: Workspace, tiny_config: SessionConfig
) -> None:
    session = create_session(workspace, tiny_config)
    assert SessionConfig.model_validate(session.config) == tiny_config
    assert list_sessions(workspace)[0]["id"] == session.id


def test_model_path_that_does_not_exist(workspace: Workspace, tiny_config: SessionConfig) -> None:
    bad = tiny_config.model_copy(
        update={"generator": tiny_config.generator.model_copy(update={"model": "/no/such/model"})}
    )
    with pytest.raises(InvalidInput, match=r"generator\.model"):
        create_session(workspace, bad)
    assert list_sessions(workspace) == []


def test_round_zero_shows_the_prompt_then_the_winner_becomes_incumbent(
    workspace: Workspace, tiny_config: SessionConfig
) -> None:
    session = create_session(workspace, tiny_config)
    _, candidates = blank_round(workspace, session.id)
    assert candidates[0].role == "baseline" and not np.any(candidates[0].steering_vector)
    assert [c.slot for c in candidates] == [0, 1, 2, 3]
    winner = candidates[2]
    submit_feedback(workspace, session.id, {"mode": "winner", "winner": winner.id})
    round1, next_candidates = blank_round(workspace, session.id)
    incumbent = next_candidates[0]
    assert incumbent.role == "incumbent"
    np.testing.assert_array_equal(incumbent.steering_vector, winner.steering_vector)
    assert incumbent.seed == winner.seed
    assert incumbent.image_path == winner.image_path  # re-shown unchanged, not re-rendered
    assert incumbent.parent_candidate_id == winner.id
    assert all(c.parent_candidate_id == winner.id for c in next_candidates)
    assert round1.incumbent_candidate_id == incumbent.id
    assert round1.model_state["n_comparisons"] == 3
    assert [c.id for c in lineage(workspace, incumbent.id)] == [incumbent.id, winner.id]


def test_feedback_on_another_rounds_candidate_changes_nothing(
    workspace: Workspace, tiny_config: SessionConfig
) -> None:
    session = create_session(workspace, tiny_config)
    _, old = blank_round(workspace, session.id)
    blank_round(workspace, session.id)
    before = stored_state(workspace)
    with pytest.raises(InvalidInput, match=f"candidate {old[1].id} is not in round 1"):
        submit_feedback(workspace, session.id, {"mode": "winner", "winner": old[1].id})
    assert stored_state(workspace) == before
    # Naming the old round explicitly is allowed.
    event = submit_feedback(
        workspace, session.id, {"mode": "winner", "winner": old[1].id}, round_index=0
    )
    assert event.round_index == 0


@pytest.mark.parametrize(
    "raw",
    [
        {"mode": "rating", "ratings": {"0": 7}},
        {"mode": "ranking", "order": [0, 0]},
        {"mode": "winner"},
        {"mode": "bogus"},
    ],
)
def test_invalid_feedback_stores_nothing(
    workspace: Workspace, tiny_config: SessionConfig, raw: dict
) -> None:
    session = create_session(workspace, tiny_config)
    blank_round(workspace, session.id)
    before = stored_state(workspace)
    with pytest.raises(InvalidInput):
        submit_feedback(workspace, session.id, raw)
    assert stored_state(workspace) == before


def test_every_mode_is_stored_raw_and_normalized(
    workspace: Workspace, tiny_config: SessionConfig
) -> None:
    session = create_session(workspace, tiny_config)
    _, c = blank_round(workspace, session.id)
    ids = [x.id for x in c]
    judgments = [
        {"mode": "rating", "ratings": {str(ids[0]): 2, str(ids[1]): 5}, "confidence": 0.5},
        {"mode": "pairwise", "first": ids[0], "second": ids[2], "choice": "tie"},
        {"mode": "ranking", "order": [ids[3], ids[1]]},
        {"mode": "winner", "winner": ids[1], "decision_seconds": 2.5},
        {"mode": "approve_reject", "approved": [ids[1]], "rejected": [ids[0]]},
        {"mode": "reject_all", "reason": "too dark"},
        {"mode": "critique", "tags": ["lighting"], "text": "flat light", "candidate": ids[2]},
        {"mode": "cannot_decide"},
    ]
    for raw in judgments:
        submit_feedback(workspace, session.id, raw)
    events = get_feedback_events(workspace, session.id)
    assert [e.mode for e in events] == [j["mode"] for j in judgments]
    assert events[0].raw["ratings"] == {str(ids[0]): 2, str(ids[1]): 5}
    assert events[0].comparisons == [
        {"winner": ids[1], "loser": ids[0], "weight": 0.375, "tie": False}
    ]
    assert events[5].comparisons[0]["winner"] == ELSEWHERE
    assert events[6].raw["text"] == "flat light" and events[6].comparisons == []
    rows = workspace.labels.read(session.id)
    assert [r["event_id"] for r in rows] == [e.id for e in events]
    assert json.loads(rows[3]["raw_json"])["decision_seconds"] == 2.5
    judgments = session_judgments(workspace, session.id)
    # One pairwise tie, and "cannot decide" ties every pair of the 4 candidates weakly.
    assert len(judgments.X) == 4 and len(judgments.ties) == 1 + 6
    assert len(judgments.comparisons) == 1 + 5 + 3 + 5 + 4  # approve/reject ranks the unmarked
    # Winner and ranking events are also kept whole, for models that read rankings.
    assert judgments.from_ranking.sum() == 5 + 3
    ranking, winner = judgments.rankings
    assert list(ranking.order) == [3, 1] and sorted(ranking.rest) == [0, 2]
    assert list(winner.order) == [1] and sorted(winner.rest) == [0, 2, 3]


def test_undo_withdraws_the_last_judgment_from_the_model(
    workspace: Workspace, tiny_config: SessionConfig
) -> None:
    session = create_session(workspace, tiny_config)
    _, c = blank_round(workspace, session.id)
    first = submit_feedback(workspace, session.id, {"mode": "winner", "winner": c[1].id})
    second = submit_feedback(workspace, session.id, {"mode": "winner", "winner": c[2].id})
    undo = undo_last_feedback(workspace, session.id)
    assert undo.undoes_event_id == second.id
    # Only the first judgment's comparisons remain.
    assert len(session_judgments(workspace, session.id).comparisons) == 3
    undo_last_feedback(workspace, session.id)
    with pytest.raises(InvalidInput, match="no judgment to undo"):
        undo_last_feedback(workspace, session.id)
    status = session_status(workspace, session.id)
    assert status["judgments"] == 0 and status["undone"] == 2
    modes = [r["mode"] for r in workspace.labels.read(session.id)]
    assert modes == ["winner", "winner", "undo", "undo"]
    assert first.id < second.id < undo.id


def test_fork_starts_from_a_past_candidate_and_keeps_lineage(
    workspace: Workspace, tiny_config: SessionConfig
) -> None:
    session = create_session(workspace, tiny_config)
    _, c = blank_round(workspace, session.id)
    fork = fork_session(workspace, c[3].id, {"k": 3})
    assert fork.forked_from_candidate_id == c[3].id
    _, forked = blank_round(workspace, fork.id)
    assert len(forked) == 3
    assert forked[0].role == "incumbent" and forked[0].parent_candidate_id == c[3].id
    np.testing.assert_array_equal(forked[0].steering_vector, c[3].steering_vector)
    assert forked[0].image_path == c[3].image_path
    assert lineage(workspace, forked[0].id)[-1].id == c[3].id
    with pytest.raises(InvalidInput, match="d: a fork keeps"):
        fork_session(workspace, c[3].id, {"d": 9})
    with pytest.raises(NotFound):
        fork_session(workspace, 99_999)


def test_a_forked_prompt_re_renders_the_incumbent(
    workspace: Workspace, tiny_config: SessionConfig
) -> None:
    session = create_session(workspace, tiny_config)
    _, c = blank_round(workspace, session.id)
    fork = fork_session(workspace, c[1].id, {"prompt": "a green square"})
    _, forked = blank_round(workspace, fork.id)
    assert forked[0].image_path != c[1].image_path


def test_unknown_session(workspace: Workspace) -> None:
    with pytest.raises(NotFound, match="no sessions yet"):
        session_status(workspace)
    with pytest.raises(NotFound, match="no session 'nope'"):
        session_status(workspace, "nope")


def test_incumbent_moves_toward_what_the_researcher_prefers(
    workspace: Workspace, tiny_config: SessionConfig
) -> None:
    """A simulated researcher who always picks the candidate nearest a hidden target."""
    config = tiny_config.model_copy(update={"k": 6})
    session = create_session(workspace, config)
    target = np.array([0.6, -0.4, 0.2, 0.0])
    distances = []
    best = None
    for _ in range(8):
        _, candidates = blank_round(workspace, session.id)
        if best is not None:  # the researcher's pick is always the next incumbent
            np.testing.assert_array_equal(candidates[0].steering_vector, best.steering_vector)
        distances.append(np.linalg.norm(candidates[0].steering_vector - target))
        best = min(candidates, key=lambda c: np.linalg.norm(c.steering_vector - target))
        submit_feedback(workspace, session.id, {"mode": "winner", "winner": best.id})
    assert distances[-1] < 0.5 * distances[0]


def test_reject_all_and_cannot_decide_keep_the_incumbent(
    workspace: Workspace, tiny_config: SessionConfig
) -> None:
    session = create_session(workspace, tiny_config)
    _, first = blank_round(workspace, session.id)
    submit_feedback(workspace, session.id, {"mode": "winner", "winner": first[2].id})
    _, second = blank_round(workspace, session.id)
    for raw in ({"mode": "reject_all"}, {"mode": "cannot_decide"}):
        submit_feedback(workspace, session.id, raw)
        assert session_status(workspace, session.id)["incumbent"]["candidate_id"] == second[0].id


def test_a_retried_judgment_with_the_same_client_key_is_stored_once(
    workspace: Workspace, tiny_config: SessionConfig
) -> None:
    session = create_session(workspace, tiny_config)
    _, candidates = blank_round(workspace, session.id)
    raw = {"mode": "winner", "winner": candidates[1].id}
    first = submit_feedback(workspace, session.id, raw, client_key="tab1-0001")
    again = submit_feedback(workspace, session.id, raw, client_key="tab1-0001")
    other = submit_feedback(workspace, session.id, raw, client_key="tab1-0002")
    assert again.id == first.id and other.id != first.id
    assert len(get_feedback_events(workspace, session.id)) == 2
    assert len(workspace.labels.read(session.id)) == 2
    with pytest.raises(InvalidInput, match="client_key: 1-64 characters"):
        submit_feedback(workspace, session.id, raw, client_key="x" * 65)


def test_settings_changed_between_rounds_apply_to_the_next_round(
    workspace: Workspace, tiny_config: SessionConfig
) -> None:
    session = create_session(workspace, tiny_config)
    blank_round(workspace, session.id)
    config = change_settings(
        workspace,
        session.id,
        {"trust_radius": 0.5, "preference_model": {"name": "ideal_point", "params": {}}},
    )
    assert config.trust_radius == 0.5
    stored = get_session(workspace, session.id).config
    assert stored["trust_radius"] == 0.5 and stored["preference_model"]["name"] == "ideal_point"
    assert setting_changes(workspace, session.id)[0]["from_round"] == 1


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"d": 16}, "d: cannot change between rounds"),
        ({"trust_radius": 5}, "trust_radius"),
        ({"sampler": {"name": "no_such_sampler"}}, "sampler"),
    ],
)
def test_bad_settings_changes_store_nothing(
    workspace: Workspace, tiny_config: SessionConfig, changes: dict, expected: str
) -> None:
    session = create_session(workspace, tiny_config)
    before = stored_state(workspace)
    with pytest.raises(InvalidInput, match=expected):
        change_settings(workspace, session.id, changes)
    assert stored_state(workspace) == before


def test_the_latest_round_and_the_last_few(
    workspace: Workspace, tiny_config: SessionConfig
) -> None:
    session = create_session(workspace, tiny_config)
    assert latest_round_index(workspace, session.id) is None
    for _ in range(4):
        blank_round(workspace, session.id)
    assert latest_round_index(workspace, session.id) == 3
    assert [r.round_index for r in get_rounds(workspace, session.id, last=2)] == [2, 3]


@pytest.mark.parametrize("session_id", ["", "  ", "\t"])
def test_an_empty_session_id_is_refused_not_read_as_the_latest(
    workspace: Workspace, tiny_config: SessionConfig, session_id: str
) -> None:
    # A script's unset variable must not judge (or undo on) whichever session came last.
    session = create_session(workspace, tiny_config)
    _, candidates = blank_round(workspace, session.id)
    submit_feedback(workspace, session.id, {"mode": "winner", "winner": candidates[0].id})
    before = stored_state(workspace)
    for act in (
        lambda: get_session(workspace, session_id),
        lambda: submit_feedback(workspace, session_id, {"mode": "winner", "winner": 1}),
        lambda: undo_last_feedback(workspace, session_id),
    ):
        with pytest.raises(InvalidInput, match="session id: empty"):
            act()
    assert stored_state(workspace) == before
    assert get_session(workspace, "latest").id == get_session(workspace).id == session.id


@pytest.mark.parametrize("option", ["data_root", "labels_dir"])
@pytest.mark.parametrize("value", ["", "   "])
def test_an_empty_data_root_or_label_folder_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, option: str, value: str
) -> None:
    # `Path("")` is the current folder: a database would appear wherever the script ran.
    monkeypatch.chdir(tmp_path)
    folders = {"data_root": str(tmp_path / "data"), "labels_dir": str(tmp_path / "labels")}
    with pytest.raises(InvalidInput, match=option.replace("_", " ") + ": empty"):
        Workspace.open(**{**folders, option: value})
    assert list(tmp_path.iterdir()) == []
