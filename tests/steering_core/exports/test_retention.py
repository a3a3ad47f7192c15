"""`steer gc`: classifies every file, deletes nothing on a dry run, frees exactly what it
lists otherwise, and never touches a session that a process has open."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner, Result

from steering_core.cli import cli
from steering_core.derived import cached, finish_stores, open_cache
from steering_core.exports.bundle import IMPORT_PREFIX
from steering_core.exports.report import render_report
from steering_core.exports.retention import (
    DISPOSABLE,
    ESSENTIAL,
    REPRODUCIBLE,
    folder_bytes,
    plan_gc,
    run_gc,
)
from steering_core.sessions import fork_session, get_candidates
from steering_core.storage.leases import acquire, hold_lease, release
from steering_core.storage.workspace import Workspace
from tests.steering_core.exports.test_bundle import judged_session
from tests.steering_core.helpers import blank_round, stored_state
from tests.steering_core.storage.test_leases import child_holding

A_DAY_AGO = time.time() - 86400


def dead_pid() -> int:
    """The pid of a process that has ended."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def old_file(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.utime(path, (A_DAY_AGO, A_DAY_AGO))
    return path


def files_of(folder: Path) -> dict[str, str]:
    """Every file under `folder` with its SHA-256."""
    return {
        path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def session_files(workspace: Workspace, session_id: str) -> dict[str, str]:
    images = {c.image_path for c in get_candidates(workspace, session_id)}
    everything = files_of(workspace.data_root)
    return {
        name: digest
        for name, digest in everything.items()
        if name in images or name.startswith(f"images/{session_id}/")
    }


class Roots:
    """A data root with a finished session, an open fork of it, and disposable leftovers."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self.finished = judged_session(workspace, rounds=3)
        self.other_finished = judged_session(workspace, rounds=2, prompt="a blue square")
        incumbent = get_candidates(workspace, self.finished)[-4]  # the last round's incumbent
        self.fork = fork_session(workspace, incumbent.id).id
        blank_round(workspace, self.fork)
        self.shared_image = incumbent.image_path  # shown by the open fork too
        root = workspace.data_root
        folder = Path(get_candidates(workspace, self.finished)[0].image_path).parent
        self.stray = old_file(root / folder / "c07.png.tmp", b"half an image")
        self.orphan = old_file(root / folder / "c09.png", b"an image no candidate names")
        self.recent_tmp = root / folder / "c08.png.tmp"
        self.recent_tmp.write_bytes(b"a write in progress")
        stale = acquire(workspace, self.other_finished)
        record = json.loads(stale.read_text())
        record["pid"] = dead_pid()
        stale.write_text(json.dumps(record))
        self.stale_lease = stale
        self.import_left = old_file(
            root / f"{IMPORT_PREFIX}{dead_pid()}-abcd1234" / "images" / "x.png", b"left over"
        )
        with open_cache(root) as cache:  # what a rendered round leaves
            cached(cache, "steering_space", {"prompt": "a red circle"}, lambda: np.eye(4))
            finish_stores()


@pytest.fixture
def roots(workspace: Workspace) -> Roots:
    return Roots(workspace)


def steer(workspace: Workspace, *args: str) -> Result:
    root = ["--data-root", str(workspace.data_root), "--labels-dir", str(workspace.labels_dir)]
    return CliRunner().invoke(cli, [*root, *args], catch_exceptions=False)


def relative(workspace: Workspace, path: Path) -> str:
    return path.relative_to(workspace.data_root).as_posix()


def test_every_file_is_classified(roots: Roots) -> None:
    workspace = roots.workspace
    with hold_lease(workspace, roots.fork):
        plan = plan_gc(workspace, images=True)
        every_file = {*files_of(workspace.data_root)} | {
            f"../labels/{name}" for name in files_of(workspace.labels_dir)
        }
    by_path = {artifact.path: artifact for artifact in plan.artifacts}
    assert every_file == set(by_path)
    assert by_path["steering.sqlite3"].kind == ESSENTIAL
    assert by_path[f"../labels/{roots.finished}.csv"].kind == ESSENTIAL
    assert by_path[f"traces/{roots.finished}.jsonl"].kind == ESSENTIAL
    image = get_candidates(workspace, roots.finished)[1].image_path
    assert by_path[image].kind == REPRODUCIBLE and by_path[image].delete
    assert by_path[roots.shared_image].kind == REPRODUCIBLE
    assert not by_path[roots.shared_image].delete  # the open fork shows it
    for leftover in (roots.stray, roots.orphan, roots.stale_lease, roots.import_left):
        artifact = by_path[relative(workspace, leftover)]
        assert artifact.kind == DISPOSABLE and artifact.delete, artifact
    recent = by_path[relative(workspace, roots.recent_tmp)]
    assert recent.kind == DISPOSABLE and not recent.delete
    assert not any(a.delete for a in plan.artifacts if a.session_id == roots.fork)
    assert not any(a.delete for a in plan.artifacts if a.kind == ESSENTIAL)
    cache = [a for a in plan.artifacts if a.path.startswith("cache/")]
    assert cache and all(a.kind == REPRODUCIBLE and not a.delete for a in cache)


def test_dry_run_lists_what_it_would_delete_and_deletes_nothing(roots: Roots) -> None:
    workspace = roots.workspace
    child = child_holding(workspace, roots.fork)
    try:
        before = stored_state(workspace), files_of(workspace.data_root)
        result = steer(workspace, "gc", "--images")
        assert result.exit_code == 0, result.output
        assert (stored_state(workspace), files_of(workspace.data_root)) == before
        plan = plan_gc(workspace, images=True)
        assert f"would free {plan.bytes_to_free} bytes" in result.output
        assert "dry run" in result.output
        for artifact in plan.to_delete:
            assert artifact.path in result.output
        assert roots.shared_image not in {a.path for a in plan.to_delete}
        as_json = json.loads(steer(workspace, "gc", "--dry-run", "--json").stdout)
        assert as_json["dry_run"] and as_json["open_sessions"] == [roots.fork]
        assert not any(item["class"] == REPRODUCIBLE for item in as_json["to_delete"])
        assert (stored_state(workspace), files_of(workspace.data_root)) == before
    finally:
        child.stdin.close()
        child.wait(timeout=30)


def test_delete_frees_exactly_the_listed_bytes_and_spares_the_open_session(
    roots: Roots,
) -> None:
    workspace = roots.workspace
    child = child_holding(workspace, roots.fork)
    try:
        open_files = session_files(workspace, roots.fork)
        plan = plan_gc(workspace, images=True)
        listed = {a.path for a in plan.to_delete}
        rows = stored_state(workspace)
        before = files_of(workspace.data_root)
        size_before = folder_bytes(workspace.data_root)
        result = json.loads(steer(workspace, "gc", "--delete", "--images", "--json").stdout)
        assert result["bytes_freed"] == plan.bytes_to_free > 0
        assert result["bytes_freed_measured"] == plan.bytes_to_free
        assert size_before - folder_bytes(workspace.data_root) == plan.bytes_to_free
        after = files_of(workspace.data_root)
        assert set(before) - set(after) == listed
        assert {name: before[name] for name in after} == after  # the rest unchanged
        assert session_files(workspace, roots.fork) == open_files
        assert (workspace.data_root / roots.shared_image).is_file()
        assert stored_state(workspace)["candidates"] == rows["candidates"]
        assert not list(workspace.data_root.glob(f"{IMPORT_PREFIX}*"))
        assert roots.recent_tmp.exists()
    finally:
        child.stdin.close()
        child.wait(timeout=30)
    for session_id in (roots.finished, roots.other_finished, roots.fork):
        page = render_report(workspace, session_id)
        assert "<html" in page.lower()
    assert "image removed" in render_report(workspace, roots.other_finished)


def test_without_images_only_disposable_files_go(roots: Roots) -> None:
    workspace = roots.workspace
    plan = plan_gc(workspace)
    assert {a.kind for a in plan.to_delete} == {DISPOSABLE}
    result = run_gc(workspace, plan)
    assert result.bytes_freed == plan.bytes_to_free
    for candidate in get_candidates(workspace, roots.finished):
        assert (workspace.data_root / candidate.image_path).is_file()
    assert not roots.stale_lease.exists() and not roots.stray.exists()


def test_a_session_opened_after_the_plan_is_left_alone(roots: Roots) -> None:
    workspace = roots.workspace
    plan = plan_gc(workspace, images=True)
    lease = acquire(workspace, roots.finished)
    try:
        result = run_gc(workspace, plan)
    finally:
        release(lease)
    for candidate in get_candidates(workspace, roots.finished):
        assert (workspace.data_root / candidate.image_path).is_file()
    assert set(result.skipped) == {a.path for a in plan.to_delete if a.session_id == roots.finished}
    assert result.bytes_freed == sum(
        a.bytes for a in plan.to_delete if a.session_id != roots.finished
    )


def test_gc_of_an_empty_data_root(workspace: Workspace) -> None:
    result = steer(workspace, "gc")
    assert result.exit_code == 0, result.output
    assert "would free 0 bytes in 0 files" in result.output


def summary_row(rows: list[dict[str, Any]], kind: str, session: str) -> dict[str, Any]:
    return next(row for row in rows if row["class"] == kind and row["session"] == session)


def test_the_summary_counts_files_and_bytes_per_class_and_session(roots: Roots) -> None:
    workspace = roots.workspace
    plan = plan_gc(workspace, images=True)
    total = sum(row["bytes"] for row in plan.summary())
    assert total == sum(a.bytes for a in plan.artifacts)
    row = summary_row(plan.summary(), REPRODUCIBLE, roots.other_finished)
    images = {c.image_path for c in get_candidates(workspace, roots.other_finished)}
    assert row["files"] == len(images) and row["action"] == "delete"
