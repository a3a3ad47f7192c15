"""Thompson sampling: each new candidate is the best point of one draw from the posterior.

Draws are joint when the model offers `sample_posterior(X, n, rng)` (Bradley-Terry's
Laplace posterior does), else independent normals from `predict`'s mean and std. Points
come from a pool in a ball around the incumbent, so proposals stay where the model was fit.

Reference: W. R. Thompson, "On the likelihood that one unknown probability exceeds another
in view of the evidence of two samples", Biometrika, 1933.
"""

from __future__ import annotations

import numpy as np

from steering_core.models.base import PreferenceModel, posterior_draws
from steering_core.samplers.base import SAMPLERS, Proposal, SamplerHistory, incumbent_first
from steering_core.samplers.trust_region import sample_ball


@SAMPLERS.register("thompson")
class ThompsonSampler:
    """One posterior draw per new candidate; each takes its draw's best pool point.

    pool_radius: the pool's radius as a multiple of the session's trust radius.
    pool_size: points scored per round.
    """

    def __init__(self, pool_radius: float = 2.0, pool_size: int = 512) -> None:
        if pool_radius <= 0 or pool_size < 1:
            raise ValueError(
                f"pool_radius must be > 0 and pool_size >= 1 (got {pool_radius}, {pool_size})"
            )
        self.pool_radius = pool_radius
        self.pool_size = pool_size

    def propose(
        self,
        history: SamplerHistory,
        model: PreferenceModel | None,
        k: int,
        rng: np.random.Generator,
    ) -> Proposal:
        incumbent = np.asarray(history.incumbent, dtype=np.float64)
        radius = self.pool_radius * history.trust_radius
        pool = sample_ball(incumbent, radius, self.pool_size, rng)
        if model is None:
            draws = rng.standard_normal((k - 1, len(pool)))
        else:
            draws = posterior_draws(model, pool, k - 1, rng)
        chosen: list[int] = []
        for draw in draws:
            draw = draw.copy()
            draw[chosen] = -np.inf  # distinct candidates
            chosen.append(int(np.argmax(draw)))
        metadata = [{"why": "best point of one posterior draw", "draw": i} for i in range(k - 1)]
        return incumbent_first(history, model, pool[chosen], ["explore"] * (k - 1), metadata)
