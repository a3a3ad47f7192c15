"""Session leases: live while their process runs, stale once it ends, one file per hold."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from steering_core.errors import InvalidInput
from steering_core.storage.leases import (
    acquire,
    hold_lease,
    is_session_live,
    list_leases,
    live_sessions,
    release,
)
from steering_core.storage.workspace import Workspace

HOLDER = """
import sys
from steering_core.storage.leases import acquire
from steering_core.storage.workspace import Workspace
acquire(Workspace.open(sys.argv[1], sys.argv[2]), sys.argv[3])
print("held", flush=True)
sys.stdin.read()
"""


def child_holding(workspace: Workspace, session_id: str) -> subprocess.Popen[str]:
    """Another process that holds a lease on `session_id` until its stdin closes."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            HOLDER,
            str(workspace.data_root),
            str(workspace.labels_dir),
            session_id,
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[3],
    )
    assert process.stdout.readline().strip() == "held"
    return process


def test_a_lease_is_live_while_held_and_gone_after(workspace: Workspace) -> None:
    assert live_sessions(workspace) == set()
    with hold_lease(workspace, "abc") as path:
        assert path.exists()
        assert is_session_live(workspace, "abc")
        assert not is_session_live(workspace, "other")
    assert not path.exists()
    assert live_sessions(workspace) == set()


def test_two_holds_in_one_process_are_independent(workspace: Workspace) -> None:
    first = acquire(workspace, "abc")
    with hold_lease(workspace, "abc"):
        pass
    assert is_session_live(workspace, "abc")  # releasing the inner hold kept the outer one
    release(first)
    assert not is_session_live(workspace, "abc")


def test_a_lease_of_another_process_is_live_until_it_ends(workspace: Workspace) -> None:
    child = child_holding(workspace, "xyz")
    try:
        assert live_sessions(workspace) == {"xyz"}
    finally:
        child.stdin.close()
        child.wait(timeout=30)
    # The child never released its lease (as after a crash): the file stays, stale.
    assert [lease.session_id for lease in list_leases(workspace)] == ["xyz"]
    assert live_sessions(workspace) == set()


def test_a_reused_pid_does_not_keep_a_dead_holders_lease(workspace: Workspace) -> None:
    path = acquire(workspace, "abc")
    record = json.loads(path.read_text())
    if record["process_start"] is None:
        pytest.skip("no /proc: process start times are not available here")
    record["process_start"] = str(int(record["process_start"]) + 1)
    path.write_text(json.dumps(record))
    assert not is_session_live(workspace, "abc")


def test_a_lease_from_another_host_counts_as_live(workspace: Workspace) -> None:
    path = acquire(workspace, "abc")
    record = json.loads(path.read_text())
    record.update(host="elsewhere", pid=os.getpid() + 10**6)
    path.write_text(json.dumps(record))
    assert is_session_live(workspace, "abc")


def test_unreadable_lease_files_are_ignored(workspace: Workspace) -> None:
    folder = workspace.data_root / "leases"
    folder.mkdir()
    (folder / "abc.1.x.lease").write_text("{not json")
    assert list_leases(workspace) == []


@pytest.mark.parametrize("session_id", ["../x", "a/b", "", "a.b"])
def test_a_session_id_that_is_not_a_plain_name_is_refused(
    workspace: Workspace, session_id: str
) -> None:
    with pytest.raises(InvalidInput, match="session id"):
        acquire(workspace, session_id)


def test_cli_commands_that_write_to_a_session_hold_its_lease(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from steering_core import sessions
    from steering_core.cli import cli
    from steering_core.config import make_config
    from tests.steering_core.helpers import blank_round

    session_id = sessions.create_session(workspace, make_config({"prompt": "a red circle"})).id
    blank_round(workspace, session_id)
    seen: list[set[str]] = []
    for name in ("submit_feedback", "withdraw_last_judgment"):
        original = getattr(sessions, name)

        def spy(*args: object, original=original, **kwargs: object) -> object:  # noqa: ANN001
            seen.append(live_sessions(workspace))
            return original(*args, **kwargs)

        monkeypatch.setattr(sessions, name, spy)
    root = ["--data-root", str(workspace.data_root), "--labels-dir", str(workspace.labels_dir)]
    for command in (["feedback", session_id, "--winner", "1"], ["undo", session_id]):
        result = CliRunner().invoke(cli, [*root, *command], catch_exceptions=False)
        assert result.exit_code == 0, result.output
    assert seen == [{session_id}, {session_id}]
    assert live_sessions(workspace) == set()  # released when the command ended
