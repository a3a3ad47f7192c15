"""Figures of a benchmark run: one box per d and method, runs that never reached the target
drawn above the limit, one curve panel per setting."""

from __future__ import annotations

import math

import numpy as np

from dashboard.figures.experiments import (
    distance_curves_figure,
    final_distance_figure,
    rounds_to_target_figure,
    varying_fields,
)


def run(method: str, d: int, rounds: float, final: float, noise: str = "none") -> dict:
    return {
        "method": method,
        "user": "anchor",
        "noise": noise,
        "feedback": "winner",
        "d": d,
        "seed": 0,
        "rounds_to_target": rounds,
        "final_relative_distance": final,
    }


RUNS = [
    run("thompson+ideal_point", 4, 10, 0.08),
    run("thompson+ideal_point", 8, 21, 0.09),
    run("es_1k", 4, math.inf, 0.3),
    run("es_1k", 8, 36, 0.09),
]


def test_rounds_to_target_has_a_box_per_d_and_draws_never_above_the_limit() -> None:
    figure = rounds_to_target_figure(RUNS, limit=40)
    assert [trace.name for trace in figure.data] == ["d = 4", "d = 8"]
    d4 = figure.data[0]
    assert list(d4.x) == ["thompson+ideal_point", "es_1k"]
    assert list(d4.y) == [10, 41]
    assert figure.layout.shapes[0].y0 == 41  # the "never reached" line


def test_settings_that_differ_label_the_boxes() -> None:
    runs = [*RUNS, run("es_1k", 4, 12, 0.09, noise="10% slips")]
    assert varying_fields(runs) == ["method", "noise", "d"]
    figure = final_distance_figure(runs, target_fraction=0.1)
    assert "es_1k · 10% slips" in set(figure.data[0].x)
    assert figure.layout.yaxis.type == "log"
    # The target's label sits on the target line of the log axis (at log10 of it).
    assert figure.layout.annotations[0].y == np.log10(0.1)


def test_distance_curves_have_a_panel_per_d_and_a_median_line_per_method() -> None:
    rows = [
        {
            "method": method,
            "user": "anchor",
            "noise": "none",
            "feedback": "winner",
            "d": d,
            "seed": seed,
            "round": r,
            "relative_distance": value,
        }
        for method in ("a+b", "es_1k")
        for d in (4, 8)
        for seed, scale in ((0, 1.0), (1, 0.5), (2, 0.25))
        for r, value in enumerate([1.0 * scale, 0.5 * scale])
    ]
    figure = distance_curves_figure(rows, target_fraction=0.1)
    titles = [annotation.text for annotation in figure.layout.annotations]
    assert titles == ["d=4", "d=8"]
    assert len(figure.data) == 4
    first = figure.data[0]
    assert first.name == "a+b" and list(first.y) == [0.5, 0.25]  # medians over seeds
    assert [trace.showlegend for trace in figure.data] == [True, True, False, False]
