"""Hyperparameters declared once per plug-in, checked by one validator, described for forms.

Each sampler and preference model lists its hyperparameters in a class-level
`hyperparameters` tuple (name, type, range, default, one-line meaning), the way
scikit-learn's `_parameter_constraints` does; `check_params` is the only range check, and
the dashboard's settings placeholders and the CLI's help are built from the same list.
"""

from __future__ import annotations

import inspect
import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from steering_core.errors import shown

if TYPE_CHECKING:
    from steering_core.registry import Registry


@dataclass(frozen=True)
class Hyperparameter:
    """One hyperparameter: `type` is bool, int, float or tuple (a `(low, high)` pair whose
    ends lie in the range); `low`/`high` bound the value (None: unbounded), each end closed
    unless `*_open`; `none_means` says what None does, when None is allowed."""

    name: str
    type: type
    default: Any
    meaning: str
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    none_means: str | None = None

    def allowed(self) -> str:
        """The allowed values in words, e.g. "a float in (0, 2], or None (the session's)"."""
        if self.type is bool:
            text = "true or false"
        else:
            low = "-inf" if self.low is None else _number(self.low)
            high = "inf" if self.high is None else _number(self.high)
            bracket = ("(" if self.low_open or self.low is None else "[") + f"{low}, {high}"
            bracket += ")" if self.high_open or self.high is None else "]"
            if self.type is tuple:
                text = f"a pair (low, high) with low < high, both in {bracket}"
            else:
                text = f"an {self.type.__name__}" if self.type is int else "a float"
                text += f" in {bracket}"
        if self.none_means is not None:
            text += f", or None ({self.none_means})"
        return text

    def problem(self, value: Any) -> str | None:
        """Why `value` is not allowed, or None when it is."""
        if value is None:
            return None if self.none_means is not None else "None is not allowed"
        if self.type is bool:
            return None if isinstance(value, bool) else "not true or false"
        if self.type is tuple:
            if not isinstance(value, Sequence) or isinstance(value, str) or len(value) != 2:
                return "not a pair"
            if not all(self._in_range(v) for v in value) or not value[0] < value[1]:
                return "out of range"
            return None
        return None if self._in_range(value) else "out of range"

    def _in_range(self, value: Any) -> bool:
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            return False
        if self.type is int and not isinstance(value, numbers.Integral):
            return False
        if not math.isfinite(value):
            return False
        if self.low is not None and (value <= self.low if self.low_open else value < self.low):
            return False
        return self.high is None or (value < self.high if self.high_open else value <= self.high)


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else str(value)


def declared(plugin_class: type) -> tuple[Hyperparameter, ...]:
    """The hyperparameters a plug-in class declares (none when it declares none)."""
    return tuple(getattr(plugin_class, "hyperparameters", ()))


def plugin_name(plugin_class: type) -> str:
    return getattr(plugin_class, "registered_name", plugin_class.__name__)


def params_problems(plugin_class: type, params: Mapping[str, Any]) -> list[str]:
    """What is wrong with `params` for the plug-in class, one message per parameter naming
    it and its allowed values (unknown names first); empty when they are accepted."""
    specs = {spec.name: spec for spec in declared(plugin_class)}
    allowed = ", ".join(specs) or "none"
    problems = [
        f"unknown parameter {shown(key)} (parameters: {allowed})"
        for key in params
        if key not in specs
    ]
    for key, value in params.items():
        if key in specs and specs[key].problem(value) is not None:
            problems.append(f"{key} must be {specs[key].allowed()} (got {shown(value)})")
    return problems


def check_params(plugin_class: type, params: Mapping[str, Any]) -> None:
    """Raise ValueError naming the plug-in, the parameter and its allowed values when a
    parameter is unknown or out of range. Parameters not given keep their defaults."""
    problems = params_problems(plugin_class, params)
    if problems:
        raise ValueError(f"{plugin_name(plugin_class)}: {'; '.join(problems)}")


def check_hyperparameters(plugin: object) -> None:
    """Check a constructed plug-in's stored hyperparameters (the last line of its `__init__`,
    so a bad value fails at construction, as with every entry point)."""
    plugin_class = type(plugin)
    check_params(plugin_class, {s.name: getattr(plugin, s.name) for s in declared(plugin_class)})


def describe_parameters(registry: Registry[Any], name: str) -> list[Hyperparameter]:
    """The hyperparameters of the plug-in registered as `name` (imports its module)."""
    return list(declared(registry.get(name)))


def example_settings(registry: Registry[Any], name: str) -> dict[str, Any]:
    """Every hyperparameter of `name` at its default, as JSON-able settings: an example the
    plug-in accepts (None defaults are left out: None means "derive it")."""
    return {
        spec.name: list(spec.default) if isinstance(spec.default, tuple) else spec.default
        for spec in describe_parameters(registry, name)
        if spec.default is not None
    }


def parameter_help(registry: Registry[Any], name: str) -> str:
    """One line per hyperparameter, for CLI help and form hints:
    "name (default D): meaning; ALLOWED"."""
    lines = [
        f"{spec.name} (default {spec.default!r}): {spec.meaning}; {spec.allowed()}"
        for spec in describe_parameters(registry, name)
    ]
    return "\n".join(lines) or f"{name} takes no parameters"


def signature_mismatches(plugin_class: type) -> list[str]:
    """Where the declared hyperparameters and the `__init__` signature disagree (a contract
    check for the registries and tests)."""
    signature = inspect.signature(plugin_class.__init__)
    parameters = {n: p for n, p in signature.parameters.items() if n != "self"}
    specs = {spec.name: spec for spec in declared(plugin_class)}
    problems = [f"{n} is in __init__ but not declared" for n in parameters if n not in specs]
    problems += [f"{n} is declared but not in __init__" for n in specs if n not in parameters]
    for n in parameters.keys() & specs.keys():
        if parameters[n].default != specs[n].default:
            problems.append(
                f"{n}: __init__ default {parameters[n].default!r}, declared {specs[n].default!r}"
            )
    return problems


def check_declaration(plugin_class: type) -> None:
    """Refuse a plug-in class whose declared hyperparameters do not match its `__init__`
    (run by the registries as each class registers)."""
    problems = signature_mismatches(plugin_class)
    if problems:
        raise TypeError(f"{plugin_class.__qualname__}: {'; '.join(problems)}")
