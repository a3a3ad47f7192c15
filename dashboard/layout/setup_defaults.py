"""What the setup form starts from: the core's SessionConfig defaults and limits (declared
once, in steering_core.config), and the one choice the dashboard makes differently."""

from __future__ import annotations

from typing import Any

from steering_core.config import PRESETS, SessionConfig

# A new dashboard session uses the sampler and model that needed the fewest rounds in the
# benchmark (docs/BENCHMARKS.md); the CLI and config files keep the config's defaults
# (docs/DECISIONS.md).
SAMPLER = "thompson"
PREFERENCE_MODEL = "ideal_point"


def default(field: str) -> Any:
    """A SessionConfig field's default: "k" -> 8, "generator" -> a GeneratorConfig."""
    return SessionConfig.model_fields[field].get_default(call_default_factory=True)


def preset() -> str:
    """The preset the form shows first: the one whose d is the config's default d."""
    return next(name for name, d in PRESETS.items() if d == default("d"))


def limits(field: str) -> dict[str, float]:
    """A number field's bounds ({"min": 2, "max": 32} for k); a bound the value must stay
    strictly beyond (trust radius > 0) is named "above"."""
    schema = SessionConfig.model_json_schema()["properties"][field]
    bounds = {
        "min": schema.get("minimum"),
        "above": schema.get("exclusiveMinimum"),
        "max": schema.get("maximum"),
    }
    return {name: bound for name, bound in bounds.items() if bound is not None}


def allowed_range(field: str) -> str:
    """A number field's range in words: "2-32" for k, "above 0, at most 2" for the trust
    radius."""
    bounds = limits(field)
    if "above" in bounds:
        return f"above {bounds['above']:g}, at most {bounds['max']:g}"
    return f"{bounds['min']:g}-{bounds['max']:g}"


def out_of_range(field: str, label: str, value: Any) -> str | None:
    """What is wrong with a number typed into `field` ("k: 2-32 (got 50)"), None when it is
    empty or within the config's bounds; other mistakes are left to the config to name."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    bounds = limits(field)
    if (
        value < bounds.get("min", value)
        or value <= bounds.get("above", value - 1)
        or value > bounds.get("max", value)
    ):
        return f"{label}: {allowed_range(field)} (got {value:g})"
    return None
