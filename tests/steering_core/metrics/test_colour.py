"""Tests of steering_core.metrics.colour: Lab, CIEDE2000, region scores, purity."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from steering_core.builtin import world
from steering_core.errors import InvalidInput
from steering_core.metrics.colour import (
    ciede2000,
    colour_purity,
    colour_scores,
    delta_e_to_score,
    dominant_colours,
    nearest_colour_name,
    srgb_to_lab,
)

# Sharma, Wu, Dalal (2005), "The CIEDE2000 color-difference formula: implementation notes,
# supplementary test data, and mathematical observations", Table 1: L1 a1 b1 L2 a2 b2 ΔE00.
SHARMA_PAIRS = [
    (50.0000, 2.6772, -79.7751, 50.0000, 0.0000, -82.7485, 2.0425),
    (50.0000, 3.1571, -77.2803, 50.0000, 0.0000, -82.7485, 2.8615),
    (50.0000, -1.3802, -84.2814, 50.0000, 0.0000, -82.7485, 1.0000),
    (50.0000, 0.0000, 0.0000, 50.0000, -1.0000, 2.0000, 2.3669),
    (50.0000, 2.4900, -0.0010, 50.0000, -2.4900, 0.0009, 7.1792),
    (50.0000, 2.4900, -0.0010, 50.0000, -2.4900, 0.0011, 7.2195),
    (50.0000, -0.0010, 2.4900, 50.0000, 0.0011, -2.4900, 4.7461),
    (50.0000, 2.5000, 0.0000, 73.0000, 25.0000, -18.0000, 27.1492),
    (50.0000, 2.5000, 0.0000, 56.0000, -27.0000, -3.0000, 31.9030),
    (60.2574, -34.0099, 36.2677, 60.4626, -34.1751, 39.4387, 1.2644),
    (22.7233, 20.0904, -46.6940, 23.0331, 14.9730, -42.5619, 2.0373),
    (90.9257, -0.5406, -0.9208, 88.6381, -0.8985, -0.7239, 1.5381),
    (2.0776, 0.0795, -1.1350, 0.9033, -0.0636, -0.5514, 0.9082),
]


def scene_images(n: int = 24, seed: int = 7) -> list[tuple[world.Scene, np.ndarray]]:
    rng = np.random.default_rng(seed)
    scenes = [world.sample_scene(rng) for _ in range(n)]
    return [(scene, world.render(scene)) for scene in scenes]


@pytest.mark.parametrize("pair", SHARMA_PAIRS)
def test_ciede2000_matches_sharma_reference_pairs(pair: tuple[float, ...]) -> None:
    lab1, lab2, expected = pair[:3], pair[3:6], pair[6]
    assert float(ciede2000(lab1, lab2)) == pytest.approx(expected, abs=5e-5)
    assert float(ciede2000(lab2, lab1)) == pytest.approx(expected, abs=5e-5)  # symmetric


def test_ciede2000_is_vectorised_and_zero_for_equal_colours() -> None:
    table = np.array(SHARMA_PAIRS)
    np.testing.assert_allclose(ciede2000(table[:, :3], table[:, 3:6]), table[:, 6], atol=5e-5)
    assert float(ciede2000([50, 10, -20], [50, 10, -20])) == 0.0


@pytest.mark.parametrize(
    ("rgb", "lab"),
    [
        ((255, 255, 255), (100.0, 0.0, 0.0)),
        ((0, 0, 0), (0.0, 0.0, 0.0)),
        ((255, 0, 0), (53.2408, 80.0925, 67.2032)),
        ((0, 255, 0), (87.7347, -86.1827, 83.1793)),
        ((0, 0, 255), (32.2970, 79.1875, -107.8602)),
    ],
)
def test_srgb_to_lab_matches_known_values(
    rgb: tuple[int, int, int], lab: tuple[float, float, float]
) -> None:
    np.testing.assert_allclose(srgb_to_lab(rgb), lab, atol=0.01)


def test_nearest_colour_name_maps_every_named_colour_to_itself() -> None:
    for name, code in world.COLOURS.items():
        assert nearest_colour_name(code) == name
        assert nearest_colour_name(world.hex_to_rgb(code)) == name
    assert nearest_colour_name((250, 10, 10)) == "red"


def test_dominant_colours_are_sorted_fractions_of_the_image() -> None:
    scene = world.Scene("square", "yellow", "blue", size="large")
    result = dominant_colours(world.render(scene), k=3)
    fractions = [fraction for _, fraction in result]
    assert fractions == sorted(fractions, reverse=True)
    assert sum(fractions) == pytest.approx(1.0)
    assert nearest_colour_name(result[0][0]) == "blue"
    assert nearest_colour_name(result[1][0]) == "yellow"
    # A flat image has one colour, however many are asked for.
    assert dominant_colours(np.full((8, 8, 3), 40, np.uint8), k=3) == [((40, 40, 40), 1.0)]


def test_procedural_images_score_near_100_and_are_correct() -> None:
    for scene, image in scene_images():
        scores = colour_scores(
            image, world.COLOURS[scene.background], world.COLOURS[scene.foreground]
        )
        assert scores.background >= 95, scene
        assert scores.foreground >= 95, scene
        assert scores.background_correct and scores.foreground_correct, scene
        assert scores.background_name == scene.background
        assert scores.foreground_name == scene.foreground


def test_pil_images_and_colour_names_are_accepted() -> None:
    image = Image.fromarray(world.render(world.Scene("ring", "orange", "teal", "large")))
    scores = colour_scores(image, "teal", "orange")
    assert scores.background == pytest.approx(100.0)
    assert scores.foreground == pytest.approx(100.0)


def test_wrong_colours_score_low_and_are_not_correct() -> None:
    image = world.render(world.Scene("circle", "red", "blue"))
    scores = colour_scores(image, world.COLOURS["green"], world.COLOURS["yellow"])
    assert scores.background < 30 and scores.foreground < 30
    assert not scores.background_correct and not scores.foreground_correct
    # Swapped colours: the regions are found from the image, not from the expectation.
    swapped = colour_scores(image, world.COLOURS["red"], world.COLOURS["blue"])
    assert swapped.background < 30 and swapped.foreground < 30


def test_a_missing_shape_scores_zero_foreground() -> None:
    flat = np.full((32, 32, 3), world.hex_to_rgb(world.COLOURS["blue"]), np.uint8)
    scores = colour_scores(flat, "blue", "blue")
    assert scores.background == pytest.approx(100.0)
    assert scores.foreground == 0.0 and not scores.foreground_correct
    assert scores.foreground_rgb is None


def test_close_colours_score_between() -> None:
    image = world.render(world.Scene("square", "orange", "white", "large"))
    near = colour_scores(image, "white", world.COLOURS["brown"])  # a near miss, ΔE ~ 20
    assert 40 < near.foreground < 80
    assert delta_e_to_score(0) == 100 and delta_e_to_score(25) == 50 and delta_e_to_score(60) == 0


def test_mild_noise_keeps_scores_high() -> None:
    rng = np.random.default_rng(0)
    for scene, image in scene_images(8, seed=11):
        noisy = np.clip(image + rng.normal(0, 4, image.shape), 0, 255).astype(np.uint8)
        scores = colour_scores(noisy, scene.background, scene.foreground)
        assert scores.background >= 90 and scores.foreground >= 90, scene
        assert scores.background_correct and scores.foreground_correct, scene


def test_bad_colours_and_images_are_refused() -> None:
    image = world.render(world.Scene("circle", "red", "blue"))
    with pytest.raises(InvalidInput, match="hex code"):
        colour_scores(image, "#12345", "red")
    with pytest.raises(InvalidInput, match="H x W x 3"):
        colour_scores(np.zeros((4, 4)), "blue", "red")


def test_purity_is_100_for_solid_scenes_and_lower_when_noisy_or_multi_toned() -> None:
    for _, image in scene_images(12, seed=3):
        purity = colour_purity(image)
        assert purity["background"] >= 98 and purity["foreground"] >= 98
        assert purity["overall"] >= 98
    scene = world.Scene("star", "yellow", "blue", "large")
    image = world.render(scene)
    noisy = np.clip(image + np.random.default_rng(1).normal(0, 12, image.shape), 0, 255)
    assert colour_purity(noisy.astype(np.uint8))["overall"] < 90
    two_tone = image.copy()  # the left half of the background turns teal
    left = two_tone[:, :16]
    left[np.all(left == world.hex_to_rgb(world.COLOURS["blue"]), axis=-1)] = world.hex_to_rgb(
        world.COLOURS["teal"]
    )
    purity = colour_purity(two_tone)
    assert purity["background"] < 50
    assert purity["foreground"] >= 98
