"""The diffusers backend: steer a local SD 1.x/2.x, SD-Turbo or SDXL model via its prompt_embeds."""

from __future__ import annotations

import gc
import importlib.metadata
import math
import platform
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from steering_core.errors import GeneratorFailure, InvalidInput, JobCancelled
from steering_core.generators.base import (
    GENERATORS,
    CancelCheck,
    Conditioning,
    GenerationSettings,
    ProgressCallback,
    StepProgress,
)

if TYPE_CHECKING:
    from diffusers import DiffusionPipeline
    from PIL import Image

    from steering_core.config import GeneratorConfig

_DTYPES: dict[str, torch.dtype] = {
    "float32": torch.float32,
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
}
_MAX_SEED = 2**64 - 1


@dataclass(frozen=True)
class _Batch:
    """One pipeline call of a generate call: batch `number` of `count`, `images` images
    after the first `start` of `total`."""

    number: int
    count: int
    start: int
    images: int
    total: int

    def progress(self, step: int, steps: int, decoded: bool = False) -> StepProgress:
        done = self.start + self.images if decoded else self.start
        return StepProgress(
            done, self.total, step, steps, self.number, self.count, self.images, self.start
        )


def _one_line(error: BaseException, limit: int = 300) -> str:
    """The first line of an exception's message, short enough for a status bar."""
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _is_out_of_memory(error: BaseException) -> bool:
    # CUDA raises torch.cuda.OutOfMemoryError; MPS and older CUDA paths a plain RuntimeError.
    return isinstance(error, torch.cuda.OutOfMemoryError) or "out of memory" in str(error).lower()


def _free_accelerator_memory() -> None:
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    if torch.backends.mps.is_available():
        torch.mps.empty_cache()


def resolve_device(configured: str) -> str:
    """Turn a configured device (auto, cpu, cuda, cuda:N, mps) into the one to request."""
    if configured == "auto":
        if torch.cuda.is_available():
            return "cuda"
        if torch.backends.mps.is_available():
            return "mps"
        return "cpu"
    if configured.startswith("cuda"):
        if not torch.cuda.is_available():
            build = f"CUDA {torch.version.cuda}" if torch.version.cuda else "no CUDA support"
            raise InvalidInput(
                f"generator.device: {configured!r} requested but torch sees no CUDA device "
                f"(torch {torch.__version__} with {build}); use 'auto' or 'cpu'"
            )
        index_text = configured.split(":", 1)[1] if ":" in configured else "0"
        if not index_text.isdigit():
            raise InvalidInput(f"generator.device: must be cuda or cuda:N (got {configured!r})")
        if int(index_text) >= torch.cuda.device_count():
            raise InvalidInput(
                f"generator.device: {configured!r} requested but only "
                f"{torch.cuda.device_count()} CUDA device(s) are visible"
            )
    if configured == "mps" and not torch.backends.mps.is_available():
        raise InvalidInput("generator.device: 'mps' requested but torch sees no MPS device")
    return configured


def resolve_dtype(configured: str, device: str) -> torch.dtype:
    """auto means float16 on CUDA (half the memory, near-identical images), else float32."""
    if configured == "auto":
        return torch.float16 if device.startswith("cuda") else torch.float32
    return _DTYPES[configured]


def _dtype_keyword() -> str:
    """The from_pretrained keyword for the dtype: newer diffusers warn on `torch_dtype`."""
    try:
        from diffusers.utils import _resolve_dtype  # noqa: F401 - present once `dtype` exists
    except ImportError:
        return "torch_dtype"
    return "dtype"


def _package_version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def _dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


