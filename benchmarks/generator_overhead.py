"""Time DiffusersGenerator.generate against a bare diffusers call on the same inputs and seeds."""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np
import torch

from steering_core.config import GeneratorConfig
from steering_core.generators.base import Conditioning, GenerationSettings
from steering_core.generators.diffusers_backend import DiffusersGenerator
from steering_core.generators.tiny import build_tiny_sd_pipeline


def build_benchmark_sd_pipeline(folder: Path, seed: int = 0) -> None:
    """A random-weight SD 1.x-style pipeline, 8x wider than the test one, saved to `folder`."""
    build_tiny_sd_pipeline(folder, seed=seed, widths=(32, 64), layers_per_block=2)


def steered_candidates(conditioning: Conditioning, k: int, radius: float) -> list[Conditioning]:
    """`k` candidates at `radius * |c|` from `conditioning` along seeded random directions."""
    rng = np.random.default_rng(0)
    vector = conditioning.steerable_vector()
    candidates = []
    for _ in range(k):
        direction = rng.normal(size=vector.shape)
        direction *= radius * np.linalg.norm(vector) / np.linalg.norm(direction)
        candidates.append(conditioning.with_steerable_vector(vector + direction))
    return candidates


def bare_call(
    generator: DiffusersGenerator,
    candidates: list[Conditioning],
    seeds: list[int],
    settings: GenerationSettings,
) -> Callable[[], list[Any]]:
    """A hand-written call of the same pipeline on the same embeddings (batched up front), seeds."""
    pipe = generator.pipeline
    inputs: dict[str, Any] = {
        "prompt_embeds": torch.cat([c.prompt_embeds for c in candidates]),
        "negative_prompt_embeds": torch.cat([c.negative_prompt_embeds for c in candidates]),
    }
    if candidates[0].pooled_prompt_embeds is not None:
        inputs["pooled_prompt_embeds"] = torch.cat([c.pooled_prompt_embeds for c in candidates])
        inputs["negative_pooled_prompt_embeds"] = torch.cat(
            [c.negative_pooled_prompt_embeds for c in candidates]
        )

    def run() -> list[Any]:
        return pipe(
            **inputs,
            num_inference_steps=settings.steps,
            guidance_scale=settings.guidance_scale,
            height=settings.height,
            width=settings.width,
            generator=[torch.Generator(device="cpu").manual_seed(seed) for seed in seeds],
            output_type="pil",
        ).images

    return run


@dataclass
class Timings:
    """Wall-clock and process CPU seconds of one path's timed calls."""

    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)


def timed(run: Callable[[], list[Any]], timings: Timings | None = None) -> list[Any]:
    """Run once; record wall and CPU seconds (CPU time is less disturbed by a shared machine)."""
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    wall, cpu = time.perf_counter(), time.process_time()
    images = run()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    if timings is not None:
        timings.wall.append(time.perf_counter() - wall)
        timings.cpu.append(time.process_time() - cpu)
    return images


def overhead(steered: list[float], bare: list[float]) -> str:
    return f"{100 * (statistics.median(steered) / statistics.median(bare) - 1):+.2f}%"


class StubPipeline:
    """The real pipeline with its denoising replaced by `steps` bare callback calls.

    Timing `generate` through it isolates what the backend adds around the pipeline call
    (input checks, batching the embeddings, the generators, the per-step callback), which a
    shared machine's noise would otherwise hide.
    """

    def __init__(self, pipeline: Any, images: list[Any]) -> None:
        self._pipeline = pipeline
        self._output = SimpleNamespace(images=images)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._pipeline, name)

    def __call__(self, **kwargs: Any) -> Any:
        self.num_timesteps = kwargs["num_inference_steps"]
        for step in range(self.num_timesteps):
            kwargs["callback_on_step_end"](self, step, None, {})
        return self._output


def backend_seconds(
    generator: DiffusersGenerator,
    candidates: list[Conditioning],
    seeds: list[int],
    settings: GenerationSettings,
    images: list[Any],
    calls: int = 200,
) -> float:
    """Median seconds `generate` spends outside the pipeline's own work."""
    real = generator._pipeline
    generator._pipeline = StubPipeline(real, images)
    try:
        seconds = []
        for _ in range(calls):
            started = time.perf_counter()
            generator.generate(candidates, seeds, settings, on_progress=lambda progress: None)
            seconds.append(time.perf_counter() - started)
    finally:
        generator._pipeline = real
    return statistics.median(seconds)


def machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    parts = [
        f"CPU: {cpu}, {os.cpu_count()} cores (torch uses {torch.get_num_threads()} threads)",
        f"torch {torch.__version__}",
        f"Python {platform.python_version()}",
    ]
    if torch.cuda.is_available():
        parts.insert(1, f"GPU: {torch.cuda.get_device_name()}")
    return "; ".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__,
        epilog="Without --model it builds a random-weight SD pipeline in a temporary folder, "
        "wider than the test one (UNet and VAE channels 32/64), so that denoising dominates "
        "the time as in a real model.",
    )
    parser.add_argument("--steps", type=int, default=10, help="denoising steps per call")
    parser.add_argument("--k", type=int, default=4, help="steered candidates per call")
    parser.add_argument("--size", type=int, default=64, help="image height and width")
    parser.add_argument("--repeats", type=int, default=7, help="timed calls of each kind")
    parser.add_argument("--guidance", type=float, default=7.5, help="guidance scale")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    parser.add_argument("--model", type=Path, help="a diffusers pipeline folder (default: built)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        model = args.model
        if model is None:
            model = Path(scratch) / "benchmark-sd"
            build_benchmark_sd_pipeline(model)
        generator = DiffusersGenerator(GeneratorConfig(model=str(model), device=args.device))
        generator.load()
        settings = GenerationSettings(
            steps=args.steps, guidance_scale=args.guidance, height=args.size, width=args.size
        )
        candidates = steered_candidates(generator.encode("a red circle"), args.k, radius=0.5)
        seeds = list(range(args.k))

        def steered() -> list[Any]:
            return generator.generate(candidates, seeds, settings)

        bare = bare_call(generator, candidates, seeds, settings)
        # Warm both paths (allocator, kernels, caches) before timing.
        steered_images, bare_images = timed(steered), timed(bare)
        max_difference = max(
            int(np.abs(np.asarray(a, np.int16) - np.asarray(b, np.int16)).max())
            for a, b in zip(steered_images, bare_images, strict=True)
        )

        load_before = os.getloadavg()[0]
        bare_timings, steered_timings = Timings(), Timings()
        for repeat in range(args.repeats):
            # Alternate which path goes first so that drift (heat, caches) hits both alike.
            order = [(bare, bare_timings), (steered, steered_timings)]
            for run, timings in order if repeat % 2 == 0 else order[::-1]:
                timed(run, timings)
        load_after = os.getloadavg()[0]
        outside = backend_seconds(generator, candidates, seeds, settings, steered_images)

    description = generator.describe()
    print(
        f"Model: {'built random-weight SD (UNet/VAE 32-64)' if args.model is None else args.model}"
        f" ({description['pipeline']}, {description['dtype']} on {description['active_device']});"
        f" k={args.k} candidates, {args.steps} steps, {args.size}x{args.size},"
        f" guidance {args.guidance}, {args.repeats} repeats each, interleaved, warm"
    )
    print(f"Machine: {machine()}; load average {load_before:.2f} before, {load_after:.2f} after")
    print(f"Max pixel difference between the two paths' images: {max_difference}")
    print()
    bare_median = statistics.median(bare_timings.wall)
    print(
        f"Time generate spends outside the pipeline (stubbed denoising, median of 200): "
        f"{1000 * outside:.3f} ms = {100 * outside / bare_median:.3f}% of the bare call"
    )
    print()
    print("| path | median wall s | min wall s | median CPU s | min CPU s |")
    print("|---|---:|---:|---:|---:|")
    for name, timings in (
        ("bare `pipe(prompt_embeds=...)`", bare_timings),
        ("`DiffusersGenerator.generate`", steered_timings),
    ):
        print(
            f"| {name} | {statistics.median(timings.wall):.4f} | {min(timings.wall):.4f} "
            f"| {statistics.median(timings.cpu):.4f} | {min(timings.cpu):.4f} |"
        )
    print(
        f"| **overhead** | {overhead(steered_timings.wall, bare_timings.wall)} "
        f"| {overhead([min(steered_timings.wall)], [min(bare_timings.wall)])} "
        f"| {overhead(steered_timings.cpu, bare_timings.cpu)} "
        f"| {overhead([min(steered_timings.cpu)], [min(bare_timings.cpu)])} |"
    )


if __name__ == "__main__":
    main()
