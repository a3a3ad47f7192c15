"""Synthetic users: valid judgments in every mode, noiseless answers that are right, noise
that behaves as its parameters say; the image user judges real images, the diversity user
remembers its picks and replays exactly."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from PIL import Image

from steering_core.builtin import world
from steering_core.config import GeneratorConfig, SessionConfig, make_config
from steering_core.errors import InvalidInput
from steering_core.feedback import ELSEWHERE, FEEDBACK_MODES, normalize, parse_feedback
from steering_core.generators import make_generator
from steering_core.generators.builtin_backend import BuiltinGenerator
from steering_core.sessions import get_candidates, get_feedback_events, get_session
from steering_core.storage.workspace import Workspace
from steering_core.synthetic import AnchorUser, NoiseModel, Shown
from steering_core.synthetic.simulate import simulate_session
from steering_core.synthetic.users import SYNTHETIC_USERS, DiversityUser, ImageAnchorUser

TARGET = np.array([0.5, -0.2, 0.1])


def round_of(vectors: list[list[float]]) -> list[Shown]:
    return [Shown(100 + i, i, np.array(v, dtype=float)) for i, v in enumerate(vectors)]


SHOWN = round_of([[0, 0, 0], [0.45, -0.2, 0.1], [0.2, 0, 0], [-0.3, 0.3, 0], [0.3, -0.1, 0.1]])


def assert_judges_the_round(raw: dict[str, Any], mode: str, shown: list[Shown]) -> None:
    """The answer is valid feedback in `mode` about the shown candidates only, and carries
    evidence: at least one comparison, each between shown candidates (or "elsewhere")."""
    ids = [s.candidate_id for s in shown]
    feedback = parse_feedback(raw)
    assert feedback.mode == mode
    assert set(feedback.candidate_ids()) <= set(ids)
    comparisons = normalize(feedback, ids).comparisons
    assert comparisons
    for comparison in comparisons:
        assert comparison.winner in {*ids, ELSEWHERE} and comparison.loser in ids


@pytest.mark.parametrize("mode", [m.mode_name() for m in FEEDBACK_MODES if m.synthetic])
def test_every_answer_is_valid_feedback(mode: str) -> None:
    user = AnchorUser(target=TARGET, noise=NoiseModel(temperature=0.1, reversal_probability=0.2))
    rng = np.random.default_rng(0)
    for round_index in range(20):
        assert_judges_the_round(user.judge(SHOWN, mode, round_index, rng), mode, SHOWN)


def test_a_noiseless_user_answers_truthfully() -> None:
    user = AnchorUser(target=TARGET)
    rng = np.random.default_rng(0)
    assert user.judge(SHOWN, "winner", 0, rng) == {"mode": "winner", "winner": 101}
    assert user.judge(SHOWN, "ranking", 0, rng)["order"] == [101, 104, 102]
    pairwise = user.judge(SHOWN, "pairwise", 0, rng)
    assert (pairwise["first"], pairwise["second"], pairwise["choice"]) == (100, 101, "second")
    stars = user.judge(SHOWN, "rating", 0, rng)["ratings"]
    assert stars["101"] == 5 and stars["101"] >= stars["104"] >= stars["102"] >= stars["103"]
    approve = user.judge(SHOWN, "approve_reject", 0, rng)
    assert approve["approved"] == [101] and approve["rejected"] == [103]


def test_reversal_probability_is_the_error_rate_of_a_clear_choice() -> None:
    user = AnchorUser(target=TARGET, noise=NoiseModel(reversal_probability=0.3))
    rng = np.random.default_rng(1)
    wrong = sum(user.judge(SHOWN, "winner", 0, rng)["winner"] != 101 for _ in range(2000))
    assert 0.26 < wrong / 2000 < 0.34


def test_temperature_and_fatigue_make_choices_noisier() -> None:
    def error_rate(noise: NoiseModel, round_index: int) -> float:
        user = AnchorUser(target=TARGET, noise=noise)
        rng = np.random.default_rng(2)
        picks = [user.judge(SHOWN, "winner", round_index, rng)["winner"] for _ in range(1000)]
        return float(np.mean([p != 101 for p in picks]))

    assert error_rate(NoiseModel(temperature=0.01), 0) < 0.05
    cool, warm = (
        error_rate(NoiseModel(temperature=0.05), 0),
        error_rate(NoiseModel(temperature=0.2), 0),
    )
    assert cool < warm
    tired = error_rate(NoiseModel(temperature=0.05, fatigue=1.0), 10)
    assert tired > cool


def test_near_ties_and_reject_all_for_users_who_use_them() -> None:
    tie = round_of([[0.5, -0.2, 0.1], [0.5, -0.2, 0.11], [-1, 1, 1]])
    user = AnchorUser(target=TARGET, noise=NoiseModel(tie_threshold=0.05, uses_cannot_decide=True))
    answer = user.judge(tie, "winner", 0, np.random.default_rng(0))
    assert answer["mode"] == "cannot_decide" and sorted(answer["between"]) == [100, 101]
    forced = AnchorUser(target=TARGET, noise=NoiseModel(tie_threshold=0.05))
    assert forced.judge(tie, "winner", 0, np.random.default_rng(0))["mode"] == "winner"
    far = round_of([[-2, 2, 0], [-2, 2.1, 0]])
    picky = AnchorUser(target=TARGET, noise=NoiseModel(uses_reject_all=True, reject_below=-1.0))
    assert picky.judge(far, "winner", 0, np.random.default_rng(0))["mode"] == "reject_all"


def test_bad_noise_parameters_are_refused() -> None:
    with pytest.raises(InvalidInput, match=r"noise\.reversal_probability"):
        NoiseModel(reversal_probability=1.5)


# --- image_anchor: judges the images by their colours ----------------------------------------

BLUE, WHITE = world.COLOURS["blue"], world.COLOURS["white"]


def scene_image(shape: str, foreground: str, background: str) -> Image.Image:
    """A 32 x 32 image of the procedural world, drawn exactly from its attributes."""
    return Image.fromarray(world.render(world.Scene(shape, foreground, background)))


def image_round(scenes: list[tuple[str, str, str]]) -> list[Shown]:
    return [
        Shown(200 + i, i, np.array([float(i)]), scene_image(*scene))
        for i, scene in enumerate(scenes)
    ]


IMAGES = image_round(
    [
        ("circle", "red", "white"),  # background right, shape wrong
        ("square", "blue", "white"),  # both right: the target
        ("star", "green", "yellow"),  # both wrong
        ("ring", "blue", "grey"),  # shape right, background a near miss (ΔE 20)
    ]
)


def test_the_image_user_prefers_the_image_with_the_target_colours() -> None:
    user = ImageAnchorUser(background=WHITE, foreground=BLUE)
    utility = user.utility(IMAGES)
    assert utility.shape == (4,) and np.all(utility <= 0)
    assert int(np.argmax(utility)) == 1 and utility[1] > -0.02  # an exact render: ΔE ~ 0
    assert utility[0] > utility[2] and utility[3] > utility[2]  # one colour right beats none
    rng = np.random.default_rng(0)
    assert user.judge(IMAGES, "winner", 0, rng) == {"mode": "winner", "winner": 201}
    assert user.judge(IMAGES, "rating", 0, rng)["ratings"]["201"] == 5
    # Judging the foreground alone: the blue ring on grey is as good as the blue square.
    shape_only = ImageAnchorUser(foreground=BLUE).utility(IMAGES)
    assert shape_only[3] > -0.02 and shape_only[1] > -0.02 and shape_only[0] < -0.3


def test_the_image_user_scores_a_missing_shape_as_far_as_black_from_white() -> None:
    plain = Shown(1, 0, np.zeros(1), Image.new("RGB", (32, 32), WHITE))
    assert ImageAnchorUser(foreground=BLUE).utility([plain])[0] == pytest.approx(-1.0)
    assert ImageAnchorUser(background=WHITE).utility([plain])[0] == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("mode", [m.mode_name() for m in FEEDBACK_MODES if m.synthetic])
def test_every_answer_of_the_image_user_is_valid_feedback(mode: str) -> None:
    user = ImageAnchorUser(
        background=WHITE,
        foreground=BLUE,
        noise=NoiseModel(temperature=0.05, reversal_probability=0.2),
    )
    rng = np.random.default_rng(0)
    for round_index in range(5):
        assert_judges_the_round(user.judge(IMAGES, mode, round_index, rng), mode, IMAGES)


def test_the_image_user_refuses_a_candidate_without_an_image() -> None:
    shown = [*IMAGES[:2], Shown(300, 2, np.zeros(1))]
    with pytest.raises(InvalidInput, match=r"candidate 300 \(slot 2\) has no image.*generator"):
        ImageAnchorUser(foreground=BLUE).judge(shown, "winner", 0, np.random.default_rng(0))


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"foreground": "#12345"}, r"image_anchor\.foreground: must be a hex colour"),
        ({"background": "blue"}, r"image_anchor\.background: must be a hex colour"),
        ({"foreground": "#4363dg"}, r"image_anchor\.foreground"),
        ({}, r"image_anchor: give a target background or foreground"),
        ({"foreground": BLUE, "scale": 0.0}, r"image_anchor\.scale"),
    ],
)
def test_bad_image_targets_are_refused(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        ImageAnchorUser(**fields)


@pytest.fixture(scope="module")
def shipped_generator() -> BuiltinGenerator:
    generator = make_generator(GeneratorConfig(backend="builtin", device="cpu"))
    generator.load()
    return generator


def test_the_image_user_steers_the_shipped_model_through_the_real_feedback_path(
    workspace: Workspace, shipped_generator: BuiltinGenerator
) -> None:
    config = make_config(
        {
            "prompt": "a red circle on a white background",
            "generator": {"backend": "builtin", "device": "cpu"},
            "steps": 10,  # half the default: enough for clean colours, ~0.3 s a round
            "guidance_scale": 3.0,
            "k": 4,
            "d": 1,
            "basis": {"kind": "attribute", "pairs": [["red", "blue"]]},
            "seed": 0,
        }
    )
    user = ImageAnchorUser(foreground=BLUE)
    result = simulate_session(
        workspace, config, user, rounds=3, mode="winner", seed=0, generator=shipped_generator
    )
    assert get_session(workspace, result.session_id).source == "synthetic"
    events = get_feedback_events(workspace, result.session_id)
    assert [(e.source, e.mode) for e in events] == [("synthetic", "winner")] * 3
    assert all(e.comparisons for e in events)
    candidates = get_candidates(workspace, result.session_id)
    assert len(candidates) == 12 and all(c.image_path for c in candidates)
    assert result.distances_to_target == []  # an image user has no distance in the space
    assert all(-1.0 <= u <= 0.0 for u in result.incumbent_utilities)
    # Noiseless and deterministic: the incumbent walks the red -> blue axis (~-0.45 to
    # ~-0.05 in every seed tried); a loose floor, not a convergence claim.
    assert result.incumbent_utilities[-1] > result.incumbent_utilities[0] + 0.1


# --- diversity: several centres, and a pull towards the ones not found yet -----------------

CENTRES = np.array([[1.0, 0.0], [-1.0, 0.0]])


def test_after_a_pick_at_one_centre_the_diversity_user_prefers_the_other() -> None:
    user = DiversityUser(centres=CENTRES, novelty_weight=0.5, novelty_cap=0.5)
    near_first, near_second = round_of([[1.0, 0.1], [-1.0, 0.1]])
    before = user.utility([near_first, near_second])
    assert before[0] == pytest.approx(before[1])  # equally good before anything was picked
    first_round = round_of([[0.0, 0.0], [0.95, 0.0], [0.3, 0.3]])
    assert user.judge(first_round, "winner", 0, np.random.default_rng(0))["winner"] == 101
    assert len(user.picks) == 1
    np.testing.assert_array_equal(user.picks[0], [0.95, 0.0])
    after = user.utility([near_first, near_second])
    assert after[1] > after[0]
    assert after[1] == pytest.approx(-0.1)  # far from every pick: no novelty penalty, 0 best
    # A new session (round 0) starts without memory.
    user.judge(round_of([[0.0, 0.0], [-0.9, 0.0]]), "winner", 0, np.random.default_rng(0))
    assert len(user.picks) == 1


def test_the_diversity_user_measures_coverage_and_distance() -> None:
    user = DiversityUser(centres=CENTRES)
    assert user.coverage(np.array([[0.9, 0.0], [0.0, 0.0]]), radius=0.2) == 0.5
    assert user.coverage(np.array([[0.9, 0.0], [-1.05, 0.1]]), radius=0.2) == 1.0
    assert user.coverage(np.zeros((0, 2)), radius=0.2) == 0.0
    assert user.distance_to_target(np.array([-0.7, 0.4])) == pytest.approx(0.5)
    with pytest.raises(InvalidInput, match="radius"):
        user.coverage(np.zeros((1, 2)), radius=-1.0)
    with pytest.raises(InvalidInput, match="do not match centres of dimension d=2"):
        user.coverage(np.zeros((1, 3)), radius=0.1)


@pytest.mark.parametrize("mode", [m.mode_name() for m in FEEDBACK_MODES if m.synthetic])
def test_every_answer_of_the_diversity_user_is_valid_feedback(mode: str) -> None:
    user = DiversityUser(
        centres=np.array([TARGET, -TARGET]),
        noise=NoiseModel(temperature=0.1, reversal_probability=0.2, tie_threshold=0.01),
    )
    rng = np.random.default_rng(0)
    for round_index in range(10):
        assert_judges_the_round(user.judge(SHOWN, mode, round_index, rng), mode, SHOWN)
    assert len(user.picks) <= 10


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"centres": np.zeros((0, 2))}, r"diversity\.centres"),
        ({"centres": [[0.0, np.nan]]}, r"diversity\.centres"),
        ({"centres": CENTRES, "novelty_weight": -1.0}, r"diversity\.novelty_weight"),
        ({"centres": CENTRES, "novelty_cap": 0.0}, r"diversity\.novelty_cap"),
    ],
)
def test_bad_diversity_parameters_are_refused(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        DiversityUser(**fields)


def test_the_same_seed_replays_a_diversity_session_exactly(
    workspace: Workspace, tiny_config: SessionConfig
) -> None:
    centres = np.array([[0.4, -0.3, 0.2, 0.1], [-0.4, 0.3, 0.0, -0.2]])
    user = DiversityUser(
        centres=centres, noise=NoiseModel(temperature=0.05, reversal_probability=0.1)
    )
    runs = []
    for _ in range(2):
        runs.append(simulate_session(workspace, tiny_config, user, rounds=6, seed=3))
        runs[-1].picks = [p.copy() for p in user.picks]  # type: ignore[attr-defined]

    def judgments_by_slot(session_id: str) -> list[list[tuple]]:
        # Candidate ids differ between the two sessions; their (round, slot) do not.
        where = {c.id: (c.round_index, c.slot) for c in get_candidates(workspace, session_id)}
        where[-1] = "elsewhere"
        return [
            [(where[c["winner"]], where[c["loser"]], c["weight"], c["tie"]) for c in e.comparisons]
            for e in get_feedback_events(workspace, session_id)
        ]

    first, second = runs
    assert judgments_by_slot(first.session_id) == judgments_by_slot(second.session_id)
    assert first.modes == second.modes
    assert first.incumbent_utilities == second.incumbent_utilities  # memory was reset
    assert first.distances_to_target == second.distances_to_target
    assert len(first.distances_to_target) == 6
    for vector, distance in zip(first.incumbent_vectors, first.distances_to_target, strict=True):
        assert distance == pytest.approx(np.linalg.norm(centres - vector, axis=1).min())
    np.testing.assert_array_equal(np.array(first.picks), np.array(second.picks))


def test_an_anchor_simulation_records_the_incumbents_distance_to_the_target(
    workspace: Workspace, tiny_config: SessionConfig
) -> None:
    target = np.array([0.4, -0.3, 0.2, 0.1])
    result = simulate_session(workspace, tiny_config, AnchorUser(target=target), rounds=3)
    expected = [float(np.linalg.norm(v - target)) for v in result.incumbent_vectors]
    assert result.distances_to_target == pytest.approx(expected)
    assert result.distances_to_target == pytest.approx([-u for u in result.incumbent_utilities])


def test_the_new_users_are_registered() -> None:
    assert SYNTHETIC_USERS.get("image_anchor") is ImageAnchorUser
    assert SYNTHETIC_USERS.get("diversity") is DiversityUser
    assert "anchor" in SYNTHETIC_USERS


def test_ratings_span_the_round_unless_absolute() -> None:
    shown = round_of([[0.1, 0.0], [0.2, 0.0], [0.3, 0.0], [0.05, 0.0]])
    relative = AnchorUser(target=np.array([0.0, 0.0])).judge(
        shown, "rating", 0, np.random.default_rng(0)
    )
    assert sorted(relative["ratings"].values()) == [1, 3, 4, 5]  # its best 5, its worst 1
    absolute = AnchorUser(target=np.array([0.0, 0.0]), relative_ratings=False).judge(
        shown, "rating", 0, np.random.default_rng(0)
    )
    assert set(absolute["ratings"].values()) == {4, 5}  # all near the target


def test_a_forced_rater_guesses_where_they_would_rather_not_answer() -> None:
    # Nothing reaches the floor: a forced pick is random, not the truly closest.
    far = round_of([[1.0, 0.0], [1.1, 0.0], [1.2, 0.0], [1.3, 0.0]])
    floor = NoiseModel(reject_below=-0.5)
    user = AnchorUser(target=np.array([0.0, 0.0]), noise=floor)
    rng = np.random.default_rng(0)
    picks = {user.judge(far, "winner", 0, rng)["winner"] for _ in range(40)}
    assert len(picks) == 4
    # Near ties: a coin flip between the top two, never the clearly worse ones.
    tied = round_of([[0.100, 0.0], [0.101, 0.0], [0.5, 0.0], [0.6, 0.0]])
    user = AnchorUser(target=np.array([0.0, 0.0]), noise=NoiseModel(tie_threshold=0.01))
    picks = {user.judge(tied, "winner", 0, rng)["winner"] for _ in range(40)}
    assert picks == {tied[0].candidate_id, tied[1].candidate_id}
