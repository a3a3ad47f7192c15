"""Is steering the built-in model meaningful? Smoothness along random directions, and an
attribute axis built from "red"/"blue" that should turn a red shape blue.

1. Random directions: for each prompt and random unit direction, images at radii 0..R (same
   seed); the RMS pixel distance to the unsteered image should grow with the radius.
2. Attribute axis: the session's `attribute` basis from the pair (red, blue); prompts with a
   red shape; steering along +axis should move the measured foreground colour toward blue.

Usage: python benchmarks/builtin_steering.py [--prompts 12] [--directions 4]
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np

from steering_core.builtin import world
from steering_core.config import BasisConfig, GeneratorConfig
from steering_core.generators import make_generator
from steering_core.generators.base import GenerationSettings
from steering_core.metrics import ciede2000, colour_scores, srgb_to_lab
from steering_core.steering_space import build_steering_space

RADII = (0.0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5)
AXIS_STEPS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6)


def pixels(image: object) -> np.ndarray:
    return np.asarray(image, dtype=np.float64) / 255.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--prompts", type=int, default=12)
    parser.add_argument("--directions", type=int, default=4)
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--model", default=None)
    args = parser.parse_args()
    generator = make_generator(GeneratorConfig(backend="builtin", model=args.model, device="cpu"))
    generator.load()
    settings = GenerationSettings(steps=20, guidance_scale=3.0)
    rng = np.random.default_rng(7)

    # 1. Smoothness along random directions.
    curves = []
    for _ in range(args.prompts):
        prompt = world.canonical_caption(world.sample_scene(rng))
        base = generator.encode(prompt)
        origin = base.steerable_vector()
        for _ in range(args.directions):
            direction = rng.normal(size=origin.shape)
            direction /= np.linalg.norm(direction)
            conditionings = [
                base.with_steerable_vector(origin + r * np.linalg.norm(origin) * direction)
                for r in RADII
            ]
            images = generator.generate(conditionings, [0] * len(RADII), settings)
            reference = pixels(images[0])
            curves.append([float(np.sqrt(((pixels(im) - reference) ** 2).mean())) for im in images])
    mean_curve = np.mean(curves, axis=0)
    monotone = np.all(np.diff(mean_curve) > 0)
    per_curve = np.mean([np.all(np.diff(c) >= -0.01) for c in curves])
    print(f"Random directions ({len(curves)} curves, radius relative to |c0|):\n")
    print("| radius | " + " | ".join(f"{r:.2f}" for r in RADII) + " |")
    print("|---|" + "---:|" * len(RADII))
    print("| mean RMS distance to unsteered | " + " | ".join(f"{v:.3f}" for v in mean_curve) + " |")
    print(
        f"\nmean curve strictly increasing: {bool(monotone)}; "
        f"single curves non-decreasing (tolerance 0.01): {100 * per_curve:.0f}%\n"
    )

    # 2. The red -> blue attribute axis.
    blue_lab = srgb_to_lab(np.array(world.hex_to_rgb(world.COLOURS["blue"]), dtype=float))
    red_lab = srgb_to_lab(np.array(world.hex_to_rgb(world.COLOURS["red"]), dtype=float))
    rows = {step: {"to_blue": [], "to_red": [], "blue": []} for step in AXIS_STEPS}
    backgrounds = [c for c in world.COLOURS if c not in ("red", "blue", "purple", "magenta")]
    for i in range(args.prompts):
        shape = world.SHAPES[i % len(world.SHAPES)]
        background = backgrounds[i % len(backgrounds)]
        prompt = f"a red {shape} on a {background} background"
        base = generator.encode(prompt)
        space = build_steering_space(
            prompt,
            base,
            BasisConfig(kind="attribute", pairs=[("red", "blue")]),
            d=1,
            seed=0,
            encode=lambda text: generator.encode(text).steerable_vector(),
        )
        vectors = np.array([[step] for step in AXIS_STEPS])
        for seed in range(args.seeds):
            images = generator.generate(
                space.conditionings(base, vectors), [seed] * len(AXIS_STEPS), settings
            )
            for step, image in zip(AXIS_STEPS, images, strict=True):
                scores = colour_scores(image, world.COLOURS[background], world.COLOURS["blue"])
                if scores.foreground_rgb is None:
                    continue
                lab = srgb_to_lab(np.array(scores.foreground_rgb, dtype=float))
                rows[step]["to_blue"].append(float(ciede2000(lab, blue_lab)))
                rows[step]["to_red"].append(float(ciede2000(lab, red_lab)))
                rows[step]["blue"].append(scores.foreground_name == "blue")
    print(f"Attribute axis red -> blue ({args.prompts} red-shape prompts x {args.seeds} seeds):\n")
    print("| step along the axis | ΔE2000 to blue | ΔE2000 to red | foreground named blue % |")
    print("|---:|---:|---:|---:|")
    for step, values in rows.items():
        print(
            f"| {step:.1f} | {np.mean(values['to_blue']):.1f} | {np.mean(values['to_red']):.1f} | "
            f"{100 * np.mean(values['blue']):.0f} |"
        )


if __name__ == "__main__":
    main()
