"""Fixtures for dashboard tests without a browser: a DashboardState on a fresh workspace."""

from __future__ import annotations

import pytest

from dashboard.state import DashboardState
from steering_core.storage.workspace import Workspace
from steering_core.worker import Worker


@pytest.fixture
def state(workspace: Workspace) -> DashboardState:
    """The dashboard's server-side state; its worker thread is not started."""
    return DashboardState(workspace=workspace, worker=Worker(workspace))
