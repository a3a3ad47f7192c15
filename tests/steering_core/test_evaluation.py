"""Offline evaluation: every model predicts each round's judgments from the rounds before."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from steering_core.cli import cli
from steering_core.config import SessionConfig
from steering_core.errors import InvalidInput
from steering_core.evaluation import evaluate_models
from steering_core.models import PREFERENCE_MODELS
from steering_core.storage.workspace import Workspace
from steering_core.synthetic import AnchorUser
from steering_core.synthetic.simulate import simulate_session


def test_models_predict_a_logged_session_better_than_chance(
    workspace: Workspace, tiny_config: SessionConfig
) -> None:
    config = tiny_config.model_copy(update={"k": 6})
    user = AnchorUser(target=np.array([0.4, -0.3, 0.2, 0.1]), scale=1.0)
    session = simulate_session(workspace, config, user, rounds=8, mode="rating", seed=2)
    rows = {r["model"]: r for r in evaluate_models(workspace, session.session_id)}
    assert set(rows) == set(PREFERENCE_MODELS.names())
    for row in rows.values():
        assert row["rounds"] == 7 and row["comparisons"] > 0
        assert 0.5 < row["accuracy"] <= 1  # every model learns something
    # The anchor user's utility is the ideal-point model's form.
    assert rows["ideal_point"]["accuracy"] > 0.8


def test_steer_evaluate_on_the_latest_session(
    workspace: Workspace, tiny_config: SessionConfig
) -> None:
    user = AnchorUser(target=np.array([0.4, -0.3, 0.2, 0.1]))
    simulate_session(workspace, tiny_config, user, rounds=4, mode="winner", seed=0)
    root = ["--data-root", str(workspace.data_root), "--labels-dir", str(workspace.labels_dir)]
    result = CliRunner().invoke(cli, [*root, "evaluate", "--models", "bradley_terry", "--json"])
    assert result.exit_code == 0, result.output
    (rows,) = json.loads(result.output).values()
    assert [r["model"] for r in rows] == ["bradley_terry"]
    bad = CliRunner().invoke(cli, [*root, "evaluate", "--models", "oracle"])
    assert bad.exit_code == 2 and "unknown preference model 'oracle'" in bad.output
    with pytest.raises(InvalidInput):
        evaluate_models(workspace, "latest", ["oracle"])
