"""Values of the per-round curves for plotting: numbers with gaps, verdict colours, and the
stop threshold; shared by the dashboard's live curves and the HTML report."""

from __future__ import annotations

import math
from typing import Any

VERDICT_COLOURS = {
    "continue": "#0072B2",
    "plateau": "#E69F00",
    "degrading": "#D55E00",
    "optimal": "#009E73",
}
LINE = "#0072B2"
# The rounds layer's threshold: below 1 % of the utility spread another round is not worth it.
STOP_BELOW_PERCENT = 1.0
# Log axes cannot show 0: smaller values are drawn at this floor (hover gives the value).
VALUE_FLOOR_PERCENT = 1e-3


def plotted_number(value: Any) -> float | None:
    """A float, or None for a missing or non-finite value (a gap in a line)."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def plotted_numbers(series: dict[str, list], key: str, length: int) -> list[float | None]:
    """`series[key]` as `length` plotted numbers: padded with gaps, cut to length."""
    values = (list(series.get(key) or []) + [None] * length)[:length]
    return [plotted_number(v) for v in values]


def plotted_texts(series: dict[str, list], key: str, length: int) -> list[str]:
    """`series[key]` as `length` strings, "" where missing (verdicts, recommendations)."""
    values = (list(series.get(key) or []) + [None] * length)[:length]
    return ["" if v is None else str(v) for v in values]


# Models whose utility is measured from the unsteered prompt (0 at the zero steering vector;
# tests/steering_core/views/test_curve_tables.py checks every registered model against it).
UTILITY_FROM_PROMPT = frozenset({"bradley_terry", "ideal_point", "pairwise_gp", "plackett_luce"})
UTILITY_AXIS = "utility (model units)"
PROMPT_REFERENCE = "0 = the prompt"


def utility_from_prompt(series: dict[str, list]) -> bool:
    """Whether every round's model measures utility from the prompt (0 means 'as good as the
    unsteered prompt'), so the curve may draw that reference line."""
    models = [m for m in series.get("model") or [] if m is not None]
    return bool(models) and all(m in UTILITY_FROM_PROMPT for m in models)
