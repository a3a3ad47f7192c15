"""Retention (`steer gc`): classify every file of a data root and delete what may go.

Classes: essential (database, label CSVs, traces: never deleted), reproducible (candidate
images: regenerable from seed and steering vector; deleted only when asked, and only for
sessions no process has open), disposable (stale leases, temp files of interrupted writes,
leftover import folders, images no candidate refers to). Anything not recognised is kept.
"""

from __future__ import annotations

import os
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from steering_core.derived import CACHE_FOLDER
from steering_core.exports.bundle import IMPORT_PREFIX, import_folder_abandoned
from steering_core.storage import round_store
from steering_core.storage.leases import LEASE_SUFFIX, is_live, live_sessions, read_lease
from steering_core.storage.workspace import DATABASE_FILE, Workspace

ESSENTIAL = "essential"
REPRODUCIBLE = "reproducible"
DISPOSABLE = "disposable"
CLASSES = (ESSENTIAL, REPRODUCIBLE, DISPOSABLE)
# A temp file or orphan image younger than this may belong to a write in progress (a
# script generating a round without a lease); a crashed write's leftovers are older.
GRACE_SECONDS = 15 * 60
DATABASE_FILES = {DATABASE_FILE + suffix for suffix in ("", "-wal", "-shm", "-journal")}


@dataclass(frozen=True)
class Artifact:
    """One file of the data root (or its label folder) and what gc does with it."""

    path: str  # relative to the data root, POSIX ("../labels/x.csv" for an outside folder)
    kind: str  # essential, reproducible or disposable
    session_id: str | None
    bytes: int
    what: str  # what the file is, in words
    delete: bool  # this gc run deletes it
    keep_reason: str = ""  # why it is kept, when it is


@dataclass(frozen=True)
class GcPlan:
    """What `run_gc` would delete, and what it keeps and why."""

    artifacts: tuple[Artifact, ...]
    live_sessions: frozenset[str]
    images: bool

    @property
    def to_delete(self) -> list[Artifact]:
        return [artifact for artifact in self.artifacts if artifact.delete]

    @property
    def bytes_to_free(self) -> int:
        return sum(artifact.bytes for artifact in self.to_delete)

    def summary(self) -> list[dict[str, Any]]:
        """One row per (class, session, action): file count and bytes."""
        groups: dict[tuple[str, str, str], list[Artifact]] = defaultdict(list)
        for artifact in self.artifacts:
            action = "delete" if artifact.delete else f"keep ({artifact.keep_reason})"
            groups[(artifact.kind, artifact.session_id or "-", action)].append(artifact)
        order = {kind: index for index, kind in enumerate(CLASSES)}
        return [
            {
                "class": kind,
                "session": session,
                "action": action,
                "files": len(items),
                "bytes": sum(item.bytes for item in items),
            }
            for (kind, session, action), items in sorted(
                groups.items(), key=lambda item: (order[item[0][0]], item[0][1], item[0][2])
            )
        ]


@dataclass(frozen=True)
class GcResult:
    """What `run_gc` did: files deleted, bytes freed, and listed files it left alone."""

    deleted: tuple[str, ...]
    bytes_freed: int
    skipped: tuple[str, ...] = field(default_factory=tuple)


def plan_gc(
    workspace: Workspace, images: bool = False, grace_seconds: float = GRACE_SECONDS
) -> GcPlan:
    """Classify every file of the data root and its label folder; deletes nothing.

    `images`: also delete candidate images of sessions no process has open (and that no
    open session shows). `grace_seconds`: temp files and orphan images younger than this
    are kept (they may belong to a write in progress)."""
    live = frozenset(live_sessions(workspace))
    referenced = _referenced_images(workspace)
    protected = {path for path, sessions in referenced.items() if sessions & live}
    cutoff = time.time() - grace_seconds
    root = workspace.data_root
    labels = workspace.labels_dir
    artifacts = []
    for path in _files(root):
        relative = PurePosixPath(path.relative_to(root).as_posix())
        if path.is_relative_to(labels):
            artifacts.append(_label_file(root, path))
            continue
        artifacts.append(_classify(relative, path, live, referenced, protected, images, cutoff))
    if not labels.is_relative_to(root):
        artifacts += [_label_file(root, path) for path in _files(labels)]
    return GcPlan(tuple(artifacts), live, images)


def run_gc(workspace: Workspace, plan: GcPlan) -> GcResult:
    """Delete the files `plan` lists for deletion, except any whose session a process has
    opened since the plan was made, or that changed size since (then it is in use)."""
    live = live_sessions(workspace)
    referenced = _referenced_images(workspace)
    protected = {path for path, sessions in referenced.items() if sessions & live}
    deleted, skipped, freed = [], [], 0
    folders: set[Path] = set()
    for artifact in plan.to_delete:
        path = workspace.data_root / artifact.path
        if artifact.path.endswith(LEASE_SUFFIX):
            lease = read_lease(path)
            in_use = lease is not None and is_live(lease)  # a stale lease is stale for good
        else:
            in_use = artifact.session_id in live or artifact.path in protected
        if in_use:
            skipped.append(artifact.path)
            continue
        try:
            size = path.lstat().st_size
            if size != artifact.bytes:
                skipped.append(artifact.path)
                continue
            path.unlink()
        except FileNotFoundError:
            skipped.append(artifact.path)
            continue
        deleted.append(artifact.path)
        freed += size
        folders.add(path.parent)
    _prune_empty(workspace.data_root, folders)
    return GcResult(tuple(deleted), freed, tuple(skipped))


