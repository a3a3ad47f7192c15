"""Undo and the rounds planned from the withdrawn judgment: a stored one is discarded, one
being made is not saved, and nothing else changes (issue 15, defect 1)."""

from __future__ import annotations

import json

import pytest

from steering_core.config import GeneratorConfig, SessionConfig
from steering_core.errors import InvalidInput, RoundSuperseded
from steering_core.generators.base import make_generator
from steering_core.rounds import plan_round, store_round
from steering_core.sessions import (
    create_session,
    fork_session,
    get_candidates,
    get_feedback_events,
    get_rounds,
    latest_round_index,
    submit_feedback,
    withdraw_last_judgment,
)
from steering_core.storage.workspace import Workspace
from steering_core.worker import Worker
from tests.steering_core.helpers import blank_round, stored_state


def _trace_kinds(workspace: Workspace, session_id: str) -> list[dict]:
    path = workspace.data_root / "traces" / f"{session_id}.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_undo_discards_the_round_planned_from_the_withdrawn_judgment(
    workspace: Workspace, tiny_config: SessionConfig
) -> None:
    session = create_session(workspace, tiny_config)
    _, shown = blank_round(workspace, session.id)
    judgment = submit_feedback(workspace, session.id, {"mode": "winner", "winner": shown[2].id})
    _, built = blank_round(workspace, session.id)
    assert all(c.parent_candidate_id == shown[2].id for c in built)  # planned from it

    withdrawal = withdraw_last_judgment(workspace, session.id)

    assert withdrawal.withdrawn.id == judgment.id and withdrawal.discarded_rounds == [1]
    assert withdrawal.describe() == (
        f"withdrew round 0's judgment #{judgment.id} (winner: 3); "
        "discarded round 1, planned from it"
    )
    assert latest_round_index(workspace, session.id) == 0
    assert {c.round_index for c in get_candidates(workspace, session.id)} == {0}
    discarded = [e for e in _trace_kinds(workspace, session.id) if e["kind"] == "round_discarded"]
    assert discarded[0]["round_index"] == 1
    assert discarded[0]["candidate_ids"] == [c.id for c in built]
    # The next round is planned without the judgment: nothing descends from its winner.
    _, again = blank_round(workspace, session.id)
    assert all(c.parent_candidate_id != shown[2].id for c in again)


def test_a_round_planned_before_the_undo_is_not_saved_after_it(
    workspace: Workspace, tiny_config: SessionConfig
) -> None:
    session = create_session(workspace, tiny_config)
    _, shown = blank_round(workspace, session.id)
    submit_feedback(workspace, session.id, {"mode": "winner", "winner": shown[1].id})
    plan = plan_round(workspace, session.id)  # the round being made when undo comes
    withdraw_last_judgment(workspace, session.id)
    before = stored_state(workspace)
    with pytest.raises(RoundSuperseded, match="planned from judgment #1, which was withdrawn"):
        store_round(workspace, plan, {})
    assert stored_state(workspace) == before
    assert latest_round_index(workspace, session.id) == 0


def test_a_later_judgment_withdrawn_leaves_the_round_planned_before_it(
    workspace: Workspace, tiny_config: SessionConfig
) -> None:
    session = create_session(workspace, tiny_config)
    _, shown = blank_round(workspace, session.id)
    submit_feedback(workspace, session.id, {"mode": "winner", "winner": shown[1].id})
    plan = plan_round(workspace, session.id)
    later = submit_feedback(workspace, session.id, {"mode": "winner", "winner": shown[3].id})
    assert withdraw_last_judgment(workspace, session.id).withdrawn.id == later.id
    record, _ = store_round(workspace, plan, {})  # its plan never saw the withdrawn one
    assert record.round_index == 1


def test_two_undos_step_back_two_rounds(workspace: Workspace, tiny_config: SessionConfig) -> None:
    session = create_session(workspace, tiny_config)
    _, r0 = blank_round(workspace, session.id)
    submit_feedback(workspace, session.id, {"mode": "winner", "winner": r0[1].id})
    _, r1 = blank_round(workspace, session.id)
    submit_feedback(workspace, session.id, {"mode": "winner", "winner": r1[2].id})
    blank_round(workspace, session.id)
    assert withdraw_last_judgment(workspace, session.id).discarded_rounds == [2]
    second = withdraw_last_judgment(workspace, session.id)
    assert (second.withdrawn.round_index, second.discarded_rounds) == (0, [1])
    assert [r.round_index for r in get_rounds(workspace, session.id)] == [0]
    # The judgments stay in the history, withdrawn.
    events = get_feedback_events(workspace, session.id)
    assert [e.mode for e in events] == ["winner", "winner", "undo", "undo"]


def test_undo_that_would_discard_a_forked_round_is_refused(
    workspace: Workspace, tiny_config: SessionConfig
) -> None:
    session = create_session(workspace, tiny_config)
    _, r0 = blank_round(workspace, session.id)
    submit_feedback(workspace, session.id, {"mode": "winner", "winner": r0[1].id})
    _, r1 = blank_round(workspace, session.id)
    fork = fork_session(workspace, r1[2].id)
    before = stored_state(workspace)
    with pytest.raises(InvalidInput, match=f"session {fork.id} is a fork of candidate"):
        withdraw_last_judgment(workspace, session.id)
    assert stored_state(workspace) == before


def test_a_round_job_finishing_after_an_undo_does_not_commit(
    workspace: Workspace, tiny_config: SessionConfig
) -> None:
    """The page's worker generates the next round while another process (the CLI) withdraws
    the judgment it was planned from: the round is not stored."""
    session = create_session(workspace, tiny_config)
    _, shown = blank_round(workspace, session.id)
    submit_feedback(workspace, session.id, {"mode": "winner", "winner": shown[1].id})
    other_process = Workspace.open(workspace.data_root, workspace.labels_dir)

    def undo_while_generating(config: GeneratorConfig):  # noqa: ANN202
        generator = make_generator(config)
        original = generator.generate

        def generate(*args: object, **kwargs: object) -> object:
            images = original(*args, **kwargs)
            withdraw_last_judgment(other_process, session.id, source="cli")
            return images

        generator.generate = generate
        return generator

    worker = Worker(workspace, generator_factory=undo_while_generating).start()
    try:
        job = worker.wait(worker.submit_round(session.id), timeout=120)
    finally:
        worker.stop()
    assert job.status == "failed" and job.error_kind == "superseded"
    assert "withdrawn" in (job.error or "")
    assert latest_round_index(workspace, session.id) == 0
