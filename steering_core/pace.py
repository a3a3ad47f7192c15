"""Render pace: how long a batch of images takes (measured on earlier rounds and on this
one's steps so far), and how long a render has left.

A batch is one pipeline call: its images are denoised together, so a step of a batch of 8
costs about what 8 images cost, not what one does. The time left is read per batch, from
measurements of the same generator, image size, steps and batch size (see docs/DECISIONS.md,
"Progress and ETA of a batched round").
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from steering_core.generators.base import GenerationSettings, StepProgress
from steering_core.storage import job_store
from steering_core.storage.workspace import Workspace

# The newest measurements an estimate uses, so that a changed machine shows soon.
RECENT = 5
# Round jobs read for earlier measurements (newest first).
HISTORY_JOBS = 50


@dataclass(frozen=True)
class PaceKey:
    """What a batch's time depends on besides its size: the generator (backend, model,
    device, dtype), the image size (None: the model's default) and the denoising steps."""

    generator: str
    height: int | None
    width: int | None
    steps: int

    @classmethod
    def of(cls, description: Mapping[str, Any], settings: GenerationSettings) -> PaceKey:
        """The key of a render: `description` is the generator's `describe()`."""
        device = description.get("active_device") or description.get("requested_device")
        generator = " ".join(
            str(part)
            for part in (description.get("backend"), description.get("model"), device)
            if part
        )
        if description.get("dtype"):
            generator += f" {description['dtype']}"
        return cls(generator, settings.height, settings.width, settings.steps)

    def same_generator_and_size(self, other: PaceKey) -> bool:
        return (self.generator, self.height, self.width) == (
            other.generator,
            other.height,
            other.width,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "generator": self.generator,
            "height": self.height,
            "width": self.width,
            "steps": self.steps,
        }


@dataclass(frozen=True)
class BatchTime:
    """One measured batch: `images` images in `seconds`, from its start to its images
    decoded."""

    key: PaceKey
    images: int
    seconds: float

    @property
    def seconds_per_image_step(self) -> float:
        return self.seconds / (self.images * self.key.steps)


def batch_seconds(history: Sequence[BatchTime], key: PaceKey, images: int) -> float | None:
    """Expected seconds of one batch of `images` images under `key`.

    The median of the newest batches of this key and size; else the newest of this
    generator and image size (any batch size, any steps) scaled by images x steps; None when
    nothing comparable was measured. `history` is oldest first."""
    same = [b.seconds for b in history if b.key == key and b.images == images][-RECENT:]
    if same:
        return statistics.median(same)
    similar = [
        b.seconds_per_image_step
        for b in history
        if b.key.same_generator_and_size(key) and b.images > 0 and b.key.steps > 0
    ][-RECENT:]
    if similar:
        return statistics.median(similar) * images * key.steps
    return None


def later_batches(progress: StepProgress) -> list[int]:
    """Image counts of the batches after the current one (the last may be smaller)."""
    size = progress.images_in_batch
    rest = progress.images_total - progress.images_before - size
    sizes = []
    while rest > 0 and size > 0:
        sizes.append(min(size, rest))
        rest -= size
    return sizes


def seconds_left(
    progress: StepProgress,
    key: PaceKey,
    history: Sequence[BatchTime],
    step_seconds: float | None = None,
) -> float | None:
    """Seconds until the render's last image is decoded; None when there is nothing to go
    on yet (the page then says "estimating…" rather than a wrong number).

    The current batch: its own measured step pace (`step_seconds`) times the steps it has
    left, else its expected time (`batch_seconds`) less the share of steps done. Each later
    batch: its expected time, else this batch's step pace scaled by its images."""
    size = progress.images_in_batch
    steps = max(progress.steps, 1)
    if progress.images_done > progress.images_before:  # this batch is decoded
        current = 0.0
    elif step_seconds is not None:
        current = step_seconds * max(steps - progress.step, 0)
    else:
        whole = batch_seconds(history, key, size)
        if whole is None:
            return None
        current = whole * (1 - min(progress.step, steps) / steps)
    later = 0.0
    for images in later_batches(progress):
        expected = batch_seconds(history, key, images)
        if expected is None and step_seconds is not None:
            expected = step_seconds * steps * images / size
        if expected is None:
            return None
        later += expected
    return current + later


class PaceMeter:
    """Times one render's batches and steps as its progress arrives, and says the time left.

    Created when the render starts (so the first batch is timed from then); `history` holds
    earlier measurements, oldest first; this render's batches join it as they finish."""

    def __init__(
        self,
        key: PaceKey,
        history: Sequence[BatchTime],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.key = key
        self.history = list(history)
        self.measured: list[BatchTime] = []
        self._clock = clock
        self._batch_started = clock()
        self._batch: tuple[int, int] | None = None  # (images before it, its images)
        self._timed = True  # False for a batch retried after running out of memory
        self._first_step: tuple[int, float] | None = None
        self._last_step: tuple[int, float] | None = None

    def observe(self, progress: StepProgress) -> float | None:
        """Record a step (or a decoded batch) reported now; the seconds left after it."""
        at = self._clock()
        batch = (progress.images_before, progress.images_in_batch)
        if batch != self._batch:
            if self._batch is not None and self._batch[0] == batch[0]:
                # The same images again in a smaller batch: an out-of-memory retry, whose
                # start is lost in the failed attempt; its time is not a measurement.
                self._timed = False
            self._batch = batch
            self._first_step = self._last_step = None
        if progress.images_done > progress.images_before:
            if self._timed:
                measured = BatchTime(self.key, batch[1], at - self._batch_started)
                self.measured.append(measured)
                self.history.append(measured)
            self._batch_started, self._timed = at, True
        else:
            if self._first_step is None:
                self._first_step = (progress.step, at)
            self._last_step = (progress.step, at)
        return seconds_left(progress, self.key, self.history, self.step_seconds())

    def step_seconds(self) -> float | None:
        """Seconds per step of the current batch, from its steps so far (two at least: the
        time before the first step includes setting the batch up)."""
        if self._first_step is None or self._last_step is None:
            return None
        steps = self._last_step[0] - self._first_step[0]
        if steps < 1:
            return None
        return (self._last_step[1] - self._first_step[1]) / steps

    def record(self) -> dict[str, Any]:
        """What a round job keeps in its result, for the estimates of later rounds."""
        return {
            "key": self.key.to_json(),
            "batches": [{"images": b.images, "seconds": b.seconds} for b in self.measured],
        }


def history_from_results(results: Sequence[Mapping[str, Any]]) -> list[BatchTime]:
    """The batches measured by round jobs (their results, newest first), oldest first;
    results without a readable measurement are skipped."""
    batches: list[BatchTime] = []
    for result in reversed(results):
        render = result.get("render")
        if not isinstance(render, Mapping):
            continue
        try:
            raw = render["key"]
            key = PaceKey(str(raw["generator"]), raw["height"], raw["width"], int(raw["steps"]))
            measured = [
                BatchTime(key, int(b["images"]), float(b["seconds"])) for b in render["batches"]
            ]
        except (KeyError, TypeError, ValueError):
            continue
        batches.extend(b for b in measured if b.images > 0 and b.seconds > 0)
    return batches


def load_history(workspace: Workspace) -> list[BatchTime]:
    """Batches measured by the data root's recent round jobs (any process), oldest first."""
    return history_from_results(
        job_store.finished_results(workspace.db, "round", limit=HISTORY_JOBS)
    )
