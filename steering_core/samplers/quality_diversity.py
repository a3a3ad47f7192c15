"""Quality-diversity: an archive of elites, one per cell of the steering space.

In the spirit of MAP-Elites (J.-B. Mouret and J. Clune, "Illuminating search spaces by
mapping elites", 2015) with the fixed centroidal Voronoi cells of CVT-MAP-Elites (V.
Vassiliades, K. Chatzilygeroudis, J.-B. Mouret, "Using centroidal Voronoi tessellations to
scale up the multidimensional archive of phenotypic elites algorithm", IEEE TEVC 2018).
Each cell's elite is the shown steering vector the model rates highest there; a round
mutates the top elites of distinct cells, so it covers several good regions rather than
only the incumbent's neighbourhood, and sends a few candidates into cells nobody has seen.
Mutations are screened by the model's mean, as in surrogate-assisted illumination (A.
Gaier, A. Asteroth, J.-B. Mouret, "Data-efficient design exploration through
surrogate-assisted illumination", Evolutionary Computation 2018).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

from steering_core.hyperparameters import Hyperparameter, check_hyperparameters
from steering_core.models.base import PreferenceModel
from steering_core.samplers.base import SAMPLERS, Proposal, SamplerHistory, incumbent_first
from steering_core.samplers.trust_region import sample_ball


def nearest_cell(points: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """The index of the nearest of `c x d` centroids for each row of an `n x d` array."""
    distances = (
        (points**2).sum(axis=1)[:, None] - 2 * points @ centroids.T + (centroids**2).sum(axis=1)
    )
    return np.argmin(distances, axis=1)


@lru_cache(maxsize=32)
def cell_centroids(archive_seed: int, d: int, n_cells: int) -> np.ndarray:
    """`n_cells x d` centroids of a centroidal Voronoi tessellation of the unit ball.

    Lloyd's algorithm on uniform samples, from the seed and the dimension alone (never the
    round's rng), so the cells are the same in every round and every replay. Read-only.
    """
    rng = np.random.default_rng([archive_seed, d, n_cells])
    samples = sample_ball(np.zeros(d), 1.0, 50 * n_cells, rng)
    centroids = samples[:n_cells].copy()
    for _ in range(25):
        cells = nearest_cell(samples, centroids)
        counts = np.bincount(cells, minlength=n_cells)
        sums = np.zeros_like(centroids)
        np.add.at(sums, cells, samples)
        filled = counts > 0
        centroids[filled] = sums[filled] / counts[filled, None]
    centroids.setflags(write=False)
    return centroids


@SAMPLERS.register("quality_diversity")
class QualityDiversitySampler:
    """Mutate the elites of distinct cells; explore a few empty cells.

    n_cells: cells of the archive (fixed centroids in the steering space).
    archive_seed: seeds the centroids; with the dimension it fixes the cells.
    archive_radius: the centroids fill a ball of this many trust radii around the unsteered
        prompt (the session's trust radius is fixed, so the cells are too).
    mutation_scale: the norm of a mutation, about this many trust radii.
    offspring: mutations drawn per elite; the one with the highest predicted utility is
        proposed (1 = plain MAP-Elites mutation).
    explore_fraction: share of the new candidates sent into empty cells.
    """

    hyperparameters = (
        Hyperparameter("n_cells", int, 32, "cells of the archive", 2, 4096),
        Hyperparameter(
            "archive_seed", int, 0, "seeds the cell centroids", 0, 2**63, high_open=True
        ),
        Hyperparameter(
            "archive_radius", float, 4.0, "centroids' ball, in trust radii", 0, 100, low_open=True
        ),
        Hyperparameter(
            "mutation_scale", float, 1.0, "a mutation's norm, in trust radii", 0, 10, low_open=True
        ),
        Hyperparameter("offspring", int, 16, "mutations drawn per elite", 1, 1024),
        Hyperparameter(
            "explore_fraction", float, 0.25, "share of new candidates sent to empty cells", 0, 1
        ),
    )

    def __init__(
        self,
        n_cells: int = 32,
        archive_seed: int = 0,
        archive_radius: float = 4.0,
        mutation_scale: float = 1.0,
        offspring: int = 16,
        explore_fraction: float = 0.25,
    ) -> None:
        self.n_cells = n_cells
        self.archive_seed = archive_seed
        self.archive_radius = archive_radius
        self.mutation_scale = mutation_scale
        self.offspring = offspring
        self.explore_fraction = explore_fraction
        check_hyperparameters(self)

    def centroids(self, history: SamplerHistory) -> np.ndarray:
        """The `n_cells x d` cell centroids of this session's steering space."""
        unit_centroids = cell_centroids(self.archive_seed, len(history.incumbent), self.n_cells)
        return unit_centroids * (self.archive_radius * history.trust_radius)

    def elites(
        self, history: SamplerHistory, model: PreferenceModel | None, centroids: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The archive: elite vectors (`e x d`), their cells, their scores (best first), and
        every cell's occupancy (length `n_cells`, bool)."""
        incumbent = np.asarray(history.incumbent, dtype=np.float64)
        shown = np.asarray(history.shown, dtype=np.float64).reshape(-1, incumbent.size)
        if model is not None:
            points = np.vstack([incumbent, shown])
            scores, _ = model.predict(points)
        else:
            # No model, no utility: the researcher's own picks (the incumbent path, latest
            # best) are the only points known to be good.
            path = history.incumbent_path
            path = np.zeros((0, incumbent.size)) if path is None else np.asarray(path, float)
            points = np.vstack([incumbent, path[::-1]])
            scores = -np.arange(len(points), dtype=np.float64)
        cells = nearest_cell(points, centroids)
        occupied = np.zeros(len(centroids), dtype=bool)
        occupied[cells] = True
        if model is None:
            occupied[nearest_cell(shown, centroids)] = True
        # Best first; a stable sort keeps the incumbent (row 0) ahead on ties.
        order = np.argsort(-scores, kind="stable")
        _, first = np.unique(cells[order], return_index=True)
        elite_rows = order[np.sort(first)]
        return points[elite_rows], cells[elite_rows], scores[elite_rows], occupied

    def propose(
        self,
        history: SamplerHistory,
        model: PreferenceModel | None,
        k: int,
        rng: np.random.Generator,
    ) -> Proposal:
        incumbent = np.asarray(history.incumbent, dtype=np.float64)
        d = incumbent.size
        radius = history.trust_radius
        centroids = self.centroids(history)
        elites, elite_cells, elite_scores, occupied = self.elites(history, model, centroids)
        empty = np.flatnonzero(~occupied)

        new = k - 1
        n_explore = min(len(empty), round(self.explore_fraction * new))
        n_mutate = new - n_explore
        if n_mutate > len(elites):
            # Not enough occupied cells for distinct parents: explore more empty cells first,
            # and only then mutate the top elites a second time.
            n_explore = min(len(empty), new - len(elites))
            n_mutate = new - n_explore

        vectors: list[np.ndarray] = []
        roles: list[str] = []
        metadata: list[dict[str, Any]] = []

        parents = np.arange(n_mutate) % len(elites)
        scale = self.mutation_scale * radius / np.sqrt(d)  # so a mutation's norm is ~ scale
        children = elites[parents][:, None] + scale * rng.standard_normal(
            (n_mutate, self.offspring, d)
        )
        if model is not None and self.offspring > 1:
            child_mean, _ = model.predict(children.reshape(-1, d))
            best = np.argmax(child_mean.reshape(n_mutate, self.offspring), axis=1)
        else:
            best = np.zeros(n_mutate, dtype=np.int64)
        for slot, parent in enumerate(parents):
            vectors.append(children[slot, best[slot]])
            roles.append("exploit")
            metadata.append(
                {
                    "why": f"mutation of the elite of cell {int(elite_cells[parent])} "
                    f"(ranked {int(parent) + 1} of {len(elites)} elites)",
                    "cell": int(elite_cells[parent]),
                    "elite": elites[parent].tolist(),
                    "elite_rank": int(parent) + 1,
                }
            )
            if model is not None:
                metadata[-1]["elite_predicted_utility"] = float(elite_scores[parent])

        if n_explore:
            # The empty cells nearest the incumbent, drawn at random among twice as many, so
            # exploration reaches the closest unseen regions without always the same order.
            nearest_empty = empty[
                np.argsort(np.linalg.norm(centroids[empty] - incumbent, axis=1), kind="stable")
            ][: 2 * n_explore]
            for cell in rng.choice(nearest_empty, size=n_explore, replace=False):
                vectors.append(self.point_in_cell(int(cell), centroids, radius, rng))
                roles.append("explore")
                metadata.append(
                    {
                        "why": f"into empty cell {int(cell)}, not yet seen",
                        "cell": int(cell),
                        "elite": None,
                    }
                )

        proposal = incumbent_first(history, model, np.array(vectors), roles, metadata)
        proposal.metadata[0].update(
            cell=int(nearest_cell(incumbent[None], centroids)[0]),
            occupied_cells=int(occupied.sum()),
            n_cells=self.n_cells,
        )
        return proposal

    def point_in_cell(
        self, cell: int, centroids: np.ndarray, radius: float, rng: np.random.Generator
    ) -> np.ndarray:
        """A random point of `cell` (length `d`): its centroid plus a jitter of about a
        quarter of the trust `radius`, halved until the point falls inside the cell."""
        centroid = centroids[cell]
        jitter = 0.25 * radius * rng.standard_normal(centroid.size) / np.sqrt(centroid.size)
        for _ in range(8):
            point = centroid + jitter
            if nearest_cell(point[None], centroids)[0] == cell:
                return point
            jitter /= 2
        return centroid.copy()
