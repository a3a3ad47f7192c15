"""Incumbent vs challenger: every round holds one stable option and one high-risk one.

Besides the re-shown incumbent, an "exploit" candidate takes a small step toward the model's
best predicted point, and a "challenger" is the point of highest upper confidence bound
(mean + beta * std) in a wide ball; the remaining slots spread on the trust-region boundary.
The challenger is the UCB rule of GP-UCB (Srinivas, Krause, Kakade, Seeger, "Gaussian
process optimization in the bandit setting", ICML 2010), applied to one slot of the round.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from steering_core.hyperparameters import Hyperparameter, check_hyperparameters
from steering_core.models.base import PreferenceModel, has_evidence
from steering_core.samplers.base import SAMPLERS, Proposal, SamplerHistory, incumbent_first
from steering_core.samplers.trust_region import farthest_points, sample_ball, sample_sphere


def spread_out(
    center: np.ndarray,
    radius: float,
    reference: np.ndarray,
    n: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """`n x d` points spread on the sphere of `radius` around `center` (length `d`), each
    farthest from the `m x d` `reference` points and from those picked before it.

    In one dimension the sphere is two points, so the pool fills the ball instead: `n`
    distinct candidates must exist for every `n`.
    """
    if n == 0:
        return np.zeros((0, center.size))
    draw = sample_sphere if center.size > 1 else sample_ball
    pool = draw(center, radius, max(8 * n, 64), rng)
    return farthest_points(pool, np.atleast_2d(reference), n)


def last_move(history: SamplerHistory) -> np.ndarray | None:
    """The latest nonzero step of the incumbent path (length `d`), or None if it never moved."""
    path = history.incumbent_path
    if path is None or len(path) < 2:
        return None
    steps = np.diff(np.asarray(path, dtype=np.float64), axis=0)
    moved = np.flatnonzero(np.linalg.norm(steps, axis=1) > 0)
    return steps[moved[-1]] if len(moved) else None


def unit(vector: np.ndarray) -> np.ndarray | None:
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 1e-12 else None


@SAMPLERS.register("incumbent_challenger")
class IncumbentChallengerSampler:
    """One stable "exploit" step, one risky "challenger", the rest explore the boundary.

    exploit_step: the exploit candidate's step toward the best predicted point, as a multiple
        of the session's trust radius (shorter when that point is nearer).
    challenger_radius: the ball searched for the challenger, as a multiple of the trust radius.
    beta: weight of the std in the challenger's upper confidence bound, mean + beta * std.
    pool_size: random points scored in the wide ball.

    With k = 2 there is one new slot: even rounds get the exploit, odd rounds the challenger.
    """

    hyperparameters = (
        Hyperparameter(
            "exploit_step", float, 0.5, "exploit step, in trust radii", 0, 2, low_open=True
        ),
        Hyperparameter("challenger_radius", float, 3.0, "challenger's ball, in trust radii", 1, 10),
        Hyperparameter("beta", float, 2.0, "weight of the std in mean + beta * std", 0, 10),
        Hyperparameter("pool_size", int, 512, "random points scored in the wide ball", 2, 100_000),
    )

    def __init__(
        self,
        exploit_step: float = 0.5,
        challenger_radius: float = 3.0,
        beta: float = 2.0,
        pool_size: int = 512,
    ) -> None:
        self.exploit_step = exploit_step
        self.challenger_radius = challenger_radius
        self.beta = beta
        self.pool_size = pool_size
        check_hyperparameters(self)

    def propose(
        self,
        history: SamplerHistory,
        model: PreferenceModel | None,
        k: int,
        rng: np.random.Generator,
    ) -> Proposal:
        radius = history.trust_radius
        incumbent = np.asarray(history.incumbent, dtype=np.float64)
        pool = sample_ball(incumbent, self.challenger_radius * radius, self.pool_size, rng)
        mean, std = model.predict(pool) if model is not None else (None, None)

        # The stable option: a short step toward the best predicted point, or, before any
        # evidence, along the incumbent's last move (or a random direction).
        best_index = int(np.argmax(mean)) if has_evidence(model) else None
        offset, toward_best = None, False
        if best_index is not None:
            offset, toward_best = pool[best_index] - incumbent, True
            why_exploit = "a short step toward the best predicted point"
        if offset is None or unit(offset) is None:
            offset, toward_best = last_move(history), False
            why_exploit = "a short step along the incumbent's last move (no evidence yet)"
        if offset is None or unit(offset) is None:
            offset = rng.standard_normal(incumbent.size)
            why_exploit = "a short step in a random direction (no evidence yet)"
        distance = float(np.linalg.norm(offset))
        step = self.exploit_step * radius
        if toward_best:
            step = min(step, distance)  # never overshoot the predicted best
        exploit = incumbent + offset / distance * step
        exploit_meta: dict[str, Any] = {"why": why_exploit, "step": float(step)}

        # The risky option: the highest upper confidence bound in the wide ball; without a
        # model, the pool point farthest from the incumbent and the exploit.
        if model is not None:
            ucb = mean + self.beta * std
            if best_index is not None:
                ucb[best_index] = -np.inf  # the exploit may sit exactly on that point
            challenger = pool[int(np.argmax(ucb))]
            challenger_meta: dict[str, Any] = {
                "why": f"highest upper confidence bound (mean + {self.beta:g} std) "
                f"within {self.challenger_radius:g} trust radii",
                "upper_confidence_bound": float(np.max(ucb)),
            }
        else:
            challenger = farthest_points(pool, np.array([incumbent, exploit]), 1)[0]
            challenger_meta = {"why": "far from the incumbent in the wide ball (no model)"}

        new = k - 1
        if new == 1:
            chosen = [(exploit, "exploit", exploit_meta)]
            if history.round_index % 2:
                chosen = [(challenger, "challenger", challenger_meta)]
        else:
            chosen = [
                (exploit, "exploit", exploit_meta),
                (challenger, "challenger", challenger_meta),
            ]
            explore = spread_out(
                incumbent, radius, np.array([incumbent, exploit, challenger]), new - 2, rng
            )
            chosen += [
                (point, "explore", {"why": "spread on the trust-region boundary"})
                for point in explore
            ]
        vectors = np.array([vector for vector, _, _ in chosen])
        proposal = incumbent_first(
            history, model, vectors, [role for _, role, _ in chosen], [m for _, _, m in chosen]
        )
        for vector, meta in zip(proposal.vectors, proposal.metadata, strict=True):
            meta["distance_from_incumbent"] = float(np.linalg.norm(vector - incumbent))
        return proposal
