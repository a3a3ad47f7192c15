"""Render pace and the time left: per batch, from the same generator, size, steps and batch
size; scaled by images x steps from other batch sizes; this batch's own steps once measured;
None (the page says "estimating…") when nothing measured says."""

from __future__ import annotations

import pytest

from steering_core.generators.base import StepProgress
from steering_core.pace import (
    BatchTime,
    PaceKey,
    PaceMeter,
    batch_seconds,
    history_from_results,
    later_batches,
    seconds_left,
)

KEY = PaceKey("diffusers sdxl cuda float16", 1024, 1024, 20)


def step(
    step: int, images: int, batch: int = 1, batches: int = 1, size: int = 0, before: int = 0
) -> StepProgress:
    """A step of one batch: `size` images (0: all) after `before` of `images`."""
    return StepProgress(before, images, step, 20, batch, batches, size, before)


def decoded(progress: StepProgress) -> StepProgress:
    """The event after a batch's images are decoded."""
    done = progress.images_before + progress.images_in_batch
    return StepProgress(done, *[getattr(progress, f) for f in FIELDS])


FIELDS = ("images_total", "step", "steps", "batch", "batches", "batch_images", "images_before")


def test_a_20_image_round_after_only_8_image_rounds_scales_by_images() -> None:
    # Three k = 8 rounds took 4 s each; the old ETA said 4 s for a round of 20 as well.
    history = [BatchTime(KEY, 8, 4.0)] * 3
    assert batch_seconds(history, KEY, 20) == pytest.approx(10.0)
    assert seconds_left(step(0, 20), KEY, history) == pytest.approx(10.0)
    assert seconds_left(step(10, 20), KEY, history) == pytest.approx(5.0)


def test_the_same_batch_size_measured_before_wins_over_scaling() -> None:
    # Batching is cheaper than linear on a GPU: 20 images once took 7 s, not 10.
    history = [BatchTime(KEY, 8, 4.0), BatchTime(KEY, 20, 7.0)]
    assert batch_seconds(history, KEY, 20) == pytest.approx(7.0)
    assert batch_seconds(history, KEY, 8) == pytest.approx(4.0)


def test_other_steps_scale_and_other_sizes_or_generators_do_not_count() -> None:
    history = [
        BatchTime(PaceKey(KEY.generator, 1024, 1024, 40), 8, 8.0),  # 40 steps
        BatchTime(PaceKey(KEY.generator, 512, 512, 20), 8, 1.0),  # another image size
        BatchTime(PaceKey("builtin cpu float32", 1024, 1024, 20), 8, 99.0),
    ]
    assert batch_seconds(history, KEY, 8) == pytest.approx(4.0)
    assert batch_seconds(history[1:], KEY, 8) is None


def test_a_split_round_counts_the_batches_still_to_come() -> None:
    # 20 images in batches of 8: 8, 8, 4; the 4-image batch was never measured.
    progress = step(5, 20, batch=2, batches=3, size=8, before=8)
    assert later_batches(progress) == [4]
    history = [BatchTime(KEY, 8, 4.0)]
    # This batch: 15 of 20 steps left of 4 s; the last: 4 images at 4 s / 8 images.
    assert seconds_left(progress, KEY, history) == pytest.approx(3.0 + 2.0)
    assert later_batches(step(5, 20, batch=3, batches=3, size=4, before=16)) == []


def test_with_nothing_measured_the_time_left_is_unknown_until_two_steps() -> None:
    clock = iter([0.0, 1.0, 1.5, 2.0]).__next__
    meter = PaceMeter(KEY, [], clock=clock)  # the render starts at 0 s
    assert meter.observe(step(1, 8)) is None  # step 1 includes setting the batch up
    assert meter.observe(step(2, 8)) == pytest.approx(0.5 * 18)
    assert meter.observe(step(3, 8)) == pytest.approx(0.5 * 17)


def test_the_own_step_pace_also_times_the_batches_still_to_come() -> None:
    clock = iter([0.0, 1.0, 2.0]).__next__
    meter = PaceMeter(KEY, [], clock=clock)
    meter.observe(step(1, 20, batch=1, batches=3, size=8))
    left = meter.observe(step(2, 20, batch=1, batches=3, size=8))
    # 18 steps of 1 s here, then 8 and 4 images at 20 steps of 1 s per 8 images.
    assert left == pytest.approx(18 + 20 + 10)


def test_a_decoded_batch_is_measured_and_times_the_next_one() -> None:
    clock = iter([0.0, 1.0, 2.0, 4.0, 5.0]).__next__
    meter = PaceMeter(KEY, [], clock=clock)
    meter.observe(step(19, 16, batch=1, batches=2, size=8))
    meter.observe(step(20, 16, batch=1, batches=2, size=8))
    # The first batch took 4 s (from the render's start to its images decoded), so the
    # second, of 8 images too, is expected to take 4 s.
    assert meter.observe(decoded(step(20, 16, batch=1, batches=2, size=8))) == pytest.approx(4)
    assert [(b.images, b.seconds) for b in meter.measured] == [(8, 4.0)]
    second = step(1, 16, batch=2, batches=2, size=8, before=8)
    assert meter.observe(second) == pytest.approx(4.0 * 19 / 20)
    assert meter.record() == {"key": KEY.to_json(), "batches": [{"images": 8, "seconds": 4.0}]}


def test_an_out_of_memory_retry_is_not_a_measurement() -> None:
    clock = iter([0.0, 1.0, 9.0, 10.0]).__next__
    meter = PaceMeter(KEY, [], clock=clock)
    meter.observe(step(1, 8))  # the 8-image batch runs out of memory after a step
    meter.observe(step(1, 8, batch=1, batches=2, size=4))  # retried as 4 + 4
    meter.observe(decoded(step(20, 8, batch=1, batches=2, size=4)))
    assert meter.measured == []


def test_history_comes_from_round_job_results_newest_first() -> None:
    results = [
        {"render": {"key": KEY.to_json(), "batches": [{"images": 8, "seconds": 3.0}]}},
        {"timings": {}},  # a round from before paces were kept
        {"render": {"key": {"generator": "x"}, "batches": []}},  # unreadable
        {"render": {"key": KEY.to_json(), "batches": [{"images": 8, "seconds": 5.0}]}},
    ]
    history = history_from_results(results)
    assert [b.seconds for b in history] == [5.0, 3.0]  # oldest first
