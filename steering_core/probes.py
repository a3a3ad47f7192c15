"""Hidden repeat probes: re-show a pair judged earlier to measure how consistent the rater is.

A probe round shows two candidates that were compared in an earlier round again, exactly
as they were (same vector, seed and image). When the new judgment orders them too, the
repeat counts toward `Judgments.reversal_rate`, which tempers the model's fit.
"""

from __future__ import annotations

import numpy as np

from steering_core.feedback import ELSEWHERE
from steering_core.judgments import Judgments


def choose_probe_pair(
    judgments: Judgments, round_index: int, rng: np.random.Generator
) -> tuple[int, int] | None:
    """A pair of rows of `judgments.X` compared before `round_index`, chosen uniformly among
    the distinct pairs (None when nothing was compared yet)."""
    earlier = judgments.comparisons[
        (judgments.comparison_rounds < round_index) & (judgments.comparisons[:, 0] != ELSEWHERE)
    ]
    if not len(earlier):
        return None
    pairs = sorted({(int(min(a, b)), int(max(a, b))) for a, b in earlier.tolist()})
    return pairs[int(rng.integers(len(pairs)))]
