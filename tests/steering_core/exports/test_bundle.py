"""Session bundles: export is verifiable and portable, import restores it, and a hostile zip
is refused with the data root left exactly as it was."""

from __future__ import annotations

import hashlib
import json
import stat
import struct
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from steering_core.cli import cli
from steering_core.config import SessionConfig, make_config
from steering_core.errors import InvalidInput, NotFound
from steering_core.exports.bundle import (
    BUNDLE_SCHEMA,
    BUNDLE_SCHEMA_VERSION,
    IMPORT_PREFIX,
    ImportLimits,
    export_bundle,
    import_bundle,
)
from steering_core.sessions import (
    create_session,
    fork_session,
    get_candidates,
    get_session,
    list_sessions,
    submit_feedback,
)
from steering_core.storage.workspace import Workspace
from steering_core.trace import read_trace, trace_path
from tests.steering_core.exports.pages import watched_page
from tests.steering_core.exports.report_sessions import judged_session as every_mode_session
from tests.steering_core.helpers import blank_round, stored_state


def judged_session(workspace: Workspace, rounds: int = 3, prompt: str = "a red circle") -> str:
    """A session of `rounds` rounds (blank images), every round but the last judged."""
    session = create_session(workspace, make_config({"prompt": prompt, "k": 4, "d": 4, "seed": 3}))
    for index in range(rounds):
        _, candidates = blank_round(workspace, session.id)
        if index < rounds - 1:
            winner = candidates[1 + index % 3]
            submit_feedback(workspace, session.id, {"mode": "winner", "winner": winner.id})
    return session.id


