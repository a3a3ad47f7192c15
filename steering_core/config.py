"""Session configuration: one validated, frozen object per session, loadable from YAML.

Errors name the field and the allowed values. Plug-ins (sampler, preference model, generator
backend) are named by their registered names and checked against the registries.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from steering_core.errors import InvalidInput, shown
from steering_core.feedback import FeedbackMode
from steering_core.hyperparameters import params_problems
from steering_core.input_limits import load_yaml, read_config_text

if TYPE_CHECKING:
    from steering_core.models.base import PreferenceModel
    from steering_core.registry import Registry
    from steering_core.samplers.base import Sampler

MAX_PROMPT_CHARS = 2000
# A path of one machine: POSIX root, home, drive letter or UNC share.
ABSOLUTE_PATH = re.compile(r"^(/|~|[A-Za-z]:[\\/]|\\\\)")
PRESETS: dict[str, int] = {"fast-explore": 4, "balanced": 8, "high-capacity": 16}


def _check_text(value: str, allow_empty: bool) -> str:
    if not allow_empty and not value.strip():
        raise ValueError("must not be empty")
    if len(value) > MAX_PROMPT_CHARS:
        raise ValueError(f"must be at most {MAX_PROMPT_CHARS} characters (got {len(value)})")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid UTF-8 text (it holds undecodable bytes)") from None
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


def _check_device(value: str) -> str:
    base = value.split(":", 1)[0]
    if base not in ("auto", "cpu", "cuda", "mps"):
        raise ValueError(f"must be auto, cpu, cuda, cuda:N or mps (got {shown(value)})")
    return value


# The rules live in the field types, so the CLI checks one flag by its field alone
# (steering_core.cli.params.ConfigValue) with the same words as a whole config.
PromptText = Annotated[str, AfterValidator(lambda value: _check_text(value, allow_empty=False))]
NegativePromptText = Annotated[
    str, AfterValidator(lambda value: _check_text(value, allow_empty=True))
]
Device = Annotated[str, AfterValidator(_check_device)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class GeneratorConfig(_Frozen):
    """Which generator backend runs the session, on which weights, device and dtype."""

    backend: str = "builtin"
    model: str | None = None
    device: Device = "auto"
    dtype: Literal["auto", "float32", "float16", "bfloat16"] = "auto"
    batch_size: int | None = Field(default=None, ge=1, le=64)

    @field_validator("model")
    @classmethod
    def _portable_model(cls, model: str | None, info: ValidationInfo) -> str | None:
        # An imported session must not point at a folder of this machine that its author
        # chose; bundles name a local checkpoint by its last part only.
        if info.context and info.context.get("portable") and model and ABSOLUTE_PATH.match(model):
            raise ValueError(
                f"an imported session must not name an absolute path (got {shown(model)})"
            )
        return model


class PluginConfig(_Frozen):
    """A plug-in named by its registered name, with keyword parameters for its constructor."""

    name: str
    params: dict[str, Any] = Field(default_factory=dict)


class BasisConfig(_Frozen):
    """How the steering basis is built.

    `variations`: prompt variations for `pca` (defaults to a built-in list of style words);
    `pairs`: word pairs for `attribute`, e.g. [["red", "blue"]] (positive moves toward blue).
    """

    kind: Literal["random_orthogonal", "pca", "attribute"] = "random_orthogonal"
    variations: list[str] = Field(default_factory=list)
    pairs: list[tuple[str, str]] = Field(default_factory=list)

    @model_validator(mode="after")
    def _pairs_for_attribute(self) -> BasisConfig:
        if self.kind == "attribute" and not self.pairs:
            raise ValueError("an attribute basis needs at least one word pair in basis.pairs")
        return self


class SessionConfig(_Frozen):
    """Everything that defines a steering session; saved with it."""

    prompt: PromptText
    negative_prompt: NegativePromptText = ""
    generator: GeneratorConfig = Field(default_factory=GeneratorConfig)
    width: int | None = Field(default=None, ge=32, le=2048, multiple_of=8)
    height: int | None = Field(default=None, ge=32, le=2048, multiple_of=8)
    steps: int = Field(default=20, ge=1, le=200)
    guidance_scale: float = Field(default=7.5, ge=0.0, le=30.0)
    k: int = Field(default=8, ge=2, le=32)
    d: int = Field(default=8, ge=1, le=64)
    preset: Literal["fast-explore", "balanced", "high-capacity"] | None = None
    basis: BasisConfig = Field(default_factory=BasisConfig)
    trust_radius: float = Field(default=0.25, gt=0.0, le=2.0)
    sampler: PluginConfig = Field(default_factory=lambda: PluginConfig(name="trust_region"))
    preference_model: PluginConfig = Field(
        default_factory=lambda: PluginConfig(name="bradley_terry")
    )
    feedback_mode: FeedbackMode = "winner"
    seed_policy: Literal["fixed", "per_round", "per_candidate"] = "fixed"
    seed: int = Field(default=0, ge=0, le=2**32 - 1)
    # Every N-th round re-shows a pair judged earlier (0 = never); see steering_core.probes.
    repeat_probe_every: int = Field(default=0, ge=0, le=100)

    @model_validator(mode="after")
    def _pairs_fit_d(self) -> SessionConfig:
        if len(self.basis.pairs) > self.d:
            raise ValueError(
                f"basis.pairs: {len(self.basis.pairs)} word pairs for d={self.d}; at most d allowed"
            )
        return self

    @model_validator(mode="before")
    @classmethod
    def _apply_preset(cls, data: Any) -> Any:
        # A preset sets d unless d is given explicitly.
        if isinstance(data, dict) and data.get("preset") in PRESETS and data.get("d") is None:
            data = {**data, "d": PRESETS[data["preset"]]}
        return data

    @field_validator("sampler")
    @classmethod
    def _sampler_exists(cls, plugin: PluginConfig, info: ValidationInfo) -> PluginConfig:
        from steering_core.samplers import SAMPLERS

        return _check_plugin(plugin, SAMPLERS, None if _is_stored(info) else _try_sampler)

    @field_validator("preference_model")
    @classmethod
    def _model_exists(cls, plugin: PluginConfig, info: ValidationInfo) -> PluginConfig:
        from steering_core.models import PREFERENCE_MODELS

        return _check_plugin(plugin, PREFERENCE_MODELS, None if _is_stored(info) else _try_model)

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


def _is_stored(info: ValidationInfo) -> bool:
    return bool(info.context and info.context.get("stored"))


def _check_plugin(
    plugin: PluginConfig, registry: Registry[Any], try_once: Callable[[Any], None] | None
) -> PluginConfig:
    """The plug-in must be registered and its params declared and in range; then, unless
    `try_once` is None (a stored config, which passed this at creation and is re-validated
    every round), it is built and used once on a tiny problem."""
    if plugin.name not in registry:
        raise ValueError(
            f"unknown {registry.kind} {shown(plugin.name)}; allowed: {', '.join(registry.names())}"
        )
    plugin_class = registry.get(plugin.name)
    problems = params_problems(plugin_class, plugin.params)
    if problems:
        raise ValueError(f"bad params for {plugin.name}: {'; '.join(problems)}")
    try:
        instance = plugin_class(**plugin.params)
        if try_once is not None:
            # A value the declarations cannot judge (a combination) fails here, at
            # creation, rather than in the middle of the first round.
            try_once(instance)
    except (TypeError, ValueError) as error:
        raise ValueError(f"bad params for {plugin.name}: {error}") from None
    return plugin


def _tiny_problem() -> tuple[Any, Any]:
    import numpy as np

    return np.array([[0.0, 0.0], [0.1, -0.1]]), np.array([[1, 0]])


def _try_model(model: PreferenceModel) -> None:
    points, comparisons = _tiny_problem()
    model.fit(points, comparisons).predict(points)


def _try_sampler(sampler: Sampler) -> None:
    import numpy as np

    from steering_core.models.bradley_terry import BradleyTerryModel
    from steering_core.samplers.base import SamplerHistory

    points, comparisons = _tiny_problem()
    model = BradleyTerryModel().fit(points, comparisons)
    history = SamplerHistory(incumbent=points[1], shown=points, round_index=1, trust_radius=0.25)
    sampler.propose(history, model, 3, np.random.default_rng(0))


def describe_validation_error(error: dict[str, Any]) -> str:
    """One pydantic error as `field: problem (got value)`, the value cut by `shown`."""
    # A key is the researcher's text too: an unknown field may be 100 kB long.
    field = ".".join(str(part)[:40] for part in error["loc"]) or "config"
    kind = error["type"]
    ctx = error.get("ctx", {})
    got = shown(error.get("input"))
    if kind == "extra_forbidden":
        return f"{field}: unknown field"
    if kind == "missing":
        return f"{field}: required"
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        return f"{field}: {error['msg'].replace('Input should be', 'must be')} (got {got})"
    if kind == "literal_error":
        return f"{field}: must be one of {ctx.get('expected')} (got {got})"
    if kind == "value_error":
        message = str(ctx.get("error", error["msg"]))
        # Validators that already name a sub-field say so themselves.
        return message if error["loc"] == () else f"{field}: {message}"
    return f"{field}: {error['msg']} (got {got})"


def _raise_invalid(error: ValidationError, source: str) -> None:
    messages = [describe_validation_error(e) for e in error.errors(include_url=False)]
    prefix = f"{source}: " if source else ""
    raise InvalidInput(prefix + "; ".join(messages)) from None


def make_config(
    data: dict[str, Any], source: str = "", stored: bool = False, portable: bool = False
) -> SessionConfig:
    """Validate a mapping into a SessionConfig; raises InvalidInput naming every bad field.

    `stored`: the mapping is a session's saved config (validated fully when it was created).
    `portable`: it comes from another machine (an imported bundle), so it may not name an
    absolute path.
    """
    if not isinstance(data, dict):
        raise InvalidInput(f"{source or 'config'}: must be a mapping of fields")
    try:
        return SessionConfig.model_validate(data, context={"stored": stored, "portable": portable})
    except ValidationError as error:
        _raise_invalid(error, source)
        raise AssertionError("unreachable") from None


def load_config_file(path: Path, overrides: dict[str, Any] | None = None) -> SessionConfig:
    """Load a session config from YAML, apply `overrides` (e.g. CLI flags), and validate."""
    path = Path(path)
    # Read capped and checked for depth and alias expansion before any value is built:
    # a 345-byte alias bomb would otherwise expand to gigabytes.
    data = load_yaml(read_config_text(path, "config file"), f"config file {path}")
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InvalidInput(f"config file {path}: must be a mapping of fields, not a list or value")
    merged = deep_merge(data, overrides or {})
    return make_config(merged, source=str(path))


def deep_merge(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Merge `overrides` into `base` key by key, recursing into nested mappings."""
    merged = dict(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged
