"""One report of where models run: library versions and every device torch sees, for
`steer diagnostics` and the dashboard's Diagnostics page alike."""

from __future__ import annotations

import platform
from importlib import metadata
from typing import Any

import steering_core
from steering_core.errors import InvalidInput

# Versions come from package metadata: importing diffusers or transformers takes seconds.
PACKAGES = (
    "diffusers",
    "transformers",
    "dash",
    "dash-bootstrap-components",
    "plotly",
    "numpy",
    "pandas",
)


def library_versions() -> dict[str, str]:
    """Python, steering_core, torch and the model and web libraries."""
    import torch

    versions = {
        "python": platform.python_version(),
        "steering_core": steering_core.__version__,
        "torch": torch.__version__,
    }
    for package in PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return versions


def device_report() -> dict[str, Any]:
    """What torch sees: threads, CUDA (each GPU's name and memory) and MPS."""
    import torch

    report: dict[str, Any] = {
        "platform": platform.platform(),
        "torch_threads": torch.get_num_threads(),
        "cuda_available": torch.cuda.is_available(),
        "cuda_build": torch.version.cuda,
        "mps_available": bool(getattr(torch.backends, "mps", None))
        and torch.backends.mps.is_available(),
        "gpus": [],
    }
    if report["cuda_available"]:
        for index in range(torch.cuda.device_count()):
            properties = torch.cuda.get_device_properties(index)
            report["gpus"].append(
                {
                    "index": index,
                    "name": properties.name,
                    "total_gib": properties.total_memory / 2**30,
                    # What this process holds: a dashboard's worker keeps its models here.
                    "allocated_gib": torch.cuda.memory_allocated(index) / 2**30,
                    "reserved_gib": torch.cuda.memory_reserved(index) / 2**30,
                }
            )
    return report


def diagnostics_report() -> dict[str, Any]:
    """`{"versions": ..., "devices": ...}`: the report both front ends show."""
    return {"versions": library_versions(), "devices": device_report()}


def generator_report(backend: str, model: str, device: str, dtype: str) -> dict[str, Any]:
    """Load one generator and describe it (active device, load time, memory)."""
    from pydantic import ValidationError

    from steering_core.config import GeneratorConfig
    from steering_core.generators.base import make_generator

    try:
        config = GeneratorConfig(backend=backend, model=model, device=device, dtype=dtype)
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        raise InvalidInput(f"generator.{first['loc'][0]}: {first['msg']}") from None
    generator = make_generator(config)
    generator.load()  # checks the config first
    return generator.describe()
