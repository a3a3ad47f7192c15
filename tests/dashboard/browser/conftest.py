"""Browser tests: a real `steer dashboard` process on the built-in model, driven by
Playwright through the system's headless Chromium. Every test ends by asserting that the
browser console logged no errors, and saves a screenshot under test-artifacts/."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"


def chromium_path() -> str:
    """The system Chromium (Debian's `chromium`); scripts/test.sh installs it."""
    path = os.environ.get("STEER_CHROMIUM") or shutil.which("chromium")
    if path is None:
        pytest.fail(
            "browser tests need Debian's chromium: `sudo apt-get install chromium` "
            "(scripts/test.sh installs it when it can)"
        )
    return path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class DashboardServer:
    """A `steer dashboard` process on a data root of its own; can be stopped and restarted."""

    data_root: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> DashboardServer:
        environment = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
        log = open(self.data_root.parent / "dashboard.log", "ab")  # noqa: SIM115
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "steering_core",
                "--data-root",
                str(self.data_root),
                "dashboard",
                "--port",
                str(self.port),
            ],
            cwd=ROOT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"dashboard exited: see {self.data_root.parent}/dashboard.log")
            try:
                urllib.request.urlopen(self.url + "/_dash-layout", timeout=1).read()
                return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("dashboard did not start within 60 s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def kill(self) -> None:
        """Stop it the hard way, as a crash would."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
        self.process = None


@pytest.fixture
def server(tmp_path: Path) -> Iterator[DashboardServer]:
    running = DashboardServer(tmp_path / "data").start()
    yield running
    running.stop()


@contextmanager
def watched_page(browser: object, request: pytest.FixtureRequest) -> Iterator[object]:
    """A fresh browser page; afterwards: a screenshot, and no console errors allowed."""
    context = browser.new_context(viewport={"width": 1500, "height": 1000})
    page = context.new_page()
    page.console_errors = []  # type: ignore[attr-defined]
    # Errors a test provokes on purpose (the server stopped) are allowed by the test.
    page.allowed_errors = []  # type: ignore[attr-defined]
    page.on(
        "console",
        lambda message: message.type == "error" and page.console_errors.append(message.text),
    )
    page.on("pageerror", lambda error: page.console_errors.append(f"page error: {error}"))
    yield page
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    try:
        name = request.node.name.replace("/", "-")
        page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)
    finally:
        context.close()
    unexpected = [
        text
        for text in page.console_errors
        if not any(allowed in text for allowed in page.allowed_errors)
    ]
    assert unexpected == [], f"the browser console logged errors: {unexpected}"


@pytest.fixture
def page(
    browser: object, server: DashboardServer, request: pytest.FixtureRequest
) -> Iterator[object]:
    """A fresh browser page on the test's server (closed before the server stops)."""
    with watched_page(browser, request) as opened:
        yield opened


@pytest.fixture
def static_page(browser: object, request: pytest.FixtureRequest) -> Iterator[object]:
    """A fresh browser page with no server behind it, for the scripts' unit tests."""
    with watched_page(browser, request) as opened:
        yield opened
