"""Convergence verdicts from utility, step-size and incumbent series."""

from __future__ import annotations

import numpy as np
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


def test_value_of_another_round_is_the_expected_gain_over_the_incumbent() -> None:
    from steering_core.convergence import value_of_another_round
    from steering_core.models.bradley_terry import BradleyTerryModel

    X = np.array([[0.0, 0.0], [0.3, 0.0], [0.6, 0.0]])
    model = BradleyTerryModel().fit(X, np.array([[1, 0], [2, 1], [2, 0]] * 5))
    rng = np.random.default_rng(0)
    same = value_of_another_round(model, X[0], X[:1].repeat(3, axis=0), rng)
    assert same == 0.0  # showing the incumbent again cannot gain anything
    toward = value_of_another_round(model, X[0], X[2:], rng)
    away = value_of_another_round(model, X[0], -X[2:], rng)
    assert toward > away >= 0


def test_session_verdict_scores_the_incumbent_path_with_one_model() -> None:
    from steering_core.convergence import session_verdict
    from steering_core.models.bradley_terry import BradleyTerryModel

    X = np.array([[0.0, 0.0], [0.3, 0.0], [0.6, 0.0]])
    model = BradleyTerryModel().fit(X, np.array([[1, 0], [2, 1], [2, 0]] * 5))
    rising = session_verdict(model, np.array([[0.0, 0], [0.1, 0], [0.2, 0], [0.3, 0], [0.4, 0]]))
    assert rising.status == "continue"
    settled = session_verdict(model, np.array([[0.6, 0.0]] * 6))
    assert settled.status == "optimal" and settled.evidence["repeated_winner"] == 6
