"""Convergence: is another round worth it? Series in, verdict out, with the evidence.

Verdicts:
- `continue`: too few rounds to tell, or the incumbent's utility is still rising;
- `degrading`: utility has been falling over the window (judgments drifting or noisy);
- `optimal`: flat utility, the same incumbent for the whole window and steps that shrank to
  nothing nearby - the sampler finds nothing better around the best;
- `plateau`: flat utility while the incumbent keeps moving or the steps stay large - the
  search wanders without gaining.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from steering_core.models.base import PreferenceModel

Status = Literal["continue", "plateau", "degrading", "optimal"]


@dataclass(frozen=True)
class Verdict:
    status: Status
    reason: str
    evidence: dict[str, Any] = field(default_factory=dict)


def _slope(values: np.ndarray) -> float:
    """Least-squares change per round."""
    rounds = np.arange(len(values), dtype=float)
    return float(np.polyfit(rounds, values, 1)[0])


def repeated_winner(incumbent_ids: Sequence[int]) -> int:
    """How many rounds, counting back from the last, kept the same incumbent."""
    count = 0
    for candidate in reversed(incumbent_ids):
        if candidate != incumbent_ids[-1]:
            break
        count += 1
    return count


def detect(
    utilities: Sequence[float],
    step_sizes: Sequence[float] | None = None,
    incumbent_ids: Sequence[int] | None = None,
    window: int = 4,
    tolerance: float = 0.02,
    small_step: float = 0.05,
) -> Verdict:
    """Judge a session from per-round series.

    `utilities`: the incumbent's utility per round (predicted, or true for synthetic users);
    `step_sizes`: how far the incumbent moved into each round; `incumbent_ids`: which
    candidate was the incumbent. `tolerance` is a change per round, relative to the series'
    spread; `small_step` is an absolute steering distance.
    """
    if window < 2:
        raise ValueError(f"window must be >= 2 (got {window})")
    values = np.asarray(utilities, dtype=float)
    if len(values) < window:
        return Verdict("continue", f"{len(values)} of {window} rounds needed to judge")
    recent = values[-window:]
    spread = float(np.ptp(values)) or 1.0
    trend = _slope(recent) / spread
    steps = np.asarray(step_sizes[-window:], dtype=float) if step_sizes else np.array([])
    repeats = repeated_winner(incumbent_ids) if incumbent_ids else 0
    evidence = {
        "window": window,
        "trend": trend,
        "mean_step": float(steps.mean()) if steps.size else None,
        "repeated_winner": repeats,
        "last_utility": float(values[-1]),
    }
    if trend < -tolerance:
        return Verdict("degrading", "utility fell over the last rounds", evidence)
    if trend > tolerance:
        return Verdict("continue", "utility is still rising", evidence)
    settled = repeats >= window and (not steps.size or steps.mean() <= small_step)
    if settled:
        return Verdict(
            "optimal", f"same incumbent for {repeats} rounds and nothing better nearby", evidence
        )
    return Verdict("plateau", "utility is flat while the search keeps moving", evidence)


def session_verdict(model: PreferenceModel, incumbent_path: np.ndarray, window: int = 4) -> Verdict:
    """The verdict on a session from its incumbent of every round (`r x d`, oldest first),
    all scored by the current model so that the series shares one scale."""
    path = np.atleast_2d(np.asarray(incumbent_path, dtype=float))
    utilities = model.predict(path)[0]
    steps = [0.0, *np.linalg.norm(np.diff(path, axis=0), axis=1).tolist()]
    # The same vector re-shown is the same incumbent, whatever its candidate id.
    first_round: dict[bytes, int] = {}
    incumbent_ids = [first_round.setdefault(v.tobytes(), i) for i, v in enumerate(path)]
    return detect(utilities.tolist(), steps, incumbent_ids, window=window)


def value_of_another_round(
    model: PreferenceModel,
    incumbent: np.ndarray,
    candidates: np.ndarray,
    rng: np.random.Generator,
    n_draws: int = 256,
) -> float:
    """Expected gain of the best of `candidates` (`k x d`) over the `incumbent` (length `d`):
    `E[max(0, max_i f(x_i) - f(incumbent))]` under the model's posterior (joint draws when
    the model offers them). Near 0: another round is not expected to find anything better."""
    from steering_core.models.base import posterior_draws

    points = np.vstack([np.asarray(incumbent, dtype=float)[None], candidates])
    draws = posterior_draws(model, points, n_draws, rng)
    gain = draws[:, 1:].max(axis=1) - draws[:, 0]
    return float(np.maximum(gain, 0.0).mean())
