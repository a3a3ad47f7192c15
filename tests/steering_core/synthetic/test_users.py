"""Synthetic users: valid judgments in every mode, noiseless answers that are right, and noise
that behaves as its parameters say."""

from __future__ import annotations

import numpy as np
import pytest

from steering_core.errors import InvalidInput
from steering_core.feedback import FEEDBACK_MODE_NAMES, normalize, parse_feedback
from steering_core.synthetic import AnchorUser, NoiseModel, Shown

TARGET = np.array([0.5, -0.2, 0.1])


def round_of(vectors: list[list[float]]) -> list[Shown]:
    return [Shown(100 + i, i, np.array(v, dtype=float)) for i, v in enumerate(vectors)]


SHOWN = round_of([[0, 0, 0], [0.45, -0.2, 0.1], [0.2, 0, 0], [-0.3, 0.3, 0], [0.3, -0.1, 0.1]])


@pytest.mark.parametrize("mode", [m for m in FEEDBACK_MODE_NAMES if m != "critique"])
def test_every_answer_is_valid_feedback(mode: str) -> None:
    user = AnchorUser(target=TARGET, noise=NoiseModel(temperature=0.1, reversal_probability=0.2))
    rng = np.random.default_rng(0)
    for round_index in range(20):
        raw = user.judge(SHOWN, mode, round_index, rng)
        feedback = parse_feedback(raw)
        normalize(feedback, [s.candidate_id for s in SHOWN])  # names only shown candidates


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
    assert user.judge(tie, "winner", 0, np.random.default_rng(0)) == {"mode": "cannot_decide"}
    forced = AnchorUser(target=TARGET, noise=NoiseModel(tie_threshold=0.05))
    assert forced.judge(tie, "winner", 0, np.random.default_rng(0))["mode"] == "winner"
    far = round_of([[-2, 2, 0], [-2, 2.1, 0]])
    picky = AnchorUser(target=TARGET, noise=NoiseModel(uses_reject_all=True, reject_below=-1.0))
    assert picky.judge(far, "winner", 0, np.random.default_rng(0))["mode"] == "reject_all"


def test_bad_noise_parameters_are_refused() -> None:
    with pytest.raises(InvalidInput, match=r"noise\.reversal_probability"):
        NoiseModel(reversal_probability=1.5)
