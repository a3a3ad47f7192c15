"""What a bundle's replay says passes the same checks as the CLI and the config: a replay
that names another session's images, an oversized prompt, or a config the CLI would refuse
is not imported, and the data root stays byte for byte as it was."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from steering_core.errors import InvalidInput
from steering_core.exports.bundle import export_bundle, import_bundle
from steering_core.sessions import fork_session, get_candidates
from steering_core.storage.workspace import Workspace
from tests.steering_core.exports.test_bundle import (
    entries,
    judged_session,
    manifest_for,
    untouched,
    write_zip,
)
from tests.steering_core.helpers import blank_round

Change = Callable[[dict[str, Any], dict[str, bytes], str], None]


def rebuilt(bundle: Path, out: Path, change: Change, victim: str) -> Path:
    """`bundle` with its replay changed by `change` (which may add files), re-signed: a
    manifest with the right checksums, as an attacker would write it."""
    files = {name: data for name, data in entries(bundle).items() if name != "manifest.json"}
    replay = json.loads(files["replay.json"])
    change(replay, files, victim)
    files["replay.json"] = json.dumps(replay).encode()
    manifest = manifest_for(files, session_id=replay["session"]["id"], removed_images=[])
    return write_zip(out, [("manifest.json", manifest), *files.items()])


def into_another_session(replay: dict[str, Any], files: dict[str, bytes], victim: str) -> None:
    candidate = replay["rounds"][1]["candidates"][2]
    path = f"images/{victim}/r000-planted/c00.png"
    files[path] = files[candidate["image_path"]]
    candidate["image_path"] = path


def huge_prompt(replay: dict[str, Any], files: dict[str, bytes], victim: str) -> None:
    replay["session"]["prompt"] = "x" * 10_000_000
    replay["session"]["config"]["prompt"] = "x" * 10_000_000


def config(**changes: Any) -> Change:
    def change(replay: dict[str, Any], files: dict[str, bytes], victim: str) -> None:
        settings = replay["session"]["config"]
        for dotted, value in changes.items():
            *parents, name = dotted.split("__")
            target = settings
            for parent in parents:
                target = target[parent]
            target[name] = value

    return change


CASES: dict[str, tuple[Change, str]] = {
    "image in another session's folder": (
        into_another_session,
        r"image_path: .*inside images/\w+/",
    ),
    "10 MB prompt": (huge_prompt, "prompt: must be at most 2000 characters"),
    "k = 1000": (config(k=1000), "k: must be less than or equal to 32"),
    "unknown sampler": (config(sampler__name="magic"), "unknown sampler 'magic'"),
    "absolute model path": (
        config(generator__model="/home/someone/models/sd"),
        "generator.model: .*absolute path",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_replay_the_cli_would_refuse_is_not_imported(
    workspace: Workspace, tmp_path: Path, case: str
) -> None:
    change, message = CASES[case]
    source = Workspace.open(tmp_path / "source-data", tmp_path / "source-labels")
    bundle = export_bundle(source, judged_session(source), tmp_path / "session.zip")
    victim = judged_session(workspace)  # the target has a session to lose
    hostile = rebuilt(bundle, tmp_path / "hostile.zip", change, victim)
    before = untouched(workspace)
    with pytest.raises(InvalidInput, match=message):
        import_bundle(workspace, hostile)
    assert untouched(workspace) == before


def test_a_forks_origin_images_land_in_its_own_folder(workspace: Workspace, tmp_path: Path) -> None:
    """The first incumbent of a fork shows its origin's image; imported, that image is
    copied into the fork's own folder, never into the origin's (which the target may hold)."""
    parent = judged_session(workspace)
    fork = fork_session(workspace, get_candidates(workspace, parent)[-4].id)
    blank_round(workspace, fork.id)
    bundle = export_bundle(workspace, fork.id, tmp_path / "fork.zip")
    before = untouched(workspace)
    restored = import_bundle(workspace, bundle).session_id
    for candidate in get_candidates(workspace, restored):
        assert candidate.image_path.startswith(f"images/{restored}/")
        assert (workspace.data_root / candidate.image_path).is_file()
    _, listing = untouched(workspace)
    assert [p for p in before[1] if p.startswith(f"images/{parent}")] == [
        p for p in listing if p.startswith(f"images/{parent}")
    ]
