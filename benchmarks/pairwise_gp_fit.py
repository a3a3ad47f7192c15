"""Time PairwiseGPModel.fit (hyperparameters fitted, and fixed) against the number of comparisons.

Each row replays a synthetic session: rounds of k candidates in a trust radius of 0.25 around
the incumbent (re-shown), a user with a hidden target at radius 0.6 who judges through
Bradley-Terry noise. "winner" feedback (the winner beats the k - 1 others) gives about one
distinct steering vector per comparison, the costly case for a GP; "ratings" feedback
(every pair of the round ordered) gives k(k-1)/2 comparisons per k - 1 new vectors.
Usage: python benchmarks/pairwise_gp_fit.py [--comparisons 50 100 250 500 1000 2000]
       [--feedback winner ratings] [--d 8] [--k 8] [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from collections.abc import Callable

import numpy as np
import scipy

from steering_core.models.pairwise_gp import PairwiseGPModel


def synthetic_session(
    n_comparisons: int, d: int, k: int, ratings: bool, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """`n x d` distinct steering vectors and `m x 2` comparisons of a simulated session (the
    last round cut short at `n_comparisons`)."""
    rng = np.random.default_rng(seed)
    target = rng.normal(size=d)
    target *= 0.6 / np.linalg.norm(target)
    points = [np.zeros(d)]
    incumbent = 0  # row of the incumbent, re-shown in every round
    pairs: list[tuple[int, int]] = []
    while len(pairs) < n_comparisons:
        # k - 1 new candidates uniform in a ball of radius 0.25 (the trust radius).
        offsets = rng.normal(size=(k - 1, d))
        offsets /= np.linalg.norm(offsets, axis=1, keepdims=True)
        offsets *= 0.25 * rng.random((k - 1, 1)) ** (1 / d)
        rows = [incumbent, *range(len(points), len(points) + k - 1)]
        points += list(points[incumbent] + offsets)
        utility = -np.linalg.norm(np.array(points)[rows] - target, axis=1)
        noisy = utility / 0.05 + rng.gumbel(size=k)  # Bradley-Terry choice, temperature 0.05
        order = np.argsort(-noisy)
        if ratings:
            pairs += [(rows[a], rows[b]) for i, a in enumerate(order) for b in order[i + 1 :]]
        else:
            pairs += [(rows[order[0]], rows[j]) for j in order[1:]]
        incumbent = rows[order[0]]
    return np.array(points), np.array(pairs[:n_comparisons])


def median_seconds(call: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def row(feedback: str, n_comparisons: int, args: argparse.Namespace) -> str:
    """One table row: fit, refit with the fitted hyperparameters fixed, predict, draw."""
    X, pairs = synthetic_session(
        n_comparisons, args.d, args.k, feedback == "ratings", seed=n_comparisons
    )
    model = PairwiseGPModel()
    fit_s = median_seconds(lambda: model.fit(X, pairs), args.repeats)
    fixed = PairwiseGPModel(lengthscale=model.lengthscale_, outputscale=model.outputscale_)
    fixed_s = median_seconds(lambda: fixed.fit(X, pairs), args.repeats)
    rng = np.random.default_rng(0)
    pool = X[-1] + rng.uniform(-0.5, 0.5, size=(args.pool, args.d))
    predict_s = median_seconds(lambda: model.predict(pool), args.repeats)
    draws_s = median_seconds(lambda: model.sample_posterior(pool, args.k - 1, rng), args.repeats)
    return (
        f"| {feedback} | {n_comparisons} | {model.state()['n_points']} | {fit_s:.3f} | "
        f"{len(model.loss_history_) - 1} | {fixed_s:.3f} | {1000 * predict_s:.1f} | "
        f"{1000 * draws_s:.1f} | {model.lengthscale_:.3f} | {model.outputscale_:.2f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--comparisons", type=int, nargs="+", default=[50, 100, 250, 500, 1000, 2000]
    )
    parser.add_argument(
        "--feedback", nargs="+", choices=["winner", "ratings"], default=["winner", "ratings"]
    )
    parser.add_argument("--d", type=int, default=8)
    parser.add_argument("--k", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--pool", type=int, default=512, help="points a sampler scores")
    args = parser.parse_args()

    print(
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, numpy {np.__version__}, scipy {scipy.__version__}"
    )
    print(
        f"d={args.d}, k={args.k}; median of {args.repeats} runs; pool of {args.pool}; "
        f"load average at start {os.getloadavg()[0]:.2f}\n"
    )
    print(
        "| feedback | comparisons | points compared | fit s | L-BFGS-B iterations "
        "| fit s, hyperparameters fixed | predict pool ms | k - 1 joint draws on pool ms "
        "| lengthscale | outputscale |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for feedback in args.feedback:
        for m in args.comparisons:
            print(row(feedback, m, args))
    print(f"\nload average at end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
