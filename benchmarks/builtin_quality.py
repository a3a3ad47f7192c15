"""Does the built-in model draw what the prompt says? Colour and shape accuracy on held-out prompts.

For each of N held-out prompts (scenes and wordings not in the training caption bank) and S
seeds, the shipped model renders an image with guidance; the metrics then check the
background colour, the foreground colour (nearest named colour equals the prompt's) and the
shape (the shape classifier's top-1 equals the prompt's). The same scenes rendered from the
empty prompt show what chance looks like.

Usage: python benchmarks/builtin_quality.py [--prompts 200] [--seeds 4] [--steps 20]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
import torch
from PIL import Image

from steering_core.builtin import world
from steering_core.builtin.train import TrainConfig
from steering_core.config import GeneratorConfig
from steering_core.generators import make_generator
from steering_core.generators.base import GenerationSettings
from steering_core.metrics import colour_scores, shape_probabilities


def held_out_prompts(count: int, seed: int) -> list[tuple[world.Scene, str]]:
    """Scenes and captions from a seed the training never used, minus any training caption."""
    training = TrainConfig()
    bank_rng = np.random.default_rng([training.seed, 1])
    bank_scenes = [world.sample_scene(bank_rng) for _ in range(training.bank_size)]
    seen = {world.caption(scene, bank_rng) for scene in bank_scenes}
    rng = np.random.default_rng(seed)
    prompts = []
    while len(prompts) < count:
        scene = world.sample_scene(rng)
        text = world.caption(scene, rng)
        if text not in seen:
            prompts.append((scene, text))
    return prompts


def score(images: list[Image.Image], scenes: list[world.Scene]) -> dict[str, float]:
    colours = [
        colour_scores(image, world.COLOURS[s.background], world.COLOURS[s.foreground])
        for image, s in zip(images, scenes, strict=True)
    ]
    probabilities = shape_probabilities([np.asarray(image) for image in images])
    predicted = [world.SHAPES[i] for i in probabilities.argmax(axis=1)]
    return {
        "background accuracy %": 100 * np.mean([c.background_correct for c in colours]),
        "foreground accuracy %": 100 * np.mean([c.foreground_correct for c in colours]),
        "shape faithfulness %": 100
        * np.mean([p == s.shape for p, s in zip(predicted, scenes, strict=True)]),
        "background score (0-100)": float(np.mean([c.background for c in colours])),
        "foreground score (0-100)": float(np.mean([c.foreground for c in colours])),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--prompts", type=int, default=200)
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--guidance", type=float, default=3.0)
    parser.add_argument("--model", default=None, help="pipeline folder (default: shipped)")
    parser.add_argument("--grid", type=Path, default=None, help="save a sample grid PNG here")
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    args = parser.parse_args()

    generator = make_generator(GeneratorConfig(backend="builtin", model=args.model, device="cpu"))
    generator.load()
    prompts = held_out_prompts(args.prompts, seed=20261123)
    settings = GenerationSettings(steps=args.steps, guidance_scale=args.guidance)
    results = {}
    started = time.perf_counter()
    for label, use_prompt in (("prompt", True), ("empty prompt", False)):
        images, scenes = [], []
        for scene, text in prompts:
            conditioning = generator.encode(text if use_prompt else "")
            seeds = list(range(args.seeds))
            images += generator.generate([conditioning] * len(seeds), seeds, settings)
            scenes += [scene] * len(seeds)
        results[label] = score(images, scenes)
        if args.grid is not None and use_prompt:
            picks = (
                images[: 8 * args.seeds : args.seeds][:8]
                + images[1 : 8 * args.seeds : args.seeds][:8]
            )
            tiles = [np.asarray(im.resize((96, 96), Image.NEAREST)) for im in picks]
            rows = [np.concatenate(tiles[i : i + 8], axis=1) for i in range(0, len(tiles), 8)]
            Image.fromarray(np.concatenate(rows, axis=0)).save(args.grid)
    seconds = time.perf_counter() - started

    print(
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}; "
        f"{args.prompts} held-out prompts x {args.seeds} seeds, {args.steps} steps, "
        f"guidance {args.guidance}; {seconds:.0f} s\n"
    )
    metrics = list(results["prompt"])
    print("| metric | prompt | empty prompt |")
    print("|---|---:|---:|")
    for metric in metrics:
        with_prompt, without = results["prompt"][metric], results["empty prompt"][metric]
        print(f"| {metric} | {with_prompt:.1f} | {without:.1f} |")
    print("\nexample prompts:", "; ".join(text for _, text in prompts[:8]))
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
