"""Preference models over steering vectors, registered by name in `PREFERENCE_MODELS`."""

from steering_core.models.base import PREFERENCE_MODELS, NotFittedError, PreferenceModel

__all__ = ["PREFERENCE_MODELS", "NotFittedError", "PreferenceModel"]
