"""The diagnostics page without a browser: versions, the default generator before anything is
loaded, the warm-up button's job followed to its result, and cold vs warm round timings."""

from __future__ import annotations

import json
import platform
import threading
from collections.abc import Callable, Iterator
from importlib import metadata
from pathlib import Path
from types import SimpleNamespace

import pytest
from PIL import Image

import steering_core
from dashboard import ids
from dashboard.callbacks.diagnostics import (
    follow_warm_up,
    recent_jobs,
    round_timings,
    start_warm_up,
    timing_summary,
)
from dashboard.callbacks.navigation import render_page
from dashboard.layout.diagnostics import jobs_table
from dashboard.state import DashboardState
from steering_core.config import GeneratorConfig, SessionConfig, make_config
from steering_core.errors import GeneratorFailure
from steering_core.generators.base import Generator, make_generator
from steering_core.rounds import plan_round, store_round
from steering_core.sessions import create_session
from steering_core.storage.workspace import Workspace
from steering_core.worker import Worker
from tests.dashboard.helpers import find, text
from tests.steering_core.helpers import blank_round


def builtin_on(model: Path) -> Callable[[GeneratorConfig], Generator]:
    """A generator factory that loads the built-in architecture from `model`, on the CPU."""

    def factory(config: GeneratorConfig) -> Generator:
        return make_generator(config.model_copy(update={"model": str(model), "device": "cpu"}))

    return factory


@pytest.fixture
def running_state(workspace: Workspace, tiny_builtin_path: Path) -> Iterator[DashboardState]:
    """A dashboard state whose worker runs, on a tiny random-weight built-in model."""
    worker = Worker(workspace, generator_factory=builtin_on(tiny_builtin_path)).start()
    yield DashboardState(workspace=workspace, worker=worker)
    worker.stop()


def test_the_page_lists_the_versions_and_the_default_generator(state: DashboardState) -> None:
    import dash
    import torch

    page = render_page(state, "/diagnostics", "")
    versions = text(find(page, "diagnostics-versions"))
    assert f"python {platform.python_version()}" in versions
    assert f"steering_core {steering_core.__version__}" in versions
    assert f"torch {torch.__version__}" in versions
    assert f"dash {dash.__version__}" in versions
    for package in ("diffusers", "transformers"):
        assert f"{package} {metadata.version(package)}" in versions
    assert "CUDA available" in text(find(page, "diagnostics-devices"))
    # Nothing loaded yet: the default generator, with its model path and devices.
    generators = text(find(page, ids.DIAGNOSTICS_GENERATORS))
    assert "builtin not loaded yet" in generators
    assert "checkpoints/builtin" in generators and "configured device auto" in generators
    assert find(page, ids.WARM_UP_POLL).disabled is True


def test_the_warm_up_button_loads_the_generator_and_the_page_shows_the_result(
    running_state: DashboardState,
) -> None:
    state = running_state
    job, poll_disabled, status, button_disabled = start_warm_up(state)
    assert job["job_id"] and poll_disabled is False and button_disabled is True
    state.worker.wait(job["job_id"], timeout=120)

    status, generators, jobs, poll_disabled, button_disabled = follow_warm_up(state, job)
    assert poll_disabled is True and button_disabled is False  # the poll stops when done
    assert "Warm: builtin on cpu (float32); loaded in" in text(status)
    assert "builtin warm" in text(generators) and "active device cpu" in text(generators)
    assert "cold start (load) 0.00 s" not in text(generators)
    # The job, with each phase and how long it took.
    assert "warm up" in text(jobs) and "loading model" in text(jobs)
    (warm_up,) = recent_jobs(state)
    assert [phase for phase, _ in warm_up["phases"]] == [
        "queued",
        "started",
        "loading model",
        "done",
    ]

    # A page opened while a warm-up waits in the queue follows it; this one finds it warm.
    release = threading.Event()
    state.worker.submit("wait", lambda context: (release.wait(30), {})[1])
    again, *_ = start_warm_up(state)
    page = render_page(state, "/diagnostics", "")
    release.set()
    assert find(page, ids.WARM_UP_JOB).data == again
    assert find(page, ids.WARM_UP_POLL).disabled is False and find(page, ids.WARM_UP).disabled
    assert "queued" in text(find(page, ids.WARM_UP_STATUS))
    state.worker.wait(again["job_id"], timeout=60)
    assert "it was already warm" in text(follow_warm_up(state, again)[0])


