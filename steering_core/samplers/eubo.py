"""qEUBO: the new candidates maximise the expected utility of the best option of the round.

The researcher keeps the best option they are shown, so a round of options `x_1..x_q` is
worth `E[max_i f(x_i)]` under the posterior of the utility `f` (EUBO for a pair, qEUBO for
`q` options). The incumbent is always in the round, so the `k - 1` new candidates are chosen
from a pool to maximise the Monte-Carlo estimate of `E[max(f(incumbent), f(x_1), ...)]` over
joint posterior draws. That estimate is an average of maxima, a monotone submodular set
function, so it is maximised greedily, one candidate at a time: the standard approach for
such batch acquisitions (BoTorch's sequential `optimize_acqf`), within `1 - 1/e` of the
best set (Nemhauser, Wolsey, Fisher 1978), with marginal gains that never increase.

References: R. Astudillo, Z. J. Lin, E. Bakshy, P. I. Frazier, "qEUBO: A Decision-Theoretic
Acquisition Function for Preferential Bayesian Optimization", AISTATS 2023; Z. J. Lin, R.
Astudillo, P. I. Frazier, E. Bakshy, "Preference Exploration for Efficient Bayesian
Optimization with Multiple Outcomes", AISTATS 2022 (EUBO).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from steering_core.hyperparameters import Hyperparameter, check_hyperparameters
from steering_core.models.base import PreferenceModel, can, has_evidence, posterior_draws
from steering_core.samplers.base import SAMPLERS, Proposal, SamplerHistory, incumbent_first
from steering_core.samplers.challenger import spread_out
from steering_core.samplers.trust_region import farthest_points, project_to_ball, sample_ball


def expected_best(draws: np.ndarray, columns: list[int] | np.ndarray) -> float:
    """Monte-Carlo `E[max f]` over the `columns` of an `n_draws x n_points` array of draws."""
    return float(draws[:, np.asarray(columns, dtype=np.int64)].max(axis=1).mean())


def greedy_expected_best(
    draws: np.ndarray, n: int, start: int = 0
) -> tuple[list[int], list[float]]:
    """Greedily add up to `n` columns of `draws` (`n_draws x n_points`) to column `start`,
    each maximising the Monte-Carlo `E[max f]` of the set so far.

    Returns the chosen columns and each one's marginal gain, non-increasing by submodularity.
    Stops early when no column adds anything (every draw already has a better option).
    """
    best_so_far = draws[:, start].copy()
    available = np.ones(draws.shape[1], dtype=bool)
    available[start] = False
    chosen: list[int] = []
    gains: list[float] = []
    for _ in range(n):
        # E[max(best, f_j)] - E[best] = E[(f_j - best)+]: exact, and never negative.
        gain = np.maximum(draws - best_so_far[:, None], 0.0).mean(axis=0)
        gain[~available] = -np.inf
        column = int(np.argmax(gain))
        if not gain[column] > 0:
            break
        chosen.append(column)
        gains.append(float(gain[column]))
        available[column] = False
        np.maximum(best_so_far, draws[:, column], out=best_so_far)
    return chosen, gains


@SAMPLERS.register("eubo")
class EUBOSampler:
    """Greedy qEUBO over a pool around the incumbent (and around the best points shown).

    pool_radius: the pool's ball around the incumbent, as a multiple of the trust radius.
    pool_size: random points in that ball.
    n_draws: joint posterior draws for the Monte-Carlo estimate.
    n_best_shown: how many of the best shown points (by posterior mean) get pool points too.
    near_best: pool points in a trust-radius ball around each of those.
    """

    hyperparameters = (
        Hyperparameter(
            "pool_radius", float, 2.0, "the pool's ball, in trust radii", 0, 10, low_open=True
        ),
        Hyperparameter("pool_size", int, 256, "random points in that ball", 32, 100_000),
        Hyperparameter("n_draws", int, 128, "joint posterior draws per estimate", 1, 100_000),
        Hyperparameter("n_best_shown", int, 4, "best shown points that get pool points", 0, 64),
        Hyperparameter("near_best", int, 16, "pool points around each of those", 0, 1024),
    )

    def __init__(
        self,
        pool_radius: float = 2.0,
        pool_size: int = 256,
        n_draws: int = 128,
        n_best_shown: int = 4,
        near_best: int = 16,
    ) -> None:
        self.pool_radius = pool_radius
        self.pool_size = pool_size
        self.n_draws = n_draws
        self.n_best_shown = n_best_shown
        self.near_best = near_best
        check_hyperparameters(self)

    def candidate_pool(
        self, history: SamplerHistory, model: PreferenceModel, rng: np.random.Generator
    ) -> tuple[np.ndarray, list[str]]:
        """An `n x d` pool, and where each point comes from."""
        incumbent = np.asarray(history.incumbent, dtype=np.float64)
        radius = history.trust_radius
        pool = [sample_ball(incumbent, self.pool_radius * radius, self.pool_size, rng)]
        origin = ["around the incumbent"] * self.pool_size
        shown = np.asarray(history.shown, dtype=np.float64).reshape(-1, incumbent.size)
        if self.n_best_shown and self.near_best and len(shown):
            # The best shown points may lie outside the incumbent's ball (an old winner
            # the model now rates higher): give the search a foothold there too.
            mean, _ = model.predict(shown)
            best: list[np.ndarray] = []
            for index in np.argsort(-mean, kind="stable"):
                # The incumbent is re-shown every round: count each distinct point once.
                if not any(np.array_equal(shown[index], point) for point in best):
                    best.append(shown[index])
                if len(best) == self.n_best_shown:
                    break
            for rank, point in enumerate(best):
                pool.append(sample_ball(point, radius, self.near_best, rng))
                origin += [f"near the shown point ranked {rank + 1} by the model"] * self.near_best
        if has_evidence(model) and can(model, "posterior_peaks"):
            # Where posterior draws peak: the points a round should be able to offer, and
            # far more precise in 8 or more dimensions than any ball sample.
            peaks = model.sample_peaks(self.pool_size // 4, rng)
            peaks = peaks[np.all(np.isfinite(peaks), axis=1)]
            pool.append(project_to_ball(peaks, incumbent, self.pool_radius * radius))
            origin += ["the peak of a posterior draw"] * len(peaks)
        return np.vstack(pool), origin

    def propose(
        self,
        history: SamplerHistory,
        model: PreferenceModel | None,
        k: int,
        rng: np.random.Generator,
    ) -> Proposal:
        incumbent = np.asarray(history.incumbent, dtype=np.float64)
        if model is None:
            spread = spread_out(incumbent, history.trust_radius, incumbent[None], k - 1, rng)
            metadata = [{"why": "spread on the trust-region boundary (no model)"} for _ in spread]
            return incumbent_first(history, model, spread, ["explore"] * (k - 1), metadata)

        pool, origin = self.candidate_pool(history, model, rng)
        points = np.vstack([incumbent, pool])  # column 0 of the draws is the incumbent
        draws = posterior_draws(model, points, self.n_draws, rng)
        chosen, gains = greedy_expected_best(draws, k - 1)
        expected = expected_best(draws, [0])
        metadata: list[dict[str, Any]] = []
        for column, gain in zip(chosen, gains, strict=True):
            expected += gain
            metadata.append(
                {
                    "why": f"largest gain in expected best utility, {origin[column - 1]}",
                    "expected_best_gain": gain,
                    "expected_best": expected,
                }
            )
        vectors = points[chosen]
        missing = k - 1 - len(chosen)
        if missing:
            # Every draw already prefers an option of the round: nothing more to gain, so
            # the last slots spread out over the unchosen pool.
            unchosen = np.delete(points, [0, *chosen], axis=0)
            reference = np.vstack([incumbent, vectors])
            vectors = np.vstack([vectors, farthest_points(unchosen, reference, missing)])
            metadata += [
                {"why": "no expected gain left: spread out", "expected_best_gain": 0.0}
                for _ in range(missing)
            ]
        # A candidate the model already rates above the incumbent exploits; the others are
        # there for their uncertainty.
        mean, _ = model.predict(np.vstack([incumbent, vectors]))
        roles = ["exploit" if m > mean[0] else "explore" for m in mean[1:]]
        proposal = incumbent_first(history, model, vectors, roles, metadata)
        proposal.metadata[0].update(
            expected_best=expected_best(draws, [0]), n_draws=self.n_draws, pool_size=len(pool)
        )
        return proposal
