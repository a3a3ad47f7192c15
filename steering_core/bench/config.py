"""The benchmark's configuration (YAML in `experiments/`): validated, with errors naming the
field and the allowed values, like session configs."""

from __future__ import annotations

import math
from itertools import product
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from steering_core.config import describe_validation_error
from steering_core.errors import InvalidInput, shown
from steering_core.feedback import BENCHMARK_MODES
from steering_core.input_limits import load_yaml, read_config_text

BASELINES = ("es_1k", "cma_es", "botorch_eubo")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class NoiseSpec(_Frozen):
    """A synthetic user's noise model (see `steering_core.synthetic.NoiseModel`)."""

    name: str = ""
    temperature: float = Field(default=0.0, ge=0.0, le=10.0)
    reversal_probability: float = Field(default=0.0, ge=0.0, le=1.0)
    fatigue: float = Field(default=0.0, ge=0.0, le=1.0)
    tie_threshold: float = Field(default=0.0, ge=0.0, le=10.0)
    uses_cannot_decide: bool = False
    uses_reject_all: bool = False
    reject_below: float | None = Field(default=None, le=0.0)

    def label(self) -> str:
        return self.name or f"reversal {self.reversal_probability:g}"


class UserSpec(_Frozen):
    """A synthetic user whose hidden target lies `target_distance` from the prompt in a
    direction drawn from the run's seed. `scale`: the utility span of the 1-5 stars
    (default: twice the target distance)."""

    kind: Literal["anchor"] = "anchor"
    target_distance: float = Field(default=0.5, gt=0.0, le=4.0)
    scale: float | None = Field(default=None, gt=0.0)


class BenchConfig(_Frozen):
    """One benchmark: the grid, the rounds per run and the target criterion."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    methods: list[str] = Field(default_factory=list)
    samplers: list[str] = Field(default_factory=list)
    models: list[str] = Field(default_factory=list)
    baselines: list[str] = Field(default_factory=list)
    # Per method, constructor parameters: {"thompson+ideal_point": {"sampler": {...},
    # "model": {...}}}; a method name may carry a label after "@" to run one pair twice.
    params: dict[str, dict[Literal["sampler", "model"], dict[str, Any]]] = Field(
        default_factory=dict
    )
    users: list[UserSpec] = Field(default_factory=lambda: [UserSpec()], min_length=1)
    noise: list[NoiseSpec] = Field(default_factory=lambda: [NoiseSpec()], min_length=1)
    feedback: list[str] = Field(default_factory=lambda: ["winner"], min_length=1)
    dimensions: list[int] = Field(default_factory=lambda: [8], min_length=1)
    seeds: int = Field(default=10, ge=1, le=1000)
    rounds: int = Field(default=40, ge=1, le=500)
    k: int = Field(default=8, ge=2, le=32)
    trust_radius: float = Field(default=0.25, gt=0.0, le=2.0)
    target_fraction: float = Field(default=0.1, gt=0.0, lt=1.0)
    stop_at_target: bool = True
    workers: int = Field(default=2, ge=1, le=64)

    @field_validator("dimensions")
    @classmethod
    def _dimensions(cls, values: list[int]) -> list[int]:
        bad = [d for d in values if not 1 <= d <= 64]
        if bad:
            raise ValueError(f"every dimension must be in 1-64 (got {shown(bad)})")
        return values

    @field_validator("feedback")
    @classmethod
    def _feedback(cls, values: list[str]) -> list[str]:
        allowed = BENCHMARK_MODES
        bad = [m for m in values if m not in allowed]
        if bad:
            raise ValueError(f"must be among {', '.join(allowed)} (got {shown(bad)})")
        return values

    @field_validator("methods")
    @classmethod
    def _methods(cls, values: list[str]) -> list[str]:
        bad = [m for m in values if m.count("+") != 1]
        if bad:
            raise ValueError(f"each method must be SAMPLER+MODEL (got {shown(bad)})")
        return values

    @field_validator("baselines")
    @classmethod
    def _baselines(cls, values: list[str]) -> list[str]:
        bad = [b for b in values if b not in BASELINES]
        if bad:
            raise ValueError(f"unknown baselines {shown(bad)}; allowed: {', '.join(BASELINES)}")
        return values

    def our_methods(self) -> list[tuple[str, str]]:
        """(sampler, model) pairs: the explicit `methods` ("sampler+model") and the product of
        `samplers` and `models`, without repeats, in order."""
        pairs = [tuple(m.split("+", 1)) for m in self.methods]  # model may end in "@label"
        pairs += list(product(self.samplers, self.models))
        return list(dict.fromkeys(pairs))  # type: ignore[arg-type]

    def method_names(self) -> list[str]:
        return [f"{s}+{m}" for s, m in self.our_methods()] + list(self.baselines)

    def information_bound(self, d: int) -> float:
        """Rounds that winner-only feedback among `k` needs at least to localise a point in
        `d` dimensions to `target_fraction`: `d log2(1/fraction) / log2(k)`."""
        return d * math.log2(1 / self.target_fraction) / math.log2(self.k)


def _check_methods(config: BenchConfig) -> None:
    from steering_core.models import PREFERENCE_MODELS
    from steering_core.samplers import SAMPLERS

    problems = []
    for sampler, model in config.our_methods():
        model = model.split("@", 1)[0]
        if sampler not in SAMPLERS:
            problems.append(
                f"unknown sampler {shown(sampler)}; allowed: {', '.join(SAMPLERS.names())}"
            )
        if model not in PREFERENCE_MODELS:
            problems.append(
                f"unknown preference model {shown(model)}; "
                f"allowed: {', '.join(PREFERENCE_MODELS.names())}"
            )
    if not config.method_names():
        problems.append("methods: name at least one method, sampler x model, or baseline")
    if problems:
        raise InvalidInput(f"bench config {config.name}: " + "; ".join(dict.fromkeys(problems)))


def make_bench_config(data: Any, source: str = "bench config") -> BenchConfig:
    """Validate a mapping into a BenchConfig; raises InvalidInput naming every bad field."""
    if not isinstance(data, dict):
        raise InvalidInput(f"{source}: must be a mapping of fields")
    try:
        config = BenchConfig.model_validate(data)
    except ValidationError as error:
        messages = [describe_validation_error(e) for e in error.errors(include_url=False)]
        raise InvalidInput(f"{source}: " + "; ".join(messages)) from None
    _check_methods(config)
    return config


def load_bench_config(path: Path, overrides: dict[str, Any] | None = None) -> BenchConfig:
    """Read a benchmark YAML, apply `overrides` (CLI flags) and validate."""
    path = Path(path)
    # Read capped and checked for depth and alias expansion before any value is built.
    data = load_yaml(read_config_text(path, "bench config"), f"bench config {path}")
    if isinstance(data, dict):
        data = {"name": path.stem, **data, **(overrides or {})}
    return make_bench_config(data, source=str(path))
