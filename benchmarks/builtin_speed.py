"""How fast is the built-in model on this machine? Cold start, and warm rounds of k candidates.

A warm round is `generate` of k steered conditionings (one batched call, guidance on, so the
UNet sees 2k images per step), and, separately, a whole round through the core (fit, propose,
render, save PNGs, store) on a fresh session.

Usage: python benchmarks/builtin_speed.py [--k 8] [--steps 20] [--repeats 10]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
import torch

from steering_core.config import GeneratorConfig, make_config
from steering_core.generators import make_generator
from steering_core.generators.base import GenerationSettings
from steering_core.rounds import generate_round
from steering_core.sessions import create_session, get_round, submit_feedback
from steering_core.storage import Workspace

COLD_START = """
import time, os
started = time.perf_counter()
from steering_core.config import GeneratorConfig
from steering_core.generators import make_generator
generator = make_generator(GeneratorConfig(backend="builtin", device="cpu"))
generator.load()
generator.encode("a red circle")
print(time.perf_counter() - started, generator.describe()["load_seconds"])
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--k", type=int, default=8)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--guidance", type=float, default=3.0)
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()

    cold = subprocess.run(
        [sys.executable, "-c", COLD_START], capture_output=True, text=True, check=True
    ).stdout.split()
    process_seconds, load_seconds = float(cold[0]), float(cold[1])

    generator = make_generator(GeneratorConfig(backend="builtin", device="cpu"))
    generator.load()
    base = generator.encode("a yellow star on a purple background")
    vector = base.steerable_vector()
    rng = np.random.default_rng(0)
    steered = []
    for _ in range(args.k):
        direction = rng.normal(size=vector.shape)
        direction *= 0.25 * np.linalg.norm(vector) / np.linalg.norm(direction)
        steered.append(base.with_steerable_vector(vector + direction))
    settings = GenerationSettings(steps=args.steps, guidance_scale=args.guidance)
    generator.generate(steered, list(range(args.k)), settings)  # warm-up
    generate_seconds = []
    for _ in range(args.repeats):
        started = time.perf_counter()
        generator.generate(steered, list(range(args.k)), settings)
        generate_seconds.append(time.perf_counter() - started)

    round_seconds = []
    with tempfile.TemporaryDirectory() as folder:
        workspace = Workspace.open(Path(folder) / "data", Path(folder) / "labels")
        config = make_config(
            {
                "prompt": "a yellow star on a purple background",
                "generator": {"backend": "builtin"},
                "k": args.k,
                "steps": args.steps,
                "guidance_scale": args.guidance,
            }
        )
        session = create_session(workspace, config)
        for _ in range(args.repeats):
            started = time.perf_counter()
            generate_round(workspace, generator, session.id)
            round_seconds.append(time.perf_counter() - started)
            _, candidates = get_round(workspace, session.id)
            submit_feedback(workspace, session.id, {"mode": "winner", "winner": candidates[1].id})

    print(
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__} "
        f"({torch.get_num_threads()} threads); k={args.k}, {args.steps} steps, guidance "
        f"{args.guidance}, {args.repeats} repeats\n"
    )
    print("| measure | median s | min s | max s |")
    print("|---|---:|---:|---:|")
    print(f"| cold start: new process, imports, load, first encode | {process_seconds:.2f} | | |")
    print(f"| cold start: model load alone (describe()['load_seconds']) | {load_seconds:.2f} | | |")
    for name, values in (
        (f"warm `generate` of {args.k} steered candidates", generate_seconds),
        (
            f"warm round through the core (k={args.k}, incumbent re-used after round 0)",
            round_seconds,
        ),
    ):
        print(
            f"| {name} | {statistics.median(values):.3f} | {min(values):.3f} | {max(values):.3f} |"
        )


if __name__ == "__main__":
    main()
