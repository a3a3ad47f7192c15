"""Convergence verdicts from utility, step-size and incumbent series."""

from __future__ import annotations

import pytest

from steering_core.convergence import detect, repeated_winner


def test_too_few_rounds_to_judge() -> None:
    assert detect([0.1, 0.2]).status == "continue"


def test_rising_utility_continues() -> None:
    verdict = detect([-1.0, -0.8, -0.6, -0.4, -0.2])
    assert verdict.status == "continue" and verdict.evidence["trend"] > 0


def test_falling_utility_is_degrading() -> None:
    assert detect([-0.2, -0.2, -0.3, -0.5, -0.7, -0.9]).status == "degrading"


def test_flat_with_the_same_incumbent_and_small_steps_is_optimal() -> None:
    verdict = detect(
        [-1.0, -0.5, -0.1, -0.1, -0.1, -0.1, -0.1],
        step_sizes=[0.3, 0.3, 0.2, 0.0, 0.0, 0.0, 0.0],
        incumbent_ids=[1, 5, 9, 9, 9, 9, 9],
    )
    assert verdict.status == "optimal" and verdict.evidence["repeated_winner"] == 5


def test_flat_while_wandering_is_a_plateau() -> None:
    verdict = detect(
        [-1.0, -0.5, -0.3, -0.3, -0.3, -0.3],
        step_sizes=[0.3, 0.3, 0.3, 0.25, 0.3, 0.28],
        incumbent_ids=[1, 2, 3, 4, 5, 6],
    )
    assert verdict.status == "plateau"


def test_repeated_winner_counts_back_from_the_last_round() -> None:
    assert repeated_winner([1, 2, 2, 3, 3, 3]) == 3
    assert repeated_winner([4]) == 1


def test_bad_window_is_refused() -> None:
    with pytest.raises(ValueError):
        detect([1.0, 2.0], window=1)
