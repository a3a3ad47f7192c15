"""Tests of the diffusers backend on tiny random-weight SD and SDXL pipelines (offline, CPU)."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from steering_core.config import GeneratorConfig
from steering_core.errors import GeneratorFailure, InvalidInput, JobCancelled, SteeringError
from steering_core.generators import make_generator
from steering_core.generators.base import Conditioning, GenerationSettings, StepProgress
from steering_core.generators.diffusers_backend import (
    DiffusersGenerator,
    resolve_device,
    resolve_dtype,
)
from tests.steering_core.generators.contract import (
    CONTRACT_SETTINGS,
    GENERATOR_CHECKS,
    GeneratorCheck,
    steered,
)

BACKENDS = ("sd", "sdxl")


def _pixels(image: Any) -> np.ndarray:
    return np.asarray(image, dtype=np.int16)


def _loaded(path: Path, **config: Any) -> DiffusersGenerator:
    generator = DiffusersGenerator(GeneratorConfig(model=str(path), device="cpu", **config))
    generator.load()
    return generator


@pytest.fixture(scope="module")
def sd_generator(tiny_sd_path: Path) -> DiffusersGenerator:
    return _loaded(tiny_sd_path)


@pytest.fixture(scope="module")
def sdxl_generator(tiny_sdxl_path: Path) -> DiffusersGenerator:
    return _loaded(tiny_sdxl_path)


@pytest.fixture(params=BACKENDS)
def generator(request: pytest.FixtureRequest) -> DiffusersGenerator:
    return request.getfixturevalue(f"{request.param}_generator")


# --------------------------------------------------------------------------------------------
# The shared generator contract
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("check", GENERATOR_CHECKS, ids=lambda check: check.__name__)
def test_contract(generator: DiffusersGenerator, check: GeneratorCheck) -> None:
    check(generator, "a red circle", CONTRACT_SETTINGS)


def test_make_generator_builds_the_diffusers_backend_cold(tiny_sd_path: Path) -> None:
    generator = make_generator(GeneratorConfig(backend="diffusers", model=str(tiny_sd_path)))
    assert isinstance(generator, DiffusersGenerator)
    assert generator.describe()["warm"] is False


# --------------------------------------------------------------------------------------------
# Encoding
# --------------------------------------------------------------------------------------------


def test_sd_conditioning_has_no_pooled_embeddings(sd_generator: DiffusersGenerator) -> None:
    conditioning = sd_generator.encode("a red circle", negative_prompt="blurry")
    assert conditioning.prompt_embeds.shape == (1, 77, 32)
    assert conditioning.negative_prompt_embeds is not None
    assert conditioning.negative_prompt_embeds.shape == (1, 77, 32)
    assert conditioning.pooled_prompt_embeds is None
    assert conditioning.steerable_vector().shape == (77 * 32,)


def test_sdxl_conditioning_steers_pooled_embeddings(sdxl_generator: DiffusersGenerator) -> None:
    conditioning = sdxl_generator.encode("a red circle")
    assert conditioning.prompt_embeds.shape == (1, 77, 64)  # two text encoders of width 32
    assert conditioning.pooled_prompt_embeds is not None
    assert conditioning.pooled_prompt_embeds.shape == (1, 32)
    assert conditioning.negative_pooled_prompt_embeds is not None
    assert conditioning.steerable_vector().shape == (77 * 64 + 32,)
    # SDXL's force_zeros_for_empty_prompt: no negative prompt means zero negative embeddings.
    assert conditioning.negative_prompt_embeds is not None
    assert not conditioning.negative_prompt_embeds.any()


def test_conditioning_without_negatives_uses_the_empty_prompt(
    generator: DiffusersGenerator,
) -> None:
    conditioning = generator.encode("a red circle")
    bare = replace(conditioning, negative_prompt_embeds=None, negative_pooled_prompt_embeds=None)
    with_negatives, without = generator.generate([conditioning, bare], [0, 0], CONTRACT_SETTINGS)
    np.testing.assert_array_equal(_pixels(with_negatives), _pixels(without))


def test_cancelling_skips_the_remaining_steps(sd_generator: DiffusersGenerator) -> None:
    conditioning = sd_generator.encode("a red circle")
    events: list[StepProgress] = []
    settings = GenerationSettings(steps=5, guidance_scale=5.0, height=32, width=32)
    with pytest.raises(JobCancelled, match="step 2 of 5"):
        sd_generator.generate(
            [conditioning],
            [0],
            settings,
            on_progress=events.append,
            should_cancel=lambda: len(events) >= 2,
        )
    assert [event.step for event in events] == [1, 2]


# --------------------------------------------------------------------------------------------
# Batching and out-of-memory
# --------------------------------------------------------------------------------------------


def _candidates(generator: DiffusersGenerator) -> list[Conditioning]:
    conditioning = generator.encode("a red circle")
    return [conditioning, steered(conditioning, seed=1), steered(conditioning, seed=2)]


def _spy_on_chunks(
    monkeypatch: pytest.MonkeyPatch,
    generator: DiffusersGenerator,
    fail_above: int | None = None,
) -> list[int]:
    """Record the size of every pipeline call; optionally fail those larger than `fail_above`."""
    sizes: list[int] = []
    real = generator._generate_chunk

    def spy(conditionings: Sequence[Conditioning], *args: Any, **kwargs: Any) -> Any:
        sizes.append(len(conditionings))
        if fail_above is not None and len(conditionings) > fail_above:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return real(conditionings, *args, **kwargs)

    monkeypatch.setattr(generator, "_generate_chunk", spy)
    # The generator remembers an out-of-memory batch limit; start clean and restore after.
    monkeypatch.setattr(generator, "_oom_batch_limit", None)
    return sizes


@pytest.mark.parametrize("backend", BACKENDS)
def test_one_batched_call_matches_one_image_at_a_time(
    backend: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    batched = request.getfixturevalue(f"{backend}_generator")
    one_at_a_time = _loaded(Path(batched.config.model), batch_size=1)
    candidates, seeds = _candidates(batched), [3, 4, 5]
    batched_sizes = _spy_on_chunks(monkeypatch, batched)
    single_sizes = _spy_on_chunks(monkeypatch, one_at_a_time)

    together = batched.generate(candidates, seeds, CONTRACT_SETTINGS)
    apart = one_at_a_time.generate(candidates, seeds, CONTRACT_SETTINGS)

    assert batched_sizes == [3]
    assert single_sizes == [1, 1, 1]
    # Every image's noise comes from its own seeded generator, so batching changes only the
    # float rounding inside batched kernels: at most one level of 255 after quantization.
    for image_together, image_apart in zip(together, apart, strict=True):
        assert np.abs(_pixels(image_together) - _pixels(image_apart)).max() <= 1


def test_batch_size_splits_candidates_into_chunks(
    sd_generator: DiffusersGenerator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        sd_generator, "config", sd_generator.config.model_copy(update={"batch_size": 2})
    )
    sizes = _spy_on_chunks(monkeypatch, sd_generator)
    events: list[StepProgress] = []
    images = sd_generator.generate(
        _candidates(sd_generator), [0, 1, 2], CONTRACT_SETTINGS, on_progress=events.append
    )
    assert sizes == [2, 1]
    assert len(images) == 3
    # Each step says its batch: 2 images first, then the last one after them.
    batches = {(e.batch, e.batches, e.batch_images, e.images_before) for e in events}
    assert batches == {(1, 2, 2, 0), (2, 2, 1, 2)}


def test_out_of_memory_halves_the_chunk_and_retries(
    sd_generator: DiffusersGenerator, monkeypatch: pytest.MonkeyPatch
) -> None:
    candidates, seeds = _candidates(sd_generator) * 2, [0, 1, 2, 3, 4, 5]
    expected = sd_generator.generate(candidates, seeds, CONTRACT_SETTINGS)
    sizes = _spy_on_chunks(monkeypatch, sd_generator, fail_above=2)

    images = sd_generator.generate(candidates, seeds, CONTRACT_SETTINGS)

    assert sizes == [6, 3, 1, 1, 1, 1, 1, 1]
    assert sd_generator.describe()["oom_batch_limit"] == 1
    for image, reference in zip(images, expected, strict=True):
        assert np.abs(_pixels(image) - _pixels(reference)).max() <= 1


def test_out_of_memory_for_one_image_is_a_generator_failure(
    sd_generator: DiffusersGenerator, monkeypatch: pytest.MonkeyPatch
) -> None:
    sizes = _spy_on_chunks(monkeypatch, sd_generator, fail_above=0)
    with pytest.raises(GeneratorFailure, match="out of GPU memory"):
        sd_generator.generate(_candidates(sd_generator), [0, 1, 2], CONTRACT_SETTINGS)
    assert sizes == [3, 1]


def test_generate_rejects_mismatched_inputs(sd_generator: DiffusersGenerator) -> None:
    conditioning = sd_generator.encode("a red circle")
    with pytest.raises(InvalidInput, match="one seed per conditioning"):
        sd_generator.generate([conditioning, conditioning], [0], CONTRACT_SETTINGS)
    with pytest.raises(InvalidInput, match="height"):
        sd_generator.generate(
            [conditioning], [0], GenerationSettings(steps=2, guidance_scale=5.0, height=33)
        )
    assert sd_generator.generate([], [], CONTRACT_SETTINGS) == []


def test_conditioning_from_another_model_is_rejected(
    sd_generator: DiffusersGenerator, sdxl_generator: DiffusersGenerator
) -> None:
    with pytest.raises(InvalidInput, match="conditioning"):
        sd_generator.generate([sdxl_generator.encode("a red circle")], [0], CONTRACT_SETTINGS)


# --------------------------------------------------------------------------------------------
# Configuration and loading errors
# --------------------------------------------------------------------------------------------


def test_check_config_accepts_a_pipeline_folder(tiny_sd_path: Path) -> None:
    DiffusersGenerator.check_config(GeneratorConfig(model=str(tiny_sd_path)))


@pytest.mark.parametrize("model", [None, "", "   "])
def test_check_config_requires_a_model(model: str | None) -> None:
    with pytest.raises(InvalidInput, match=r"^generator\.model: required"):
        DiffusersGenerator.check_config(GeneratorConfig(model=model))


def test_check_config_rejects_a_missing_path(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-model"
    with pytest.raises(InvalidInput, match=r"^generator\.model: no folder or file at") as error:
        DiffusersGenerator.check_config(GeneratorConfig(model=str(missing)))
    assert str(missing) in str(error.value)


def test_check_config_rejects_a_folder_that_is_not_a_pipeline(tiny_sd_path: Path) -> None:
    with pytest.raises(InvalidInput, match="not a diffusers pipeline folder"):
        DiffusersGenerator.check_config(GeneratorConfig(model=str(tiny_sd_path / "unet")))


def test_check_config_rejects_a_single_file(tiny_sd_path: Path) -> None:
    with pytest.raises(InvalidInput, match="single file"):
        DiffusersGenerator.check_config(
            GeneratorConfig(model=str(tiny_sd_path / "model_index.json"))
        )


def test_check_config_rejects_an_unknown_hugging_face_id(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path))
    with pytest.raises(InvalidInput, match="no cached Hugging Face model with that id"):
        DiffusersGenerator.check_config(GeneratorConfig(model="someone/unknown-model"))


# diffusers itself passes huggingface_hub a deprecated argument when it resolves a cached id.
@pytest.mark.filterwarnings("ignore:The `local_dir_use_symlinks` argument is deprecated")
def test_a_cached_hugging_face_id_loads_offline(
    tiny_sd_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import huggingface_hub.constants

    # The Hugging Face cache layout: refs/main names the snapshot folder holding the files.
    commit = "0123456789abcdef0123456789abcdef01234567"
    repo = tmp_path / "models--tiny--sd"
    shutil.copytree(tiny_sd_path, repo / "snapshots" / commit)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path))

    generator = _loaded(Path("tiny/sd"))
    assert generator.describe()["pipeline"] == "StableDiffusionPipeline"


def test_corrupt_weights_give_a_clear_error(tiny_sd_path: Path, tmp_path: Path) -> None:
    folder = tmp_path / "corrupt"
    shutil.copytree(tiny_sd_path, folder)
    (folder / "unet" / "diffusion_pytorch_model.safetensors").write_bytes(b"\x00garbage" * 64)
    generator = DiffusersGenerator(GeneratorConfig(model=str(folder), device="cpu"))

    with pytest.raises(SteeringError) as error:
        generator.load()

    message = str(error.value)
    assert isinstance(error.value, GeneratorFailure | InvalidInput)
    assert str(folder) in message
    assert "\n" not in message
    assert generator.describe()["warm"] is False


def test_unavailable_devices_are_invalid_input(tiny_sd_path: Path) -> None:
    if not torch.cuda.is_available():
        with pytest.raises(InvalidInput, match=r"^generator\.device: 'cuda:0'"):
            DiffusersGenerator.check_config(
                GeneratorConfig(model=str(tiny_sd_path), device="cuda:0")
            )
    if not torch.backends.mps.is_available():
        with pytest.raises(InvalidInput, match=r"^generator\.device: 'mps'"):
            resolve_device("mps")


def test_dtype_auto_is_float16_on_cuda_and_float32_elsewhere() -> None:
    assert resolve_dtype("auto", "cuda") == torch.float16
    assert resolve_dtype("auto", "cuda:1") == torch.float16
    assert resolve_dtype("auto", "cpu") == torch.float32
    assert resolve_dtype("auto", "mps") == torch.float32
    assert resolve_dtype("bfloat16", "cpu") == torch.bfloat16


# --------------------------------------------------------------------------------------------
# describe()
# --------------------------------------------------------------------------------------------


def test_describe_before_load_is_cold(tiny_sd_path: Path) -> None:
    description = DiffusersGenerator(GeneratorConfig(model=str(tiny_sd_path))).describe()
    assert description["warm"] is False
    assert description["active_device"] is None
    assert description["load_seconds"] is None
    assert description["configured_device"] == "auto"
    assert description["requested_device"] == resolve_device("auto")


@pytest.mark.parametrize(
    ("backend", "pipeline", "pooled"),
    [("sd", "StableDiffusionPipeline", False), ("sdxl", "StableDiffusionXLPipeline", True)],
)
def test_describe_when_warm_on_cpu(
    backend: str, pipeline: str, pooled: bool, request: pytest.FixtureRequest
) -> None:
    description = request.getfixturevalue(f"{backend}_generator").describe()
    assert description["backend"] == "diffusers"
    assert description["warm"] is True
    assert description["configured_device"] == "cpu"
    assert description["requested_device"] == "cpu"
    assert description["active_device"] == "cpu"
    assert description["dtype"] == "float32"
    assert description["load_seconds"] > 0
    assert description["pipeline"] == pipeline
    assert description["has_pooled_embeddings"] is pooled
    for library in ("torch", "diffusers", "transformers", "python"):
        assert description[f"{library}_version"]
    assert "gpu_name" not in description


def test_unload_makes_the_generator_cold_and_load_warms_it_again(tiny_sd_path: Path) -> None:
    generator = _loaded(tiny_sd_path)
    generator.unload()
    assert generator.describe()["warm"] is False
    assert generator.describe()["active_device"] is None
    assert len(generator.generate([generator.encode("a red circle")], [0], CONTRACT_SETTINGS)) == 1


# --------------------------------------------------------------------------------------------
# Stored expected values (like diffusers' slice checks)
# --------------------------------------------------------------------------------------------

# Produced by the tiny pipelines of steering_core/generators/tiny.py (seed 0) with torch 2.13
# on CPU: a steered candidate at radius 1.0, seed 0, guidance 15. The 3x3 corner slice (last
# channel) guards the pipeline call; because the conditioning barely moves those corner pixels
# in a random-weight model, the mean |steered - unsteered| guards the steering path itself
# (it drops to 0 if steering is ignored, to ~1.7 on SDXL if the pooled part is not steered,
# and doubles if the negative embeddings are steered too).
EXPECTED = {
    "sd": {"slice": [148, 89, 140, 163, 174, 194, 59, 145, 196], "mean_change": 2.251},
    "sdxl": {"slice": [151, 104, 156, 144, 163, 192, 63, 155, 196], "mean_change": 6.268},
}


@pytest.mark.parametrize("backend", BACKENDS)
def test_steered_image_matches_stored_values(backend: str, request: pytest.FixtureRequest) -> None:
    generator = request.getfixturevalue(f"{backend}_generator")
    settings = GenerationSettings(steps=2, guidance_scale=15.0, height=32, width=32)
    conditioning = generator.encode("a red circle")

    plain, moved = generator.generate(
        [conditioning, steered(conditioning, radius=1.0)], [0, 0], settings
    )

    image_slice = _pixels(moved)[-3:, -3:, -1].ravel()
    mean_change = np.abs(_pixels(moved) - _pixels(plain)).mean()
    expected = EXPECTED[backend]
    # Two levels of 255 (diffusers uses 1e-2 on [0, 1]): room for other CPUs' float rounding.
    assert np.abs(image_slice - np.array(expected["slice"])).max() <= 2, image_slice.tolist()
    assert mean_change == pytest.approx(expected["mean_change"], rel=0.1)
