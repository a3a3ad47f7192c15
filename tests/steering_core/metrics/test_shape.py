"""Tests of steering_core.metrics.shape with the shipped classifier weights (no training)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from steering_core.builtin import world
from steering_core.errors import DataCorrupt, InvalidInput
from steering_core.metrics.shape import (
    DEFAULT_WEIGHTS_DIR,
    WEIGHTS_FILE,
    classify_shape,
    load_shape_classifier,
    shape_faithfulness,
    shape_probabilities,
)

TEST_SEED = 424_242  # training draws from seed 0; these scenes are fresh


def fresh(n: int, seed: int = TEST_SEED) -> tuple[list[world.Scene], np.ndarray]:
    rng = np.random.default_rng(seed)
    scenes = [world.sample_scene(rng) for _ in range(n)]
    return scenes, np.stack([world.render(scene) for scene in scenes])


def test_accuracy_on_fresh_procedural_images_is_at_least_98_percent() -> None:
    scenes, images = fresh(600)
    probabilities = shape_probabilities(images)
    assert probabilities.shape == (600, len(world.SHAPES))
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    predicted = [world.SHAPES[i] for i in probabilities.argmax(axis=1)]
    accuracy = np.mean([p == scene.shape for p, scene in zip(predicted, scenes, strict=True)])
    assert accuracy >= 0.98


def test_robust_to_mild_noise() -> None:
    scenes, images = fresh(120, seed=TEST_SEED + 1)
    noise = np.random.default_rng(0).normal(0, 8, images.shape)
    noisy = np.clip(images + noise, 0, 255).astype(np.uint8)
    predicted = shape_probabilities(noisy).argmax(axis=1)
    truth = [world.SHAPES.index(scene.shape) for scene in scenes]
    assert np.mean(predicted == truth) >= 0.95


def test_classify_and_faithfulness_on_one_image() -> None:
    image = world.render(world.Scene("star", "pink", "black", "medium", "top left"))
    name, confidence = classify_shape(image)
    assert name == "star" and 0.9 <= confidence <= 1.0
    assert shape_faithfulness(Image.fromarray(image), "star") >= 90
    assert shape_faithfulness(image, "circle") <= 10
    with pytest.raises(InvalidInput, match="expected_shape"):
        shape_faithfulness(image, "hexagon")


def test_larger_images_are_resized() -> None:
    image = world.render(world.Scene("cross", "green", "white", "large"), pixels=128)
    assert classify_shape(image)[0] == "cross"


def test_loader_is_cached() -> None:
    assert load_shape_classifier() is load_shape_classifier(DEFAULT_WEIGHTS_DIR)


def test_corrupt_weights_give_an_error_naming_the_file(tmp_path: Path) -> None:
    copy = tmp_path / "classifier"
    shutil.copytree(DEFAULT_WEIGHTS_DIR, copy)
    weights = copy / WEIGHTS_FILE
    data = bytearray(weights.read_bytes())
    data[:64] = b"\xff" * 64  # garble the header
    weights.write_bytes(bytes(data))
    with pytest.raises(DataCorrupt, match=re.escape(str(weights))):
        shape_probabilities(world.render(world.Scene("circle", "red", "blue")), copy)


def test_flipped_weight_bytes_are_caught_by_the_checksum(tmp_path: Path) -> None:
    copy = tmp_path / "classifier"
    shutil.copytree(DEFAULT_WEIGHTS_DIR, copy)
    weights = copy / WEIGHTS_FILE
    data = bytearray(weights.read_bytes())
    data[-10] ^= 0xFF  # still a valid safetensors file, with one wrong weight
    weights.write_bytes(bytes(data))
    with pytest.raises(DataCorrupt, match="corrupt"):
        load_shape_classifier(copy)


def test_missing_weights_give_an_error_naming_the_file(tmp_path: Path) -> None:
    with pytest.raises(DataCorrupt, match=re.escape(str(tmp_path / WEIGHTS_FILE))):
        load_shape_classifier(tmp_path)
