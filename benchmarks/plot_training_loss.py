"""Plot a built-in model training run's loss log (`loss.csv`) to a PNG.

Usage:
    python benchmarks/plot_training_loss.py checkpoints/runs/builtin/loss.csv docs/loss.png
Needs matplotlib (`pip install -e ".[bench]"`).
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("loss_csv", type=Path)
    parser.add_argument("png", type=Path)
    parser.add_argument("--window", type=int, default=100, help="moving-average window (steps)")
    args = parser.parse_args()
    with open(args.loss_csv, newline="") as handle:
        rows = list(csv.DictReader(handle))
    steps = np.array([int(r["step"]) for r in rows])
    loss = np.array([float(r["loss"]) for r in rows])
    minutes = np.array([float(r["seconds"]) for r in rows]) / 60
    smooth = np.convolve(loss, np.ones(args.window) / args.window, mode="valid")

    figure, axis = plt.subplots(figsize=(7, 3.6), dpi=110)
    axis.plot(steps, loss, color="#c9d6ea", linewidth=0.6, label="per step")
    axis.plot(
        steps[args.window - 1 :],
        smooth,
        color="#1f4e9c",
        linewidth=1.6,
        label=f"mean of {args.window} steps",
    )
    axis.set_yscale("log")
    axis.set_xlabel("training step (batch 64)")
    axis.set_ylabel("v-prediction MSE")
    axis.set_title(
        f"Built-in model training: {steps[-1]} steps, {minutes[-1]:.0f} min on 2 CPU cores"
    )
    axis.grid(alpha=0.3, which="both")
    axis.legend()
    figure.tight_layout()
    figure.savefig(args.png)
    print(f"wrote {args.png}: final mean loss {smooth[-1]:.4f}")


if __name__ == "__main__":
    main()
