"""Samplers that propose each round's steering vectors, registered by name in `SAMPLERS`."""

from steering_core.samplers.base import SAMPLERS, Proposal, Sampler, SamplerHistory

__all__ = ["SAMPLERS", "Proposal", "Sampler", "SamplerHistory"]
