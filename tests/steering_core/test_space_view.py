"""The dashboard's read-only views: points match the stored candidates, labels and ratings
follow judgments and undo, projections and heat maps, per-round series, label counts."""

from __future__ import annotations

import json

import numpy as np
import pytest

from steering_core.config import SessionConfig
from steering_core.errors import InvalidInput
from steering_core.incumbent import fit_preference_model
from steering_core.sessions import (
    create_session,
    get_candidates,
    load_session_config,
    submit_feedback,
    undo_last_feedback,
)
from steering_core.space_view import (
    SpacePoints,
    fitted_space_points,
    heat_map,
    incumbent_path,
    label_statistics,
    plot_extent,
    project,
    round_series,
    session_projection,
    space_points,
)
from steering_core.storage.database import SCHEMA_VERSION
from steering_core.storage.workspace import Workspace
from steering_core.synthetic import AnchorUser
from steering_core.synthetic.simulate import simulate_session, stored_targets
from steering_core.synthetic.users import DiversityUser
from tests.steering_core.helpers import blank_round


def _session_with_rounds(
    workspace: Workspace, config: SessionConfig, rounds: int = 2
) -> tuple[str, list]:
    """A human session with `rounds` rounds; every round but the last judged by a winner."""
    session = create_session(workspace, config)
    shown = []
    for index in range(rounds):
        _, candidates = blank_round(workspace, session.id)
        shown.append(candidates)
        if index < rounds - 1:
            submit_feedback(workspace, session.id, {"mode": "winner", "winner": candidates[2].id})
    return session.id, shown


def test_points_are_the_sessions_candidates(
    workspace: Workspace, tiny_config: SessionConfig
) -> None:
    session_id, _ = _session_with_rounds(workspace, tiny_config, rounds=3)
    points = space_points(workspace, session_id)
    stored = get_candidates(workspace, session_id)
    assert len(points) == len(stored) == 12
    assert points.candidate_id.tolist() == [c.id for c in stored]
    assert points.round_index.tolist() == [c.round_index for c in stored]
    assert points.slot.tolist() == [c.slot for c in stored]
    assert points.role.tolist() == [c.role for c in stored]
    assert points.image_path.tolist() == [c.image_path for c in stored]
    assert set(points.source) == {"human"} and set(points.session_id) == {session_id}
    np.testing.assert_array_equal(
        points.steering_vectors, np.array([c.steering_vector for c in stored])
    )
    assert points.steering_vectors.shape == (12, tiny_config.d)
    assert points.utility_mean is None and points.utility_std is None
    assert points.index_of(stored[5].id) == 5
    with pytest.raises(InvalidInput):
        space_points(workspace, session_id, scope="everything")


def test_labels_follow_a_winner_pick_and_its_undo(
    workspace: Workspace, tiny_config: SessionConfig
) -> None:
    session_id, shown = _session_with_rounds(workspace, tiny_config, rounds=2)
    points = space_points(workspace, session_id)
    labels = dict(zip(points.candidate_id.tolist(), points.label.tolist(), strict=True))
    winner = shown[0][2].id
    assert labels[winner] == "won"
    assert [labels[c.id] for c in shown[0] if c.id != winner] == ["lost"] * 3
    assert [labels[c.id] for c in shown[1]] == ["unjudged"] * 4

    undo_last_feedback(workspace, session_id)
    assert set(space_points(workspace, session_id).label) == {"unjudged"}


