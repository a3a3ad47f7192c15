"""The session curves: every panel from a real session's series, the verdict in the title,
next-choice accuracy against chance, utility's units and prompt reference, a legend for the
verdict colours, distance to target for a synthetic anchor session, a readable empty figure,
and titles that fit a narrow column."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

from dashboard.figures.curves import (
    LOSS_FITS_SHOWN,
    curves_figure,
    graph_config,
    verdict_key_text,
    verdict_text,
)
from steering_core.config import SessionConfig
from steering_core.sessions import create_session, submit_feedback
from steering_core.space_view import round_series
from steering_core.storage.workspace import Workspace
from steering_core.synthetic import AnchorUser
from steering_core.synthetic.simulate import simulate_session
from steering_core.views.curve_tables import curve_series
from steering_core.views.curve_values import PROMPT_REFERENCE, UTILITY_AXIS, VERDICT_COLOURS
from tests.steering_core.helpers import blank_round


def _titles(figure: go.Figure) -> list[str]:
    return [a.text for a in figure.layout.annotations if a.yref == "paper"]


def _trace_in(figure: go.Figure, title_start: str) -> list[go.BaseTraceType]:
    """The traces of the panel whose title starts with `title_start`."""
    panel = next(i for i, t in enumerate(_titles(figure)) if t.startswith(title_start))
    axis = "x" if panel == 0 else f"x{panel + 1}"
    return [trace for trace in figure.data if (trace.xaxis or "x") == axis]


def test_an_empty_session_gives_a_readable_empty_figure(
    workspace: Workspace, tiny_config: SessionConfig
) -> None:
    session = create_session(workspace, tiny_config)
    figure = curves_figure(round_series(workspace, session.id))
    assert len(figure.data) == 0
    assert "No rounds yet" in figure.layout.annotations[0].text
    assert figure.layout.title.text
    figure.to_json()
    assert curves_figure({}).layout.annotations[0].text == figure.layout.annotations[0].text


def test_a_human_session_draws_every_panel_and_its_verdict(
    workspace: Workspace, tiny_config: SessionConfig
) -> None:
    session = create_session(workspace, tiny_config)
    for seconds in (6.0, 3.0, 2.0, 4.0, 1.0, 2.5, 2.0, 1.0):
        _, candidates = blank_round(workspace, session.id)
        raw = {"mode": "winner", "winner": candidates[1].id, "decision_seconds": seconds}
        submit_feedback(workspace, session.id, raw)
    series = curve_series(workspace, session.id)
    figure = curves_figure(series)

    titles = _titles(figure)
    assert [t.split(" ")[0] for t in titles] == [
        "Predicted",
        "Incumbent's",
        "Value",
        "Step",
        "Model",
        "Decision",
    ]
    status = series["convergence_status"][-1]
    assert "Round 7" in figure.layout.title.text and status in figure.layout.title.text
    assert series["recommendation"][-1] in figure.layout.title.text
    assert verdict_text(series) == figure.layout.title.text

    loss = _trace_in(figure, "Model loss")
    assert len(loss) == LOSS_FITS_SHOWN  # the latest fit and the ones before it
    assert list(loss[0].y) == pytest.approx(series["loss_history"][-1])

    utility = [t for t in _trace_in(figure, "Incumbent's") if not t.showlegend]
    assert list(utility[-1].x) == list(range(8))
    assert list(utility[-1].y) == pytest.approx(series["incumbent_utility"])
    band = [t for t in utility if t.fill == "tonexty"]
    assert len(band) == 1

    decision = _trace_in(figure, "Decision")
    assert isinstance(decision[0], go.Bar)
    assert list(decision[0].y) == [6.0, 3.0, 2.0, 4.0, 1.0, 2.5, 2.0, 1.0]

    steps = list(_trace_in(figure, "Step")[0].y)
    assert steps[0] is None and steps[1:] == pytest.approx(series["step_size"][1:])

    # Rounds 1-7 are predicted from the rounds before them, against chance (50 %).
    chance, this_round, so_far = _trace_in(figure, "Predicted")
    assert (chance.name, this_round.name, so_far.name) == (
        "chance",
        "this round",
        "all rounds so far",
    )
    assert list(chance.y) == [50.0] * 7 and chance.line.dash == "dash"
    assert list(this_round.x) == list(range(1, 8))
    accuracy = series["next_choice_accuracy"][1:]
    assert list(this_round.y) == pytest.approx([100 * a for a in accuracy])
    figure.to_json()


def test_utility_has_units_a_prompt_reference_and_a_verdict_legend(
    workspace: Workspace, tiny_config: SessionConfig
) -> None:
    session = create_session(workspace, tiny_config)
    for _ in range(3):
        _, candidates = blank_round(workspace, session.id)
        submit_feedback(workspace, session.id, {"mode": "winner", "winner": candidates[1].id})
    series = curve_series(workspace, session.id)
    figure = curves_figure(series)
    panel = _titles(figure).index("Incumbent's utility ± 1 sd") + 1
    axis = figure.layout[f"yaxis{panel}"]
    assert axis.title.text == UTILITY_AXIS
    (zero,) = [s for s in figure.layout.shapes if s.yref == f"y{panel}"]
    assert zero.y0 == zero.y1 == 0
    assert any(a.text == PROMPT_REFERENCE for a in figure.layout.annotations)
    # The verdict colours' key above the panel: each verdict after a dot of its colour.
    (key,) = [a for a in figure.layout.annotations if a.text == verdict_key_text()]
    for verdict, colour in VERDICT_COLOURS.items():
        assert f"<span style='color:{colour}'>●</span> {verdict}" in key.text
    assert key.yref == f"y{panel} domain"
    # The only legend is the next-choice panel's, and every entry in it is named.
    assert {t.name for t in figure.data if t.showlegend is not False} == {
        "chance",
        "this round",
        "all rounds so far",
    }

    # A model whose utility is not measured from the prompt gets no such line.
    other = {**series, "model": ["winner_average"] * len(series["model"])}
    figure = curves_figure(other)
    assert not any(a.text == PROMPT_REFERENCE for a in figure.layout.annotations)


def test_titles_fit_a_narrow_column_and_the_png_is_named_after_the_session() -> None:
    series = {"round_index": [0, 1], "distance_to_target": [0.5, 0.4]}
    titles = _titles(curves_figure(series))
    assert len(titles) == 7
    # About 6.5 px a character at 12 px: 45 characters fit a 380 px column beside a legend.
    assert max(len(t) for t in titles) <= 45, titles
    config = graph_config("abc123")
    assert config["toImageButtonOptions"]["filename"] == "curves-session-abc123"
    assert config["toImageButtonOptions"]["format"] == "png"


def test_missing_values_leave_a_note_instead_of_a_broken_panel() -> None:
    series = {
        "round_index": [0, 1],
        "incumbent_utility": [0.0, float("nan")],
        "incumbent_uncertainty": [None, None],
        "loss_history": [None, None],
        "decision_seconds": [None, None],
        "step_size": [None, 0.2],
        "value_relative": [None, 0.0],
        "recommendation": ["continue", "stop"],
        "convergence_status": [None, "plateau"],
        "convergence_reason": [None, "flat"],
    }
    figure = curves_figure(series)
    notes = [t.text[0] for t in figure.data if t.mode == "text"]
    assert any("reports no loss" in note for note in notes)
    assert any("no decision times" in note for note in notes)
    assert "plateau" in figure.layout.title.text
    value = _trace_in(figure, "Value")
    assert list(value[0].y) == [1e-3]  # a zero drawn at the log axis's floor
    figure.to_json()


def test_distance_to_target_falls_in_a_synthetic_anchor_session(
    workspace: Workspace, tiny_config: SessionConfig
) -> None:
    config = tiny_config.model_copy(update={"k": 8})
    user = AnchorUser(target=np.array([0.6, -0.4, 0.3, 0.0]))
    result = simulate_session(workspace, config, user, rounds=8, mode="winner", seed=0)
    figure = curves_figure(round_series(workspace, result.session_id))
    assert _titles(figure)[-1].startswith("Distance to the hidden target")
    distance = list(_trace_in(figure, "Distance")[0].y)
    assert distance == pytest.approx(result.distances_to_target)
    assert distance[-1] < 0.6 * distance[0]
