"""Session bundles: one verifiable zip per session (`steer export`), restored by `steer import`.

A bundle holds `manifest.json`, `report.html` with the images it shows under `images/...`
(the paths they have in the data root), `replay.json`, `trace.jsonl`, `labels.csv` and
`config.yaml`. The manifest lists every other file with its size and SHA-256. Zips are
written deterministically (sorted entries, fixed timestamps and permissions), so two exports
of the same session differ only in the manifest's `exported_at`.

Importing trusts nothing in the zip: names, file types, sizes and checksums are all checked
before the data root is touched, and a failure leaves the data root as it was.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import stat
import tempfile
import uuid
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

import yaml

from steering_core import __version__
from steering_core.config import ABSOLUTE_PATH
from steering_core.errors import InvalidInput, NotFound, shown
from steering_core.exports.replay import build_replay, load_replay, restore_session, write_replay
from steering_core.exports.replay_schema import check_replay_content
from steering_core.exports.report import write_report
from steering_core.input_limits import load_json
from steering_core.sessions import get_session
from steering_core.storage import round_store
from steering_core.storage.files import write_atomically
from steering_core.storage.leases import SESSION_ID_PATTERN, hold_lease, pid_alive
from steering_core.storage.records import now
from steering_core.storage.workspace import Workspace
from steering_core.trace import trace_path

BUNDLE_SCHEMA = "stable-steering/bundle"
BUNDLE_SCHEMA_VERSION = 1
MANIFEST = "manifest.json"
REPORT = "report.html"
REPLAY = "replay.json"
TRACE = "trace.jsonl"
LABELS = "labels.csv"
CONFIG = "config.yaml"

# Import caps. A session of 500 rounds of 8 images of 1024x1024 is about 4 GB of PNG, but a
# typical one is far below 100 MB; 2 GiB refuses zip bombs without refusing real sessions.
DEFAULT_MAX_BYTES = 2 * 2**30
DEFAULT_MAX_ENTRIES = 100_000
# PNGs hardly compress and JSON/CSV compress about 10x; 1000x is a bomb, not a session.
MAX_COMPRESSION_RATIO = 1000
# Small entries may have any ratio (a header-only CSV, a blank image): they cannot bomb.
RATIO_FLOOR_BYTES = 1 << 20
MAX_MANIFEST_BYTES = 64 << 20
CHUNK = 1 << 16

# Zip entries carry a fixed time and mode so that two exports of the same data are equal.
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o100644
IMPORT_PREFIX = ".import-"
_DRIVE = re.compile(r"^[A-Za-z]:")


# --- export ----------------------------------------------------------------------------
def export_bundle(workspace: Workspace, session_id: str, out: Path) -> Path:
    """Write session `session_id` as one zip at `out` (atomically: temp file + rename)."""
    session = get_session(workspace, session_id)
    out = Path(out).resolve()
    if out.is_dir():
        raise InvalidInput(f"--out: {out} is a folder; name the zip file to write")
    # The lease keeps `steer gc` from removing the session's images while they are copied.
    with (
        hold_lease(workspace, session.id),
        tempfile.TemporaryDirectory(prefix="steer-export-") as scratch_name,
    ):
        scratch = Path(scratch_name)
        files, removed_images = _gather(workspace, session.id, scratch)
        _refuse_leaks(files, _machine_paths(workspace, scratch))
        manifest = {
            "schema": BUNDLE_SCHEMA,
            "schema_version": BUNDLE_SCHEMA_VERSION,
            "app_version": __version__,
            "exported_at": now(),
            "session_id": session.id,
            # Images `steer gc --images` removed: seed and vector make them again, so the
            # bundle holds the session without them and import accepts their absence.
            "removed_images": removed_images,
            "files": [
                {"path": name, "bytes": path.stat().st_size, "sha256": _sha256(path)}
                for name, path in sorted(files.items())
            ],
        }
        manifest_bytes = (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode()
        out.parent.mkdir(parents=True, exist_ok=True)

        def write_archive(handle: BinaryIO) -> None:
            with zipfile.ZipFile(handle, "w") as archive:
                _add_entry(archive, MANIFEST, manifest_bytes)
                for name, path in sorted(files.items()):
                    _add_entry(archive, name, path.read_bytes())

        write_atomically(out, write_archive)
    return out


def _gather(
    workspace: Workspace, session_id: str, scratch: Path
) -> tuple[dict[str, Path], list[str]]:
    """Every file of the bundle but the manifest (bundle path -> file in `scratch`), and
    the session's images that are not in the data root (removed by `steer gc --images`)."""
    report_folder = scratch / "report"
    write_report(workspace, session_id, report_folder)
    files = {
        path.relative_to(report_folder).as_posix(): path
        for path in sorted(report_folder.rglob("*"))
        if path.is_file()
    }
    replay = build_replay(workspace, session_id)
    config = portable_config(replay["session"]["config"])
    replay["session"]["config"] = config
    write_replay(replay, scratch / REPLAY)
    files[REPLAY] = scratch / REPLAY
    # The replay names every image of the session; the report may show fewer (and import
    # copies them from the bundle), so add any it left out that the data root still has.
    removed = []
    for image_path in sorted(_image_paths(workspace, session_id)):
        source = workspace.data_root / image_path
        if not source.is_file():
            removed.append(image_path)
        elif image_path not in files:
            copy = scratch / "extra" / image_path
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, copy)
            files[image_path] = copy
    trace = trace_path(workspace, session_id)
    if trace.is_file():
        # Whole lines only: an event being appended right now belongs to the next export.
        data = trace.read_bytes()
        (scratch / TRACE).write_bytes(data[: data.rfind(b"\n") + 1])
        files[TRACE] = scratch / TRACE
    labels = workspace.labels.path(session_id)
    with workspace.labels.locked(session_id):  # no judgment half-appended
        if labels.is_file():
            shutil.copyfile(labels, scratch / LABELS)
            files[LABELS] = scratch / LABELS
    (scratch / CONFIG).write_text(
        yaml.safe_dump(config, sort_keys=True, allow_unicode=True), encoding="utf-8"
    )
    files[CONFIG] = scratch / CONFIG
    for name in files:
        _check_name(name)  # what we write must pass our own import's checks
    return files, removed


