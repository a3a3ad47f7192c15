"""Round planning: seed policies, the re-shown incumbent's seed and image, reproducibility,
and rounds asked for around chosen candidates or with their own size."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from steering_core.config import PluginConfig, SessionConfig
from steering_core.errors import InvalidInput
from steering_core.rounds import candidate_seed, generate_round, plan_round
from steering_core.sessions import create_session, submit_feedback
from steering_core.storage.workspace import Workspace
from tests.conftest import tiny_session_config
from tests.steering_core.helpers import blank_round, stored_state


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


def test_a_round_around_two_candidates_reshows_them_and_varies_each(
    workspace: Workspace, tiny_config: SessionConfig
) -> None:
    session = create_session(workspace, tiny_config)
    _, first = blank_round(workspace, session.id)
    submit_feedback(workspace, session.id, {"mode": "winner", "winner": first[2].id})
    kept = [first[1], first[3]]
    plan = plan_round(workspace, session.id, around=[c.id for c in kept], k=8)

    assert plan.config.k == 8 and len(plan.proposal.vectors) == 8
    assert plan.proposal.roles == ["incumbent", "kept", "kept", *["variation"] * 5]
    np.testing.assert_array_equal(plan.proposal.vectors[0], first[2].steering_vector)
    assert plan.parents[0] == first[2].id and plan.seeds[0] == first[2].seed
    for slot, candidate in ((1, kept[0]), (2, kept[1])):
        np.testing.assert_array_equal(plan.proposal.vectors[slot], candidate.steering_vector)
        assert plan.seeds[slot] == candidate.seed
        assert plan.parents[slot] == candidate.id
        assert plan.reused_images[slot] == candidate.image_path
    assert set(plan.reused_images) == {0, 1, 2}  # the variations are rendered
    radius = 0.5 * tiny_config.trust_radius
    varied = {c.id: c for c in kept}
    for slot in range(3, 8):
        parent = varied[plan.parents[slot]]
        assert plan.proposal.metadata[slot]["reason"] == f"variation of candidate {parent.id}"
        assert plan.proposal.metadata[slot]["around"] == parent.id
        distance = np.linalg.norm(plan.proposal.vectors[slot] - parent.steering_vector)
        assert distance == pytest.approx(radius)
    # Spread evenly: five variations over two kept candidates, three and two.
    assert sorted(plan.parents[3:].count(c.id) for c in kept) == [2, 3]
    assert len({v.tobytes() for v in plan.proposal.vectors}) == 8
    assert plan.model_state["around"] == [c.id for c in kept] and plan.model_state["k"] == 8

    again = plan_round(workspace, session.id, around=[c.id for c in kept], k=8)
    np.testing.assert_array_equal(again.proposal.vectors, plan.proposal.vectors)
    assert again.seeds == plan.seeds and again.parents == plan.parents

    _, shown = blank_round(workspace, session.id, around=[c.id for c in kept], k=8)
    assert [c.role for c in shown] == plan.proposal.roles
    assert [c.image_path for c in shown[:3]] == [first[2].image_path, *(c.image_path for c in kept)]
    assert [c.parent_candidate_id for c in shown] == plan.parents


def test_a_kept_candidate_that_is_the_incumbent_is_shown_once(
    workspace: Workspace, tiny_config: SessionConfig
) -> None:
    session = create_session(workspace, tiny_config)
    _, first = blank_round(workspace, session.id)
    submit_feedback(workspace, session.id, {"mode": "winner", "winner": first[2].id})
    # "More like this" on the incumbent itself: all other slots vary it.
    plan = plan_round(workspace, session.id, around=[first[2].id])
    assert plan.proposal.roles == ["incumbent", "variation", "variation", "variation"]
    assert plan.parents == [first[2].id] * 4
    np.testing.assert_array_equal(plan.proposal.vectors[0], first[2].steering_vector)


def test_k_overrides_the_round_size_for_one_round(
    workspace: Workspace, tiny_config: SessionConfig
) -> None:
    session = create_session(workspace, tiny_config)
    record, wide = blank_round(workspace, session.id, k=12)
    assert len(wide) == 12 and wide[0].role == "baseline"
    assert {c.role for c in wide[1:]} <= {"exploit", "explore"}
    assert record.model_state["around"] is None and record.model_state["k"] == 12
    record, normal = blank_round(workspace, session.id)
    assert len(normal) == tiny_config.k and "around" not in record.model_state


@pytest.mark.parametrize(
    ("request_kind", "expected"),
    [
        ("missing id", "around: there is no candidate #999999"),
        ("other session", "belongs to session"),
        ("twice", "is named twice"),
        ("empty", "around: name at least one candidate"),
        ("too many", "do not fit in a round of k=4"),
        ("k too small", "k: must be greater than or equal to 2 (got 1)"),
        ("k too large", "k: must be less than or equal to 32 (got 33)"),
        ("k not a number", "k: must be a whole number"),
    ],
)
def test_bad_around_or_k_is_refused_and_stores_nothing(
    workspace: Workspace, tiny_config: SessionConfig, request_kind: str, expected: str
) -> None:
    session = create_session(workspace, tiny_config)
    other = create_session(workspace, tiny_config)
    _, first = blank_round(workspace, session.id)
    _, foreign = blank_round(workspace, other.id)
    submit_feedback(workspace, session.id, {"mode": "winner", "winner": first[0].id})
    _, second = blank_round(workspace, session.id)
    options = {
        "missing id": {"around": [first[1].id, 999999]},
        "other session": {"around": [foreign[1].id]},
        "twice": {"around": [first[1].id, first[1].id]},
        "empty": {"around": []},
        # Four candidates besides the incumbent need five slots.
        "too many": {"around": [first[1].id, first[2].id, first[3].id, second[1].id]},
        "k too small": {"k": 1},
        "k too large": {"around": [first[1].id], "k": 33},
        "k not a number": {"k": 4.5},
    }[request_kind]
    before = stored_state(workspace)
    with pytest.raises(InvalidInput, match=re.escape(expected)):
        generate_round(workspace, None, session.id, **options)  # type: ignore[arg-type]
    assert stored_state(workspace) == before


def test_a_steering_space_is_built_once_and_shared_through_the_data_root(
    workspace: Workspace, tiny_builtin_path: Path
) -> None:
    from steering_core.generators import make_generator
    from steering_core.steering_space import DEFAULT_VARIATIONS

    config = tiny_session_config(
        tiny_builtin_path,
        generator={"backend": "builtin", "model": str(tiny_builtin_path), "device": "cpu"},
        basis={"kind": "pca"},
        width=None,
        height=None,
    )
    session = create_session(workspace, config)

    def counted_generator() -> tuple[Any, list[str]]:
        # A new generator per round, as a new `steer round` process would have.
        generator = make_generator(config.generator)
        encoded: list[str] = []
        encode = generator.encode

        def counting(prompt: str, negative_prompt: str = "") -> Any:
            encoded.append(prompt)
            return encode(prompt, negative_prompt)

        generator.encode = counting  # type: ignore[method-assign]
        return generator, encoded

    generator, encoded = counted_generator()
    _, first = generate_round(workspace, generator, session.id)
    assert len(encoded) == 1 + len(DEFAULT_VARIATIONS)  # the prompt, then every variation
    submit_feedback(workspace, session.id, {"mode": "winner", "winner": first[1].id})
    generator, encoded = counted_generator()
    generate_round(workspace, generator, session.id)
    assert encoded == [config.prompt]  # the basis came from the cache
    other = create_session(workspace, config.model_copy(update={"prompt": "a green square"}))
    generator, encoded = counted_generator()
    generate_round(workspace, generator, other.id)
    assert len(encoded) == 1 + len(DEFAULT_VARIATIONS)  # another prompt, another space
