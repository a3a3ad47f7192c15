"""Next-choice accuracy: each round is predicted only from the rounds before it, scored
against what was chosen, with chance beside it; the curves' tables and their CSV."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from steering_core import derived
from steering_core.config import SessionConfig
from steering_core.models import PREFERENCE_MODELS
from steering_core.next_choice import next_choice_table
from steering_core.sessions import create_session, submit_feedback
from steering_core.storage.workspace import Workspace
from steering_core.views.curve_tables import (
    csv_text,
    curve_series,
    curve_tables,
    curves_zip,
    write_curve_csvs,
)
from steering_core.views.curve_values import UTILITY_FROM_PROMPT
from tests.steering_core.helpers import blank_round


def _judged_session(workspace: Workspace, config: SessionConfig, winners: list[int]) -> str:
    """A session of one round per winner slot, each judged by picking that slot."""
    session = create_session(workspace, config)
    for slot in winners:
        _, candidates = blank_round(workspace, session.id)
        submit_feedback(workspace, session.id, {"mode": "winner", "winner": candidates[slot].id})
    return session.id


def test_a_round_is_predicted_from_earlier_rounds_only(
    workspace: Workspace, tiny_config: SessionConfig
) -> None:
    # The researcher picks slot 1 in rounds 0 and 1 and then slot 2 in round 2.
    session_id = _judged_session(workspace, tiny_config, [1, 1, 2])
    table = next_choice_table(workspace, session_id)
    assert list(table["round_index"]) == [0, 1, 2]
    # Round 0 has nothing before it: no value, not a guess.
    assert table.loc[0, ["accuracy", "chance", "running_accuracy"]].isna().all()
    k = tiny_config.k
    for round_index in (1, 2):
        row = table.loc[round_index]
        assert row["comparisons"] == k - 1  # the winner over each of the others
        assert row["chance"] == 0.5 and row["pick_chance"] == pytest.approx(1 / k)
        assert row["accuracy"] == pytest.approx(row["agreed"] / row["comparisons"])
    # Round 2's own judgment, had it leaked into its fit, would make the model rank its
    # winner first: every one of its comparisons right and the pick predicted.
    last = table.loc[2]
    assert last["accuracy"] < 1 and last["picks_predicted"] == 0
    assert last["running_accuracy"] == pytest.approx(
        table["agreed"].sum() / table["comparisons"].sum()
    )


def test_a_new_judgment_does_not_change_the_earlier_rounds_scores(
    workspace: Workspace, tiny_config: SessionConfig
) -> None:
    session_id = _judged_session(workspace, tiny_config, [1, 1, 2])
    before = next_choice_table(workspace, session_id)
    derived.finish_stores()
    _, candidates = blank_round(workspace, session_id)
    submit_feedback(workspace, session_id, {"mode": "winner", "winner": candidates[3].id})
    after = next_choice_table(workspace, session_id)
    assert len(after) == 4 and after.loc[3, "comparisons"] == tiny_config.k - 1
    pd.testing.assert_frame_equal(after.iloc[:3], before, check_dtype=False)


def test_the_prompt_has_utility_zero_in_exactly_the_models_that_say_so() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(8, 4))
    comparisons = np.array([[1, 2], [3, 4], [1, 5], [6, 7]])
    for name in PREFERENCE_MODELS.names():
        model = PREFERENCE_MODELS.get(name)().fit(X, comparisons)
        at_prompt = float(model.predict(np.zeros((1, 4)))[0][0])
        assert (abs(at_prompt) < 1e-9) == (name in UTILITY_FROM_PROMPT), (name, at_prompt)


def test_every_curve_is_exported_as_csv_from_the_table_it_is_drawn_from(
    workspace: Workspace, tiny_config: SessionConfig, tmp_path: Path
) -> None:
    session_id = _judged_session(workspace, tiny_config, [1, 1, 2])
    series = curve_series(workspace, session_id)
    tables = curve_tables(series)
    assert set(tables) == {"loss", "utility", "step", "value", "decision", "next_choice"}
    utility = pd.read_csv(io.StringIO(csv_text(tables["utility"])))
    assert list(utility.columns) == ["round", "utility", "utility_sd", "verdict"]
    assert list(utility["round"]) == [0, 1, 2]
    assert list(utility["utility"]) == pytest.approx(series["incumbent_utility"])
    choice = pd.read_csv(io.StringIO(csv_text(tables["next_choice"])))
    table = next_choice_table(workspace, session_id)
    assert np.isnan(choice.loc[0, "accuracy"])  # an empty cell, not "nan" or 0
    assert list(choice["accuracy"][1:]) == pytest.approx(list(table["accuracy"][1:]))
    assert list(choice["chance"][1:]) == [0.5, 0.5]
    loss = pd.read_csv(io.StringIO(csv_text(tables["loss"])))
    assert list(loss.columns) == ["fit_before_round", "iteration", "loss"]
    last = loss[loss["fit_before_round"] == 2]["loss"]
    assert list(last) == pytest.approx(series["loss_history"][-1])

    written = write_curve_csvs(tables, tmp_path / "out")
    assert sorted(p.name for p in written) == sorted(f"curve-{k}.csv" for k in tables)
    with zipfile.ZipFile(io.BytesIO(curves_zip(tables))) as archive:
        assert sorted(archive.namelist()) == sorted(p.name for p in written)
        assert archive.read("curve-utility.csv").decode() == csv_text(tables["utility"])
