"""The contract every Generator backend must pass, like scikit-learn's `check_estimator`."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np
import pytest
from PIL import Image

from steering_core.errors import JobCancelled
from steering_core.generators.base import (
    Conditioning,
    GenerationSettings,
    Generator,
    StepProgress,
)

# Small enough that a tiny random-weight pipeline runs each check in a blink on a CPU.
CONTRACT_SETTINGS = GenerationSettings(steps=2, guidance_scale=5.0, height=32, width=32)

REQUIRED_DESCRIBE_KEYS = frozenset(
    {
        "backend",
        "model",
        "configured_device",
        "requested_device",
        "active_device",
        "dtype",
        "warm",
        "load_seconds",
        "torch_version",
        "python_version",
    }
)


def _pixels(image: Image.Image) -> np.ndarray:
    return np.asarray(image, dtype=np.int16)


def steered(conditioning: Conditioning, radius: float = 0.5, seed: int = 0) -> Conditioning:
    """`conditioning` moved by `radius * |c|` along a random unit direction (seeded)."""
    vector = conditioning.steerable_vector()
    direction = np.random.default_rng(seed).normal(size=vector.shape)
    direction /= np.linalg.norm(direction)
    return conditioning.with_steerable_vector(vector + radius * np.linalg.norm(vector) * direction)


def check_load_and_describe(
    generator: Generator, prompt: str, settings: GenerationSettings
) -> None:
    """load() makes the generator warm, is idempotent, and describe() has every listed key."""
    generator.load()
    first = generator.describe()
    missing = REQUIRED_DESCRIBE_KEYS - first.keys()
    assert not missing, f"describe() lacks {sorted(missing)}"
    assert first["warm"] is True
    assert first["active_device"] is not None
    generator.load()
    # A second load must not reload the weights.
    assert generator.describe()["load_seconds"] == first["load_seconds"]


def check_steerable_vector_round_trip(
    generator: Generator, prompt: str, settings: GenerationSettings
) -> None:
    """The steerable vector is a flat float64 vector that round-trips exactly."""
    conditioning = generator.encode(prompt)
    assert isinstance(conditioning, Conditioning)
    assert conditioning.prompt_embeds.shape[0] == 1
    vector = conditioning.steerable_vector()
    assert vector.ndim == 1
    assert vector.dtype == np.float64
    assert np.all(np.isfinite(vector))
    again = conditioning.with_steerable_vector(vector)
    np.testing.assert_array_equal(again.steerable_vector(), vector)


def check_images_have_requested_size(
    generator: Generator, prompt: str, settings: GenerationSettings
) -> None:
    """One RGB image per (conditioning, seed), of the requested size."""
    conditioning = generator.encode(prompt)
    images = generator.generate([conditioning, steered(conditioning)], [0, 1], settings)
    assert len(images) == 2
    for image in images:
        assert isinstance(image, Image.Image)
        assert image.mode == "RGB"
        if settings.width is not None and settings.height is not None:
            assert image.size == (settings.width, settings.height)


def check_same_seed_same_pixels(
    generator: Generator, prompt: str, settings: GenerationSettings
) -> None:
    """Same conditioning and seed give identical pixels, in one call and across calls."""
    conditioning = generator.encode(prompt)
    round_tripped = conditioning.with_steerable_vector(conditioning.steerable_vector())
    first, second = generator.generate([conditioning, round_tripped], [7, 7], settings)
    (third,) = generator.generate([conditioning], [7], settings)
    np.testing.assert_array_equal(_pixels(first), _pixels(second))
    np.testing.assert_array_equal(_pixels(first), _pixels(third))


def check_different_seeds_differ(
    generator: Generator, prompt: str, settings: GenerationSettings
) -> None:
    """Different seeds give different images for the same conditioning."""
    conditioning = generator.encode(prompt)
    first, second = generator.generate([conditioning, conditioning], [0, 1], settings)
    assert not np.array_equal(_pixels(first), _pixels(second))


def check_steering_changes_the_image(
    generator: Generator, prompt: str, settings: GenerationSettings
) -> None:
    """A steered conditioning (vector + 0.5 |c| along a random direction) changes the image."""
    conditioning = generator.encode(prompt)
    plain, moved = generator.generate([conditioning, steered(conditioning)], [0, 0], settings)
    assert not np.array_equal(_pixels(plain), _pixels(moved))


def check_progress_is_reported(
    generator: Generator, prompt: str, settings: GenerationSettings
) -> None:
    """Progress comes with increasing steps and ends with every image done; each event says
    which batch (pipeline call) it belongs to and how many images that batch holds."""
    conditioning = generator.encode(prompt)
    events: list[StepProgress] = []
    generator.generate([conditioning] * 3, [0, 1, 2], settings, on_progress=events.append)
    assert events, "on_progress was never called"
    assert all(event.images_total == 3 for event in events)
    assert all(1 <= event.step <= event.steps for event in events)
    for event in events:
        assert 1 <= event.batch <= event.batches, event
        assert event.images_before + event.images_in_batch <= event.images_total, event
    assert events[-1].batch == events[-1].batches
    # Steps restart when a backend generates in chunks; within one chunk they increase.
    for before, after in itertools.pairwise(events):
        if after.images_done == before.images_done:
            assert after.step > before.step, f"steps did not increase: {before} then {after}"
        else:
            assert after.images_done > before.images_done
    assert events[-1].images_done == events[-1].images_total


def check_cancel_raises(generator: Generator, prompt: str, settings: GenerationSettings) -> None:
    """should_cancel returning True raises JobCancelled; the generator works afterwards."""
    conditioning = generator.encode(prompt)
    asked: list[bool] = []

    def cancel() -> bool:
        asked.append(True)
        return True

    with pytest.raises(JobCancelled):
        generator.generate([conditioning, conditioning], [0, 1], settings, should_cancel=cancel)
    assert asked, "should_cancel was never consulted"
    assert len(generator.generate([conditioning], [0], settings)) == 1


GeneratorCheck = Callable[[Generator, str, GenerationSettings], None]

GENERATOR_CHECKS: tuple[GeneratorCheck, ...] = (
    check_load_and_describe,
    check_steerable_vector_round_trip,
    check_images_have_requested_size,
    check_same_seed_same_pixels,
    check_different_seeds_differ,
    check_steering_changes_the_image,
    check_progress_is_reported,
    check_cancel_raises,
)


def check_generator(
    generator: Generator,
    prompt: str = "a red circle",
    settings: GenerationSettings = CONTRACT_SETTINGS,
) -> None:
    """Run every contract check on `generator` (loading it if needed); stops at a failure."""
    for check in GENERATOR_CHECKS:
        check(generator, prompt, settings)