@GENERATORS.register("diffusers")
class DiffusersGenerator:
    """A local diffusers text-to-image pipeline, steered through its prompt embeddings.

    Supports `StableDiffusionPipeline` (SD 1.x/2.x, SD-Turbo) and `StableDiffusionXLPipeline`
    (SDXL, SDXL-Turbo; the pooled embedding is steered too). Weights are loaded with
    `local_files_only`, from a pipeline folder or the local Hugging Face cache; nothing is
    ever downloaded.
    """

    def __init__(self, config: GeneratorConfig) -> None:
        self.config = config
        self._pipeline: DiffusionPipeline | None = None
        self._active_device: str | None = None
        self._active_dtype: torch.dtype | None = None
        self._load_seconds: float | None = None
        self._has_pooled: bool | None = None
        # Learned on CUDA out-of-memory so later rounds do not pay for the same failure.
        self._oom_batch_limit: int | None = None
        self._empty_negative: Conditioning | None = None

    # ----------------------------------------------------------------------------------------
    # Configuration
    # ----------------------------------------------------------------------------------------

    @classmethod
    def check_config(cls, config: GeneratorConfig) -> None:
        """Raise InvalidInput naming the field if `config` cannot be loaded here; loads nothing."""
        model = (config.model or "").strip()
        if not model:
            raise InvalidInput(
                "generator.model: required for the diffusers backend "
                "(a local pipeline folder or the id of a cached Hugging Face model)"
            )
        cls._model_location(model)
        resolve_device(config.device)

    @staticmethod
    def _model_location(model: str) -> str:
        """The folder or cached Hugging Face id to load `model` from, or InvalidInput."""
        path = Path(model).expanduser()
        if path.is_dir():
            if not (path / "model_index.json").is_file():
                raise InvalidInput(
                    f"generator.model: {model!r} is not a diffusers pipeline folder "
                    "(it has no model_index.json)"
                )
            return str(path)
        if path.exists():
            raise InvalidInput(
                f"generator.model: {model!r} is a single file; the diffusers backend needs a "
                "pipeline folder with model_index.json (save one with save_pretrained)"
            )
        from huggingface_hub import try_to_load_from_cache
        from huggingface_hub.errors import HFValidationError

        try:
            cached = try_to_load_from_cache(model, "model_index.json")
        except HFValidationError:
            cached = None  # Not a repo id either: report it as a missing path.
        if not isinstance(cached, str):
            raise InvalidInput(
                f"generator.model: no folder or file at {model!r} and no cached Hugging Face "
                "model with that id"
            )
        return model

    # ----------------------------------------------------------------------------------------
    # Loading
    # ----------------------------------------------------------------------------------------

    @property
    def warm(self) -> bool:
        return self._pipeline is not None

    def load(self) -> None:
        """Load the pipeline onto its device (idempotent); records the cold-start seconds."""
        if self._pipeline is not None:
            return
        # Configuration errors first, as InvalidInput, before the slow import and load.
        self.check_config(self.config)
        model = (self.config.model or "").strip()
        location = self._model_location(model)
        device = resolve_device(self.config.device)
        dtype = resolve_dtype(self.config.dtype, device)
        from steering_core.quiet import quiet_model_libraries

        quiet_model_libraries()  # our worker reports progress; no library bars in the logs
        import diffusers  # noqa: F401  (imported before the load is timed: it takes seconds)

        # Timed after the import: load_seconds is the model's cold start, not the library's.
        started = time.perf_counter()
        try:
            pipeline = self._from_pretrained(location, dtype).to(device)
        except Exception as error:
            if _is_out_of_memory(error):
                raise GeneratorFailure(
                    f"out of GPU memory loading {model!r} on {device} as {_dtype_name(dtype)}; "
                    "try dtype float16 or a smaller model"
                ) from error
            raise GeneratorFailure(
                f"could not load the diffusers pipeline at {model!r}: "
                f"{type(error).__name__}: {_one_line(error)}"
            ) from error

        has_pooled = self._has_pooled_embeddings(pipeline, model)
        pipeline.set_progress_bar_config(disable=True)

        self._pipeline = pipeline
        self._has_pooled = has_pooled
        # Read once: diffusers' ModelMixin.device/.dtype walk every submodule (about a
        # millisecond each), too slow to ask on every generate call.
        self._active_device = str(pipeline.unet.device)
        self._active_dtype = pipeline.unet.dtype
        self._load_seconds = time.perf_counter() - started

    def _from_pretrained(self, location: str, dtype: torch.dtype) -> DiffusionPipeline:
        from diffusers import AutoPipelineForText2Image

        return AutoPipelineForText2Image.from_pretrained(
            location, local_files_only=True, **{_dtype_keyword(): dtype}
        )

    def _has_pooled_embeddings(self, pipeline: DiffusionPipeline, model: str) -> bool:
        """SDXL steers pooled embeddings too; SD does not; other pipelines are refused."""
        from diffusers import StableDiffusionPipeline, StableDiffusionXLPipeline

        # Both families share encode_prompt/__call__ semantics we rely on; others do not.
        if isinstance(pipeline, StableDiffusionXLPipeline):
            return True
        if isinstance(pipeline, StableDiffusionPipeline):
            return False
        raise InvalidInput(
            f"generator.model: {model!r} is a {type(pipeline).__name__}; the diffusers "
            "backend steers StableDiffusionPipeline and StableDiffusionXLPipeline models"
        )

    def unload(self) -> None:
        """Drop the pipeline and free its memory; the next call loads it again."""
        self._pipeline = None
        self._empty_negative = None
        self._active_device = None
        self._active_dtype = None
        _free_accelerator_memory()

    @property
    def pipeline(self) -> DiffusionPipeline:
        """The loaded diffusers pipeline (loading it if needed), for benchmarks and experts."""
        return self._loaded()

    def _loaded(self) -> DiffusionPipeline:
        self.load()
        assert self._pipeline is not None
        return self._pipeline

    # ----------------------------------------------------------------------------------------
    # Encoding
    # ----------------------------------------------------------------------------------------

    def encode(self, prompt: str, negative_prompt: str = "") -> Conditioning:
        """Encode a prompt with the pipeline's own text encoder(s); batch size 1, on device.

        Negative embeddings are always computed so that any guidance scale works later. An
        empty negative prompt is passed as None so SDXL keeps its zeroed negative conditioning
        (`force_zeros_for_empty_prompt`), exactly as a plain pipeline call would.
        """
        if not isinstance(prompt, str) or not isinstance(negative_prompt, str):
            raise InvalidInput("prompt: must be text")
        pipeline = self._loaded()
        with torch.no_grad():
            if self._has_pooled:
                embeds, negative, pooled, negative_pooled = pipeline.encode_prompt(
                    prompt=prompt,
                    device=self._active_device,
                    num_images_per_prompt=1,
                    do_classifier_free_guidance=True,
                    negative_prompt=negative_prompt or None,
                )
                return Conditioning(embeds, negative, pooled, negative_pooled)
            embeds, negative = pipeline.encode_prompt(
                prompt,
                self._active_device,
                num_images_per_prompt=1,
                do_classifier_free_guidance=True,
                negative_prompt=negative_prompt or None,
            )
            return Conditioning(embeds, negative)

    # ----------------------------------------------------------------------------------------
    # Generation
    # ----------------------------------------------------------------------------------------

    def _check_generate_inputs(
        self,
        conditionings: Sequence[Conditioning],
        seeds: Sequence[int],
        settings: GenerationSettings,
    ) -> None:
        pipeline = self._loaded()
        if len(conditionings) != len(seeds):
            raise InvalidInput(
                f"generate: got {len(conditionings)} conditionings and {len(seeds)} seeds; "
                "need one seed per conditioning"
            )
        for seed in seeds:
            if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= _MAX_SEED:
                raise InvalidInput(f"seed: must be an integer in [0, 2**64 - 1] (got {seed!r})")
        if settings.steps < 1:
            raise InvalidInput(f"steps: must be at least 1 (got {settings.steps})")
        multiple = pipeline.vae_scale_factor
        for name in ("height", "width"):
            value = getattr(settings, name)
            if value is not None and (value < multiple or value % multiple):
                raise InvalidInput(
                    f"{name}: must be a positive multiple of {multiple} (got {value})"
                )
        first = conditionings[0].prompt_embeds.shape
        width = pipeline.unet.config.cross_attention_dim
        for conditioning in conditionings:
            shape = conditioning.prompt_embeds.shape
            if shape[0] != 1 or shape != first or (isinstance(width, int) and shape[-1] != width):
                raise InvalidInput(
                    f"conditioning: prompt_embeds of shape {tuple(shape)} do not fit this model "
                    f"(expected 1 x T x {width}, the same for every candidate)"
                )
            if (conditioning.pooled_prompt_embeds is not None) != self._has_pooled:
                problem = "missing for an SDXL" if self._has_pooled else "given to a non-SDXL"
                raise InvalidInput(f"conditioning: pooled embeddings {problem} model")

    def generate(
        self,
        conditionings: Sequence[Conditioning],
        seeds: Sequence[int],
        settings: GenerationSettings,
        on_progress: ProgressCallback | None = None,
        should_cancel: CancelCheck | None = None,
    ) -> list[Image.Image]:
        """One image per (conditioning, seed), in order; raises JobCancelled when cancelled.

        All candidates go through one pipeline call (or chunks of `config.batch_size`); on
        out-of-memory the chunk is halved and retried. Each image's noise comes from its own
        CPU generator seeded with its seed, so an image does not depend on its batch or device.
        """
        if not conditionings and not seeds:
            return []
        self._check_generate_inputs(conditionings, seeds, settings)
        total = len(conditionings)
        chunk_size = min(total, self.config.batch_size or total, self._oom_batch_limit or total)

        images: list[Image.Image] = []
        chunk_images: list[Image.Image] | None
        batches_done = 0
        while len(images) < total:
            start = len(images)
            stop = min(start + chunk_size, total)
            # Recounted per batch: an out-of-memory retry makes the batches smaller.
            batch = _Batch(
                number=batches_done + 1,
                count=batches_done + math.ceil((total - start) / chunk_size),
                start=start,
                images=stop - start,
                total=total,
            )
            try:
                chunk_images = self._generate_chunk(
                    conditionings[start:stop],
                    seeds[start:stop],
                    settings,
                    chunk=batch,
                    on_progress=on_progress,
                    should_cancel=should_cancel,
                )
            except RuntimeError as error:
                if not _is_out_of_memory(error):
                    raise
                if chunk_size == 1:
                    raise GeneratorFailure(
                        f"out of GPU memory generating one image with {self.config.model!r} on "
                        f"{self._active_device}; try a smaller size, dtype float16, or a smaller "
                        "model"
                    ) from error
                chunk_images = None
            if chunk_images is None:
                # Freed here, not in the except block: there the traceback still holds the
                # failed attempt's tensors.
                _free_accelerator_memory()
                chunk_size //= 2
                self._oom_batch_limit = chunk_size
                continue
            images.extend(chunk_images)
            batches_done += 1
            if on_progress is not None:
                steps = self._pipeline.num_timesteps if self._pipeline is not None else 0
                on_progress(batch.progress(steps, steps, decoded=True))
        return images

    def _negatives(self, conditioning: Conditioning) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The negative embeddings of a conditioning, or the empty prompt's when it has none."""
        has_own = conditioning.negative_prompt_embeds is not None and (
            not self._has_pooled or conditioning.negative_pooled_prompt_embeds is not None
        )
        if has_own:
            assert conditioning.negative_prompt_embeds is not None
            return conditioning.negative_prompt_embeds, conditioning.negative_pooled_prompt_embeds
        if self._empty_negative is None:
            self._empty_negative = self.encode("")
        empty = self._empty_negative
        assert empty.negative_prompt_embeds is not None
        return empty.negative_prompt_embeds, empty.negative_pooled_prompt_embeds

    def _generate_chunk(
        self,
        conditionings: Sequence[Conditioning],
        seeds: Sequence[int],
        settings: GenerationSettings,
        chunk: _Batch,
        on_progress: ProgressCallback | None,
        should_cancel: CancelCheck | None,
    ) -> list[Image.Image]:
        """One pipeline call for a chunk of candidates; the steered embeddings go in as-is."""
        pipeline = self._loaded()
        device, dtype = self._active_device, self._active_dtype
        negatives = [self._negatives(conditioning) for conditioning in conditionings]

        def batch(tensors: Sequence[torch.Tensor]) -> torch.Tensor:
            # .to() is a no-op for tensors already on the device in the right dtype.
            return torch.cat([tensor.to(device=device, dtype=dtype) for tensor in tensors])

        kwargs: dict[str, Any] = {
            "prompt_embeds": batch([c.prompt_embeds for c in conditionings]),
            "negative_prompt_embeds": batch([negative for negative, _ in negatives]),
        }
        if self._has_pooled:
            kwargs["pooled_prompt_embeds"] = batch(
                [c.pooled_prompt_embeds for c in conditionings]  # type: ignore[misc]
            )
            kwargs["negative_pooled_prompt_embeds"] = batch(
                [pooled for _, pooled in negatives]  # type: ignore[misc]
            )
        if settings.height is not None:
            kwargs["height"] = settings.height
        if settings.width is not None:
            kwargs["width"] = settings.width

        cancelled_at: list[int] = []

        def on_step_end(
            pipe: DiffusionPipeline, step: int, timestep: Any, tensors: dict[str, Any]
        ) -> dict[str, Any]:
            if on_progress is not None:
                steps = pipe.num_timesteps
                on_progress(chunk.progress(step + 1, steps))
            if should_cancel is not None and not cancelled_at and should_cancel():
                # Skips the remaining denoising steps; diffusers still decodes, then we raise.
                pipe._interrupt = True
                cancelled_at.append(step + 1)
            return {}

        # CPU generators: the same seed gives the same noise on CPU, CUDA and MPS.
        generators = [torch.Generator(device="cpu").manual_seed(seed) for seed in seeds]
        output = pipeline(
            **kwargs,
            num_inference_steps=settings.steps,
            guidance_scale=settings.guidance_scale,
            generator=generators,
            output_type="pil",
            callback_on_step_end=on_step_end,
            # No tensors requested: the callback needs none, so diffusers gathers none.
            callback_on_step_end_tensor_inputs=[],
        )
        if cancelled_at:
            raise JobCancelled(
                f"generation cancelled at denoising step {cancelled_at[0]} of "
                f"{pipeline.num_timesteps}"
            )
        return list(output.images)

    # ----------------------------------------------------------------------------------------
    # Description
    # ----------------------------------------------------------------------------------------

    def describe(self) -> dict[str, Any]:
        """Model, configured / requested / active device, dtype, versions, warm; never raises."""
        try:
            requested: str | None = resolve_device(self.config.device)
        except InvalidInput:
            requested = None
        pipeline = self._pipeline
        if pipeline is not None:
            dtype: str | None = _dtype_name(self._active_dtype or pipeline.unet.dtype)
        elif requested is not None:
            dtype = _dtype_name(resolve_dtype(self.config.dtype, requested))
        else:
            dtype = None
        description: dict[str, Any] = {
            "backend": type(self).registered_name,  # set by the GENERATORS registry
            "model": self.config.model,
            "configured_device": self.config.device,
            "requested_device": requested,
            "active_device": self._active_device if pipeline is not None else None,
            "dtype": dtype,
            "warm": pipeline is not None,
            "load_seconds": self._load_seconds,
            "pipeline": type(pipeline).__name__ if pipeline is not None else None,
            "has_pooled_embeddings": self._has_pooled if pipeline is not None else None,
            "batch_size": self.config.batch_size,
            "oom_batch_limit": self._oom_batch_limit,
            "torch_version": torch.__version__,
            # From package metadata: importing diffusers takes seconds, and describe() must
            # stay cheap for a dashboard that polls a cold generator.
            "diffusers_version": _package_version("diffusers"),
            "transformers_version": _package_version("transformers"),
            "python_version": platform.python_version(),
        }
        active = description["active_device"]
        if active is not None and active.startswith("cuda"):
            properties = torch.cuda.get_device_properties(torch.device(active))
            description["gpu_name"] = properties.name
            description["gpu_memory_total_gib"] = round(properties.total_memory / 2**30, 2)
        return description
