"""The procedural world: exact renders, varied captions, determinism from a seed."""

from __future__ import annotations

import numpy as np
import pytest

from steering_core.builtin import world


def test_render_is_exact_and_deterministic() -> None:
    scene = world.Scene("square", "red", "blue", size="large", position="center")
    image = world.render(scene)
    assert image.shape == (world.IMAGE_SIZE, world.IMAGE_SIZE, 3) and image.dtype == np.uint8
    assert tuple(image[0, 0]) == world.hex_to_rgb(world.COLOURS["blue"])
    assert tuple(image[16, 16]) == world.hex_to_rgb(world.COLOURS["red"])
    np.testing.assert_array_equal(image, world.render(scene))


@pytest.mark.parametrize("shape", world.SHAPES)
def test_every_shape_stays_inside_the_image(shape: str) -> None:
    for size in world.SIZES:
        for position in world.POSITIONS:
            mask = world.draw_shape_mask(shape, size, position)
            border = np.concatenate([mask[0], mask[-1], mask[:, 0], mask[:, -1]])
            # Large shapes may graze the edge pixels, never cross the edge.
            assert border.max() <= 0.5, (shape, size, position)
            centered = world.draw_shape_mask(shape, size, "center")
            # Same area wherever it stands (up to anti-aliasing): nothing is cut off.
            assert abs(mask.sum() - centered.sum()) < 0.08 * centered.sum(), (shape, size)
            assert mask.sum() > 10


def test_the_world_has_enough_colours_and_shapes() -> None:
    assert len(world.COLOURS) >= 12
    assert {"circle", "square", "triangle", "ring", "star", "cross"} <= set(world.SHAPES)
    assert all(code.startswith("#") and len(code) == 7 for code in world.COLOURS.values())


def test_captions_vary_in_wording_but_name_the_scene() -> None:
    scene = world.Scene("circle", "red", "blue")
    rng = np.random.default_rng(0)
    captions = {world.caption(scene, rng) for _ in range(200)}
    assert len(captions) >= 20
    assert any("disc" in c for c in captions) and any("backdrop" in c for c in captions)
    assert all("red" in c and "blue" in c for c in captions)


def test_batches_are_deterministic_from_the_seed() -> None:
    a = world.training_batch(np.random.default_rng(3), 8)
    b = world.training_batch(np.random.default_rng(3), 8)
    np.testing.assert_array_equal(a[0], b[0])
    assert a[1] == b[1]


def test_bad_scenes_are_refused() -> None:
    with pytest.raises(ValueError, match="shape"):
        world.Scene("hexagon", "red", "blue")
    with pytest.raises(ValueError, match="differ"):
        world.Scene("circle", "red", "red")
