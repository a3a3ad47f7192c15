"""Preference models over steering vectors, registered by name in `PREFERENCE_MODELS`."""

from steering_core.models import (  # noqa: F401  (registers)
    bradley_terry,
    ideal_point,
    pairwise_gp,
    plackett_luce,
    winner_average,
)
from steering_core.models.base import PREFERENCE_MODELS, NotFittedError, PreferenceModel

__all__ = ["PREFERENCE_MODELS", "NotFittedError", "PreferenceModel"]
