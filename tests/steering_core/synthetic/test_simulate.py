"""Simulated sessions go through the real feedback path, are marked synthetic, replay exactly,
and get closer to the hidden target."""

from __future__ import annotations

import numpy as np

from steering_core.config import SessionConfig
from steering_core.sessions import get_candidates, get_feedback_events, get_session
from steering_core.storage.workspace import Workspace
from steering_core.synthetic import AnchorUser, NoiseModel
from steering_core.synthetic.simulate import simulate_session


def test_a_simulated_session_is_stored_like_a_human_one(
    workspace: Workspace, tiny_config: SessionConfig
) -> None:
    user = AnchorUser(target=np.array([0.4, -0.3, 0.2, 0.1]))
    result = simulate_session(workspace, tiny_config, user, rounds=4, mode="rating", seed=1)
    assert get_session(workspace, result.session_id).source == "synthetic"
    events = get_feedback_events(workspace, result.session_id)
    assert [e.source for e in events] == ["synthetic"] * 4 and {e.mode for e in events} == {
        "rating"
    }
    rows = workspace.labels.read(result.session_id)
    assert [r["source"] for r in rows] == ["synthetic"] * 4


def test_a_fixed_seed_replays_a_whole_session_exactly(
    workspace: Workspace, tiny_config: SessionConfig
) -> None:
    user = AnchorUser(
        target=np.array([0.4, -0.3, 0.2, 0.1]),
        noise=NoiseModel(temperature=0.05, reversal_probability=0.1),
    )
    runs = [simulate_session(workspace, tiny_config, user, rounds=6, seed=3) for _ in range(2)]
    for a, b in zip(runs[0].incumbent_vectors, runs[1].incumbent_vectors, strict=True):
        np.testing.assert_array_equal(a, b)

    def judgments_by_slot(session_id: str) -> list[list[tuple]]:
        # Candidate ids differ between the two sessions; their (round, slot) do not.
        where = {c.id: (c.round_index, c.slot) for c in get_candidates(workspace, session_id)}
        where[-1] = "elsewhere"
        return [
            [(where[c["winner"]], where[c["loser"]], c["weight"], c["tie"]) for c in e.comparisons]
            for e in get_feedback_events(workspace, session_id)
        ]

    assert judgments_by_slot(runs[0].session_id) == judgments_by_slot(runs[1].session_id)
    assert runs[0].modes == runs[1].modes


def test_the_incumbent_approaches_the_hidden_target(
    workspace: Workspace, tiny_config: SessionConfig
) -> None:
    config = tiny_config.model_copy(update={"k": 8})
    user = AnchorUser(target=np.array([0.6, -0.4, 0.3, 0.0]))
    result = simulate_session(workspace, config, user, rounds=10, mode="winner", seed=0)
    assert result.incumbent_utilities[-1] > 0.5 * result.incumbent_utilities[0]
    assert result.incumbent_utilities == sorted(result.incumbent_utilities)  # never worse