def portable_config(config: dict[str, Any]) -> dict[str, Any]:
    """The session config with a local checkpoint folder named by its last part only
    (`/home/me/models/sd-turbo` -> `…/sd-turbo`, as the report shows it): the folder is a
    path of this machine, meaningless on another and not to be shared."""
    generator = config.get("generator") or {}
    model = generator.get("model")
    if not isinstance(model, str) or not ABSOLUTE_PATH.match(model):
        return config
    name = re.split(r"[\\/]", model.rstrip("\\/"))[-1]
    return {**config, "generator": {**generator, "model": f"\u2026/{name}"}}


def _image_paths(workspace: Workspace, session_id: str) -> set[str]:
    references = round_store.image_references(workspace.db.connection(), session_id)
    return {image_path for image_path, _ in references}


def _machine_paths(workspace: Workspace, scratch: Path) -> list[str]:
    """Absolute paths of this machine that must not appear in a bundle."""
    paths = {str(workspace.data_root), str(workspace.labels_dir), str(scratch)}
    paths |= {os.path.realpath(path) for path in paths}
    home = str(Path.home())
    if len(home) > 1:  # a home of "/" would match every path
        paths.add(home)
    return sorted(paths)


def _refuse_leaks(files: dict[str, Path], machine_paths: list[str]) -> None:
    """Belt and braces: no file of the bundle may name a folder of the exporting machine."""
    needles = [path.encode("utf-8") for path in machine_paths]
    for name, path in sorted(files.items()):
        data = path.read_bytes()
        for needle, text in zip(needles, machine_paths, strict=True):
            if needle in data:
                raise InvalidInput(
                    f"export: {name} contains the absolute path {text} of this machine; "
                    f"bundles carry relative paths only (nothing was written)"
                )


def _add_entry(archive: zipfile.ZipFile, name: str, data: bytes) -> None:
    info = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
    info.create_system = 3  # Unix, so that the mode below means what it says
    info.external_attr = FILE_MODE << 16
    # PNGs are compressed already; deflating them again costs time and saves nothing.
    info.compress_type = zipfile.ZIP_STORED if name.endswith(".png") else zipfile.ZIP_DEFLATED
    archive.writestr(info, data, compresslevel=6)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


# --- import ----------------------------------------------------------------------------
@dataclass(frozen=True)
class ImportLimits:
    """Caps on what an imported zip may unpack to."""

    max_bytes: int = DEFAULT_MAX_BYTES
    max_entries: int = DEFAULT_MAX_ENTRIES
    max_ratio: float = MAX_COMPRESSION_RATIO


