"""Training the built-in model: v-prediction diffusion in pixel space on the procedural world.

Resumable from its own checkpoint (`<run>/checkpoint.pt`, written atomically), reproducible
from its seed, with a progress bar and a loss log (`<run>/loss.csv`). The exported pipeline
(EMA weights, fp16 safetensors, configs) goes to `checkpoints/builtin/`.
"""

from __future__ import annotations

import csv
import json
import math
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from steering_core.builtin import world
from steering_core.errors import InvalidInput

PATCH_FACTOR = 2


@dataclass(frozen=True)
class TrainConfig:
    """Everything that determines a training run (saved in the run folder)."""

    steps: int = 6000
    batch_size: int = 64
    learning_rate: float = 5e-4
    warmup_steps: int = 200
    ema_decay: float = 0.9995
    caption_dropout: float = 0.1
    bank_size: int = 24_000  # (scene, caption) pairs whose token states are computed once
    seed: int = 0
    checkpoint_every: int = 250
    block_out_channels: tuple[int, ...] = (32, 64, 128)
    # diffusers' UNet2DConditionModel reads `attention_head_dim` as the number of heads.
    attention_heads: int = 4
    unet_extra: dict[str, Any] = field(default_factory=dict)


def build_unet(config: TrainConfig):  # noqa: ANN201 - diffusers type
    """The denoiser: attention at the two lowest resolutions, space-to-depth input."""
    from diffusers import UNet2DConditionModel

    from steering_core.builtin.text_encoder import HIDDEN_SIZE

    levels = len(config.block_out_channels)
    return UNet2DConditionModel(
        sample_size=world.IMAGE_SIZE // PATCH_FACTOR,
        in_channels=3 * PATCH_FACTOR**2,
        out_channels=3 * PATCH_FACTOR**2,
        block_out_channels=config.block_out_channels,
        layers_per_block=1,
        down_block_types=("DownBlock2D",) + ("CrossAttnDownBlock2D",) * (levels - 1),
        up_block_types=("CrossAttnUpBlock2D",) * (levels - 1) + ("UpBlock2D",),
        cross_attention_dim=HIDDEN_SIZE,
        attention_head_dim=config.attention_heads,
        norm_num_groups=32,
        **config.unet_extra,
    )


def noise_schedule():  # noqa: ANN201 - diffusers type
    from diffusers import DDPMScheduler

    return DDPMScheduler(
        num_train_timesteps=1000,
        beta_schedule="squaredcos_cap_v2",
        prediction_type="v_prediction",
        clip_sample=False,
    )


def sampling_scheduler():  # noqa: ANN201 - diffusers type
    from diffusers import DPMSolverMultistepScheduler

    return DPMSolverMultistepScheduler(
        num_train_timesteps=1000,
        beta_schedule="squaredcos_cap_v2",
        prediction_type="v_prediction",
        algorithm_type="dpmsolver++",
        solver_order=2,
        use_karras_sigmas=False,
        timestep_spacing="trailing",
    )


def caption_bank(config: TrainConfig, run_dir: Path, encoder: Any) -> tuple[list, torch.Tensor]:
    """Scenes, captions and their token states (fp16), cached in the run folder."""
    cache = run_dir / f"caption_bank-{config.seed}-{config.bank_size}.pt"
    rng = np.random.default_rng([config.seed, 1])
    scenes = [world.sample_scene(rng) for _ in range(config.bank_size)]
    captions = [world.caption(scene, rng) for scene in scenes]
    if cache.exists():
        states = torch.load(cache)
    else:
        chunks = [encoder(captions[i : i + 256]).half() for i in range(0, len(captions), 256)]
        states = torch.cat(chunks)
        torch.save(states, cache)
    return list(zip(scenes, captions, strict=True)), states


def to_model_space(images: np.ndarray) -> torch.Tensor:
    """`n x H x W x 3` uint8 -> `n x 3 x H x W` floats in [-1, 1]."""
    return torch.from_numpy(images).permute(0, 3, 1, 2).float() / 127.5 - 1.0


def _save_atomically(payload: dict[str, Any], path: Path) -> None:
    temporary = path.with_suffix(".tmp")
    torch.save(payload, temporary)
    os.replace(temporary, path)


