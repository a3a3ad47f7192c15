"""Round planning: seed policies, the re-shown incumbent's seed and image, reproducibility."""

from __future__ import annotations

import numpy as np
import pytest

from steering_core.config import PluginConfig, SessionConfig
from steering_core.rounds import candidate_seed, plan_round
from steering_core.sessions import create_session, submit_feedback
from steering_core.storage.workspace import Workspace
from tests.steering_core.helpers import blank_round


def test_seed_policies(tiny_config: SessionConfig) -> None:
    fixed = tiny_config.model_copy(update={"seed_policy": "fixed"})
    assert {candidate_seed(fixed, r, s) for r in range(3) for s in range(4)} == {fixed.seed}
    per_round = tiny_config.model_copy(update={"seed_policy": "per_round"})
    seeds = [[candidate_seed(per_round, r, s) for s in range(4)] for r in range(3)]
    assert all(len(set(row)) == 1 for row in seeds) and len({row[0] for row in seeds}) == 3
    per_candidate = tiny_config.model_copy(update={"seed_policy": "per_candidate"})
    assert len({candidate_seed(per_candidate, 0, s) for s in range(4)}) == 4
    assert candidate_seed(per_candidate, 1, 2) == candidate_seed(per_candidate, 1, 2)


def test_the_incumbent_keeps_its_seed_under_every_policy(
    workspace: Workspace, tiny_config: SessionConfig
) -> None:
    config = tiny_config.model_copy(update={"seed_policy": "per_candidate"})
    session = create_session(workspace, config)
    _, first = blank_round(workspace, session.id)
    submit_feedback(workspace, session.id, {"mode": "winner", "winner": first[3].id})
    plan = plan_round(workspace, session.id)
    assert plan.seeds[0] == first[3].seed
    assert plan.reused_images == {0: first[3].image_path}
    assert len(set(plan.seeds[1:])) == config.k - 1


def test_a_plan_is_reproducible_from_the_seed_and_the_feedback(
    workspace: Workspace, tiny_config: SessionConfig
) -> None:
    plans = []
    for _ in range(2):
        session = create_session(workspace, tiny_config)
        _, first = blank_round(workspace, session.id)
        submit_feedback(workspace, session.id, {"mode": "winner", "winner": first[1].id})
        plans.append(plan_round(workspace, session.id))
    np.testing.assert_array_equal(plans[0].proposal.vectors, plans[1].proposal.vectors)
    assert plans[0].proposal.roles == plans[1].proposal.roles


def test_the_adaptive_sampler_sees_the_incumbent_path_and_reject_all(
    workspace: Workspace, tiny_config: SessionConfig
) -> None:
    config = tiny_config.model_copy(
        update={"sampler": PluginConfig(name="adaptive_trust_region"), "trust_radius": 0.2}
    )
    session = create_session(workspace, config)
    _, first = blank_round(workspace, session.id)
    submit_feedback(workspace, session.id, {"mode": "winner", "winner": first[2].id})
    moved = plan_round(workspace, session.id)
    assert moved.proposal.metadata[1]["radius"] == pytest.approx(0.2 * 1.5)
    blank_round(workspace, session.id)
    submit_feedback(workspace, session.id, {"mode": "reject_all"})
    stalled = plan_round(workspace, session.id)
    assert stalled.proposal.metadata[1]["radius"] == pytest.approx(0.2 * 0.7 * 0.7)


def test_a_probe_round_reshows_an_earlier_pair_exactly_and_measures_consistency(
    workspace: Workspace, tiny_config: SessionConfig
) -> None:
    config = tiny_config.model_copy(update={"repeat_probe_every": 2, "k": 5})
    session = create_session(workspace, config)
    _, first = blank_round(workspace, session.id)
    submit_feedback(workspace, session.id, {"mode": "winner", "winner": first[1].id})
    _, second = blank_round(workspace, session.id)
    assert "probe" not in [c.role for c in second]
    submit_feedback(workspace, session.id, {"mode": "winner", "winner": second[2].id})
    _, third = blank_round(workspace, session.id)
    probes = [c for c in third if c.role == "probe"]
    assert probes, "round 2 should hold a hidden repeat probe"
    for probe in probes:
        original = next(c for c in [*first, *second] if c.id == probe.parent_candidate_id)
        np.testing.assert_array_equal(probe.steering_vector, original.steering_vector)
        assert (probe.seed, probe.image_path) == (original.seed, original.image_path)
    # Picking a probe compares it again with the other of the pair (the other probe, or the
    # incumbent when the incumbent was one of them): a repeat the model measures.
    submit_feedback(workspace, session.id, {"mode": "winner", "winner": probes[-1].id})
    state = plan_round(workspace, session.id).model_state
    assert state["rater_repeats"] >= 1


def test_every_round_stores_its_convergence_verdict_and_value_of_another_round(
    workspace: Workspace, tiny_config: SessionConfig
) -> None:
    session = create_session(workspace, tiny_config)
    for _ in range(6):
        _, candidates = blank_round(workspace, session.id)
        submit_feedback(workspace, session.id, {"mode": "winner", "winner": candidates[0].id})
    round_record, _ = blank_round(workspace, session.id)
    state = round_record.model_state
    assert state["convergence"]["status"] in ("continue", "plateau", "degrading", "optimal")
    assert state["convergence"]["evidence"]["window"] == 4
    assert state["value_of_another_round"] >= 0
    assert state["recommendation"] in ("stop", "continue")
    # Keeping the incumbent six rounds in a row is a settled search.
    assert state["convergence"]["evidence"]["repeated_winner"] >= 4
