"""Random search: new candidates uniform in a ball around the prompt, ignoring every judgment.

The floor every other sampler must beat. The incumbent is still re-shown (the contract), so
random search keeps the best it has found.
"""

from __future__ import annotations

import numpy as np

from steering_core.hyperparameters import Hyperparameter, check_hyperparameters
from steering_core.models.base import PreferenceModel
from steering_core.samplers.base import SAMPLERS, Proposal, SamplerHistory, incumbent_first
from steering_core.samplers.trust_region import sample_ball


@SAMPLERS.register("random")
class RandomSampler:
    """Uniform in the ball of `radius` around the unsteered prompt (0 = the session's trust
    radius times `spread`)."""

    hyperparameters = (
        Hyperparameter("radius", float, 0.0, "the ball's radius; 0 = trust radius x spread", 0),
        Hyperparameter(
            "spread", float, 3.0, "the ball, in trust radii, when radius is 0", 0, low_open=True
        ),
    )

    def __init__(self, radius: float = 0.0, spread: float = 3.0) -> None:
        self.radius = radius
        self.spread = spread
        check_hyperparameters(self)

    def propose(
        self,
        history: SamplerHistory,
        model: PreferenceModel | None,
        k: int,
        rng: np.random.Generator,
    ) -> Proposal:
        radius = self.radius or self.spread * history.trust_radius
        others = sample_ball(np.zeros(len(history.incumbent)), radius, k - 1, rng)
        metadata = [{"why": f"uniform in the ball of radius {radius:.3g}"} for _ in range(k - 1)]
        return incumbent_first(history, model, others, ["explore"] * (k - 1), metadata)