def test_labels_for_reject_all_ties_and_rankings(
    workspace: Workspace, tiny_config: SessionConfig
) -> None:
    session = create_session(workspace, tiny_config)
    _, first = blank_round(workspace, session.id)
    submit_feedback(workspace, session.id, {"mode": "reject_all"})
    _, second = blank_round(workspace, session.id)
    submit_feedback(workspace, session.id, {"mode": "cannot_decide"})
    _, third = blank_round(workspace, session.id)
    order = [third[3].id, third[1].id]
    submit_feedback(workspace, session.id, {"mode": "ranking", "order": order})
    points = space_points(workspace, session.id)
    label = dict(zip(points.candidate_id.tolist(), points.label.tolist(), strict=True))
    assert [label[c.id] for c in first] == ["rejected"] * 4
    assert [label[c.id] for c in second] == ["tied"] * 4
    # The top of a ranking won; the second beat the unranked but lost to the top.
    assert [label[c.id] for c in third] == ["lost", "lost", "lost", "won"]


def test_ratings_are_the_latest_not_undone(
    workspace: Workspace, tiny_config: SessionConfig
) -> None:
    session = create_session(workspace, tiny_config)
    _, candidates = blank_round(workspace, session.id)
    a, b, c, _ = (x.id for x in candidates)
    submit_feedback(workspace, session.id, {"mode": "rating", "ratings": {a: 2, b: 4}})
    submit_feedback(workspace, session.id, {"mode": "rating", "ratings": {a: 5, c: 1}})
    points = space_points(workspace, session.id)
    assert points.rating[:3].tolist() == [5.0, 4.0, 1.0] and np.isnan(points.rating[3])

    undo_last_feedback(workspace, session.id)
    points = space_points(workspace, session.id)
    assert points.rating[:2].tolist() == [2.0, 4.0] and np.isnan(points.rating[2:]).all()


def test_scope_all_takes_every_session_of_the_same_d(
    workspace: Workspace, tiny_config: SessionConfig
) -> None:
    other_id, _ = _session_with_rounds(workspace, tiny_config, rounds=1)
    wider = tiny_config.model_copy(update={"d": 6})
    wider_id, _ = _session_with_rounds(workspace, wider, rounds=1)
    focus_id, _ = _session_with_rounds(workspace, tiny_config, rounds=2)

    points = space_points(workspace, focus_id, scope="all")
    assert set(points.session_id) == {other_id, focus_id}  # d = 6 cannot share the plane
    assert len(points) == 12 and points.focus_session_id == focus_id
    # The focus session's candidates come last, so they are drawn on top.
    assert points.session_id[-8:].tolist() == [focus_id] * 8
    assert space_points(workspace, wider_id, scope="all").steering_vectors.shape == (4, 6)


def test_predicted_utility_comes_from_the_model(
    workspace: Workspace, tiny_config: SessionConfig
) -> None:
    session_id, _ = _session_with_rounds(workspace, tiny_config, rounds=2)
    config = load_session_config(create_session(workspace, tiny_config))
    model, _, _ = fit_preference_model(workspace, session_id, config)
    points = space_points(workspace, session_id, model=model)
    mean, std = model.predict(points.steering_vectors)
    np.testing.assert_allclose(points.utility_mean, mean)
    np.testing.assert_allclose(points.utility_std, std)


def test_pca_projection_keeps_points_of_its_plane() -> None:
    rng = np.random.default_rng(0)
    plane = rng.normal(size=(2, 6))
    vectors = rng.normal(size=(200, 2)) * [3.0, 1.0] @ plane + 0.5
    projection = project(vectors)
    assert projection.components.shape == (2, 6)
    np.testing.assert_allclose(
        projection.components @ projection.components.T, np.eye(2), atol=1e-9
    )
    np.testing.assert_allclose(projection.explained_variance_ratio.sum(), 1.0)
    coordinates = projection.transform(vectors)
    np.testing.assert_allclose(projection.inverse_transform(coordinates), vectors, atol=1e-9)
    assert "PC 1" in projection.axis_titles[0]

    reference = vectors[7]
    through = project(vectors, reference=reference)
    np.testing.assert_allclose(through.transform(reference[None]), [[0.0, 0.0]], atol=1e-12)
    np.testing.assert_allclose(through.inverse_transform([[0.0, 0.0]]), [reference])


