"""The shipped built-in model, as a researcher meets it: it draws what the prompt says, its
steering directions are smooth, and the red -> blue attribute axis turns a red shape blue."""

from __future__ import annotations

import numpy as np
import pytest

from steering_core.builtin import world
from steering_core.config import BasisConfig, GeneratorConfig
from steering_core.generators import make_generator
from steering_core.generators.base import GenerationSettings
from steering_core.generators.builtin_backend import BUILTIN_MODEL, BuiltinGenerator
from steering_core.metrics import ciede2000, classify_shape, colour_scores, srgb_to_lab
from steering_core.steering_space import build_steering_space

SETTINGS = GenerationSettings(steps=20, guidance_scale=3.0)
SCENES = [
    world.Scene("star", "yellow", "purple"),
    world.Scene("circle", "red", "blue"),
    world.Scene("square", "green", "white"),
    world.Scene("cross", "black", "orange"),
    world.Scene("ring", "white", "teal"),
    world.Scene("triangle", "blue", "yellow"),
]


@pytest.fixture(scope="module")
def generator() -> BuiltinGenerator:
    generator = make_generator(GeneratorConfig(backend="builtin", device="cpu"))
    generator.load()
    return generator


def test_the_model_ships_small_enough() -> None:
    weights = BUILTIN_MODEL / "unet" / "diffusion_pytorch_model.safetensors"
    assert weights.stat().st_size <= 20 * 2**20


def test_images_show_what_the_prompt_says(generator: BuiltinGenerator) -> None:
    backgrounds = foregrounds = shapes = 0
    for scene in SCENES:
        conditioning = generator.encode(world.canonical_caption(scene))
        for image in generator.generate([conditioning] * 2, [0, 1], SETTINGS):
            scores = colour_scores(
                image, world.COLOURS[scene.background], world.COLOURS[scene.foreground]
            )
            backgrounds += scores.background_correct
            foregrounds += scores.foreground_correct
            shapes += classify_shape(image)[0] == scene.shape
    total = 2 * len(SCENES)
    # The benchmark (200 prompts x 4 seeds) measures the real rates; these are floors.
    assert backgrounds >= 0.8 * total
    assert foregrounds >= 0.7 * total
    assert shapes >= 0.5 * total


def test_a_random_direction_changes_images_smoothly(generator: BuiltinGenerator) -> None:
    radii = (0.0, 0.1, 0.2, 0.4)
    rng = np.random.default_rng(0)
    curves = []
    for scene in SCENES[:4]:
        base = generator.encode(world.canonical_caption(scene))
        origin = base.steerable_vector()
        direction = rng.normal(size=origin.shape)
        direction *= np.linalg.norm(origin) / np.linalg.norm(direction)
        steered = [base.with_steerable_vector(origin + r * direction) for r in radii]
        images = [
            np.asarray(i, dtype=float) / 255 for i in generator.generate(steered, [0] * 4, SETTINGS)
        ]
        curves.append([np.sqrt(((image - images[0]) ** 2).mean()) for image in images])
    assert np.all(np.diff(np.mean(curves, axis=0)) > 0)


def test_the_red_to_blue_axis_turns_a_red_shape_blue(generator: BuiltinGenerator) -> None:
    blue = srgb_to_lab(np.array(world.hex_to_rgb(world.COLOURS["blue"]), dtype=float))
    before, after = [], []
    for shape, background in (("circle", "white"), ("square", "yellow"), ("star", "green")):
        prompt = f"a red {shape} on a {background} background"
        base = generator.encode(prompt)
        space = build_steering_space(
            prompt,
            base,
            BasisConfig(kind="attribute", pairs=[("red", "blue")]),
            d=1,
            seed=0,
            encode=lambda text: generator.encode(text).steerable_vector(),
        )
        images = generator.generate(
            space.conditionings(base, np.array([[0.0], [0.5]])), [0, 0], SETTINGS
        )
        for image, bucket in zip(images, (before, after), strict=True):
            scores = colour_scores(image, world.COLOURS[background], world.COLOURS["blue"])
            rgb = scores.foreground_rgb or scores.background_rgb
            bucket.append(float(ciede2000(srgb_to_lab(np.array(rgb, dtype=float)), blue)))
    assert np.mean(after) < np.mean(before) - 10
