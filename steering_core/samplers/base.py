"""The sampler contract and its registry: `propose(history, model, k, rng) -> Proposal`.

All randomness comes from the `rng` passed in, so a session is reproducible from its seed
and its feedback.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np

from steering_core.hyperparameters import Hyperparameter, check_declaration
from steering_core.models.base import PreferenceModel
from steering_core.registry import Registry

# "probe" is a hidden repeat of an earlier candidate (see `steering_core.probes`); the
# dashboard shows it like any other candidate so the rater does not know. "kept" and
# "variation" come from rounds the researcher asks for around chosen candidates (the draft
# funnel, "more like this"; see `steering_core.rounds.plan_round`), not from a sampler.
ROLES = (
    "incumbent",
    "baseline",
    "exploit",
    "explore",
    "challenger",
    "probe",
    "kept",
    "variation",
)


def shown_role(role: str) -> str:
    """The role the rater sees while judging: a hidden repeat probe looks like an
    exploration candidate, or it would not be hidden. (The replay page and the report,
    read afterwards, say "probe".)"""
    return "explore" if role == "probe" else role


@dataclass(frozen=True)
class SamplerHistory:
    """What a sampler may look at.

    `incumbent`: the current best steering vector (length `d`); `shown`: an `n x d` array of
    every steering vector shown so far in the session; `round_index`: the round being proposed;
    `trust_radius`: the session's radius; `incumbent_is_baseline`: True while the incumbent is
    still the unsteered prompt; `incumbent_path`: an `r x d` array of the incumbent of every
    round so far, the new one last; `rejected_all`: the latest judged round got a reject-all.
    """

    incumbent: np.ndarray
    shown: np.ndarray
    round_index: int
    trust_radius: float
    incumbent_is_baseline: bool = False
    incumbent_path: np.ndarray | None = None
    rejected_all: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def improvement_streak(self) -> int:
        """Consecutive latest rounds whose incumbent changed (positive) or stayed (negative)."""
        path = self.incumbent_path
        if path is None or len(path) < 2:
            return 0
        changed = [not np.array_equal(a, b) for a, b in pairwise(path)]
        streak = 0
        for moved in reversed(changed):
            if streak and (moved != (streak > 0)):
                break
            streak += 1 if moved else -1
        return streak


@dataclass(frozen=True)
class Proposal:
    """`vectors`: a `k x d` array; row 0 is always the incumbent, re-shown unchanged."""

    vectors: np.ndarray
    roles: list[str]
    metadata: list[dict[str, Any]]

    def __post_init__(self) -> None:
        if not (len(self.vectors) == len(self.roles) == len(self.metadata)):
            raise ValueError("a proposal needs one role and one metadata entry per vector")
        unknown = set(self.roles) - set(ROLES)
        if unknown:
            raise ValueError(f"unknown roles {sorted(unknown)}; allowed: {', '.join(ROLES)}")


@runtime_checkable
class Sampler(Protocol):
    """What every sampler provides; `hyperparameters` are its constructor's, declared."""

    hyperparameters: ClassVar[tuple[Hyperparameter, ...]]

    def propose(
        self,
        history: SamplerHistory,
        model: PreferenceModel | None,
        k: int,
        rng: np.random.Generator,
    ) -> Proposal: ...


# Every sampler, by registered name: listed without importing, imported on `get`. A new
# sampler adds its line here (tests/steering_core/test_registries.py checks the table).
SAMPLERS: Registry[type[Sampler]] = Registry(
    "sampler",
    lazy={
        "adaptive_trust_region": "steering_core.samplers.trust_region:AdaptiveTrustRegionSampler",
        "eubo": "steering_core.samplers.eubo:EUBOSampler",
        "evolution_strategy": "steering_core.samplers.evolution:EvolutionStrategySampler",
        "gallery_plane": "steering_core.samplers.gallery:GalleryPlaneSampler",
        "incumbent_challenger": "steering_core.samplers.challenger:IncumbentChallengerSampler",
        "quality_diversity": "steering_core.samplers.quality_diversity:QualityDiversitySampler",
        "random": "steering_core.samplers.random_search:RandomSampler",
        "thompson": "steering_core.samplers.thompson:ThompsonSampler",
        "trust_region": "steering_core.samplers.trust_region:TrustRegionSampler",
    },
    check=check_declaration,
)


def incumbent_first(
    history: SamplerHistory,
    model: PreferenceModel | None,
    new_vectors: np.ndarray,
    new_roles: list[str],
    new_metadata: list[dict[str, Any]],
) -> Proposal:
    """A proposal of the incumbent, re-shown unchanged in slot 0, then the new candidates;
    with a model, every entry also records its predicted utility and uncertainty."""
    incumbent = np.asarray(history.incumbent, dtype=np.float64)
    vectors = np.vstack([incumbent, np.reshape(new_vectors, (-1, incumbent.size))])
    roles = ["baseline" if history.incumbent_is_baseline else "incumbent", *new_roles]
    metadata = [{"why": "the current best, re-shown unchanged"}, *new_metadata]
    if model is not None:
        mean, std = model.predict(vectors)
        for meta, m, s in zip(metadata, mean, std, strict=True):
            meta.setdefault("predicted_utility", float(m))
            meta.setdefault("uncertainty", float(s))
    return Proposal(vectors=vectors, roles=roles, metadata=metadata)
