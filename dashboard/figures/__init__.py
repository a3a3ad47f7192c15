"""Pure functions from data to Plotly figures: the steering space and the session's curves."""

from __future__ import annotations

from dashboard.figures.curves import curves_figure, empty_curves_figure
from dashboard.figures.space import (
    COLOUR_MODES,
    colour_patch,
    empty_space_figure,
    steering_space_figure,
)

__all__ = [
    "COLOUR_MODES",
    "colour_patch",
    "curves_figure",
    "empty_curves_figure",
    "empty_space_figure",
    "steering_space_figure",
]