def test_small_d_and_single_points_are_drawn_on_the_axes() -> None:
    two = np.array([[0.1, -0.2], [0.3, 0.4], [0.0, 0.5]])
    np.testing.assert_allclose(project(two).transform(two), two)
    one = np.array([[0.2], [-0.1]])
    np.testing.assert_allclose(project(one).transform(one), [[0.2, 0.0], [-0.1, 0.0]])
    np.testing.assert_allclose(project(one).inverse_transform([[0.3, 9.0]]), [[0.3]])
    single = np.array([[0.1, 0.2, 0.3]])
    np.testing.assert_allclose(project(single).transform(single), [[0.1, 0.2]])
    assert project(single).explained_variance_ratio is None


class _Bowl:
    """A toy model: utility = -squared distance to `peak`, std 0."""

    def __init__(self, peak: np.ndarray) -> None:
        self.peak = peak

    def predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return -np.sum((X - self.peak) ** 2, axis=1), np.zeros(len(X))


def test_heat_map_is_the_posterior_mean_on_the_plane() -> None:
    rng = np.random.default_rng(1)
    vectors = rng.normal(size=(50, 5))
    projection = project(vectors)
    peak = projection.inverse_transform([[0.4, -0.3]])[0]
    xs, ys, z = heat_map(_Bowl(peak), projection, (-1.0, 1.0, -1.5, 0.5), resolution=21)
    assert xs.shape == (21,) and ys.shape == (21,) and z.shape == (21, 21)
    assert (xs[0], xs[-1], ys[0], ys[-1]) == (-1.0, 1.0, -1.5, 0.5)
    row, col = np.unravel_index(np.argmax(z), z.shape)
    # z[i, j] is at (xs[j], ys[i]): the peak is where the model puts it.
    assert xs[col] == pytest.approx(0.4) and ys[row] == pytest.approx(-0.3)
    assert plot_extent(np.array([[0.0, 0.0], [1.0, 2.0]]), margin=0.1) == pytest.approx(
        (-0.1, 1.1, -0.2, 2.2)
    )


def test_incumbent_path_is_slot_zero_in_round_order(
    workspace: Workspace, tiny_config: SessionConfig
) -> None:
    session_id, shown = _session_with_rounds(workspace, tiny_config, rounds=4)
    path = incumbent_path(workspace, session_id)
    assert path.round_index.tolist() == [0, 1, 2, 3]
    assert path.candidate_id.tolist() == [candidates[0].id for candidates in shown]
    np.testing.assert_array_equal(
        path.steering_vectors, [candidates[0].steering_vector for candidates in shown]
    )
    # Every round re-shows the previous round's winner as its incumbent.
    np.testing.assert_array_equal(path.steering_vectors[1], shown[0][2].steering_vector)


def test_round_series_of_a_human_session(workspace: Workspace, tiny_config: SessionConfig) -> None:
    session = create_session(workspace, tiny_config)
    assert round_series(workspace, session.id)["round_index"] == []
    seconds = [[4.0, 2.0, 9.0], [], [1.5]]
    for judgments in seconds:
        _, candidates = blank_round(workspace, session.id)
        for value in judgments:
            raw = {"mode": "winner", "winner": candidates[1].id, "decision_seconds": value}
            submit_feedback(workspace, session.id, raw)
        if not judgments:
            submit_feedback(workspace, session.id, {"mode": "winner", "winner": candidates[1].id})
    series = round_series(workspace, session.id)
    assert series["round_index"] == [0, 1, 2]
    assert all(len(values) == 3 for values in series.values())
    assert series["decision_seconds"] == [4.0, None, 1.5]
    path = incumbent_path(workspace, session.id).steering_vectors
    assert series["step_size"][0] is None
    assert series["step_size"][1:] == pytest.approx(
        np.linalg.norm(np.diff(path, axis=0), axis=1).tolist()
    )
    assert series["distance_to_target"] == [None] * 3  # no hidden target in a human session
    assert series["convergence_status"][-1] in ("continue", "plateau", "degrading", "optimal")
    assert series["recommendation"][-1] in ("continue", "stop")
    assert isinstance(series["loss_history"][-1], list) and series["model"][-1] == "bradley_terry"
    assert series["incumbent_utility"][0] is not None