@dataclass(frozen=True)
class ImportResult:
    """What an import did: the session's id here, and the id it had in the bundle."""

    session_id: str
    bundle_session_id: str

    @property
    def renamed(self) -> bool:
        """Whether the bundle's id was taken here, so the session got a new one."""
        return self.session_id != self.bundle_session_id


def import_bundle(
    workspace: Workspace, bundle: Path, limits: ImportLimits | None = None
) -> ImportResult:
    """Verify `bundle` and restore its session into the workspace under its own id, or a
    new one when that id is taken in this data root."""
    limits = limits or ImportLimits()
    bundle = Path(bundle)
    if not bundle.is_file():
        raise InvalidInput(f"bundle: no file at {bundle}")
    try:
        archive = zipfile.ZipFile(bundle)
    except (zipfile.BadZipFile, OSError) as error:
        raise InvalidInput(f"bundle {bundle.name}: not a readable zip file ({error})") from None
    with archive:
        entries = _check_entries(archive, limits)
        manifest = _read_manifest(archive, entries)
        listed = {item["path"]: item for item in manifest["files"]}
        _check_listing(entries, listed)
        if sum(item["bytes"] for item in listed.values()) > limits.max_bytes:
            raise InvalidInput(
                f"bundle: {MANIFEST} lists more than the cap of {limits.max_bytes} bytes; "
                "refused as a possible zip bomb"
            )
        with _import_folder(workspace) as folder:
            _extract(archive, entries, listed, folder, limits)
            session_id = _restore(workspace, manifest, folder)
    return ImportResult(session_id=session_id, bundle_session_id=manifest["session_id"])


def _check_name(name: str) -> PurePosixPath:
    """A bundle path as a relative POSIX path inside the bundle, or InvalidInput."""
    rule = None
    if not name or "\x00" in name:
        rule = "an empty name or a NUL byte"
    elif name.startswith(("/", "\\")) or _DRIVE.match(name):
        rule = "an absolute path"
    elif "\\" in name:
        rule = "a backslash (bundle paths use '/')"
    else:
        parts = name.rstrip("/").split("/")
        if any(part in ("", ".", "..") for part in parts):
            rule = "a '..', '.' or empty path component (it could escape the target folder)"
    if rule is not None:
        raise InvalidInput(f"bundle entry {shown(name)}: refused, it has {rule}")
    return PurePosixPath(name)


def _check_entries(archive: zipfile.ZipFile, limits: ImportLimits) -> dict[str, zipfile.ZipInfo]:
    """The zip's file entries by name, after checking names, types, counts and sizes."""
    infos = archive.infolist()
    if len(infos) > limits.max_entries:
        raise InvalidInput(
            f"bundle: {len(infos)} entries, more than the cap of {limits.max_entries}"
        )
    entries: dict[str, zipfile.ZipInfo] = {}
    seen: set[str] = set()
    total = 0
    for info in infos:
        name = info.filename
        _check_name(name)
        if name in seen:
            raise InvalidInput(f"bundle entry {shown(name)}: refused, the name appears twice")
        seen.add(name)
        kind = stat.S_IFMT(info.external_attr >> 16)
        if kind == stat.S_IFLNK:
            raise InvalidInput(f"bundle entry {shown(name)}: refused, it is a symbolic link")
        if info.is_dir():
            continue  # folders are made as files need them; a re-zipped bundle may list them
        if kind not in (0, stat.S_IFREG):
            raise InvalidInput(f"bundle entry {shown(name)}: refused, it is not a regular file")
        if info.flag_bits & 0x1:
            raise InvalidInput(f"bundle entry {shown(name)}: refused, it is encrypted")
        total += info.file_size
        if total > limits.max_bytes:
            raise InvalidInput(
                f"bundle: unpacks to more than the cap of {limits.max_bytes} bytes "
                f"(at entry {shown(name)}); refused as a possible zip bomb"
            )
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > RATIO_FLOOR_BYTES and ratio > limits.max_ratio:
            raise InvalidInput(
                f"bundle entry {shown(name)}: compressed {ratio:.0f}:1, more than the cap of "
                f"{limits.max_ratio:.0f}:1; refused as a possible zip bomb"
            )
        entries[name] = info
    return entries


