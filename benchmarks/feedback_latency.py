"""Time a durable judgment: submit_feedback returns only after SQLite and the label CSV fsync.

Also times the round bookkeeping around generation (fit, propose, store) on the same session.
Usage: python benchmarks/feedback_latency.py [--events 500] [--k 8] [--d 8]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from PIL import Image

from steering_core.config import make_config
from steering_core.generators.tiny import build_tiny_sd_pipeline
from steering_core.rounds import plan_round, store_round
from steering_core.sessions import create_session, get_round, submit_feedback
from steering_core.storage import Workspace


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=500)
    parser.add_argument("--k", type=int, default=8)
    parser.add_argument("--d", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        build_tiny_sd_pipeline(root / "model")
        workspace = Workspace.open(root / "data", root / "labels")
        config = make_config(
            {
                "prompt": "a red circle",
                "generator": {"backend": "diffusers", "model": str(root / "model")},
                "k": args.k,
                "d": args.d,
            }
        )
        session = create_session(workspace, config)
        blank = {slot: Image.new("RGB", (64, 64)) for slot in range(args.k)}

        plan_ms, store_ms = [], []
        for _ in range(args.rounds):
            started = time.perf_counter()
            plan = plan_round(workspace, session.id)
            plan_ms.append(1000 * (time.perf_counter() - started))
            images = {s: im for s, im in blank.items() if s not in plan.reused_images}
            started = time.perf_counter()
            store_round(workspace, plan, images)
            store_ms.append(1000 * (time.perf_counter() - started))
            _, candidates = get_round(workspace, session.id)
            winner = candidates[1 + len(plan_ms) % (args.k - 1)].id
            submit_feedback(workspace, session.id, {"mode": "winner", "winner": winner})

        _, candidates = get_round(workspace, session.id)
        ids = [c.id for c in candidates]
        submit_ms = []
        for i in range(args.events):
            raw = (
                {"mode": "winner", "winner": ids[i % len(ids)]}
                if i % 2
                else {"mode": "rating", "ratings": {str(c): 1 + (c + i) % 5 for c in ids}}
            )
            started = time.perf_counter()
            submit_feedback(workspace, session.id, raw)
            submit_ms.append(1000 * (time.perf_counter() - started))

    print(
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )
    print(f"k={args.k}, d={args.d}; {args.rounds} rounds, then {args.events} judgments\n")
    print("| step | median ms | p95 ms | max ms |")
    print("|---|---:|---:|---:|")
    for name, values in (
        ("submit_feedback (durable: SQLite + CSV fsync)", submit_ms),
        ("plan_round (fit on all judgments + propose)", plan_ms),
        ("store_round (PNGs + one transaction)", store_ms),
    ):
        print(
            f"| {name} | {statistics.median(values):.2f} | {percentile(values, 0.95):.2f} | "
            f"{max(values):.2f} |"
        )


if __name__ == "__main__":
    main()
