"""Synthetic users: simulated researchers with hidden targets, answering in every mode."""

from steering_core.synthetic.users import (
    SYNTHETIC_USERS,
    AnchorUser,
    NoiseModel,
    Shown,
    SyntheticUser,
)

__all__ = ["SYNTHETIC_USERS", "AnchorUser", "NoiseModel", "Shown", "SyntheticUser"]
