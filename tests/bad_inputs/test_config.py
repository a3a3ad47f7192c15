"""The bad-input corpus for config files (`steer session new --config`, `steer bench`) and
for the JSON of imported bundles (`steer import`): each refused with exit 2, one line of at
most 300 characters naming the field, and the data root unchanged."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from steering_core.cli import cli
from steering_core.config import make_config
from steering_core.exports.bundle import export_bundle
from steering_core.sessions import create_session, submit_feedback
from steering_core.storage.workspace import Workspace
from tests.bad_inputs.snapshot import snapshot
from tests.steering_core.helpers import blank_round

MAX_MESSAGE = 300
# 342 bytes that expand to 9**9 strings: the "billion laughs" of YAML.
ALIAS_BOMB = (
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    + "".join(
        f"{name}: &{name} [{','.join([f'*{previous}'] * 9)}]\n"
        for previous, name in zip("abcdefgh", "bcdefghi", strict=True)
    )
).encode()
LONG = "x" * 100_000


def nested_block(levels: int) -> str:
    """A mapping nested `levels` deep in block style."""
    return "".join(f"{'  ' * level}l{level}:\n" for level in range(levels)) + "  " * levels + "1\n"


@pytest.fixture(scope="module")
def data_root(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """A data root holding one judged session, and a bundle exported from it."""
    folder = tmp_path_factory.mktemp("bad-config")
    workspace = Workspace.open(folder / "data", folder / "labels")
    session = create_session(workspace, make_config({"prompt": "a red circle", "k": 4, "d": 4}))
    _, candidates = blank_round(workspace, session.id)
    submit_feedback(workspace, session.id, {"mode": "winner", "winner": candidates[1].id})
    blank_round(workspace, session.id)
    bundle = export_bundle(workspace, session.id, folder / "session.zip")
    return folder / "data", folder / "labels", bundle


def refused(data_root: tuple[Path, Path, Path], *args: str) -> str:
    """Run `steer ARGS` on the data root; assert exit 2, one line of at most 300 characters
    and an unchanged data root; return the line."""
    root, labels, _ = data_root
    before = snapshot(root, labels)
    result = CliRunner().invoke(cli, ["--data-root", str(root), "--labels-dir", str(labels), *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert result.exit_code == 2, result.output[:500]
    lines = result.output.splitlines()
    assert len(lines) == 1, result.output[:500]
    assert lines[0].startswith("error: ") and len(lines[0]) <= MAX_MESSAGE, lines[0][:500]
    assert snapshot(root, labels) == before
    return lines[0]


# --- session configs: `steer session new --config FILE` ------------------------------------
SESSION_CONFIGS: list[tuple[str, bytes, str]] = [
    # (case, file content, what the message must say)
    ("unclosed flow list", b"prompt: [a, b\n", "not valid YAML at line 2"),
    ("tab indentation", b"prompt: a\n\tk: 3\n", "not valid YAML"),
    ("unclosed quote", b'prompt: "a red circle\n', "not valid YAML"),
    ("two documents", b"prompt: a\n---\nprompt: b\n", "not valid YAML"),
    ("unhashable key", b"? [a]\n: b\n", "not valid YAML"),
    ("undefined alias", b"prompt: *nope\n", "undefined alias"),
    ("python tag", b"prompt: !!python/object/apply:os.system [ls]\n", "not valid YAML"),
    ("NUL byte", b"prompt: a\x00b\n", "not valid YAML"),
    ("integer of 5000 digits", b"prompt: a\nk: " + b"9" * 5000 + b"\n", "cannot be read"),
    ("k is a word", b"prompt: a\nk: many\n", "k: "),
    ("k is a list", b"prompt: a\nk: [1, 2]\n", "k: "),
    ("k is a fraction", b"prompt: a\nk: 3.5\n", "k: "),
    ("k of 100 kB", f"prompt: a\nk: {LONG}\n".encode(), "k: "),
    ("k too small", b"prompt: a\nk: 1\n", "k: must be greater than or equal to 2"),
    ("k too large", b"prompt: a\nk: 33\n", "k: must be less than or equal to 32"),
    ("d zero", b"prompt: a\nd: 0\n", "d: "),
    ("width not a multiple of 8", b"prompt: a\nwidth: 30\n", "width"),
    ("negative seed", b"prompt: a\nseed: -1\n", "seed: "),
    ("seed beyond 32 bits", b"prompt: a\nseed: 1099511627776\n", "seed: "),
    ("zero trust radius", b"prompt: a\ntrust_radius: 0\n", "trust_radius: "),
    ("infinite guidance", b"prompt: a\nguidance_scale: .inf\n", "guidance_scale: "),
    ("guidance is a word", b"prompt: a\nguidance_scale: high\n", "guidance_scale: "),
    ("probe every 101", b"prompt: a\nrepeat_probe_every: 101\n", "repeat_probe_every: "),
    ("unknown field", b"prompt: a\ncolour: red\n", "colour: unknown field"),
    ("unknown field of 100 kB", f"prompt: a\n? {LONG}\n: red\n".encode(), "unknown field"),
    ("unknown nested field", b"prompt: a\ngenerator: {colour: red}\n", "generator.colour"),
    ("empty prompt", b"prompt: ''\n", "prompt: must not be empty"),
    ("no prompt", b"k: 4\n", "prompt: required"),
    ("prompt of 100 kB", f"prompt: {LONG}\n".encode(), "prompt: must be at most 2000"),
    ("prompt is a mapping", b"prompt: {a: 1}\n", "prompt: "),
    ("negative prompt of 5000", f"prompt: a\nnegative_prompt: {'n' * 5000}\n".encode(), "negative"),
    ("unknown feedback mode", b"prompt: a\nfeedback_mode: vibes\n", "feedback_mode: "),
    ("unknown preset", b"prompt: a\npreset: ultra\n", "preset: "),
    ("unknown sampler", b"prompt: a\nsampler: {name: nope}\n", "unknown sampler"),
    ("sampler of 100 kB", f"prompt: a\nsampler: {{name: {LONG}}}\n".encode(), "unknown sampler"),
    ("sampler is a word", b"prompt: a\nsampler: nope\n", "sampler"),
    ("unknown sampler param", b"prompt: a\nsampler: {name: trust_region, params: {x: 1}}\n", "x"),
    ("unknown device", b"prompt: a\ngenerator: {device: tpu}\n", "generator.device"),
    ("device of 100 kB", f"prompt: a\ngenerator: {{device: {LONG}}}\n".encode(), "device"),
    ("unknown dtype", b"prompt: a\ngenerator: {dtype: float8}\n", "generator.dtype"),
    ("batch size zero", b"prompt: a\ngenerator: {batch_size: 0}\n", "generator.batch_size"),
    ("attribute basis without pairs", b"prompt: a\nbasis: {kind: attribute}\n", "basis"),
    ("more pairs than d", b"prompt: a\nd: 1\nbasis: {pairs: [[a, b], [c, d]]}\n", "basis.pairs"),
    ("a list, not a mapping", b"- prompt\n- a\n", "must be a mapping"),
    ("a word, not a mapping", b"a red circle\n", "must be a mapping"),
    ("empty file", b"", "prompt: required"),
    ("comments only", b"# nothing here\n", "prompt: required"),
    ("alias bomb", ALIAS_BOMB, "alias bomb"),
    (
        "alias bomb in a field",
        b"prompt: a\nsampler:\n  params:\n    " + ALIAS_BOMB.replace(b"\n", b"\n    "),
        "alias bomb",
    ),
    ("flow nesting 100 deep", b"prompt: " + b"[" * 100 + b"]" * 100 + b"\n", "nested deeper"),
    ("flow nesting 100000 deep", b"[" * 100_000, "config file"),
    ("block nesting 40 deep", nested_block(40).encode(), "nested deeper than 32"),
    (
        "alias adds depth",
        ("a: &a " + "[" * 30 + "1" + "]" * 30 + "\nprompt: [[[[*a]]]]\n").encode(),
        "nested deeper",
    ),
    ("file of 300 kB", b"prompt: a\n" + b"# padding\n" * 30_000, "larger than"),
    ("binary garbage", bytes(range(256)) * 8, "not UTF-8"),
    ("Latin-1 text", "prompt: café\n".encode("latin-1"), "not UTF-8"),
    ("UTF-16 text", "prompt: a\n".encode("utf-16"), "not UTF-8"),
]


@pytest.mark.parametrize(
    ("content", "expected"),
    [case[1:] for case in SESSION_CONFIGS],
    ids=[case[0] for case in SESSION_CONFIGS],
)
def test_a_bad_session_config_is_refused_in_one_line(
    data_root: tuple[Path, Path, Path], tmp_path: Path, content: bytes, expected: str
) -> None:
    path = tmp_path / "session.yaml"
    path.write_bytes(content)
    assert expected in refused(data_root, "session", "new", "--config", str(path))


def test_a_missing_config_file_is_refused(
    data_root: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    line = refused(data_root, "session", "new", "--config", str(tmp_path / "none.yaml"))
    assert "does not exist" in line


def test_a_config_of_one_gigabyte_is_refused(
    data_root: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    path = tmp_path / "huge.yaml"
    with path.open("wb") as handle:
        handle.write(b"prompt: a\n")
        handle.truncate(2**30)  # sparse: no gigabyte is written to the disk
    line = refused(data_root, "session", "new", "--config", str(path))
    assert "larger than" in line


# --- benchmark configs: `steer bench FILE` -------------------------------------------------
BENCH_CONFIGS: list[tuple[str, bytes, str]] = [
    ("unclosed flow list", b"rounds: [1, 2\n", "not valid YAML at line 2"),
    ("alias bomb", ALIAS_BOMB, "alias bomb"),
    ("block nesting 40 deep", nested_block(40).encode(), "nested deeper"),
    ("binary garbage", bytes(range(256)) * 8, "not UTF-8"),
    ("file of 300 kB", b"rounds: 2\n" + b"# padding\n" * 30_000, "larger than"),
    ("a list, not a mapping", b"- rounds\n", "must be a mapping"),
    ("unknown field", b"rounds: 2\ncolour: red\n", "colour: unknown field"),
    ("zero seeds", b"samplers: [trust_region]\nmodels: [bradley_terry]\nseeds: 0\n", "seeds: "),
    ("rounds is a word", b"rounds: many\n", "rounds: "),
    ("unknown feedback", b"feedback: [vibes]\n", "feedback: "),
    ("unknown baseline", b"baselines: [nope]\n", "unknown baselines"),
    ("method without +", b"methods: [nope]\n", "SAMPLER+MODEL"),
    ("method of 100 kB", f"methods: [{LONG}]\n".encode(), "methods: "),
    ("unknown sampler", b"methods: [nope+bradley_terry]\n", "unknown sampler"),
    ("bad name", b"name: 'a/b'\n", "name: "),
    ("dimension zero", b"dimensions: [0]\n", "dimensions: "),
    ("integer of 5000 digits", b"rounds: " + b"9" * 5000 + b"\n", "cannot be read"),
    ("no method", b"rounds: 2\n", "methods: name at least one method"),
]


@pytest.mark.parametrize(
    ("content", "expected"),
    [case[1:] for case in BENCH_CONFIGS],
    ids=[case[0] for case in BENCH_CONFIGS],
)
def test_a_bad_bench_config_is_refused_in_one_line(
    data_root: tuple[Path, Path, Path], tmp_path: Path, content: bytes, expected: str
) -> None:
    path = tmp_path / "grid.yaml"
    path.write_bytes(content)
    assert expected in refused(data_root, "bench", str(path))
    assert [item.name for item in tmp_path.iterdir()] == ["grid.yaml"]  # no results folder


# --- imported bundles: `steer import FILE` --------------------------------------------------
def rebuilt(bundle: Path, out: Path, changes: dict[str, bytes], manifest: bytes | None) -> Path:
    """A copy of `bundle` with entries replaced by `changes`, and the manifest listing
    their new sizes and checksums (or replaced whole by `manifest`)."""
    with zipfile.ZipFile(bundle) as archive:
        entries = {name: archive.read(name) for name in archive.namelist()}
    entries.update(changes)
    listing = json.loads(entries["manifest.json"])
    for item in listing["files"]:
        data = entries[item["path"]]
        item["bytes"], item["sha256"] = len(data), hashlib.sha256(data).hexdigest()
    entries["manifest.json"] = manifest if manifest is not None else json.dumps(listing).encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    out.write_bytes(buffer.getvalue())
    return out


def _manifest_with(bundle: Path, **fields: Any) -> bytes:
    with zipfile.ZipFile(bundle) as archive:
        return json.dumps({**json.loads(archive.read("manifest.json")), **fields}).encode()


def _listed(bundle: Path) -> list[dict[str, Any]]:
    with zipfile.ZipFile(bundle) as archive:
        return json.loads(archive.read("manifest.json"))["files"]


def _replay_with(bundle: Path, edit: Callable[[dict[str, Any]], Any]) -> dict[str, bytes]:
    with zipfile.ZipFile(bundle) as archive:
        replay = json.loads(archive.read("replay.json"))
    edit(replay)
    return {"replay.json": json.dumps(replay).encode()}


def _deep(levels: int) -> Any:
    value: Any = 1
    for _ in range(levels):
        value = [value]
    return value


BUNDLES: list[tuple[str, Callable[[Path], tuple[dict[str, bytes], bytes | None]], str]] = [
    ("manifest nested 100000 deep", lambda b: ({}, b"[" * 100_000 + b"]" * 100_000), "nested"),
    ("manifest field nested 40 deep", lambda b: ({}, _manifest_with(b, x=_deep(40))), "nested"),
    ("manifest not JSON", lambda b: ({}, b"{not json"), "manifest.json is not JSON"),
    ("manifest not UTF-8", lambda b: ({}, b'{"schema": "\xff"}'), "manifest.json is not UTF-8"),
    ("manifest a list", lambda b: ({}, b"[1, 2]"), "must be a JSON object"),
    ("manifest integer of 5000 digits", lambda b: ({}, b"[" + b"9" * 5000 + b"]"), "cannot be"),
    ("manifest schema of 100 kB", lambda b: ({}, _manifest_with(b, schema=LONG)), "schema"),
    ("manifest session id of 100 kB", lambda b: ({}, _manifest_with(b, session_id=LONG)), "id"),
    ("manifest version a list", lambda b: ({}, _manifest_with(b, schema_version=[1] * 10**5)), "v"),
    (
        "manifest lists a path of 100 kB",
        lambda b: (
            {},
            _manifest_with(b, files=[*_listed(b), {"path": LONG, "bytes": 1, "sha256": "0" * 64}]),
        ),
        "manifest.json lists",
    ),
    ("replay nested 100000 deep", lambda b: ({"replay.json": b"[" * 100_000}, None), "replay"),
    (
        "replay field nested 40 deep",
        lambda b: (_replay_with(b, lambda r: r["session"]["config"].update(x=_deep(40))), None),
        "nested deeper",
    ),
    ("replay not JSON", lambda b: ({"replay.json": b"{"}, None), "is not JSON"),
    (
        "replay schema of 100 kB",
        lambda b: (_replay_with(b, lambda r: r.update(schema=LONG)), None),
        "replay.schema",
    ),
    (
        "replay image path of 100 kB",
        lambda b: (
            _replay_with(b, lambda r: r["rounds"][0]["candidates"][0].update(image_path=LONG)),
            None,
        ),
        "image_path",
    ),
    (
        "replay config with an unknown field of 100 kB",
        lambda b: (_replay_with(b, lambda r: r["session"]["config"].update({LONG: 1})), None),
        "unknown field",
    ),
    (
        "trace line nested 100000 deep",
        lambda b: ({"trace.jsonl": b"[" * 100_000 + b"\n"}, None),
        "trace.jsonl line 1",
    ),
]


@pytest.mark.parametrize(
    ("make", "expected"),
    [case[1:] for case in BUNDLES],
    ids=[case[0] for case in BUNDLES],
)
def test_a_hostile_bundle_json_is_refused_in_one_line(
    data_root: tuple[Path, Path, Path],
    tmp_path: Path,
    make: Callable[[Path], tuple[dict[str, bytes], bytes | None]],
    expected: str,
) -> None:
    bundle = data_root[2]
    changes, manifest = make(bundle)
    hostile = rebuilt(bundle, tmp_path / "hostile.zip", changes, manifest)
    assert expected in refused(data_root, "import", str(hostile))