def entries(bundle: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(bundle) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def manifest_of(bundle: Path) -> dict[str, Any]:
    return json.loads(entries(bundle)["manifest.json"])


def data_root_listing(workspace: Workspace) -> list[str]:
    return sorted(
        path.relative_to(workspace.data_root).as_posix() for path in workspace.data_root.rglob("*")
    )


def untouched(workspace: Workspace) -> tuple[Any, list[str]]:
    """What must not change when an import is refused: every stored row and file."""
    return stored_state(workspace), data_root_listing(workspace)


# --- export ----------------------------------------------------------------------------
def test_an_exported_bundle_unzipped_elsewhere_matches_its_manifest(
    workspace: Workspace, tmp_path: Path
) -> None:
    session_id = judged_session(workspace)
    bundle = export_bundle(workspace, session_id, tmp_path / "out" / "session.zip")
    folder = tmp_path / "elsewhere"
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["schema"] == BUNDLE_SCHEMA
    assert manifest["schema_version"] == BUNDLE_SCHEMA_VERSION
    assert manifest["session_id"] == session_id
    assert manifest["app_version"] and manifest["exported_at"]
    listed = [item["path"] for item in manifest["files"]]
    assert listed == sorted(listed)
    on_disk = sorted(
        path.relative_to(folder).as_posix() for path in folder.rglob("*") if path.is_file()
    )
    assert sorted([*listed, "manifest.json"]) == on_disk
    for item in manifest["files"]:
        data = (folder / item["path"]).read_bytes()
        assert len(data) == item["bytes"], item["path"]
        assert hashlib.sha256(data).hexdigest() == item["sha256"], item["path"]
    for name in ("report.html", "replay.json", "trace.jsonl", "labels.csv", "config.yaml"):
        assert name in listed
    images = {c.image_path for c in get_candidates(workspace, session_id)}
    assert images and images <= set(listed)


def test_a_bundle_holds_no_absolute_path_of_the_exporting_machine(
    workspace: Workspace, tmp_path: Path
) -> None:
    session_id = judged_session(workspace)
    bundle = export_bundle(workspace, session_id, tmp_path / "session.zip")
    needles = {str(workspace.data_root), str(workspace.labels_dir), str(tmp_path)}
    everything = [bundle.read_bytes(), *entries(bundle).values()]
    for data in everything:
        for needle in needles:
            assert needle.encode() not in data
    for name in entries(bundle):
        assert not name.startswith("/") and ".." not in name.split("/")


def test_two_exports_of_the_same_session_differ_only_in_the_export_time(
    workspace: Workspace, tmp_path: Path
) -> None:
    session_id = judged_session(workspace)
    first = entries(export_bundle(workspace, session_id, tmp_path / "a.zip"))
    second = entries(export_bundle(workspace, session_id, tmp_path / "b.zip"))
    first_manifest = json.loads(first.pop("manifest.json"))
    second_manifest = json.loads(second.pop("manifest.json"))
    first_manifest.pop("exported_at")
    second_manifest.pop("exported_at")
    assert first_manifest == second_manifest
    assert first == second
    with zipfile.ZipFile(tmp_path / "a.zip") as archive:
        infos = archive.infolist()
    assert [info.filename for info in infos][1:] == sorted(info.filename for info in infos[1:])
    assert {info.date_time for info in infos} == {(1980, 1, 1, 0, 0, 0)}


def test_export_refuses_a_session_whose_text_names_the_data_root(
    workspace: Workspace, tmp_path: Path
) -> None:
    session_id = judged_session(workspace, prompt=f"a cat in {workspace.data_root}/images")
    with pytest.raises(InvalidInput, match="absolute path"):
        export_bundle(workspace, session_id, tmp_path / "session.zip")
    assert list(tmp_path.glob("*.zip")) == [] and list(tmp_path.glob(".*.tmp")) == []


def test_the_report_of_an_unzipped_bundle_opens_offline(
    browser: Any, workspace: Workspace, tmp_path: Path
) -> None:
    session_id = every_mode_session(workspace)
    bundle = export_bundle(workspace, session_id, tmp_path / "session.zip")
    folder = tmp_path / "unzipped elsewhere"
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(folder)
    context = browser.new_context()
    page, errors, requests = watched_page(context)
    try:
        page.goto((folder / "report.html").as_uri())
        images = page.locator("img")
        assert images.count() >= len(get_candidates(workspace, session_id))
        for image in images.all():
            image.scroll_into_view_if_needed()  # they load lazily
        page.wait_for_function("Array.from(document.images).every(i => i.complete)")
        broken = page.evaluate(
            "Array.from(document.images).filter(i => i.naturalWidth === 0)"
            ".map(i => i.getAttribute('src'))"
        )
    finally:
        context.close()
    assert broken == []
    assert errors == []
    assert [url for url in requests if not url.startswith(folder.as_uri() + "/")] == []


def test_a_local_checkpoint_folder_is_named_by_its_last_part_only(
    workspace: Workspace, tmp_path: Path, tiny_config: SessionConfig
) -> None:
    session_id = create_session(workspace, tiny_config).id
    blank_round(workspace, session_id)
    bundle = export_bundle(workspace, session_id, tmp_path / "session.zip")
    model = tiny_config.generator.model
    assert all(model.encode() not in data for data in entries(bundle).values())
    config = yaml.safe_load(entries(bundle)["config.yaml"])
    assert config["generator"]["model"] == "\u2026/" + Path(model).name
    other = Workspace.open(tmp_path / "other-data", tmp_path / "other-labels")
    restored = get_session(other, import_bundle(other, bundle).session_id)
    assert restored.config == config


# --- import ----------------------------------------------------------------------------
def test_export_import_export_gives_the_same_files(workspace: Workspace, tmp_path: Path) -> None:
    session_id = every_mode_session(workspace)  # every feedback mode and an undo
    first = export_bundle(workspace, session_id, tmp_path / "first.zip")
    other = Workspace.open(tmp_path / "other-data", tmp_path / "other-labels")
    assert import_bundle(other, first).session_id == session_id
    assert not list(other.data_root.glob(f"{IMPORT_PREFIX}*"))
    second = export_bundle(other, session_id, tmp_path / "second.zip")
    assert manifest_of(first)["files"] == manifest_of(second)["files"]
    assert other.labels.read(session_id) == workspace.labels.read(session_id)
    assert read_trace(trace_path(other, session_id)) == read_trace(
        trace_path(workspace, session_id)
    )


def test_a_fork_is_exported_with_the_parent_images_it_shows(
    workspace: Workspace, tmp_path: Path
) -> None:
    parent = judged_session(workspace)
    incumbent = get_candidates(workspace, parent)[-4]
    fork = fork_session(workspace, incumbent.id)
    blank_round(workspace, fork.id)
    bundle = export_bundle(workspace, fork.id, tmp_path / "fork.zip")
    images = {c.image_path for c in get_candidates(workspace, fork.id)}
    assert any(not path.startswith(f"images/{fork.id}/") for path in images)
    assert images <= set(entries(bundle))
    other = Workspace.open(tmp_path / "other-data", tmp_path / "other-labels")
    restored = import_bundle(other, bundle).session_id
    for candidate in get_candidates(other, restored):
        assert (other.data_root / candidate.image_path).is_file()


def test_importing_a_session_that_exists_gives_it_a_new_id(
    workspace: Workspace, tmp_path: Path
) -> None:
    session_id = every_mode_session(workspace)
    bundle = export_bundle(workspace, session_id, tmp_path / "session.zip")
    before = stored_state(workspace)
    trace_before = trace_path(workspace, session_id).read_bytes()
    restored = import_bundle(workspace, bundle).session_id
    assert restored != session_id
    assert {s["id"] for s in list_sessions(workspace)} == {session_id, restored}
    after = stored_state(workspace)
    for table in ("sessions", "rounds", "candidates", "feedback_events", "comparisons"):
        old_rows = [row for row in after[table] if session_id in row]
        assert old_rows == [row for row in before[table] if session_id in row], table
    assert {k: v for k, v in after["files"].items() if k in before["files"]} == before["files"]
    assert trace_path(workspace, session_id).read_bytes() == trace_before
    assert get_session(workspace, restored).prompt == get_session(workspace, session_id).prompt
    assert len(get_candidates(workspace, restored)) == len(get_candidates(workspace, session_id))
    new_trace = read_trace(trace_path(workspace, restored))
    assert new_trace and {event["session_id"] for event in new_trace} == {restored}
    assert len(workspace.labels.read(restored)) == len(workspace.labels.read(session_id))
    assert not list(workspace.data_root.glob(f"{IMPORT_PREFIX}*"))


def test_a_session_whose_images_gc_removed_exports_and_imports(
    workspace: Workspace, tmp_path: Path
) -> None:
    session_id = judged_session(workspace)
    removed = get_candidates(workspace, session_id)[5].image_path
    (workspace.data_root / removed).unlink()  # as `steer gc --images` does
    first = export_bundle(workspace, session_id, tmp_path / "first.zip")
    assert manifest_of(first)["removed_images"] == [removed]
    assert removed not in entries(first)
    other = Workspace.open(tmp_path / "other-data", tmp_path / "other-labels")
    assert import_bundle(other, first).session_id == session_id
    assert not (other.data_root / removed).exists()
    second = export_bundle(other, session_id, tmp_path / "second.zip")
    assert manifest_of(second)["files"] == manifest_of(first)["files"]
    assert manifest_of(second)["removed_images"] == [removed]
    # An image missing that the manifest does not call removed is still refused.
    files = {name: data for name, data in entries(first).items() if name != "manifest.json"}
    kept = next(name for name in files if name.startswith("images/") and name != removed)
    del files[kept]
    manifest = json.loads(manifest_for(files))
    manifest.update(session_id=session_id, removed_images=[removed])
    bundle = write_zip(
        tmp_path / "undeclared.zip",
        [("manifest.json", json.dumps(manifest).encode()), *files.items()],
    )
    third = Workspace.open(tmp_path / "third-data", tmp_path / "third-labels")
    before = untouched(third)
    with pytest.raises(NotFound, match="missing"):
        import_bundle(third, bundle)
    stored, listing = untouched(third)
    # The import's lease folder may stay behind, empty.
    assert (stored, [path for path in listing if path != "leases"]) == before


# --- hostile bundles ---------------------------------------------------------------------
def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def manifest_for(files: dict[str, bytes], **changes: Any) -> bytes:
    manifest = {
        "schema": BUNDLE_SCHEMA,
        "schema_version": BUNDLE_SCHEMA_VERSION,
        "app_version": "0.1.0",
        "exported_at": "2024-01-01T00:00:00+00:00",
        "session_id": "abcdef1234",
        "files": [
            {"path": name, "bytes": len(data), "sha256": sha(data)}
            for name, data in sorted(files.items())
        ],
    }
    manifest.update(changes)
    return json.dumps(manifest).encode()


SMALL_FILES = {"replay.json": b"{}", "images/abcdef1234/r000-aa/c00.png": b"\x89PNG not really"}


def write_zip(path: Path, members: list[tuple[str | zipfile.ZipInfo, bytes]]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return path


def hostile(path: Path, files: dict[str, bytes], listed: dict[str, bytes] | None = None) -> Path:
    """A zip of `files` plus a manifest listing `listed` (default: the same files)."""
    manifest = manifest_for(files if listed is None else listed)
    return write_zip(path, [("manifest.json", manifest), *files.items()])


def symlink_entry(name: str, target: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


def lying_size(path: Path, name: str, declared: int) -> None:
    """Rewrite the uncompressed size that the zip's headers declare for entry `name`."""
    data = bytearray(path.read_bytes())
    encoded = name.encode()
    local = data.find(b"PK\x03\x04")
    while local != -1:
        name_length = struct.unpack_from("<H", data, local + 26)[0]
        if bytes(data[local + 30 : local + 30 + name_length]) == encoded:
            struct.pack_into("<I", data, local + 22, declared)
        local = data.find(b"PK\x03\x04", local + 4)
    central = data.find(b"PK\x01\x02")
    while central != -1:
        name_length = struct.unpack_from("<H", data, central + 28)[0]
        if bytes(data[central + 46 : central + 46 + name_length]) == encoded:
            struct.pack_into("<I", data, central + 24, declared)
        central = data.find(b"PK\x01\x02", central + 4)
    path.write_bytes(bytes(data))


ZEROS = b"\x00" * (8 << 20)  # 8 MiB that deflate to about 8 KiB


def case_escaping(path: Path) -> Path:
    return hostile(path, {**SMALL_FILES, "../escaped.txt": b"x"})


def case_nested_escape(path: Path) -> Path:
    return hostile(path, {**SMALL_FILES, "images/../../escaped.txt": b"x"})


def case_absolute(path: Path) -> Path:
    return hostile(path, {**SMALL_FILES, "/etc/escaped": b"x"})


def case_drive_letter(path: Path) -> Path:
    return hostile(path, {**SMALL_FILES, "C:/escaped.txt": b"x"})


def case_backslash(path: Path) -> Path:
    return hostile(path, {**SMALL_FILES, "images\\..\\..\\escaped.txt": b"x"})


def case_symlink(path: Path) -> Path:
    link = symlink_entry("images/abcdef1234/link.png", "/etc/passwd")
    files = {**SMALL_FILES, "images/abcdef1234/link.png": b"/etc/passwd"}
    return write_zip(
        path,
        [("manifest.json", manifest_for(files)), *SMALL_FILES.items(), (link, b"/etc/passwd")],
    )


def case_checksum(path: Path) -> Path:
    listed = {**SMALL_FILES, "replay.json": b"[]"}  # same size, other bytes
    return hostile(path, SMALL_FILES, listed)


def case_bomb(path: Path) -> Path:
    return hostile(path, {**SMALL_FILES, "images/abcdef1234/bomb.png": ZEROS})


def case_ratio(path: Path) -> Path:
    return hostile(path, {**SMALL_FILES, "trace.jsonl": ZEROS})


def case_lying_header(path: Path) -> Path:
    # The headers and the manifest both claim 1000 bytes; the entry holds 8 MiB.
    hostile(
        path, {**SMALL_FILES, "trace.jsonl": ZEROS}, {**SMALL_FILES, "trace.jsonl": ZEROS[:1000]}
    )
    lying_size(path, "trace.jsonl", 1000)
    return path


def case_schema_version(path: Path) -> Path:
    manifest = manifest_for(SMALL_FILES, schema_version=BUNDLE_SCHEMA_VERSION + 1)
    return write_zip(path, [("manifest.json", manifest), *SMALL_FILES.items()])


def case_schema_name(path: Path) -> Path:
    manifest = manifest_for(SMALL_FILES, schema="someone-else/bundle")
    return write_zip(path, [("manifest.json", manifest), *SMALL_FILES.items()])


def case_unlisted(path: Path) -> Path:
    return hostile(path, {**SMALL_FILES, "extra.txt": b"surprise"}, SMALL_FILES)


def case_missing(path: Path) -> Path:
    return hostile(path, SMALL_FILES, {**SMALL_FILES, "labels.csv": b"a,b\n"})


def case_duplicate(path: Path) -> Path:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate name
        return write_zip(
            path,
            [
                ("manifest.json", manifest_for(SMALL_FILES)),
                *SMALL_FILES.items(),
                ("replay.json", b"{}"),
            ],
        )


def case_no_manifest(path: Path) -> Path:
    return write_zip(path, list(SMALL_FILES.items()))


def case_bad_manifest(path: Path) -> Path:
    return write_zip(path, [("manifest.json", b"{not json"), *SMALL_FILES.items()])


def case_bad_session_id(path: Path) -> Path:
    manifest = manifest_for(SMALL_FILES, session_id="../../x")
    return write_zip(path, [("manifest.json", manifest), *SMALL_FILES.items()])


def case_too_many_entries(path: Path) -> Path:
    files = {**SMALL_FILES, **{f"images/abcdef1234/n{i}.png": b"" for i in range(20)}}
    return hostile(path, files)


def case_file_and_folder(path: Path) -> Path:
    return hostile(path, {**SMALL_FILES, "images": b"a file where a folder goes"})


def case_not_a_zip(path: Path) -> Path:
    path.write_bytes(b"this is not a zip file at all")
    return path


SMALL_CAP = ImportLimits(max_bytes=1 << 20, max_entries=10, max_ratio=100)
HOSTILE = {
    "escaping ../": (case_escaping, ImportLimits(), r"'\.\.'"),
    "escaping inside a folder": (case_nested_escape, ImportLimits(), r"'\.\.'"),
    "absolute path": (case_absolute, ImportLimits(), "absolute path"),
    "drive letter": (case_drive_letter, ImportLimits(), "absolute path"),
    "backslashes": (case_backslash, ImportLimits(), "backslash"),
    "symlink": (case_symlink, ImportLimits(), "symbolic link"),
    "checksum mismatch": (case_checksum, ImportLimits(), "SHA-256 .* does not match"),
    "zip bomb over the size cap": (case_bomb, SMALL_CAP, "zip bomb"),
    "zip bomb over the ratio cap": (case_ratio, ImportLimits(max_ratio=100), "zip bomb"),
    "lying size header": (case_lying_header, SMALL_CAP, "zip bomb|damaged|bytes"),
    "wrong schema version": (case_schema_version, ImportLimits(), "schema_version .* not supp"),
    "wrong schema": (case_schema_name, ImportLimits(), "schema must be"),
    "file not in the manifest": (case_unlisted, ImportLimits(), "not listed in manifest"),
    "file listed but missing": (case_missing, ImportLimits(), "does not hold"),
    "duplicate names": (case_duplicate, ImportLimits(), "appears twice"),
    "no manifest": (case_no_manifest, ImportLimits(), "no manifest.json"),
    "unparsable manifest": (case_bad_manifest, ImportLimits(), "manifest.json is not JSON"),
    "session id that is a path": (case_bad_session_id, ImportLimits(), "session_id"),
    "too many entries": (case_too_many_entries, SMALL_CAP, "more than the cap"),
    "a file named like a folder": (case_file_and_folder, ImportLimits(), "cannot be unpacked"),
    "not a zip": (case_not_a_zip, ImportLimits(), "not a readable zip"),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_a_hostile_bundle_is_refused_and_changes_nothing(
    workspace: Workspace, tmp_path: Path, case: str
) -> None:
    judged_session(workspace)  # the data root has something to lose
    build, limits, message = HOSTILE[case]
    bundle = build(tmp_path / "hostile.zip")
    before = untouched(workspace)
    with pytest.raises(InvalidInput, match=message):
        import_bundle(workspace, bundle, limits)
    assert untouched(workspace) == before
    assert not list(workspace.data_root.glob(f"{IMPORT_PREFIX}*"))
    assert not (tmp_path / "escaped.txt").exists()
    assert not (workspace.data_root / "escaped.txt").exists()


def test_the_lying_header_really_lies(tmp_path: Path) -> None:
    bundle = case_lying_header(tmp_path / "lying.zip")
    with zipfile.ZipFile(bundle) as archive:
        info = archive.getinfo("trace.jsonl")
    assert info.file_size == 1000 and len(ZEROS) > SMALL_CAP.max_bytes


def test_a_tampered_real_bundle_is_refused(workspace: Workspace, tmp_path: Path) -> None:
    session_id = judged_session(workspace)
    bundle = export_bundle(workspace, session_id, tmp_path / "session.zip")
    files = entries(bundle)
    files["labels.csv"] = files["labels.csv"].replace(b"winner", b"loser!")
    tampered = write_zip(tmp_path / "tampered.zip", list(files.items()))
    other = Workspace.open(tmp_path / "other-data", tmp_path / "other-labels")
    before = untouched(other)
    with pytest.raises(InvalidInput, match=r"labels\.csv.*SHA-256"):
        import_bundle(other, tampered)
    assert untouched(other) == before


# --- CLI -------------------------------------------------------------------------------
def steer(workspace: Workspace, *args: str) -> Result:
    root = ["--data-root", str(workspace.data_root), "--labels-dir", str(workspace.labels_dir)]
    return CliRunner().invoke(cli, [*root, *args], catch_exceptions=False)


def test_steer_export_and_import(workspace: Workspace, tmp_path: Path) -> None:
    session_id = judged_session(workspace)
    out = tmp_path / "bundle.zip"
    result = steer(workspace, "export", session_id, "--out", str(out))
    assert result.exit_code == 0, result.output
    assert out.is_file() and str(out) in result.output
    refused = steer(workspace, "export", session_id, "--out", str(out))
    assert refused.exit_code == 2 and "--force" in refused.output
    assert steer(workspace, "export", session_id, "--out", str(out), "--force").exit_code == 0
    other = Workspace.open(tmp_path / "other-data", tmp_path / "other-labels")
    imported = steer(other, "import", str(out), "--json")
    assert imported.exit_code == 0, imported.output
    assert json.loads(imported.stdout)["session_id"] == session_id
    again = steer(other, "import", str(out))
    assert again.exit_code == 0 and "new id" in again.output


def test_steer_export_defaults_to_the_session_id_in_the_current_folder(
    workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    session_id = judged_session(workspace)
    monkeypatch.chdir(tmp_path)
    result = steer(workspace, "export", session_id)
    assert result.exit_code == 0, result.output
    assert (tmp_path / f"{session_id}.zip").is_file()


def test_steer_import_of_a_hostile_bundle_is_a_one_line_error(
    workspace: Workspace, tmp_path: Path
) -> None:
    result = steer(workspace, "import", str(case_escaping(tmp_path / "bad.zip")))
    assert result.exit_code == 2
    assert result.output.startswith("error: bundle entry '../escaped.txt'")