def train(config: TrainConfig, run_dir: Path, export_dir: Path | None = None) -> Path:
    """Train (or resume) the built-in model; returns the folder of the exported pipeline."""
    from diffusers.training_utils import EMAModel
    from tqdm import tqdm

    from steering_core.builtin.text_encoder import MiniLMTextEncoder

    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "train_config.json").write_text(json.dumps(asdict(config), indent=2))
    torch.manual_seed(config.seed)
    encoder = MiniLMTextEncoder()
    bank, states = caption_bank(config, run_dir, encoder)
    empty = encoder([""]).half()

    unet = build_unet(config)
    ema = EMAModel(unet.parameters(), decay=config.ema_decay, use_ema_warmup=True)
    optimizer = torch.optim.AdamW(unet.parameters(), lr=config.learning_rate, weight_decay=0.01)
    scheduler = noise_schedule()
    rng = np.random.default_rng([config.seed, 2])
    step = 0
    checkpoint_path = run_dir / "checkpoint.pt"
    if checkpoint_path.exists():
        checkpoint = torch.load(checkpoint_path, weights_only=False)
        saved = {k: v for k, v in checkpoint["config"].items() if k != "steps"}
        wanted = {k: v for k, v in asdict(config).items() if k != "steps"}
        if json.dumps(saved, sort_keys=True, default=list) != json.dumps(
            wanted, sort_keys=True, default=list
        ):
            raise InvalidInput(
                f"{checkpoint_path} was trained with other settings than these; "
                "use another --run-dir (only --steps may change when resuming)"
            )
        unet.load_state_dict(checkpoint["unet"])
        ema.load_state_dict(checkpoint["ema"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        rng.bit_generator.state = checkpoint["numpy_rng"]
        torch.set_rng_state(checkpoint["torch_rng"])
        step = checkpoint["step"]

    log_path = run_dir / "loss.csv"
    new_log = not log_path.exists()
    log = open(log_path, "a", newline="")  # noqa: SIM115 - kept open for the whole run
    writer = csv.writer(log)
    if new_log:
        writer.writerow(["step", "loss", "learning_rate", "seconds"])
    unet.train()
    started = time.time()
    bar = tqdm(total=config.steps, initial=step, desc="training built-in model")
    while step < config.steps:
        indices = rng.integers(len(bank), size=config.batch_size)
        images = to_model_space(np.stack([world.render(bank[i][0]) for i in indices]))
        context = states[indices].float()
        dropped = torch.from_numpy(rng.random(config.batch_size) < config.caption_dropout)
        context[dropped] = empty.float()
        noise = torch.randn_like(images)
        timesteps = torch.randint(0, scheduler.config.num_train_timesteps, (config.batch_size,))
        noisy = scheduler.add_noise(images, noise, timesteps)
        target = scheduler.get_velocity(images, noise, timesteps)
        factor = PATCH_FACTOR
        prediction = unet(
            torch.nn.functional.pixel_unshuffle(noisy, factor), timesteps, context
        ).sample
        loss = torch.nn.functional.mse_loss(
            torch.nn.functional.pixel_shuffle(prediction, factor), target
        )
        learning_rate = config.learning_rate * min(1.0, (step + 1) / config.warmup_steps)
        for group in optimizer.param_groups:
            group["lr"] = learning_rate
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(unet.parameters(), 1.0)
        optimizer.step()
        ema.step(unet.parameters())
        step += 1
        if not math.isfinite(loss.item()):
            raise RuntimeError(f"loss became {loss.item()} at step {step}")
        writer.writerow(
            [step, f"{loss.item():.5f}", f"{learning_rate:.2e}", f"{time.time() - started:.1f}"]
        )
        bar.update(1)
        bar.set_postfix(loss=f"{loss.item():.4f}")
        if step % config.checkpoint_every == 0 or step == config.steps:
            log.flush()
            _save_atomically(
                {
                    "unet": unet.state_dict(),
                    "ema": ema.state_dict(),
                    "optimizer": optimizer.state_dict(),
                    "numpy_rng": rng.bit_generator.state,
                    "torch_rng": torch.get_rng_state(),
                    "step": step,
                    "config": asdict(config),
                },
                checkpoint_path,
            )
    bar.close()
    log.close()
    return export(config, unet, ema, export_dir or run_dir / "pipeline", encoder)


def export(config: TrainConfig, unet: Any, ema: Any, folder: Path, encoder: Any) -> Path:
    """Save the EMA weights as a ShapesPipeline (fp16 safetensors + configs)."""
    from steering_core.builtin.pipeline import ShapesPipeline

    final = build_unet(config)
    ema.copy_to(final.parameters())
    final = final.half()
    pipeline = ShapesPipeline(unet=final, scheduler=sampling_scheduler(), text_encoder=encoder)
    pipeline.save_pretrained(str(folder), safe_serialization=True)
    return folder


def export_checkpoint(run_dir: Path, folder: Path) -> Path:
    """Export the EMA weights of a run's latest checkpoint (e.g. to look at it mid-training)."""
    from diffusers.training_utils import EMAModel

    from steering_core.builtin.text_encoder import MiniLMTextEncoder

    checkpoint = torch.load(run_dir / "checkpoint.pt", weights_only=False)
    saved = dict(checkpoint["config"])
    saved["block_out_channels"] = tuple(saved["block_out_channels"])
    config = TrainConfig(**saved)
    unet = build_unet(config)
    ema = EMAModel(unet.parameters(), decay=config.ema_decay, use_ema_warmup=True)
    ema.load_state_dict(checkpoint["ema"])
    return export(config, unet, ema, folder, MiniLMTextEncoder())
