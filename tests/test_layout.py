"""The repository layout and the layering rule: steering_core never imports dashboard."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_repository_layout() -> None:
    for name in (
        "pyproject.toml",
        "dashboard",
        "steering_core",
        "assets",
        "tests",
        "experiments",
        "labels",
        "checkpoints",
        "benchmarks",
        "docs",
        "README.md",
        ".ci/run",
    ):
        assert (ROOT / name).exists(), name


def test_steering_core_never_imports_dashboard() -> None:
    offenders = []
    for path in (ROOT / "steering_core").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] == "dashboard"]
    assert offenders == []
