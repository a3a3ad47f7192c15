"""Batch diversity: how different the images of a set are from one another."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.spatial.distance import pdist

from steering_core.errors import InvalidInput
from steering_core.metrics.colour import ImageLike, as_rgb_array


def batch_diversity(images: Sequence[ImageLike] | np.ndarray) -> float:
    """Mean pairwise RMS pixel distance of the images, RGB scaled to [0, 1].

    0 for identical images; 1 only for pairs of opposite extremes (black vs white); two
    procedural scenes with different colours typically land around 0.3-0.6. Every pair
    counts once, so the value does not depend on the order. Fewer than two images give 0.
    All images must have the same size.
    """
    arrays = [as_rgb_array(image) for image in images]
    if len(arrays) < 2:
        return 0.0
    shapes = {array.shape for array in arrays}
    if len(shapes) > 1:
        raise InvalidInput(f"batch_diversity needs images of one size (got {sorted(shapes)})")
    flat = np.stack([array.reshape(-1) for array in arrays]).astype(np.float64) / 255.0
    # Euclidean distance / sqrt(values) = root mean square difference per value.
    return float(np.mean(pdist(flat, "euclidean")) / np.sqrt(flat.shape[1]))
