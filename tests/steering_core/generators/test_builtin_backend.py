"""The built-in generator: the generator contract, save/load, sizes, and damaged weights."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from steering_core.builtin.pipeline import ShapesPipeline
from steering_core.config import GeneratorConfig
from steering_core.errors import GeneratorFailure, InvalidInput
from steering_core.generators import make_generator
from steering_core.generators.base import GenerationSettings
from steering_core.generators.builtin_backend import BuiltinGenerator
from tests.steering_core.generators.contract import GENERATOR_CHECKS

SETTINGS = GenerationSettings(steps=3, guidance_scale=3.0)


@pytest.fixture(scope="module")
def generator(tiny_builtin_path: Path) -> BuiltinGenerator:
    generator = make_generator(
        GeneratorConfig(backend="builtin", model=str(tiny_builtin_path), device="cpu")
    )
    generator.load()
    return generator


@pytest.mark.parametrize("check", GENERATOR_CHECKS, ids=lambda check: check.__name__)
def test_generator_contract(generator: BuiltinGenerator, check: object) -> None:
    check(generator, "a red circle on a blue background", SETTINGS)  # type: ignore[operator]


def test_describe_names_the_builtin_backend(generator: BuiltinGenerator) -> None:
    description = generator.describe()
    assert description["backend"] == "builtin" and description["pipeline"] == "ShapesPipeline"
    assert description["dtype"] == "float32" and description["active_device"] == "cpu"


def test_pipeline_saves_and_loads_with_identical_output(
    tiny_builtin_path: Path, tmp_path: Path
) -> None:
    pipeline = ShapesPipeline.from_pretrained(str(tiny_builtin_path), local_files_only=True)
    pipeline.save_pretrained(str(tmp_path / "copy"))
    # Only the denoiser and the scheduler are saved; the text encoder comes from its package.
    assert sorted(p.name for p in (tmp_path / "copy").iterdir()) == [
        "model_index.json",
        "scheduler",
        "unet",
    ]
    reloaded = ShapesPipeline.from_pretrained(str(tmp_path / "copy"), local_files_only=True)

    def render(pipe: ShapesPipeline) -> np.ndarray:
        generator = torch.Generator().manual_seed(5)
        return pipe(
            "a green star", num_inference_steps=3, generator=generator, output_type="np"
        ).images

    first = render(pipeline)
    assert first.shape == (1, 32, 32, 3)
    np.testing.assert_array_equal(first, render(reloaded))
    np.testing.assert_array_equal(first, render(pipeline))  # deterministic for a seed


def test_other_sizes_are_refused(generator: BuiltinGenerator) -> None:
    conditioning = generator.encode("a red circle")
    with pytest.raises(InvalidInput, match="width: the built-in model renders 32 px"):
        generator.generate(
            [conditioning], [0], GenerationSettings(steps=2, guidance_scale=3, width=64)
        )


def test_missing_and_corrupt_weights(tiny_builtin_path: Path, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="built-in model is missing"):
        BuiltinGenerator.check_config(GeneratorConfig(backend="builtin", model=str(tmp_path)))
    damaged = tmp_path / "damaged"
    shutil.copytree(tiny_builtin_path, damaged)
    weights = damaged / "unet" / "diffusion_pytorch_model.safetensors"
    weights.write_bytes(b"not safetensors" * 100)
    generator = BuiltinGenerator(GeneratorConfig(backend="builtin", model=str(damaged)))
    with pytest.raises(GeneratorFailure, match="could not load") as error:
        generator.load()
    assert str(damaged) in str(error.value)
