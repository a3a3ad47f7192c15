"""Run a benchmark grid in parallel processes: one task per (method, user, noise, feedback,
d, seed), each reproducible from the config alone.

The tool's own methods run as real synthetic sessions (`simulate_session`: the same rounds,
feedback path and SQLite storage as a researcher's, marked synthetic), one data root per
worker process under the output folder. Baselines run in memory (`baselines`).
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from itertools import product
from pathlib import Path
from typing import Any

import numpy as np

from steering_core.bench.config import BenchConfig, NoiseSpec, UserSpec

ROW_FIELDS = (
    "method",
    "user",
    "noise",
    "feedback",
    "d",
    "seed",
    "round",
    "distance",
    "relative_distance",
    "seconds",
    "session_id",
)


@dataclass(frozen=True)
class Task:
    method: str
    user_index: int
    noise_index: int
    feedback: str
    d: int
    seed: int


def tasks(config: BenchConfig) -> list[Task]:
    """The grid, in a fixed order (results are written in this order)."""
    return [
        Task(method, u, n, feedback, d, seed)
        for method, u, n, feedback, d, seed in product(
            config.method_names(),
            range(len(config.users)),
            range(len(config.noise)),
            config.feedback,
            config.dimensions,
            range(config.seeds),
        )
    ]


def hidden_target(user: UserSpec, d: int, seed: int) -> np.ndarray:
    """The run's hidden target: `target_distance` from the prompt in a seeded direction."""
    direction = np.random.default_rng([seed, d, 7]).standard_normal(d)
    return user.target_distance * direction / np.linalg.norm(direction)


def make_user(user: UserSpec, noise: NoiseSpec, d: int, seed: int) -> Any:
    from steering_core.synthetic.users import AnchorUser, NoiseModel

    noise_fields = noise.model_dump(exclude={"name"})
    return AnchorUser(
        target=hidden_target(user, d, seed),
        noise=NoiseModel(**noise_fields),
        scale=user.scale or 2 * user.target_distance,
    )


_worker_workspace: dict[str, Any] = {}


def _workspace(out: Path) -> Any:
    """This process's own data root (one per worker: no lock contention between them)."""
    from steering_core.storage import Workspace

    key = str(out)
    if key not in _worker_workspace:
        root = out / "sessions" / f"worker-{os.getpid()}"
        workspace = Workspace.open(root / "data", root / "labels")
        # Thousands of throwaway sessions: a trace each would cost ~40 % of a run's time
        # (docs/DECISIONS.md, "Trace"); the sessions themselves are still stored.
        workspace.tracing = False
        _worker_workspace[key] = workspace
    return _worker_workspace[key]


def run_task(config: BenchConfig, task: Task, out: Path) -> list[dict[str, Any]]:
    """Play one run; one row per round: the incumbent's distance to the hidden target after
    that many judged rounds (round 0 = the unsteered prompt)."""
    user_spec, noise = config.users[task.user_index], config.noise[task.noise_index]
    user = make_user(user_spec, noise, task.d, task.seed)
    start = user_spec.target_distance
    reached = config.target_fraction * start
    started = time.perf_counter()
    session_id = ""
    if "+" in task.method:
        distances, session_id = _run_ours(config, task, user, reached, out)
    else:
        distances = _run_baseline(config, task, user, reached)
    seconds = time.perf_counter() - started
    # An early-stopped run keeps its last distance for the remaining rounds.
    distances += [distances[-1]] * (config.rounds + 1 - len(distances))
    return [
        {
            "method": task.method,
            "user": user_spec.kind,
            "noise": noise.label(),
            "feedback": task.feedback,
            "d": task.d,
            "seed": task.seed,
            "round": r,
            "distance": distance,
            "relative_distance": distance / start,
            "seconds": seconds,
            "session_id": session_id,
        }
        for r, distance in enumerate(distances)
    ]


def _run_ours(
    config: BenchConfig, task: Task, user: Any, reached: float, out: Path
) -> tuple[list[float], str]:
    from steering_core.config import make_config
    from steering_core.synthetic.simulate import simulate_session

    sampler, model = task.method.split("+", 1)
    params = config.params.get(task.method, {})
    session_config = make_config(
        {
            "prompt": f"benchmark {config.name}: {task.method}, d={task.d}, seed {task.seed}",
            "k": config.k,
            "d": task.d,
            "trust_radius": config.trust_radius,
            "sampler": {"name": sampler, "params": params.get("sampler", {})},
            "preference_model": {
                "name": model.split("@", 1)[0],
                "params": params.get("model", {}),
            },
            "feedback_mode": task.feedback,
            "seed": task.seed,
        }
    )

    def stop(result: Any) -> bool:
        return config.stop_at_target and result.distances_to_target[-1] <= reached

    result = simulate_session(
        _workspace(out),
        session_config,
        user,
        rounds=config.rounds + 1,  # the last round's incumbent reflects `rounds` judgments
        mode=task.feedback,
        seed=task.seed,
        stop=stop,
    )
    return list(result.distances_to_target), result.session_id


def _run_baseline(config: BenchConfig, task: Task, user: Any, reached: float) -> list[float]:
    from steering_core.bench.baselines import make_baseline
    from steering_core.feedback import normalize, parse_feedback
    from steering_core.synthetic.users import Shown

    baseline = make_baseline(task.method, task.d, config.k, config.trust_radius, task.seed)
    rng = np.random.default_rng(task.seed)
    distances = [float(user.distance_to_target(np.zeros(task.d)))]
    for round_index in range(config.rounds):
        if config.stop_at_target and distances[-1] <= reached:
            break
        vectors = baseline.propose()
        shown = [Shown(i, i, vector) for i, vector in enumerate(vectors)]
        raw = user.judge(shown, task.feedback, round_index, rng)
        feedback = normalize(parse_feedback(raw), list(range(len(vectors))))
        incumbent = baseline.observe(vectors, feedback)
        distances.append(float(user.distance_to_target(incumbent)))
    return distances


def _init_worker() -> None:
    import warnings

    import torch

    torch.set_num_threads(1)  # the processes are the parallelism
    # GPyTorch's jitter notices (BoTorch baseline) would drown the progress bar.
    warnings.filterwarnings("ignore", message=".*added jitter.*")


def _run_chunk(config: BenchConfig, chunk: list[Task], out: Path) -> list[list[dict[str, Any]]]:
    return [run_task(config, task, out) for task in chunk]


def run_bench(config: BenchConfig, out: Path, progress: Any = None) -> list[dict[str, Any]]:
    """Run every task of the grid with `config.workers` processes; rows in grid order."""
    out.mkdir(parents=True, exist_ok=True)
    grid = tasks(config)
    if config.workers == 1:
        _init_worker()
        results = []
        for task in grid:
            results.append(run_task(config, task, out))
            if progress is not None:
                progress(1)
        return [row for rows in results for row in rows]
    # Small chunks keep both processes busy; spawn (not fork) so no worker inherits
    # half-initialised thread pools from this process.
    import multiprocessing

    chunks = [grid[i : i + 4] for i in range(0, len(grid), 4)]
    # One BLAS thread per process: the processes are the parallelism, and small matrices
    # run several times slower when two processes' thread pools fight for two cores.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(config.workers, mp_context=context, initializer=_init_worker) as pool:
        futures = [pool.submit(_run_chunk, config, chunk, out) for chunk in chunks]
        results = []
        for future, chunk in zip(futures, chunks, strict=True):
            results.extend(future.result())
            if progress is not None:
                progress(len(chunk))
    return [row for rows in results for row in rows]
