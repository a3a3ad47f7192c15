"""Every plug-in is listed by its registry, from a fresh process, without importing torch."""

from __future__ import annotations

import importlib
import inspect
import json
import os
import pkgutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from steering_core.generators.base import GENERATORS
from steering_core.models.base import PREFERENCE_MODELS
from steering_core.registry import Registry
from steering_core.samplers.base import SAMPLERS
from steering_core.synthetic.users import SYNTHETIC_USERS

ROOT = Path(__file__).resolve().parents[2]
# Each plug-in package, its registry, and what makes a class defined there a plug-in.
PACKAGES: dict[str, tuple[Registry[Any], tuple[str, ...]]] = {
    "steering_core.samplers": (SAMPLERS, ("propose",)),
    "steering_core.models": (PREFERENCE_MODELS, ("fit", "predict")),
    "steering_core.generators": (GENERATORS, ("encode", "generate")),
    "steering_core.synthetic": (SYNTHETIC_USERS, ("judge", "utility")),
}
# Classes that have a plug-in's methods but are not plug-ins themselves (protocols, bases).
NOT_PLUGINS = {
    "steering_core.samplers.base:Sampler",
    "steering_core.models.base:PreferenceModel",
    "steering_core.generators.base:Generator",
    "steering_core.synthetic.users:SyntheticUser",
    "steering_core.synthetic.users:UtilityUser",
}


def test_a_fresh_process_lists_every_plugin_without_importing_torch() -> None:
    script = (
        "import json, sys\n"
        "from steering_core.generators import GENERATORS\n"
        "from steering_core.models import PREFERENCE_MODELS\n"
        "from steering_core.samplers import SAMPLERS\n"
        "from steering_core.synthetic import SYNTHETIC_USERS\n"
        "print(json.dumps({'generators': GENERATORS.names(), 'samplers': SAMPLERS.names(),\n"
        "    'models': PREFERENCE_MODELS.names(), 'users': SYNTHETIC_USERS.names(),\n"
        "    'torch': 'torch' in sys.modules}))\n"
    )
    # The repository root first on the path, so this checkout's code is the one listed.
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, env=env
    )
    listed = json.loads(result.stdout)
    assert listed["generators"] == ["builtin", "diffusers"]
    assert {"thompson", "trust_region", "eubo"} <= set(listed["samplers"])
    assert {"ideal_point", "bradley_terry", "pairwise_gp"} <= set(listed["models"])
    assert {"anchor", "image_anchor", "diversity"} <= set(listed["users"])
    assert listed["torch"] is False


def _modules(package: str) -> list[str]:
    path = importlib.import_module(package).__path__
    return [f"{package}.{info.name}" for info in pkgutil.iter_modules(path)]


def _defined_plugins(module_name: str, methods: tuple[str, ...]) -> list[type]:
    module = importlib.import_module(module_name)
    return [
        cls
        for _, cls in inspect.getmembers(module, inspect.isclass)
        if cls.__module__ == module_name
        and all(callable(getattr(cls, method, None)) for method in methods)
        and f"{module_name}:{cls.__qualname__}" not in NOT_PLUGINS
    ]


@pytest.mark.parametrize(
    "module_name", [m for package in PACKAGES for m in _modules(package)], ids=str
)
def test_every_plugin_a_module_defines_is_listed_under_its_name(module_name: str) -> None:
    registry, methods = PACKAGES[module_name.rsplit(".", 1)[0]]
    for cls in _defined_plugins(module_name, methods):
        name = getattr(cls, "registered_name", None)
        assert name is not None, f"{cls.__qualname__} does not register with {registry.kind}"
        assert name in registry.names(), f"{name} is missing from the {registry.kind} table"
        assert registry.lazy[name] == f"{module_name}:{cls.__qualname__}"
        assert registry.get(name) is cls


@pytest.mark.parametrize("registry", [SAMPLERS, PREFERENCE_MODELS, GENERATORS, SYNTHETIC_USERS])
def test_every_listed_entry_names_a_class_that_registers_there(
    registry: Registry[Any],
) -> None:
    for name, target in registry.lazy.items():
        module_name, _, class_name = target.partition(":")
        cls = getattr(importlib.import_module(module_name), class_name)
        assert registry.get(name) is cls
        assert cls.registered_name == name


def test_a_duplicate_name_is_refused() -> None:
    registry: Registry[type] = Registry("widget")

    @registry.register("a")
    class First:
        pass

    with pytest.raises(ValueError, match="'a' is already registered"):

        @registry.register("a")
        class Second:
            pass


def test_an_unknown_name_lists_every_plugin_including_unimported_ones() -> None:
    with pytest.raises(Exception, match="allowed: builtin, diffusers"):
        GENERATORS.get("nope")


@pytest.mark.parametrize("name", GENERATORS.names())
def test_every_generator_backend_implements_the_whole_protocol(name: str) -> None:
    from steering_core.generators.base import Generator

    backend = GENERATORS.get(name)
    promised = [n for n in vars(Generator) if not n.startswith("_")]
    assert "check_config" in promised
    assert all(callable(getattr(backend, method, None)) for method in promised), promised
