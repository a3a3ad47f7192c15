"""The generator protocol: encode a prompt, generate a batch of steered images, describe itself.

Every backend (the diffusers backend, the built-in model) implements `Generator` and is
registered by name in `GENERATORS`; sessions name their backend in `GeneratorConfig.backend`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

from steering_core.registry import Registry

if TYPE_CHECKING:
    import torch
    from PIL import Image

    from steering_core.config import GeneratorConfig


@dataclass(frozen=True)
class Conditioning:
    """One prompt's conditioning in the generator's own space (batch size 1).

    `prompt_embeds`: a `1 x T x D` tensor; `pooled_prompt_embeds`: `1 x P` for SDXL-style
    models, else None. The negative embeddings are used for classifier-free guidance and are
    never steered.
    """

    prompt_embeds: torch.Tensor
    negative_prompt_embeds: torch.Tensor | None = None
    pooled_prompt_embeds: torch.Tensor | None = None
    negative_pooled_prompt_embeds: torch.Tensor | None = None

    def steerable_vector(self) -> np.ndarray:
        """The steered part flattened to one float64 vector: prompt embeds, then pooled."""
        parts = [self.prompt_embeds.detach().float().cpu().numpy().ravel()]
        if self.pooled_prompt_embeds is not None:
            parts.append(self.pooled_prompt_embeds.detach().float().cpu().numpy().ravel())
        return np.concatenate(parts).astype(np.float64)

    def with_steerable_vector(self, vector: np.ndarray) -> Conditioning:
        """A copy whose steered part is `vector` (same layout as `steerable_vector`)."""
        import torch

        n_tokens = self.prompt_embeds.numel()
        embeds = torch.as_tensor(vector[:n_tokens], dtype=self.prompt_embeds.dtype)
        embeds = embeds.reshape(self.prompt_embeds.shape).to(self.prompt_embeds.device)
        pooled = self.pooled_prompt_embeds
        if pooled is not None:
            pooled = torch.as_tensor(vector[n_tokens:], dtype=pooled.dtype)
            pooled = pooled.reshape(self.pooled_prompt_embeds.shape).to(
                self.pooled_prompt_embeds.device
            )
        return replace(self, prompt_embeds=embeds, pooled_prompt_embeds=pooled)


@dataclass(frozen=True)
class GenerationSettings:
    """Sampling settings shared by every image of one generate call."""

    steps: int
    guidance_scale: float
    height: int | None = None
    width: int | None = None


@dataclass(frozen=True)
class StepProgress:
    """Progress inside one generate call: images `done` (decoded) of `total`, denoising
    `step` of `steps` of batch `batch` of `batches`.

    A batch is one pipeline call: `batch_images` images denoised together, after
    `images_before` images of earlier batches. `batch_images` 0 means one batch of all.
    """

    images_done: int
    images_total: int
    step: int
    steps: int
    batch: int = 1
    batches: int = 1
    batch_images: int = 0
    images_before: int = 0

    @property
    def images_in_batch(self) -> int:
        return self.batch_images or self.images_total


ProgressCallback = Callable[[StepProgress], None]
CancelCheck = Callable[[], bool]


@runtime_checkable
class Generator(Protocol):
    """What every generator backend provides."""

    @classmethod
    def check_config(cls, config: GeneratorConfig) -> None:
        """Whether the configured model can be loaded here, without loading it: raises
        InvalidInput naming the field (`generator.model`, `generator.device`) if not."""

    def load(self) -> None:
        """Load weights onto the device (idempotent); after it the generator is warm."""

    def encode(self, prompt: str, negative_prompt: str = "") -> Conditioning:
        """Encode a prompt (and its negative prompt) into conditioning."""

    def generate(
        self,
        conditionings: Sequence[Conditioning],
        seeds: Sequence[int],
        settings: GenerationSettings,
        on_progress: ProgressCallback | None = None,
        should_cancel: CancelCheck | None = None,
    ) -> list[Image.Image]:
        """One image per (conditioning, seed); raises JobCancelled when cancelled."""

    def describe(self) -> dict[str, Any]:
        """Model, configured / requested / active device, dtype, library versions, warm."""


# Every backend, by registered name: listed without importing (the backends import torch),
# imported on `get`. A new backend adds its line here (tests/steering_core/test_registries.py
# checks the table).
GENERATORS: Registry[type[Generator]] = Registry(
    "generator backend",
    lazy={
        "builtin": "steering_core.generators.builtin_backend:BuiltinGenerator",
        "diffusers": "steering_core.generators.diffusers_backend:DiffusersGenerator",
    },
)


def make_generator(config: GeneratorConfig) -> Generator:
    """Build (but do not load) the generator a config names."""
    return GENERATORS.get(config.backend)(config)  # type: ignore[call-arg]
