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
    """A number field's inclusive bounds as an input's min and max ({"min": 2, "max": 32}
    for k)."""
    schema = SessionConfig.model_json_schema()["properties"][field]
    bounds = {"min": schema.get("minimum"), "max": schema.get("maximum")}
    return {name: bound for name, bound in bounds.items() if bound is not None}
