"""Quantitative image metrics: colour accuracy and purity, shape faithfulness, diversity."""

from steering_core.metrics.colour import (
    ColourScores,
    ciede2000,
    colour_purity,
    colour_scores,
    delta_e_to_score,
    dominant_colours,
    nearest_colour_name,
    srgb_to_lab,
)
from steering_core.metrics.diversity import batch_diversity
from steering_core.metrics.shape import (
    classify_shape,
    load_shape_classifier,
    shape_faithfulness,
    shape_probabilities,
)

__all__ = [
    "ColourScores",
    "batch_diversity",
    "ciede2000",
    "classify_shape",
    "colour_purity",
    "colour_scores",
    "delta_e_to_score",
    "dominant_colours",
    "load_shape_classifier",
    "nearest_colour_name",
    "shape_faithfulness",
    "shape_probabilities",
    "srgb_to_lab",
]
