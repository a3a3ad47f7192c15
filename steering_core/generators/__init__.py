"""Generator backends behind one protocol (see `base`)."""

from steering_core.generators.base import (
    GENERATORS,
    Conditioning,
    GenerationSettings,
    Generator,
    StepProgress,
    make_generator,
)

__all__ = [
    "GENERATORS",
    "Conditioning",
    "GenerationSettings",
    "Generator",
    "StepProgress",
    "make_generator",
]
