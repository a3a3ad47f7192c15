"""External baselines for the steering benchmark, each behind `propose` / `observe`.

They see the same synthetic users and the same feedback validation and normalization as
the tool's own methods (`steering_core.feedback`), but keep their state in memory instead
of a session: CMA-ES and BoTorch carry optimizer state that the sampler contract (a pure
function of the stored history) does not hold.

- `es_1k`: the (1,k) evolution strategy with self-adaptive step size (Schwefel 1977;
  Beyer & Schwefel, "Evolution strategies - a comprehensive introduction", 2002): k
  offspring of the parent, the rater's pick becomes the next parent (the parent is not
  re-shown), and each offspring carries its own log-normally mutated step size.
- `cma_es`: CMA-ES (Hansen & Ostermeier 2001; the `cma` package) told the round's ranking:
  each candidate's fitness is its net score in the normalized comparisons.
- `botorch_eubo`: BoTorch's `PairwiseGP` (Chu & Ghahramani 2005) with its Laplace evidence
  fitted every round, and qEUBO (Astudillo et al. 2023) chosen greedily over a pool around
  the incumbent (the shown point of highest posterior mean), which is re-shown.
"""

from __future__ import annotations

import contextlib
from typing import Any, Protocol

import numpy as np

from steering_core.feedback import ELSEWHERE, NormalizedFeedback


class Baseline(Protocol):
    def propose(self) -> np.ndarray:
        """The next round's `k x d` steering vectors."""

    def observe(self, vectors: np.ndarray, feedback: NormalizedFeedback) -> np.ndarray:
        """Take the round's judgment (candidate ids are row indices of `vectors`); returns
        the incumbent: the steering vector the rater would take away now."""


def net_scores(feedback: NormalizedFeedback, k: int) -> np.ndarray:
    """Weighted wins minus losses of each of the `k` candidates (ties count nothing)."""
    score = np.zeros(k)
    for comparison in feedback.comparisons:
        if comparison.tie:
            continue
        if comparison.winner != ELSEWHERE:
            score[comparison.winner] += comparison.weight
        score[comparison.loser] -= comparison.weight
    return score


def _picked(feedback: NormalizedFeedback, k: int) -> int | None:
    """The candidate the judgment favours most, or None when it favours none."""
    score = net_scores(feedback, k)
    best = int(np.argmax(score))
    return best if score[best] > 0 else None


class EvolutionStrategy:
    """(1,k)-ES with self-adaptive step size; the start step gives mutations of about the
    trust radius in norm."""

    def __init__(self, d: int, k: int, trust_radius: float, rng: np.random.Generator) -> None:
        self.k, self.rng = k, rng
        self.parent = np.zeros(d)
        self.sigma = trust_radius / np.sqrt(d)
        self.tau = 1 / np.sqrt(2 * d)  # the usual learning rate of the step size
        self.sigmas = np.full(k, self.sigma)

    def propose(self) -> np.ndarray:
        self.sigmas = self.sigma * np.exp(self.tau * self.rng.standard_normal(self.k))
        steps = self.rng.standard_normal((self.k, len(self.parent)))
        return self.parent + self.sigmas[:, None] * steps

    def observe(self, vectors: np.ndarray, feedback: NormalizedFeedback) -> np.ndarray:
        best = _picked(feedback, self.k)
        if best is not None:
            self.parent, self.sigma = vectors[best].copy(), float(self.sigmas[best])
        return self.parent


class CMAES:
    """CMA-ES with population `k` on the rater's ranking (fitness = minus the net score)."""

    def __init__(self, d: int, k: int, trust_radius: float, seed: int) -> None:
        import cma

        self.k = k
        self.strategy = cma.CMAEvolutionStrategy(
            np.zeros(d), trust_radius / np.sqrt(d), {"popsize": k, "seed": seed + 1, "verbose": -9}
        )
        self.incumbent = np.zeros(d)
        self.asked: list[np.ndarray] = []

    def propose(self) -> np.ndarray:
        self.asked = self.strategy.ask()
        return np.array(self.asked)

    def observe(self, vectors: np.ndarray, feedback: NormalizedFeedback) -> np.ndarray:
        score = net_scores(feedback, self.k)
        self.strategy.tell(self.asked, (-score).tolist())
        best = _picked(feedback, self.k)
        if best is not None:
            self.incumbent = vectors[best].copy()
        return self.incumbent


