"""Gallery plane: a round is a grid on one 2-D slice of the steering space through the incumbent.

In the spirit of Y. Koyama, I. Sato, M. Goto, "Sequential Gallery for Interactive Visual
Design Optimization", ACM TOG (SIGGRAPH) 2020: rather than scattered points, the researcher
sees a coherent gallery on a plane whose first axis points where the search should go
(toward the model's best predicted point) and whose second axis is a random direction
orthogonal to it, so every round looks at a new slice. The incumbent sits at the centre.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from steering_core.hyperparameters import Hyperparameter, check_hyperparameters
from steering_core.models.base import PreferenceModel, has_evidence
from steering_core.samplers.base import SAMPLERS, Proposal, SamplerHistory, incumbent_first
from steering_core.samplers.challenger import last_move, unit
from steering_core.samplers.trust_region import sample_ball


def gallery_layout(n: int, plane: bool = True) -> np.ndarray:
    """`n x 2` plane coordinates (u, v) of a gallery around the origin, within the unit disc.

    On a plane: the smallest odd square grid with room for `n` cells around the centre,
    scaled so its corners touch the unit circle; inner rings fill first, and within a ring
    the cells nearest the +u axis (toward the predicted best) come first. With k = 8 the
    round is exactly a 3 x 3 gallery. Without a plane (d = 1): evenly spaced on the u line,
    alternating sides, +u first.
    """
    if not plane:
        per_side = math.ceil(n / 2)
        steps = np.arange(1, per_side + 1) / per_side
        u = np.ravel(np.column_stack([steps, -steps]))[:n]
        return np.column_stack([u, np.zeros(n)])
    half = 1
    while (2 * half + 1) ** 2 - 1 < n:
        half += 1
    i, j = np.meshgrid(np.arange(-half, half + 1), np.arange(-half, half + 1), indexing="ij")
    cells = np.column_stack([i.ravel(), j.ravel()])
    cells = cells[np.any(cells != 0, axis=1)]
    ring = np.abs(cells).max(axis=1)
    order = np.lexsort((cells[:, 1], np.abs(cells[:, 1]), -cells[:, 0], ring))
    return cells[order[:n]] / (half * math.sqrt(2))


@SAMPLERS.register("gallery_plane")
class GalleryPlaneSampler:
    """A grid of candidates on a plane through the incumbent.

    extent: the grid's corners lie this many trust radii from the incumbent.
    pool_radius: the model's best point is searched in a ball of this many trust radii.
    pool_size: random points scored to find it.
    """

    hyperparameters = (
        Hyperparameter("extent", float, 1.0, "grid corners, in trust radii", 0, 4, low_open=True),
        Hyperparameter(
            "pool_radius", float, 2.0, "ball searched for the best point", 0, 10, low_open=True
        ),
        Hyperparameter("pool_size", int, 256, "random points scored to find it", 1, 100_000),
    )

    def __init__(self, extent: float = 1.0, pool_radius: float = 2.0, pool_size: int = 256) -> None:
        self.extent = extent
        self.pool_radius = pool_radius
        self.pool_size = pool_size
        check_hyperparameters(self)

    def plane(
        self, history: SamplerHistory, model: PreferenceModel | None, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray | None, str]:
        """The plane's unit basis: the direction to move (length `d`), where it came from,
        and a random direction orthogonal to it (None when `d` = 1)."""
        incumbent = np.asarray(history.incumbent, dtype=np.float64)
        d = incumbent.size
        first, source = None, "random"
        if has_evidence(model):
            pool_radius = self.pool_radius * history.trust_radius
            pool = sample_ball(incumbent, pool_radius, self.pool_size, rng)
            mean, _ = model.predict(pool)
            first, source = unit(pool[int(np.argmax(mean))] - incumbent), "model"
        if first is None:
            move = last_move(history)
            first, source = (None, "random") if move is None else (unit(move), "last_move")
        while first is None:
            first, source = unit(rng.standard_normal(d)), "random"
        if d == 1:
            return first, None, source
        second = None
        while second is None:
            draw = rng.standard_normal(d)
            second = unit(draw - (draw @ first) * first)
        return first, second, source

    def propose(
        self,
        history: SamplerHistory,
        model: PreferenceModel | None,
        k: int,
        rng: np.random.Generator,
    ) -> Proposal:
        incumbent = np.asarray(history.incumbent, dtype=np.float64)
        first, second, source = self.plane(history, model, rng)
        half_width = self.extent * history.trust_radius
        coordinates = half_width * gallery_layout(k - 1, plane=second is not None)
        basis = np.vstack([first, np.zeros_like(first) if second is None else second])
        vectors = incumbent + coordinates @ basis
        # Cells ahead on the first axis lean where the evidence points; the rest show the
        # slice around the incumbent.
        roles = ["exploit" if u > 0 and source != "random" else "explore" for u, _ in coordinates]
        metadata: list[dict[str, Any]] = [
            {"why": f"gallery cell ({u:+.3g}, {v:+.3g}) on the plane", "u": float(u), "v": float(v)}
            for u, v in coordinates
        ]
        proposal = incumbent_first(history, model, vectors, roles, metadata)
        # The incumbent is the plane's origin; the plane itself is recorded with it.
        proposal.metadata[0].update(
            u=0.0,
            v=0.0,
            basis_u=first.tolist(),
            basis_v=None if second is None else second.tolist(),
            direction_from=source,
        )
        return proposal