def test_a_failed_warm_up_shows_its_error(workspace: Workspace) -> None:
    def broken(config: GeneratorConfig) -> Generator:
        raise GeneratorFailure("could not load the diffusers pipeline at 'x': OSError: gone")

    worker = Worker(workspace, generator_factory=broken).start()
    state = DashboardState(workspace=workspace, worker=worker)
    try:
        job, *_ = start_warm_up(state)
        worker.wait(job["job_id"], timeout=30)
        status, *_ = follow_warm_up(state, job)
    finally:
        worker.stop()
    assert "Runtime: could not load the diffusers pipeline at 'x'" in text(status)


def test_without_a_running_worker_nothing_is_queued(state: DashboardState) -> None:
    job, poll_disabled, status, _ = start_warm_up(state)
    assert job is None and poll_disabled is True
    assert "worker is not running" in text(status)
    assert recent_jobs(state) == []


def test_rounds_are_timed_cold_then_warm(
    running_state: DashboardState, tiny_builtin_path: Path
) -> None:
    state = running_state
    config = make_config({"prompt": "a red circle", "k": 3, "d": 2, "steps": 2})
    session = create_session(state.workspace, config)
    for _ in range(2):
        state.worker.wait(state.start_round(session.id), timeout=120)

    timings = timing_summary(round_timings(state)["builtin"])
    assert timings["cold"]["rounds"] == 1 and timings["warm"]["rounds"] == 1
    assert timings["warm"]["generate_seconds"] > 0
    page = render_page(state, "/diagnostics", "")
    generators = text(find(page, ids.DIAGNOSTICS_GENERATORS))
    assert "cold (loaded the model first) 1" in generators and "warm 1" in generators


def test_a_gpu_is_listed_with_its_name_and_memory(
    state: DashboardState, monkeypatch: pytest.MonkeyPatch
) -> None:
    import torch

    properties = SimpleNamespace(name="NVIDIA H100 80GB HBM3", total_memory=80 * 2**30)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda index: properties)
    monkeypatch.setattr(torch.cuda, "memory_allocated", lambda index: 3 * 2**29)
    monkeypatch.setattr(torch.cuda, "memory_reserved", lambda index: 2**31)
    devices = text(find(render_page(state, "/diagnostics", ""), "diagnostics-devices"))
    assert "GPU 0 NVIDIA H100 80GB HBM3: 80.0 GiB" in devices
    assert "1.50 GiB allocated, 2.00 GiB reserved" in devices


def test_steer_diagnostics_and_the_page_show_the_same_report_of_every_gpu(
    state: DashboardState, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One core report (steering_core.diagnostics): the CLI prints it, the page shows it."""
    import torch
    from click.testing import CliRunner

    from steering_core.cli import cli

    names = ["NVIDIA H200", "NVIDIA A100-SXM4-40GB"]
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(
        torch.cuda,
        "get_device_properties",
        lambda index: SimpleNamespace(name=names[index], total_memory=(index + 1) * 2**30),
    )
    monkeypatch.setattr(torch.cuda, "memory_allocated", lambda index: 0)
    monkeypatch.setattr(torch.cuda, "memory_reserved", lambda index: 0)
    result = CliRunner().invoke(cli, ["--data-root", str(tmp_path), "diagnostics", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert [gpu["name"] for gpu in report["devices"]["gpus"]] == names
    page = render_page(state, "/diagnostics", "")
    devices = text(find(page, "diagnostics-devices"))
    versions = text(find(page, "diagnostics-versions"))
    for index, name in enumerate(names):
        assert f"GPU {index} {name}" in devices
    assert report["devices"]["platform"] in devices
    for package, version in report["versions"].items():
        assert f"{package} {version}" in versions


def test_a_round_that_lost_the_race_is_superseded_not_failed(
    workspace: Workspace, tiny_config: SessionConfig
) -> None:
    session = create_session(workspace, tiny_config)
    plan = plan_round(workspace, session.id)
    blank_round(workspace, session.id)  # another process stored round 0 meanwhile
    images = {slot: Image.new("RGB", (8, 8)) for slot in range(plan.config.k)}
    worker = Worker(workspace).start()
    state = DashboardState(workspace=workspace, worker=worker)
    try:
        job_id = worker.submit(
            "round", lambda _: store_round(workspace, plan, images), session_id=session.id
        )
        worker.wait(job_id, timeout=30)
        shown = text(jobs_table(recent_jobs(state)))
    finally:
        worker.stop()
    assert "superseded" in shown and "created by another process" in shown
    assert "failed" not in shown and "invalid input" not in shown
