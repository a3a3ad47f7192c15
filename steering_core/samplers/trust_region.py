"""Trust-region sampler: candidates within a radius of the incumbent, which is always re-shown.

One or more "exploit" candidates go where the preference model's mean is highest inside the
region; the rest "explore", spread out on the region's boundary (farthest-point selection).
"""

from __future__ import annotations

import numpy as np

from steering_core.hyperparameters import Hyperparameter, check_hyperparameters
from steering_core.models.base import PreferenceModel, has_evidence
from steering_core.samplers.base import SAMPLERS, Proposal, SamplerHistory, incumbent_first


def sample_ball(center: np.ndarray, radius: float, n: int, rng: np.random.Generator) -> np.ndarray:
    """`n` points uniform in the ball of `radius` around `center` (length `d`)."""
    d = center.size
    directions = rng.standard_normal((n, d))
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    radii = radius * rng.random(n) ** (1.0 / d)
    return center + directions * radii[:, None]


def sample_sphere(
    center: np.ndarray, radius: float, n: int, rng: np.random.Generator
) -> np.ndarray:
    """`n` points on the sphere of `radius` around `center`."""
    directions = rng.standard_normal((n, center.size))
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    return center + radius * directions


def project_to_ball(points: np.ndarray, center: np.ndarray, radius: float) -> np.ndarray:
    """Rows of `points` (`n x d`) moved onto the ball of `radius` around `center` if outside."""
    offset = points - center
    norms = np.linalg.norm(offset, axis=-1, keepdims=True)
    return center + offset * np.minimum(1.0, radius / np.maximum(norms, 1e-300))


def farthest_points(pool: np.ndarray, chosen: np.ndarray, n: int) -> np.ndarray:
    """Greedily pick `n` rows of `pool` each farthest from everything chosen so far."""
    picked = []
    reference = chosen.copy()
    for _ in range(n):
        distance = np.min(np.linalg.norm(pool[:, None, :] - reference[None], axis=2), axis=1)
        best = int(np.argmax(distance))
        picked.append(pool[best])
        reference = np.vstack([reference, pool[best]])
    return np.array(picked).reshape(n, pool.shape[1])


@SAMPLERS.register("trust_region")
class TrustRegionSampler:
    """Propose around the incumbent within a trust radius.

    radius: overrides the session's trust radius when set.
    exploit_fraction: share of the new candidates placed at the model's best predicted points.
    pool_size: random points scored by the model to choose the exploit candidates.
    """

    hyperparameters = (
        Hyperparameter(
            "radius",
            float,
            None,
            "overrides the session's trust radius",
            0,
            2,
            low_open=True,
            none_means="the session's trust radius",
        ),
        Hyperparameter(
            "exploit_fraction", float, 0.25, "share of new candidates at the model's best", 0, 1
        ),
        Hyperparameter("pool_size", int, 512, "random points scored to choose them", 1),
    )

    def __init__(
        self, radius: float | None = None, exploit_fraction: float = 0.25, pool_size: int = 512
    ) -> None:
        self.radius = radius
        self.exploit_fraction = exploit_fraction
        self.pool_size = pool_size
        check_hyperparameters(self)

    def radius_for(self, history: SamplerHistory) -> float:
        return self.radius or history.trust_radius

    def propose(
        self,
        history: SamplerHistory,
        model: PreferenceModel | None,
        k: int,
        rng: np.random.Generator,
    ) -> Proposal:
        radius = self.radius_for(history)
        incumbent = np.asarray(history.incumbent, dtype=np.float64)
        vectors: list[np.ndarray] = []
        roles: list[str] = []
        metadata: list[dict] = []

        new = k - 1
        evidence = has_evidence(model)
        n_exploit = min(new, max(1, round(self.exploit_fraction * new))) if evidence else 0
        if n_exploit:
            pool = sample_ball(incumbent, radius, self.pool_size, rng)
            mean, _ = model.predict(pool)
            for index in np.argsort(-mean)[:n_exploit]:
                vectors.append(pool[index])
                roles.append("exploit")
                metadata.append({"why": "highest predicted utility in the trust region"})
        n_explore = new - n_exploit
        if n_explore:
            pool = sample_sphere(incumbent, radius, max(8 * n_explore, 64), rng)
            for point in farthest_points(pool, np.array([incumbent, *vectors]), n_explore):
                vectors.append(point)
                roles.append("explore")
                metadata.append({"why": "spread on the trust-region boundary"})
        proposal = incumbent_first(history, model, np.array(vectors), roles, metadata)
        for vector, meta in zip(proposal.vectors, proposal.metadata, strict=True):
            meta["distance_from_incumbent"] = float(np.linalg.norm(vector - incumbent))
            meta["radius"] = float(radius)
        return proposal


@SAMPLERS.register("adaptive_trust_region")
class AdaptiveTrustRegionSampler(TrustRegionSampler):
    """A trust region whose radius follows the search: it grows by `grow` for each round in a
    row that moved the incumbent, shrinks by `shrink` for each round in a row that did not,
    and shrinks once more after a reject-all; kept within [min_radius, max_radius] times the
    session's radius. Derived from the history each round, so it replays exactly."""

    hyperparameters = (
        Hyperparameter("grow", float, 1.5, "radius factor per round that moved", 1),
        Hyperparameter(
            "shrink", float, 0.7, "radius factor per round that did not", 0, 1, low_open=True
        ),
        Hyperparameter(
            "min_radius", float, 0.25, "smallest radius, in trust radii", 0, 1, low_open=True
        ),
        Hyperparameter("max_radius", float, 4.0, "largest radius, in trust radii", 1),
        Hyperparameter(
            "exploit_fraction", float, 0.25, "share of new candidates at the model's best", 0, 1
        ),
        Hyperparameter("pool_size", int, 512, "random points scored to choose them", 1),
    )

    def __init__(
        self,
        grow: float = 1.5,
        shrink: float = 0.7,
        min_radius: float = 0.25,
        max_radius: float = 4.0,
        exploit_fraction: float = 0.25,
        pool_size: int = 512,
    ) -> None:
        self.grow = grow
        self.shrink = shrink
        self.min_radius = min_radius
        self.max_radius = max_radius
        # Last: the parent stores the rest and checks every declared hyperparameter.
        super().__init__(exploit_fraction=exploit_fraction, pool_size=pool_size)

    def radius_for(self, history: SamplerHistory) -> float:
        streak = history.improvement_streak()
        factor = self.grow**streak if streak > 0 else self.shrink ** (-streak)
        if history.rejected_all:
            factor *= self.shrink
        factor = min(max(factor, self.min_radius), self.max_radius)
        return factor * history.trust_radius

    def propose(
        self,
        history: SamplerHistory,
        model: PreferenceModel | None,
        k: int,
        rng: np.random.Generator,
    ) -> Proposal:
        proposal = super().propose(history, model, k, rng)
        proposal.metadata[0]["improvement_streak"] = history.improvement_streak()
        return proposal
