"""Counterfactual replay: the logged session's own model re-makes every logged incumbent
choice (so the replay really re-runs the session's logic), other models are compared with
it, and `steer replay` prints the table for a session or a replay file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner, Result

from steering_core.cli import cli
from steering_core.config import make_config
from steering_core.errors import InvalidInput
from steering_core.exports.counterfactual import counterfactual_replay, replay_as_of
from steering_core.exports.replay import build_replay, restore_session, write_replay
from steering_core.models import PREFERENCE_MODELS
from steering_core.sessions import (
    change_settings,
    create_session,
    get_rounds,
    submit_feedback,
    undo_last_feedback,
)
from steering_core.storage.workspace import Workspace
from steering_core.synthetic import AnchorUser, NoiseModel
from steering_core.synthetic.simulate import SimulationResult, simulate_session
from tests.steering_core.helpers import blank_round

TARGET = np.array([0.4, -0.3, 0.2])


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> tuple[Workspace, SimulationResult]:
    """A logged synthetic session: an anchor user rating 6 candidates a round for 8 rounds
    (ratings leave the model a choice among equally starred winners)."""
    folder = tmp_path_factory.mktemp("synthetic")
    workspace = Workspace.open(folder / "data", folder / "labels")
    config = make_config({"prompt": "replayed", "k": 6, "d": 3, "seed": 4})
    user = AnchorUser(target=TARGET, noise=NoiseModel(temperature=0.05))
    result = simulate_session(workspace, config, user, rounds=8, mode="rating", seed=2)
    return workspace, result


def test_every_registered_model_gets_a_row_and_the_sessions_own_model_agrees_fully(
    synthetic: tuple[Workspace, SimulationResult],
) -> None:
    workspace, simulated = synthetic
    replay = build_replay(workspace, simulated.session_id)
    result = counterfactual_replay(replay)

    assert [row.model for row in result.models] == PREFERENCE_MODELS.names()
    assert result.session_model == "bradley_terry" and result.n_rounds == 8
    assert result.compared == 7 and result.reproduced == 7
    for row in result.models:
        assert row.compared == 7 and 0.0 <= row.agreement <= 1.0
        assert row.rank_correlation is None or -1.0 <= row.rank_correlation <= 1.0
        assert row.final_distance_to_target is not None
    own = next(row for row in result.models if row.is_session_model)
    assert own.model == "bradley_terry" and own.agreement == 1.0
    # Its choices are the logged incumbents, its fits the logged fits, and their distances
    # to the hidden target the ones the simulation measured.
    logged = {r.round_index: r for r in get_rounds(workspace, simulated.session_id)}
    for choice in own.rounds[:-1]:
        state = logged[choice.round_index].model_state
        assert choice.chosen_candidate_id == state["incumbent_candidate_id"]
        assert choice.incumbent_utility == pytest.approx(state["incumbent_utility"], abs=1e-9)
        assert choice.rank_correlation in (None, pytest.approx(1.0))
        assert choice.distance_to_target == pytest.approx(
            simulated.distances_to_target[choice.round_index]
        )
    assert own.rounds[-1].round_index is None  # the choice after the last round
    assert own.final_candidate_id == result.logged_final_candidate_id


def test_the_replay_file_and_a_renumbered_copy_give_the_same_table(
    synthetic: tuple[Workspace, SimulationResult], tmp_path: Path
) -> None:
    workspace, simulated = synthetic
    replay = build_replay(workspace, simulated.session_id)
    names = ["bradley_terry", "ideal_point"]
    expected = counterfactual_replay(replay, names)
    target = Workspace.open(tmp_path / "data", tmp_path / "labels")
    filler = create_session(target, make_config({"prompt": "first", "k": 4, "d": 3}))
    blank_round(target, filler.id)  # the copy's candidate ids all move
    copy_id = restore_session(target, replay, images_from=workspace.data_root)
    copied = counterfactual_replay(build_replay(target, copy_id), names)
    for a, b in zip(expected.models, copied.models, strict=True):
        assert (a.model, a.agreed, a.compared) == (b.model, b.agreed, b.compared)
        assert a.rank_correlation == pytest.approx(b.rank_correlation)
        assert a.final_distance_to_target == pytest.approx(b.final_distance_to_target)
    path = write_replay(replay, tmp_path / "replay.json")
    from steering_core.exports.counterfactual import load_session_or_file

    assert counterfactual_replay(load_session_or_file(None, str(path)), names) == expected


def test_late_judgments_undos_and_a_model_change_are_replayed_as_they_happened(
    workspace: Workspace,
) -> None:
    config = make_config(
        {
            "prompt": "a session with second thoughts",
            "k": 5,
            "d": 3,
            "seed": 9,
            "preference_model": {"name": "bradley_terry", "params": {"prior_strength": 3.0}},
        }
    )
    session_id = create_session(workspace, config).id

    def rate(candidates: list[Any], stars: list[int], **options: Any) -> None:
        ratings = {c.id: s for c, s in zip(candidates, stars, strict=True)}
        submit_feedback(workspace, session_id, {"mode": "rating", "ratings": ratings}, **options)

    _, r0 = blank_round(workspace, session_id)
    rate(r0, [1, 4, 4, 2, 3])
    _, r1 = blank_round(workspace, session_id)
    rate(r1, [3, 5, 1, 5, 2])
    undo_last_feedback(workspace, session_id)
    rate(r1, [2, 5, 1, 5, 4])
    change_settings(workspace, session_id, {"preference_model": {"name": "ideal_point"}})
    _, r2 = blank_round(workspace, session_id)
    rate(r2, [2, 3, 5, 5, 1])
    _, r3 = blank_round(workspace, session_id)
    # A second look at round 2, given once round 3 is on screen: it counts from round 4 on.
    submit_feedback(workspace, session_id, {"mode": "winner", "winner": r2[3].id}, round_index=2)
    rate(r3, [3, 4, 4, 1, 4])
    blank_round(workspace, session_id)
    replay = build_replay(workspace, session_id)

    as_of_3 = replay_as_of(replay, 3)
    assert [e["mode"] for e in as_of_3["feedback_events"]] == [
        "rating",
        "rating",
        "undo",
        "rating",
        "rating",
    ]
    assert as_of_3["feedback_events"][1]["undone_at"] is not None
    as_of_1 = replay_as_of(replay, 1)
    assert len(as_of_1["rounds"]) == 1 and len(as_of_1["feedback_events"]) == 1

    result = counterfactual_replay(replay)
    assert result.session_model == "ideal_point"
    assert (result.reproduced, result.compared) == (4, 4)
    assert next(row for row in result.models if row.is_session_model).model == "ideal_point"

    replay["setting_changes"][0]["changes"]["preference_model"] = "ideal_point"
    with pytest.raises(
        InvalidInput, match=r"replay\.setting_changes\[0\]\.changes\.preference_model"
    ):
        counterfactual_replay(replay)


def test_unknown_or_no_model_names_are_refused_with_the_allowed_ones(
    synthetic: tuple[Workspace, SimulationResult],
) -> None:
    workspace, simulated = synthetic
    replay = build_replay(workspace, simulated.session_id)
    allowed = ", ".join(PREFERENCE_MODELS.names())
    with pytest.raises(
        InvalidInput, match=f"models: unknown preference model 'nope'; allowed: {allowed}"
    ):
        counterfactual_replay(replay, ["bradley_terry", "nope"])
    with pytest.raises(InvalidInput, match="models: name at least one"):
        counterfactual_replay(replay, [])


def steer(workspace: Workspace, *args: str) -> Result:
    root = ["--data-root", str(workspace.data_root), "--labels-dir", str(workspace.labels_dir)]
    return CliRunner().invoke(cli, [*root, *args], catch_exceptions=False)


def test_steer_replay_prints_one_row_per_model(
    synthetic: tuple[Workspace, SimulationResult],
) -> None:
    workspace, simulated = synthetic
    result = steer(workspace, "replay", simulated.session_id)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith(f"session {simulated.session_id} (synthetic, 8 rounds")
    assert "7 of 7 incumbent choices reproduced" in lines[0]
    assert lines[1].startswith("hidden target: the logged final choice #")
    rows = {line.split()[0]: line for line in lines[3:] if line.split()[0] in PREFERENCE_MODELS}
    assert sorted(rows) == PREFERENCE_MODELS.names()
    assert "bradley_terry *" in rows["bradley_terry"]
    assert "100% (7/7)" in rows["bradley_terry"]

    result = steer(workspace, "replay", simulated.session_id, "--models", "ideal_point", "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert [row["model"] for row in payload["models"]] == ["ideal_point"]
    assert len(payload["models"][0]["rounds"]) == 8 and payload["compared"] == 7


def test_steer_replay_reads_a_replay_file_without_a_data_root(
    synthetic: tuple[Workspace, SimulationResult], tmp_path: Path
) -> None:
    workspace, simulated = synthetic
    path = write_replay(build_replay(workspace, simulated.session_id), tmp_path / "s.json")
    unused = tmp_path / "unused"
    result = CliRunner().invoke(
        cli, ["--data-root", str(unused), "replay", str(path), "--models", "winner_average"]
    )
    assert result.exit_code == 0, result.output
    assert "winner_average" in result.output and not unused.exists()


def test_steer_replay_refuses_bad_models_and_bad_files(
    synthetic: tuple[Workspace, SimulationResult], tmp_path: Path
) -> None:
    workspace, simulated = synthetic
    result = steer(workspace, "replay", simulated.session_id, "--models", "bradley_terry,nope")
    assert result.exit_code == 2
    assert "unknown preference model 'nope'" in result.output
    assert ", ".join(PREFERENCE_MODELS.names()) in result.output
    result = steer(workspace, "replay", simulated.session_id, "--models", ",")
    assert result.exit_code == 2 and "models: name at least one" in result.output

    result = steer(workspace, "replay", str(tmp_path / "missing.json"))
    assert result.exit_code == 2 and "missing.json does not exist" in result.output
    (tmp_path / "broken.json").write_text('{"schema": "stable-steering/replay"', encoding="utf-8")
    result = steer(workspace, "replay", str(tmp_path / "broken.json"))
    assert result.exit_code == 2 and "is not JSON" in result.output
    (tmp_path / "old.json").write_text(
        json.dumps({"schema": "stable-steering/replay", "schema_version": 0}), encoding="utf-8"
    )
    result = steer(workspace, "replay", str(tmp_path / "old.json"))
    assert result.exit_code == 2 and "replay.schema_version" in result.output
    result = steer(workspace, "replay", "no-such-session")
    assert result.exit_code == 2 and "no session 'no-such-session'" in result.output
    assert "Traceback" not in result.output