class BoTorchEUBO:
    """BoTorch's PairwiseGP + qEUBO over a pool in a ball around the incumbent."""

    def __init__(
        self,
        d: int,
        k: int,
        trust_radius: float,
        rng: np.random.Generator,
        pool_size: int = 256,
        pool_radius: float = 2.0,
    ) -> None:
        import torch

        self.torch = torch
        self.d, self.k, self.rng = d, k, rng
        self.radius = pool_radius * trust_radius
        self.pool_size = pool_size
        self.points = np.zeros((0, d))
        self.pairs: list[tuple[int, int]] = []
        self.incumbent = np.zeros(d)
        self.model: Any = None

    def _ball(self, n: int) -> np.ndarray:
        from steering_core.samplers.trust_region import sample_ball

        return sample_ball(self.incumbent, self.radius, n, self.rng)

    def propose(self) -> np.ndarray:
        if self.model is None:
            return np.vstack([self.incumbent, self._ball(self.k - 1)])
        from botorch.acquisition.preference import qExpectedUtilityOfBestOption
        from botorch.optim import optimize_acqf_discrete
        from botorch.sampling import SobolQMCNormalSampler

        torch = self.torch
        pool = torch.as_tensor(self._ball(self.pool_size))
        acquisition = qExpectedUtilityOfBestOption(
            pref_model=self.model,
            sampler=SobolQMCNormalSampler(torch.Size([64]), seed=int(self.rng.integers(2**31))),
            X_pending=torch.as_tensor(self.incumbent)[None],  # the re-shown incumbent
        )
        chosen, _ = optimize_acqf_discrete(acquisition, q=self.k - 1, choices=pool, unique=True)
        return np.vstack([self.incumbent, chosen.numpy()])

    def _fit(self) -> Any:
        from botorch.fit import fit_gpytorch_mll
        from botorch.models.pairwise_gp import (
            PairwiseGP,
            PairwiseLaplaceMarginalLogLikelihood,
        )

        torch = self.torch
        model = PairwiseGP(
            torch.as_tensor(self.points), torch.as_tensor(np.array(self.pairs, dtype=np.int64))
        )
        mll = PairwiseLaplaceMarginalLogLikelihood(model.likelihood, model)
        # A failed hyperparameter fit (it happens on tiny data) keeps the default priors.
        with contextlib.suppress(Exception):
            fit_gpytorch_mll(mll)
        return model

    def observe(self, vectors: np.ndarray, feedback: NormalizedFeedback) -> np.ndarray:
        offset = len(self.points)
        self.points = np.vstack([self.points, vectors])
        for comparison in feedback.comparisons:
            # PairwiseGP takes plain (winner, loser) pairs: no ties, weights or "elsewhere".
            if not comparison.tie and comparison.winner != ELSEWHERE:
                self.pairs.append((offset + comparison.winner, offset + comparison.loser))
        if self.pairs:
            self.model = self._fit()
            with self.torch.no_grad():
                mean = self.model.posterior(self.torch.as_tensor(self.points)).mean.squeeze(-1)
            self.incumbent = self.points[int(self.torch.argmax(mean))]
        return self.incumbent


def make_baseline(name: str, d: int, k: int, trust_radius: float, seed: int) -> Baseline:
    rng = np.random.default_rng([seed, d, 11])
    if name == "es_1k":
        return EvolutionStrategy(d, k, trust_radius, rng)
    if name == "cma_es":
        return CMAES(d, k, trust_radius, seed)
    if name == "botorch_eubo":
        return BoTorchEUBO(d, k, trust_radius, rng)
    raise ValueError(f"unknown baseline {name!r}")
