"""Thompson sampling: each new candidate is the best point of one draw from the posterior.

Draws are joint when the model declares the "posterior_samples" capability (Bradley-Terry's
Laplace posterior does), else independent normals from `predict`'s mean and std. Points
come from a pool in a ball around the incumbent, so proposals stay where the model was fit.
A model that declares "posterior_peaks" (Bradley-Terry, Plackett-Luce, ideal point) gives
each draw's exact best point instead, projected into that ball, and one slot shows the
model's best guess (its "peak"), a "top-two" flavour of Thompson sampling.

Reference: W. R. Thompson, "On the likelihood that one unknown probability exceeds another
in view of the evidence of two samples", Biometrika, 1933.
"""

from __future__ import annotations

import numpy as np

from steering_core.hyperparameters import Hyperparameter, check_hyperparameters
from steering_core.models.base import PreferenceModel, can, has_evidence, posterior_draws
from steering_core.samplers.base import SAMPLERS, Proposal, SamplerHistory, incumbent_first
from steering_core.samplers.trust_region import project_to_ball, sample_ball


@SAMPLERS.register("thompson")
class ThompsonSampler:
    """One posterior draw per new candidate; each takes its draw's best pool point.

    pool_radius: the pool's radius as a multiple of the session's trust radius.
    pool_size: points scored per round.
    show_best_guess: with a model that offers a peak, one slot shows the posterior's peak.
    """

    hyperparameters = (
        Hyperparameter(
            "pool_radius", float, 2.0, "the pool's radius, in trust radii", 0, low_open=True
        ),
        Hyperparameter("pool_size", int, 512, "points scored per round", 1),
        Hyperparameter("show_best_guess", bool, True, "one slot shows the posterior's peak"),
    )

    def __init__(
        self,
        pool_radius: float = 2.0,
        pool_size: int = 512,
        show_best_guess: bool = True,
    ) -> None:
        self.pool_radius = pool_radius
        self.pool_size = pool_size
        self.show_best_guess = show_best_guess
        check_hyperparameters(self)

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
        vectors = pool[chosen]
        roles = ["explore"] * (k - 1)
        metadata = [{"why": "best point of one posterior draw", "draw": i} for i in range(k - 1)]
        if has_evidence(model) and can(model, "posterior_peaks"):
            # A model that knows where each draw peaks gives the exact argmax in the ball
            # (the peak, or its nearest point of the ball, for an isotropic draw): a pool
            # cannot be that precise in 8 or more dimensions.
            peaks = model.sample_peaks(k - 1, rng)
            labels = ["peak of one posterior draw"] * (k - 1)
            if self.show_best_guess and can(model, "peak") and k > 2:
                # The model's best guess too: in d dimensions a posterior draw lies about
                # sqrt(2) times farther from the target than the posterior's centre does.
                best_guess = model.peak()
                if best_guess is not None:
                    peaks[0] = best_guess
                    labels[0] = "the model's best guess (its posterior peak)"
                    roles[0] = "exploit"
            seen = {incumbent.tobytes()}
            for i, peak in enumerate(peaks):
                if not np.all(np.isfinite(peak)):
                    continue  # a draw without a peak keeps its pool point
                point = project_to_ball(peak[None], incumbent, radius)[0]
                if point.tobytes() in seen:
                    continue  # projected onto the same boundary point (1-D): keep the pool's
                seen.add(point.tobytes())
                vectors[i] = point
                metadata[i]["why"] = labels[i]
        return incumbent_first(history, model, vectors, roles, metadata)
