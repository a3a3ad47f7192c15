"""Shared fixtures: offline mode, tiny random-weight pipelines on disk, a fresh data root."""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def tiny_sd_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random-weight SD 1.x-style pipeline saved on disk (built once per test run)."""
    from steering_core.generators.tiny import build_tiny_sd_pipeline

    folder = tmp_path_factory.mktemp("tiny-sd")
    build_tiny_sd_pipeline(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_sdxl_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random-weight SDXL-style pipeline (two text encoders, pooled embeddings) on disk."""
    from steering_core.generators.tiny import build_tiny_sdxl_pipeline

    folder = tmp_path_factory.mktemp("tiny-sdxl")
    build_tiny_sdxl_pipeline(folder)
    return folder


@pytest.fixture(scope="session")
def browser():  # noqa: ANN201
    """One headless system Chromium for every browser test of the run, wherever it lives:
    Playwright's sync API runs one instance per process, so a second one started while this
    one is open fails ("using Playwright Sync API inside the asyncio loop")."""
    from playwright.sync_api import sync_playwright

    from tests.dashboard.browser.conftest import chromium_path

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=chromium_path(), args=["--no-sandbox", "--disable-gpu"]
        )
        yield launched
        launched.close()


@pytest.fixture
def workspace(tmp_path: Path):  # noqa: ANN201
    """A fresh workspace (data root and label folder) in a temporary folder."""
    from steering_core.storage import Workspace

    return Workspace.open(tmp_path / "data", tmp_path / "labels")


def tiny_session_config(model: Path, **overrides: object):  # noqa: ANN201
    """A fast session config on a tiny pipeline: 2 steps, 32x32, k=4, d=4."""
    from steering_core.config import make_config

    data = {
        "prompt": "a red circle on a blue background",
        "generator": {"backend": "diffusers", "model": str(model), "device": "cpu"},
        "steps": 2,
        "k": 4,
        "d": 4,
        "width": 32,
        "height": 32,
        "seed": 7,
    }
    data.update(overrides)
    return make_config(data)


@pytest.fixture
def tiny_config(tiny_sd_path: Path):  # noqa: ANN201
    return tiny_session_config(tiny_sd_path)


@pytest.fixture(scope="session")
def tiny_builtin_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random-weight ShapesPipeline (the built-in model's architecture, narrower) on disk."""
    import torch

    from steering_core.builtin.pipeline import ShapesPipeline
    from steering_core.builtin.train import TrainConfig, build_unet, sampling_scheduler

    folder = tmp_path_factory.mktemp("tiny-builtin")
    torch.manual_seed(0)
    unet = build_unet(TrainConfig(block_out_channels=(32, 32), attention_heads=2))
    ShapesPipeline(unet=unet, scheduler=sampling_scheduler()).save_pretrained(str(folder))
    return folder
