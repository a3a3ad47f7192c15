"""A round job's progress in words, the same on the page and in `steer round`: which batch,
which step, how many images are denoised together, and the time left.

Reads the job's `progress` as stored (the fields of `StepProgress`, plus `seconds_left` as
of `seconds_left_at`, seconds since the epoch); pure functions, no database access.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

ESTIMATING = "estimating…"


def _images(count: int) -> str:
    return f"{count} image" if count == 1 else f"{count} images"


def _batch_images(progress: Mapping[str, Any]) -> int:
    return int(progress.get("batch_images") or progress.get("images_total") or 0)


def rendered_everything(progress: Mapping[str, Any]) -> bool:
    total = progress.get("images_total")
    return bool(total) and progress.get("images_done", 0) >= total


def fraction_done(progress: Mapping[str, Any]) -> float:
    """Share of the render's image-steps done (0 before the first step): a step of a batch
    of 8 is 8 image-steps."""
    total, steps = progress.get("images_total"), progress.get("steps")
    if not total or not steps:
        return 0.0
    before = progress.get("images_before", 0)
    size = _batch_images(progress)
    if progress.get("images_done", 0) > before:  # this batch is decoded
        return min(1.0, (before + size) / total)
    return min(1.0, (before + size * progress.get("step", 0) / steps) / total)


def batch_words(progress: Mapping[str, Any]) -> str:
    """'step 17/20 · 8 images in one batch', or 'batch 2/3 · step 5/20 · 8 images each'
    when the generator splits the round (or '… · 4 images in this batch, 20 in all' when
    its batches differ)."""
    step = f"step {progress.get('step', 0)}/{progress.get('steps', 0)}"
    total, size = int(progress.get("images_total") or 0), _batch_images(progress)
    batches = int(progress.get("batches") or 1)
    if batches <= 1:
        return f"{step} · {_images(size)} in one batch"
    if total == batches * size:
        tail = f"{_images(size)} each"
    else:
        tail = f"{_images(size)} in this batch, {total} in all"
    return f"batch {progress.get('batch', 1)}/{batches} · {step} · {tail}"


def seconds_left(progress: Mapping[str, Any], now: float) -> float | None:
    """The time left now (`now`: seconds since the epoch), counted down since it was
    measured; None when there is no estimate yet, or when the countdown has run out and the
    render is still going (the estimate was too low: no number until the next step)."""
    left, at = progress.get("seconds_left"), progress.get("seconds_left_at")
    if left is None or at is None:
        return None
    remaining = float(left) - max(0.0, now - float(at))
    return None if remaining < 0 else remaining


def time_left_words(progress: Mapping[str, Any], now: float) -> str | None:
    """'about 12 s left', 'about 2 min 05 s left', 'under a second left', or 'estimating…'
    while nothing measured says; None once every image is rendered."""
    if rendered_everything(progress):
        return None
    left = seconds_left(progress, now)
    if left is None:
        return ESTIMATING
    if left < 1:
        return "under a second left"
    if left < 60:
        return f"about {left:.0f} s left"
    minutes, seconds = divmod(round(left), 60)
    return f"about {minutes} min {seconds:02d} s left"


def progress_words(
    phase: str,
    progress: Mapping[str, Any],
    now: float,
    elapsed: float | None = None,
    running: bool = True,
) -> str:
    """One line: 'generating · step 17/20 · 8 images in one batch · 3.1 s · about 1 s
    left' (`elapsed`: seconds since the job started, left out when None; the time left
    only while the job runs)."""
    parts = [phase]
    if progress.get("images_total"):
        parts.append(batch_words(progress))
    if elapsed is not None:
        parts.append(f"{elapsed:.1f} s")
    left = time_left_words(progress, now) if running else None
    if left is not None:
        parts.append(left)
    return " · ".join(parts)
