"""Tests of steering_core.metrics.diversity."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from steering_core.builtin import world
from steering_core.errors import InvalidInput
from steering_core.metrics.diversity import batch_diversity


def varied(n: int, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [world.render(world.sample_scene(rng)) for _ in range(n)]


def test_identical_images_have_zero_diversity() -> None:
    image = varied(1)[0]
    assert batch_diversity([image] * 5) == 0.0
    assert batch_diversity([image]) == 0.0
    assert batch_diversity([]) == 0.0


def test_varied_images_are_more_diverse_than_near_copies() -> None:
    images = varied(8)
    near = [np.clip(images[0].astype(int) + i, 0, 255).astype(np.uint8) for i in range(8)]
    assert batch_diversity(images) > 0.2
    assert batch_diversity(near) < 0.05


def test_known_value_and_range() -> None:
    black, white = np.zeros((4, 4, 3), np.uint8), np.full((4, 4, 3), 255, np.uint8)
    assert batch_diversity([black, white]) == pytest.approx(1.0)
    assert batch_diversity([black, white, black]) == pytest.approx(2 / 3)


def test_order_independent_and_symmetric() -> None:
    images = varied(6, seed=1)
    forward = batch_diversity(images)
    assert batch_diversity(images[::-1]) == pytest.approx(forward)
    assert batch_diversity([images[0], images[1]]) == pytest.approx(
        batch_diversity([images[1], images[0]])
    )
    as_pil = [Image.fromarray(image) for image in images]
    assert batch_diversity(as_pil) == pytest.approx(forward)
    assert batch_diversity(np.stack(images)) == pytest.approx(forward)


def test_images_of_different_sizes_are_refused() -> None:
    with pytest.raises(InvalidInput, match="one size"):
        batch_diversity([np.zeros((4, 4, 3), np.uint8), np.zeros((8, 8, 3), np.uint8)])