def _read_manifest(archive: zipfile.ZipFile, entries: dict[str, zipfile.ZipInfo]) -> dict:
    """The parsed manifest, checked for schema, version and the shape of its file list."""
    if MANIFEST not in entries:
        raise InvalidInput(f"bundle: no {MANIFEST}; this is not a session bundle")
    with archive.open(entries[MANIFEST]) as handle:
        data = handle.read(MAX_MANIFEST_BYTES + 1)
    if len(data) > MAX_MANIFEST_BYTES:
        raise InvalidInput(f"bundle: {MANIFEST} is larger than {MAX_MANIFEST_BYTES} bytes")
    manifest = load_json(data, f"bundle: {MANIFEST}")
    if not isinstance(manifest, dict):
        raise InvalidInput(f"bundle: {MANIFEST} must be a JSON object")
    if manifest.get("schema") != BUNDLE_SCHEMA:
        raise InvalidInput(
            f"bundle: {MANIFEST} schema must be {BUNDLE_SCHEMA!r} "
            f"(got {shown(manifest.get('schema'))})"
        )
    version = manifest.get("schema_version")
    if version != BUNDLE_SCHEMA_VERSION:
        raise InvalidInput(
            f"bundle: {MANIFEST} schema_version {shown(version)} is not supported "
            f"(this version of steer reads {BUNDLE_SCHEMA_VERSION})"
        )
    session_id = manifest.get("session_id")
    if not isinstance(session_id, str) or not SESSION_ID_PATTERN.fullmatch(session_id):
        raise InvalidInput(
            f"bundle: {MANIFEST} session_id must be 1-64 letters, digits, '_' or '-' "
            f"(got {shown(session_id)})"
        )
    files = manifest.get("files")
    if not isinstance(files, list):
        raise InvalidInput(f"bundle: {MANIFEST} files must be a list")
    for index, item in enumerate(files):
        if not (
            isinstance(item, dict)
            and isinstance(item.get("path"), str)
            and isinstance(item.get("bytes"), int)
            and isinstance(item.get("sha256"), str)
            and re.fullmatch(r"[0-9a-f]{64}", item["sha256"])
        ):
            raise InvalidInput(
                f"bundle: {MANIFEST} files[{index}] must be {{path, bytes, sha256 (64 hex)}}"
            )
        _check_name(item["path"])
    removed = manifest.setdefault("removed_images", [])
    if not isinstance(removed, list) or not all(
        isinstance(path, str) and path.startswith("images/") for path in removed
    ):
        raise InvalidInput(f"bundle: {MANIFEST} removed_images must be a list of images/... paths")
    for path in removed:
        _check_name(path)
    return manifest


def _check_listing(entries: dict[str, zipfile.ZipInfo], listed: dict[str, dict]) -> None:
    """The zip holds exactly the files the manifest lists (and the manifest)."""
    present = set(entries) - {MANIFEST}
    for name in sorted(present - set(listed)):
        raise InvalidInput(f"bundle entry {shown(name)}: refused, it is not listed in {MANIFEST}")
    for name in sorted(set(listed) - present):
        raise InvalidInput(f"bundle: {MANIFEST} lists {shown(name)} but the zip does not hold it")
    for name in (REPLAY,):
        if name not in listed:
            raise InvalidInput(f"bundle: no {name}; it is needed to restore the session")


@contextmanager
def _import_folder(workspace: Workspace) -> Iterator[Path]:
    """A scratch folder inside the data root (same file system as its destination), named
    with this process's id so that `steer gc` knows whether its importer is still alive;
    removed whatever happens."""
    folder = workspace.data_root / f"{IMPORT_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:8]}"
    folder.mkdir()
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def import_folder_owner(name: str) -> int | None:
    """The pid of the importer that made scratch folder `name`, or None if not one of ours."""
    match = re.fullmatch(re.escape(IMPORT_PREFIX) + r"(\d+)-[0-9a-f]+", name)
    return int(match.group(1)) if match else None


def import_folder_abandoned(name: str) -> bool:
    """Whether scratch folder `name` was left by an importer that has ended."""
    pid = import_folder_owner(name)
    return pid is not None and not pid_alive(pid)


