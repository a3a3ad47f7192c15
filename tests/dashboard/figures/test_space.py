"""The steering-space figure: points where their candidates are, every colour mode, the
incumbent's path, clicks, a colour patch that touches colours only, and 60,000 points."""

from __future__ import annotations

import dataclasses

import numpy as np
import plotly.graph_objects as go
import pytest

from dashboard.figures.space import (
    COLOUR_MODES,
    HEAT_TRACE,
    KEYS_START,
    LABEL_COLOURS,
    LEGEND_KEYS,
    MISSING_COLOUR,
    MISSING_KEY_TRACE,
    PATH_TRACE,
    POINTS_TRACE,
    SOURCE_COLOURS,
    SPACE_HEIGHT,
    colour_patch,
    empty_space_figure,
    in_draw_order,
    steering_space_figure,
)
from steering_core.config import SessionConfig
from steering_core.incumbent import fit_preference_model
from steering_core.sessions import create_session, load_session_config, submit_feedback
from steering_core.space_view import (
    IncumbentPath,
    SpacePoints,
    heat_map,
    incumbent_path,
    plot_extent,
    project,
    space_points,
)
from steering_core.storage.workspace import Workspace
from tests.steering_core.helpers import blank_round


def _points(n: int, d: int = 4, seed: int = 0, utility: bool = True) -> SpacePoints:
    """`n` made-up candidates of two sessions, 8 per round."""
    rng = np.random.default_rng(seed)
    rounds = np.arange(n) // 8
    rating = rng.integers(1, 6, n).astype(float)
    rating[rng.random(n) < 0.5] = np.nan
    return SpacePoints(
        focus_session_id="focus",
        d=d,
        candidate_id=np.arange(1000, 1000 + n),
        session_id=np.where(np.arange(n) < n // 4, "other", "focus").astype(object),
        round_index=rounds,
        slot=np.arange(n) % 8,
        role=np.array(["incumbent"] + ["explore"] * 7, dtype=object)[np.arange(n) % 8],
        source=np.where(np.arange(n) < n // 4, "synthetic", "human").astype(object),
        image_path=np.full(n, None, dtype=object),
        steering_vectors=rng.normal(size=(n, d)),
        rating=rating,
        label=np.array(["won", "lost", "lost", "tied", "unjudged"], dtype=object)[
            rng.integers(0, 5, n)
        ],
        utility_mean=rng.normal(size=n) if utility else None,
        utility_std=rng.random(n) if utility else None,
    )


def _path(points: SpacePoints) -> IncumbentPath:
    first = np.flatnonzero(points.slot == 0)[:5]
    return IncumbentPath(
        round_index=points.round_index[first],
        candidate_id=points.candidate_id[first],
        steering_vectors=points.steering_vectors[first],
    )


def test_each_point_sits_at_its_candidates_projection() -> None:
    points = _points(96)
    projection = project(points.steering_vectors)
    figure = steering_space_figure(points, projection, "round")
    trace = figure.data[POINTS_TRACE]
    assert isinstance(trace, go.Scattergl) and trace.mode == "markers"
    ids = list(trace.customdata)
    assert sorted(ids) == points.candidate_id.tolist()
    rows = [points.index_of(i) for i in ids]
    expected = projection.transform(points.steering_vectors[rows])
    np.testing.assert_allclose(np.column_stack([trace.x, trace.y]), expected, rtol=1e-5, atol=1e-6)
    assert figure.layout.uirevision == "steering-space"
    # Hover says which candidate it is (its card number in its round, as the grid numbers
    # it), then its role, judgment, stars and prediction.
    first = rows[0]
    name = f"<b>candidate {points.slot[first] + 1} of round {points.round_index[first]}</b>"
    assert trace.text[0].startswith(f"{name}<br>{points.role[first]}, {points.label[first]}")
    assert f"predicted {points.utility_mean[first]:.2g}" in trace.text[0]
    assert ("session other" in trace.text[0]) == (points.session_id[first] == "other")
    assert figure.layout.xaxis.title.text == projection.axis_titles[0]


def test_the_plot_and_its_placeholder_have_the_panels_height() -> None:
    # Plotly keeps the height of the figure a graph showed first unless the next one sets
    # its own: the placeholder ("No session yet") must not shrink the plot that follows.
    points = _points(24)
    figure = steering_space_figure(points, project(points.steering_vectors), "round")
    placeholder = empty_space_figure("No session yet")
    assert figure.layout.height == placeholder.layout.height == SPACE_HEIGHT
    assert placeholder.layout.title.text == "Steering space"


def test_winners_and_the_focus_session_are_drawn_on_top() -> None:
    ordered = in_draw_order(_points(200))
    focus = ordered.session_id == "focus"
    assert not focus[: np.argmax(focus)].any() and focus[np.argmax(focus) :].all()
    focus_labels = ordered.label[focus].tolist()
    assert focus_labels[-focus_labels.count("won") :] == ["won"] * focus_labels.count("won")


def _colours_by_candidate(figure: go.Figure) -> dict[int, object]:
    trace = figure.data[POINTS_TRACE]
    return {
        candidate: colour
        for candidate, colour in zip(trace.customdata, trace.marker.color, strict=True)
    }


def test_continuous_colour_modes_colour_by_their_value() -> None:
    points = _points(64)
    projection = project(points.steering_vectors)
    for mode, values in (
        ("round", points.round_index),
        ("utility", points.utility_mean),
        ("uncertainty", points.utility_std),
    ):
        figure = steering_space_figure(points, projection, mode)
        colours = _colours_by_candidate(figure)
        assert [colours[i] for i in points.candidate_id] == pytest.approx(values.tolist())
        marker = figure.data[POINTS_TRACE].marker
        assert marker.showscale and marker.colorbar.title.text == COLOUR_MODES[mode]
        assert (marker.cmin, marker.cmax) == pytest.approx((values.min(), values.max()))

    rating = steering_space_figure(points, projection, "rating")
    colours = _colours_by_candidate(rating)
    for candidate_id, stars in zip(points.candidate_id, points.rating, strict=True):
        assert colours[candidate_id] == (MISSING_COLOUR if np.isnan(stars) else stars)
    assert rating.data[MISSING_KEY_TRACE].visible and rating.data[MISSING_KEY_TRACE].name == (
        "not rated"
    )


def test_utility_without_a_model_is_grey_and_says_so() -> None:
    points = _points(16, utility=False)
    figure = steering_space_figure(points, project(points.steering_vectors), "utility")
    marker = figure.data[POINTS_TRACE].marker
    assert set(marker.color) == {MISSING_COLOUR} and not marker.showscale
    assert figure.data[MISSING_KEY_TRACE].name == "no model fitted yet"


def test_categorical_colour_modes_use_a_discrete_map_with_legend_keys() -> None:
    points = _points(64)
    projection = project(points.steering_vectors)
    label = steering_space_figure(points, projection, "label")
    colours = _colours_by_candidate(label)
    for candidate_id, name in zip(points.candidate_id, points.label, strict=True):
        assert colours[candidate_id] == LABEL_COLOURS[name]
    assert not label.data[POINTS_TRACE].marker.showscale
    shown = {trace.name for trace in label.data[KEYS_START:] if trace.visible}
    assert shown == set(points.label)

    source = steering_space_figure(points, projection, "source")
    colours = _colours_by_candidate(source)
    for candidate_id, name in zip(points.candidate_id, points.source, strict=True):
        assert colours[candidate_id] == SOURCE_COLOURS[name]
    assert {t.name for t in source.data[KEYS_START:] if t.visible} == {"human", "synthetic"}
    with pytest.raises(ValueError, match="colour_by"):
        steering_space_figure(points, projection, "mood")


def test_the_incumbent_path_goes_in_round_order_and_ends_with_a_star() -> None:
    points = _points(48)
    projection = project(points.steering_vectors)
    path = _path(points)
    figure = steering_space_figure(points, projection, "round", path=path)
    trace = figure.data[PATH_TRACE]
    assert trace.visible is not False and "lines" in trace.mode
    assert [row[1] for row in trace.customdata] == [0, 1, 2, 3, 4]
    np.testing.assert_allclose(
        np.column_stack([trace.x, trace.y]), projection.transform(path.steering_vectors)
    )
    assert list(trace.marker.symbol)[-1] == "star"
    assert steering_space_figure(points, projection, "round").data[PATH_TRACE].visible is False


def test_colour_patch_changes_colours_only() -> None:
    points = _points(64)
    projection = project(points.steering_vectors)
    figure = steering_space_figure(points, projection, "round", path=_path(points))
    operations = colour_patch(points, "label").to_plotly_json()["operations"]
    for operation in operations:
        location = operation["location"]
        assert location[0] == "data"
        if location[1] == POINTS_TRACE:
            assert location[2] == "marker"
            assert location[3] in ("color", "colorscale", "cmin", "cmax", "showscale", "colorbar")
        else:
            assert KEYS_START <= location[1] <= MISSING_KEY_TRACE
            assert location[2] in ("visible", "name")
    # Applied to the figure, the patch gives what building it in that mode gives.
    patched = figure.to_plotly_json()
    for operation in operations:
        target = patched
        for key in operation["location"][:-1]:
            target = target[key]
        target[operation["location"][-1]] = operation["params"]["value"]
    expected = steering_space_figure(points, projection, "label")
    assert patched["data"][POINTS_TRACE]["marker"]["color"] == list(
        expected.data[POINTS_TRACE].marker.color
    )
    for index in range(KEYS_START, KEYS_START + len(LEGEND_KEYS) + 1):
        assert bool(patched["data"][index]["visible"]) == bool(expected.data[index].visible)


def test_sixty_thousand_points_build_as_webgl() -> None:
    points = _points(60_000, d=16)
    projection = project(points.steering_vectors)
    figure = steering_space_figure(points, projection, "rating", path=_path(points))
    trace = figure.data[POINTS_TRACE]
    assert isinstance(trace, go.Scattergl) and len(trace.x) == 60_000
    assert len(trace.marker.color) == 60_000
    assert len(colour_patch(points, "source").to_plotly_json()["operations"]) > 0
    # Another session's candidates hover with their id only, the session's own in full.
    drawn = in_draw_order(points)
    text = np.asarray(trace.text, dtype=object)
    assert (text[drawn.session_id == "other"] == "").all()
    assert all("round" in t for t in text[drawn.session_id == "focus"])
    figure.to_json()  # serializable, as Dash will send it


def test_an_empty_session_gives_a_readable_figure() -> None:
    points = dataclasses.replace(
        _points(8),
        **{
            name: getattr(_points(8), name)[:0]
            for name in (
                "candidate_id",
                "session_id",
                "round_index",
                "slot",
                "role",
                "source",
                "image_path",
                "steering_vectors",
                "rating",
                "label",
                "utility_mean",
                "utility_std",
            )
        },
    )
    figure = steering_space_figure(points, project(np.zeros((0, 4))), "label")
    assert len(figure.data[POINTS_TRACE].x) == 0
    assert "No candidates yet" in figure.layout.annotations[0].text
    figure.to_json()


def test_a_real_session_with_its_heat_map(workspace: Workspace, tiny_config: SessionConfig) -> None:
    session = create_session(workspace, tiny_config)
    winners = []
    for _ in range(3):
        _, candidates = blank_round(workspace, session.id)
        winners.append(candidates[1].id)
        submit_feedback(workspace, session.id, {"mode": "winner", "winner": winners[-1]})
    config = load_session_config(session)
    model, _, _ = fit_preference_model(workspace, session.id, config)
    points = space_points(workspace, session.id, model=model)
    path = incumbent_path(workspace, session.id)
    projection = project(points.steering_vectors, reference=path.steering_vectors[-1])
    extent = plot_extent(projection.transform(points.steering_vectors))
    heat = heat_map(model, projection, extent, resolution=30)
    figure = steering_space_figure(points, projection, "utility", heat=heat, path=path)
    assert isinstance(figure.data[HEAT_TRACE], go.Contour)
    assert np.shape(figure.data[HEAT_TRACE].z) == (30, 30)
    trace = figure.data[POINTS_TRACE]
    labels = {
        int(candidate): text.split(", ")[1].split("<br>")[0]
        for candidate, text in zip(trace.customdata, trace.text, strict=True)
    }
    assert [labels[c] for c in winners] == ["won"] * 3
    assert sum(label == "won" for label in labels.values()) == 3
    assert figure.data[PATH_TRACE].customdata[-1][0] == path.candidate_id[-1]
