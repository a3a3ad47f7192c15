"""Test helper run as a subprocess: starts a worker, submits one job that never ends, and
prints `running <job id>` once the job is recorded as running. Not collected by pytest.

    python tests/steering_core/_job_runner.py --data-root D --labels-dir L --session S
"""

from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path
from typing import Any

from steering_core.storage import Workspace
from steering_core.worker import JobContext, Worker

SCRIPT = Path(__file__).resolve()


def runner_command(workspace: Workspace, session_id: str) -> list[str]:
    """The command line that runs this script on `workspace`."""
    return [
        sys.executable,
        str(SCRIPT),
        "--data-root",
        str(workspace.data_root),
        "--labels-dir",
        str(workspace.labels_dir),
        "--session",
        session_id,
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-root", required=True)
    parser.add_argument("--labels-dir", required=True)
    parser.add_argument("--session", required=True)
    options = parser.parse_args()
    workspace = Workspace.open(Path(options.data_root), Path(options.labels_dir))
    running = threading.Event()

    def endless(context: JobContext) -> dict[str, Any]:
        context.phase("generating")  # recorded before it is announced
        running.set()
        threading.Event().wait()  # until the process is killed
        return {}

    worker = Worker(workspace).start()
    job_id = worker.submit("round", endless, session_id=options.session)
    running.wait()
    print(f"running {job_id}", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