def _extract(
    archive: zipfile.ZipFile,
    entries: dict[str, zipfile.ZipInfo],
    listed: dict[str, dict],
    folder: Path,
    limits: ImportLimits,
) -> None:
    """Unpack every listed file into `folder`, counting bytes (a size header may lie) and
    checking each file's size and SHA-256 against the manifest."""
    root = folder.resolve()
    budget = limits.max_bytes
    for name in sorted(listed):
        expected = listed[name]
        target = (root / name).resolve()
        if not target.is_relative_to(root):
            raise InvalidInput(
                f"bundle entry {shown(name)}: refused, it resolves outside the folder"
            )
        try:
            size, digest = _extract_one(archive, entries[name], target, budget)
        except (zipfile.BadZipFile, zlib.error, EOFError) as error:
            raise InvalidInput(f"bundle entry {shown(name)}: damaged ({error})") from None
        except OSError as error:  # e.g. a file and a folder of the same name
            raise InvalidInput(
                f"bundle entry {shown(name)}: cannot be unpacked ({error})"
            ) from None
        budget -= size
        if size != expected["bytes"]:
            raise InvalidInput(
                f"bundle entry {shown(name)}: {size} bytes, but {MANIFEST} says {expected['bytes']}"
            )
        if digest != expected["sha256"]:
            raise InvalidInput(
                f"bundle entry {shown(name)}: SHA-256 {digest} does not match "
                f"{MANIFEST} ({expected['sha256']}); the bundle was changed or damaged"
            )


def _extract_one(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, budget: int
) -> tuple[int, str]:
    """Unpack one entry to `target`, stopping past its declared size or past `budget`
    bytes; returns (bytes written, SHA-256)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    # O_EXCL: never write through something already there.
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    with os.fdopen(descriptor, "wb") as output, archive.open(info) as source:
        while chunk := source.read(CHUNK):
            size += len(chunk)
            if size > info.file_size or size > budget:
                raise InvalidInput(
                    f"bundle entry {shown(info.filename)}: unpacks to more bytes than declared or "
                    f"than the cap of the bundle; refused as a possible zip bomb"
                )
            digest.update(chunk)
            output.write(chunk)
    return size, digest.hexdigest()


def _restore(workspace: Workspace, manifest: dict, folder: Path) -> str:
    """Restore the verified session from `folder`: the database rows, images and label CSV
    (one transaction, by `restore_session`), then the trace."""
    replay = load_replay(folder / REPLAY)
    original = manifest["session_id"]
    if replay["session"]["id"] != original:
        raise InvalidInput(
            f"bundle: {MANIFEST} names session {original} but {REPLAY} holds session "
            f"{replay['session']['id']}"
        )
    # Before the lease and the trace: a replay the CLI would refuse leaves no trace here.
    check_replay_content(replay)
    target = _free_id(workspace, original)
    with hold_lease(workspace, target):
        trace_target = trace_path(workspace, target)
        made_folder = not trace_target.parent.exists()
        trace_written = False
        try:
            if (folder / TRACE).is_file():
                trace_written = True
                _write_trace(folder / TRACE, trace_target, original, target)
            return restore_session(
                workspace,
                replay,
                images_from=folder,
                session_id=target,
                removed_images=manifest["removed_images"],
            )
        except BaseException:
            if trace_written:
                trace_target.unlink(missing_ok=True)
                if made_folder:
                    shutil.rmtree(trace_target.parent, ignore_errors=True)
            raise


def _id_free(workspace: Workspace, session_id: str) -> bool:
    """No session, image folder, label CSV or trace of that id in this data root."""
    try:
        get_session(workspace, session_id)
        return False
    except NotFound:
        pass
    return not (
        (workspace.data_root / "images" / session_id).exists()
        or workspace.labels.path(session_id).exists()
        or trace_path(workspace, session_id).exists()
    )


def _free_id(workspace: Workspace, wanted: str) -> str:
    """`wanted` when it is free here, else `wanted-2`, `wanted-3`, ... (as `restore_session`
    names a copy)."""
    candidate, number = wanted, 1
    while not _id_free(workspace, candidate):
        number += 1
        candidate = f"{wanted[: 64 - len(str(number)) - 1]}-{number}"
    return candidate


def _write_trace(source: Path, target: Path, original: str, session_id: str) -> None:
    """Copy the bundle's trace (atomically); under a new id, its events name the new id."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        raise InvalidInput(f"import: a trace already exists for session {session_id}")
    if session_id == original:
        data = source.read_bytes()
    else:
        lines = []
        try:
            text = source.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise InvalidInput(f"bundle: {TRACE} is not UTF-8 text") from None
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            event = load_json(line, f"bundle: {TRACE} line {number}")
            if isinstance(event, dict) and event.get("session_id") == original:
                event["session_id"] = session_id
            lines.append(json.dumps(event, ensure_ascii=False))
        data = "".join(line + "\n" for line in lines).encode("utf-8")
    write_atomically(target, lambda handle: handle.write(data))