def test_distance_to_target_falls_in_a_synthetic_anchor_session(
    workspace: Workspace, tiny_config: SessionConfig
) -> None:
    assert workspace.db.schema_version() == SCHEMA_VERSION
    config = tiny_config.model_copy(update={"k": 8})
    target = np.array([0.6, -0.4, 0.3, 0.0])
    result = simulate_session(workspace, config, AnchorUser(target=target), rounds=8, seed=0)
    np.testing.assert_array_equal(stored_targets(workspace, result.session_id), [target])
    distance = round_series(workspace, result.session_id)["distance_to_target"]
    assert distance == pytest.approx(result.distances_to_target)
    assert distance[-1] < 0.6 * distance[0]


def test_a_diversity_users_centres_are_stored_and_the_nearest_counts(
    workspace: Workspace, tiny_config: SessionConfig
) -> None:
    centres = np.array([[0.5, 0.0, 0.0, 0.0], [0.0, -0.5, 0.0, 0.0]])
    result = simulate_session(
        workspace, tiny_config, DiversityUser(centres=centres), rounds=2, seed=0
    )
    np.testing.assert_array_equal(stored_targets(workspace, result.session_id), centres)
    path = incumbent_path(workspace, result.session_id).steering_vectors
    nearest = [min(np.linalg.norm(v - c) for c in centres) for v in path]
    assert round_series(workspace, result.session_id)["distance_to_target"] == pytest.approx(
        nearest
    )
    user = workspace.db.query_one(
        "SELECT user_json FROM synthetic_targets WHERE session_id = ?", (result.session_id,)
    )[0]
    assert '"user": "diversity"' in user


def test_label_statistics_count_judgments_and_candidates(
    workspace: Workspace, tiny_config: SessionConfig
) -> None:
    session_id, shown = _session_with_rounds(workspace, tiny_config, rounds=3)
    _, _ = _session_with_rounds(workspace, tiny_config, rounds=2)
    submit_feedback(workspace, session_id, {"mode": "rating", "ratings": {shown[2][0].id: 3}})
    submit_feedback(workspace, session_id, {"mode": "reject_all"})
    undo_last_feedback(workspace, session_id)

    statistics = label_statistics(workspace, session_id)
    session = statistics["session"]
    assert session["judgments"] == 3 and session["undone"] == 1
    assert session["by_mode"] == {"rating": 1, "winner": 2}
    assert session["by_source"] == {"human": 3}
    assert session["candidates_shown"] == 12
    assert session["candidates_judged"] == 9  # two judged rounds and one rated candidate
    assert session["by_label"] == {"won": 2, "lost": 6, "tied": 0, "rejected": 0, "unjudged": 4}
    root = statistics["data_root"]
    assert root["sessions"] == 2 and root["judgments"] == 4
    assert root["candidates_shown"] == 20 and root["candidates_judged"] == 13
    assert label_statistics(workspace)["session"] is None


def test_label_statistics_before_any_judgment_and_with_ties_are_plain_counts(
    workspace: Workspace, tiny_config: SessionConfig
) -> None:
    session = create_session(workspace, tiny_config)
    blank_round(workspace, session.id)
    before = label_statistics(workspace, session.id)["session"]
    assert before["judgments"] == before["undone"] == before["candidates_judged"] == 0
    assert before["by_mode"] == {} and before["by_source"] == {}
    assert before["by_label"] == {"won": 0, "lost": 0, "tied": 0, "rejected": 0, "unjudged": 4}

    submit_feedback(workspace, session.id, {"mode": "cannot_decide"})
    statistics = label_statistics(workspace, session.id)
    assert statistics["session"]["by_label"]["tied"] == 4
    assert statistics["session"]["by_mode"] == {"cannot_decide": 1}
    # The dashboard sends them to the browser as JSON: plain ints and strings, no numpy.
    assert json.loads(json.dumps(statistics)) == statistics