def folder_bytes(folder: Path) -> int:
    """Bytes of the files under `folder` (symbolic links not followed)."""
    return sum(path.lstat().st_size for path in _files(folder))


def _files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    found = []
    for parent, _, names in os.walk(folder):  # does not follow links to folders
        found += [Path(parent) / name for name in names]
    return sorted(found)


def _referenced_images(workspace: Workspace) -> dict[str, set[str]]:
    """Image path -> the sessions whose candidates show it (forks show their parents')."""
    referenced: dict[str, set[str]] = defaultdict(set)
    for image_path, session_id in round_store.image_references(workspace.db.connection()):
        referenced[image_path].add(session_id)
    return referenced


def _label_file(root: Path, path: Path) -> Artifact:
    name = path.name
    if name.endswith(".csv"):
        what = "label CSV"
    elif name.endswith(".csv.bak"):
        what = "label CSV backup (from `steer labels rebuild`)"
    elif name.endswith(".lock"):
        # Never removed: a lock file deleted while held no longer excludes anyone.
        what = "label lock file"
    else:
        what = "other file in the label folder"
    session = name.split(".", 1)[0] if what != "other file in the label folder" else None
    return Artifact(
        path=Path(os.path.relpath(path, root)).as_posix(),
        kind=ESSENTIAL,
        session_id=session,
        bytes=path.lstat().st_size,
        what=what,
        delete=False,
        keep_reason=ESSENTIAL,
    )


def _classify(
    relative: PurePosixPath,
    path: Path,
    live: frozenset[str],
    referenced: dict[str, set[str]],
    protected: set[str],
    images: bool,
    cutoff: float,
) -> Artifact:
    """What one file under the data root is, and whether this gc run deletes it."""
    info = path.lstat()
    parts = relative.parts
    name = relative.as_posix()
    old = info.st_mtime < cutoff
    session = _session_of(parts)

    def artifact(kind: str, what: str, delete: bool, keep_reason: str = "") -> Artifact:
        return Artifact(name, kind, session, info.st_size, what, delete, keep_reason)

    def essential(what: str) -> Artifact:
        return artifact(ESSENTIAL, what, False, ESSENTIAL)

    if os.path.islink(path):
        return essential("symbolic link (not followed, kept)")
    if parts[0].startswith(IMPORT_PREFIX) and len(parts) > 1:
        if import_folder_abandoned(parts[0]) and old:
            return artifact(DISPOSABLE, "leftover of an interrupted import", True)
        return artifact(DISPOSABLE, "import in progress", False, "in use")
    if name in DATABASE_FILES:
        return essential("database")
    if name.endswith(".lock"):
        # Never removed: a lock file deleted while held no longer excludes anyone.
        return essential("lock file")
    if name.endswith(".tmp"):
        if session in live:
            return artifact(DISPOSABLE, "temp file", False, "session open")
        if not old:
            return artifact(DISPOSABLE, "temp file", False, "recent: may be in use")
        return artifact(DISPOSABLE, "temp file of an interrupted write", True)
    if parts[0] == CACHE_FOLDER:
        # Recomputed on demand, but open in other processes: removing its files under them
        # could break their reads, and it keeps itself under its size limit anyway.
        return artifact(REPRODUCIBLE, "derived cache", False, "limits its own size")
    if parts[0] == "traces" and name.endswith(".jsonl"):
        return essential("trace")
    if parts[0] == "leases" and name.endswith(LEASE_SUFFIX):
        lease = read_lease(path)
        if lease is not None and is_live(lease):
            return artifact(DISPOSABLE, "lease of a running process", False, "in use")
        if lease is None and not old:
            return artifact(DISPOSABLE, "lease being written", False, "recent: may be in use")
        return artifact(DISPOSABLE, "stale lease (its process ended)", True)
    if session is not None and name.endswith(".png"):
        if name in referenced:
            if session in live:
                return artifact(REPRODUCIBLE, "candidate image", False, "session open")
            if name in protected:  # a fork re-shows its parent's image
                return artifact(REPRODUCIBLE, "candidate image", False, "an open session shows it")
            if not images:
                return artifact(REPRODUCIBLE, "candidate image", False, "--images not given")
            return artifact(REPRODUCIBLE, "candidate image", True)
        if session in live:
            return artifact(DISPOSABLE, "image no candidate refers to", False, "session open")
        if not old:
            return artifact(
                DISPOSABLE, "image no candidate refers to", False, "recent: may be in use"
            )
        return artifact(DISPOSABLE, "image no candidate refers to", True)
    return essential("file not written by steer (kept)")


def _session_of(parts: tuple[str, ...]) -> str | None:
    """The session a data-root file belongs to, from where it lies (None: no session)."""
    if len(parts) > 2 and parts[0] == "images":
        return parts[1]
    if len(parts) == 2 and parts[0] == "traces" and parts[1].endswith(".jsonl"):
        return parts[1][: -len(".jsonl")]
    if len(parts) == 2 and parts[0] == "leases" and parts[1].endswith(LEASE_SUFFIX):
        return parts[1].split(".", 1)[0]
    return None


def _prune_empty(root: Path, folders: set[Path]) -> None:
    """Remove folders left empty by deletions, up to (not including) the top-level ones."""
    keep = {root, root / "images", root / "leases", root / "traces"}
    for folder in sorted(folders, key=lambda path: len(path.parts), reverse=True):
        current = folder
        while current not in keep and current.is_relative_to(root):
            try:
                current.rmdir()
            except OSError:  # not empty (or gone): stop climbing
                break
            current = current.parent
