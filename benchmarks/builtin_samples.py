"""A labelled grid of the built-in model's outputs, for the README.

Usage: python benchmarks/builtin_samples.py docs/builtin-samples.png [--seeds 3]
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from PIL import Image, ImageDraw

from steering_core.config import GeneratorConfig
from steering_core.generators import make_generator
from steering_core.generators.base import GenerationSettings

PROMPTS = (
    "a yellow star on a purple background",
    "a red circle on a blue background",
    "green square over a white backdrop",
    "a large black cross on orange",
    "white ring on a teal field",
    "a small blue triangle in the top left, yellow background",
    "pink plus sign on a black canvas",
    "a cyan disc on a brown background",
)
TILE = 112
LABEL = 58


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("png", type=Path)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--model", default=None)
    args = parser.parse_args()
    generator = make_generator(GeneratorConfig(backend="builtin", model=args.model, device="cpu"))
    generator.load()
    settings = GenerationSettings(steps=20, guidance_scale=3.0)
    canvas = Image.new("RGB", (TILE * len(PROMPTS), LABEL + TILE * args.seeds), "white")
    draw = ImageDraw.Draw(canvas)
    for column, prompt in enumerate(PROMPTS):
        conditioning = generator.encode(prompt)
        images = generator.generate([conditioning] * args.seeds, list(range(args.seeds)), settings)
        words, lines = prompt.split(), [""]
        for word in words:  # wrap the prompt over up to three lines
            if len(lines[-1]) + len(word) > 17:
                lines.append("")
            lines[-1] = f"{lines[-1]} {word}".strip()
        draw.multiline_text((column * TILE + 4, 2), "\n".join(lines[:4]), fill="black", spacing=1)
        for row, image in enumerate(images):
            tile = image.resize((TILE - 4, TILE - 4), Image.NEAREST)
            canvas.paste(tile, (column * TILE + 2, LABEL + row * TILE + 2))
    canvas.save(args.png)
    print(f"wrote {args.png}")


if __name__ == "__main__":
    main()