def test_fitted_points_are_computed_once_per_data_and_shared_between_processes(
    workspace: Workspace, tiny_config: SessionConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    from steering_core import space_view
    from steering_core.sessions import change_settings

    reads: list[str] = []
    read = space_view.space_points

    def counted(*args: object, **kwargs: object) -> SpacePoints:
        reads.append(str(kwargs["scope"]))
        return read(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(space_view, "space_points", counted)
    session_id, shown = _session_with_rounds(workspace, tiny_config, rounds=2)
    other_id, _ = _session_with_rounds(workspace, tiny_config, rounds=1)
    points, _ = fitted_space_points(workspace, session_id)
    # Another process on the same data root (a restarted dashboard) reads the same points.
    elsewhere = Workspace.open(workspace.data_root, workspace.labels_dir)
    again, again_model = fitted_space_points(elsewhere, session_id)
    assert reads == ["session"]
    np.testing.assert_array_equal(again.utility_mean, points.utility_mean)
    np.testing.assert_array_equal(
        again_model.predict(again.steering_vectors)[0], points.utility_mean
    )
    # A judgment of the session, or new model settings, give new points.
    submit_feedback(workspace, session_id, {"mode": "winner", "winner": shown[1][1].id})
    fitted_space_points(workspace, session_id)
    change_settings(workspace, session_id, {"preference_model": {"name": "winner_average"}})
    fitted_space_points(workspace, session_id)
    assert reads == ["session"] * 3
    # Scope "all" also follows the other sessions: the session alone does not.
    fitted_space_points(workspace, session_id, scope="all")
    blank_round(workspace, other_id)
    fitted_space_points(workspace, session_id)
    fitted_space_points(workspace, session_id, scope="all")
    assert reads == ["session"] * 3 + ["all", "all"]


def test_the_projection_is_fitted_once_per_session_and_refitted_only_when_asked(
    workspace: Workspace, tiny_config: SessionConfig
) -> None:
    session_id, shown = _session_with_rounds(workspace, tiny_config, rounds=2)
    first = session_projection(workspace, session_id)
    submit_feedback(workspace, session_id, {"mode": "winner", "winner": shown[1][3].id})
    blank_round(workspace, session_id)
    # A new round, and another process on the same data root: the same plane.
    elsewhere = Workspace.open(workspace.data_root, workspace.labels_dir)
    kept = session_projection(elsewhere, session_id)
    assert (first.revision, kept.revision) == (1, 1)
    np.testing.assert_array_equal(kept.projection.components, first.projection.components)
    np.testing.assert_array_equal(kept.projection.origin, first.projection.origin)
    # Refit: fitted anew through the latest incumbent, and kept from then on.
    refitted = session_projection(workspace, session_id, refit=True)
    assert refitted.revision == 2
    latest = incumbent_path(workspace, session_id).steering_vectors[-1]
    np.testing.assert_allclose(refitted.projection.origin, latest)
    assert session_projection(workspace, session_id).revision == 2
    # Each scope has its own plane.
    assert session_projection(workspace, session_id, scope="all").revision == 1


def test_a_projection_fitted_before_there_was_a_plane_is_refitted_once_there_is_one(
    workspace: Workspace, tiny_config: SessionConfig
) -> None:
    session = create_session(workspace, tiny_config)
    # No candidates yet: the steering axes stand in for the plane.
    flat = session_projection(workspace, session.id)
    assert (flat.revision, flat.projection.explained_variance_ratio) == (1, None)
    blank_round(workspace, session.id)
    fitted = session_projection(workspace, session.id)
    assert fitted.revision == 2 and fitted.projection.explained_variance_ratio is not None
    assert session_projection(workspace, session.id).revision == 2
