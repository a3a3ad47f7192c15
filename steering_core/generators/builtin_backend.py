"""The built-in generator: the small shapes model shipped in `checkpoints/builtin/`.

It is the diffusers backend with a different pipeline class (`ShapesPipeline`, pixel space,
MiniLM text encoder) and a default model folder, so loading, batching, progress,
cancellation and device handling are shared.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import torch

from steering_core.errors import InvalidInput
from steering_core.generators.base import GENERATORS, Conditioning, GenerationSettings
from steering_core.generators.diffusers_backend import DiffusersGenerator

if TYPE_CHECKING:
    from collections.abc import Sequence

    from diffusers import DiffusionPipeline

    from steering_core.config import GeneratorConfig

# Beside the package in the repository (the project installs itself editable).
BUILTIN_MODEL = Path(__file__).resolve().parents[2] / "checkpoints" / "builtin"


@GENERATORS.register("builtin")
class BuiltinGenerator(DiffusersGenerator):
    """The built-in shapes model on the CPU (or a GPU), steered through its token states."""

    def __init__(self, config: GeneratorConfig) -> None:
        if not config.model:
            config = config.model_copy(update={"model": str(BUILTIN_MODEL)})
        super().__init__(config)

    @classmethod
    def check_config(cls, config: GeneratorConfig) -> None:
        folder = Path(config.model or BUILTIN_MODEL)
        weights = folder / "unet" / "diffusion_pytorch_model.safetensors"
        if not (folder / "model_index.json").is_file() or not weights.is_file():
            raise InvalidInput(
                f"generator.model: the built-in model is missing at {folder} "
                "(train it with `steer builtin train`)"
            )
        super().check_config(config.model_copy(update={"model": str(folder)}))

    def _from_pretrained(self, location: str, dtype: torch.dtype) -> DiffusionPipeline:
        from steering_core.builtin.pipeline import ShapesPipeline

        pipeline = ShapesPipeline.from_pretrained(location, local_files_only=True)
        return pipeline.to(dtype=dtype)

    def _has_pooled_embeddings(self, pipeline: DiffusionPipeline, model: str) -> bool:
        return False

    def encode(self, prompt: str, negative_prompt: str = "") -> Conditioning:
        if not isinstance(prompt, str) or not isinstance(negative_prompt, str):
            raise InvalidInput("prompt: must be text")
        embeds, negative = self._loaded().encode_prompt(prompt, negative_prompt)
        return Conditioning(embeds, negative)

    def _check_generate_inputs(
        self,
        conditionings: Sequence[Conditioning],
        seeds: Sequence[int],
        settings: GenerationSettings,
    ) -> None:
        size = self._loaded().image_size
        for name in ("height", "width"):
            value = getattr(settings, name)
            if value is not None and value != size:
                raise InvalidInput(f"{name}: the built-in model renders {size} px (got {value})")
        super()._check_generate_inputs(conditionings, seeds, settings)
