"""Samplers that propose each round's steering vectors, registered by name in `SAMPLERS`."""

from steering_core.samplers import (  # noqa: F401
    challenger,
    eubo,
    evolution,
    gallery,
    quality_diversity,
    random_search,
    thompson,
    trust_region,
)
from steering_core.samplers.base import SAMPLERS, Proposal, Sampler, SamplerHistory

__all__ = ["SAMPLERS", "Proposal", "Sampler", "SamplerHistory"]
