"""A round's progress in words: the batch really rendered, the step, and an honest time left."""

from __future__ import annotations

import pytest

from steering_core.views.progress_words import (
    ESTIMATING,
    batch_words,
    fraction_done,
    progress_words,
    time_left_words,
)


def progress(step: int, **fields: object) -> dict:
    """A stored progress of an 8-image round in one batch of 20 steps, at `step`."""
    base = {
        "images_done": 0,
        "images_total": 8,
        "step": step,
        "steps": 20,
        "batch": 1,
        "batches": 1,
        "batch_images": 8,
        "images_before": 0,
    }
    return {**base, **fields}


def test_one_batch_says_the_step_and_how_many_images_render_together() -> None:
    at_17 = progress(17)
    assert batch_words(at_17) == "step 17/20 · 8 images in one batch"
    assert fraction_done(at_17) == pytest.approx(17 / 20)


def test_a_split_round_says_which_batch() -> None:
    even = progress(5, images_total=24, batch=2, batches=3, images_before=8)
    assert batch_words(even) == "batch 2/3 · step 5/20 · 8 images each"
    assert fraction_done(even) == pytest.approx((8 + 8 * 5 / 20) / 24)
    last = progress(5, images_total=20, batch=3, batches=3, batch_images=4, images_before=16)
    assert batch_words(last) == "batch 3/3 · step 5/20 · 4 images in this batch, 20 in all"


def test_a_decoded_batch_counts_whole() -> None:
    assert fraction_done(progress(20, images_done=8)) == 1.0
    half = progress(20, images_done=8, images_total=16, batch=1, batches=2)
    assert fraction_done(half) == pytest.approx(0.5)


def test_the_time_left_counts_down_from_its_measurement() -> None:
    measured = progress(17, seconds_left=30.0, seconds_left_at=1000.0)
    assert time_left_words(measured, now=1000.0) == "about 30 s left"
    assert time_left_words(measured, now=1012.0) == "about 18 s left"
    assert time_left_words(measured, now=1029.5) == "under a second left"
    # Past its estimate and still rendering: the estimate was low; no number until a step.
    assert time_left_words(measured, now=1031.0) == ESTIMATING
    assert time_left_words({**measured, "seconds_left": 125.0}, 1000.0) == ("about 2 min 05 s left")


def test_without_a_measurement_it_says_estimating_and_nothing_once_rendered() -> None:
    assert time_left_words(progress(1, seconds_left=None, seconds_left_at=1.0), 2.0) == (ESTIMATING)
    assert time_left_words({}, 2.0) == ESTIMATING  # still fitting: no step yet
    assert time_left_words(progress(20, images_done=8, seconds_left=0.0), 2.0) is None


def test_one_line_for_the_page_and_the_cli() -> None:
    line = progress_words(
        "generating", progress(17, seconds_left=3.0, seconds_left_at=10.0), 10.0, 4.25
    )
    assert line == "generating · step 17/20 · 8 images in one batch · 4.2 s · about 3 s left"
    assert progress_words("fitting", {}, 10.0) == "fitting · estimating…"
    assert progress_words("cancelled", progress(3), 10.0, running=False) == (
        "cancelled · step 3/20 · 8 images in one batch"
    )
