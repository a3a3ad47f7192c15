"""`steer session new`, `sessions`, `fork` and the data root: sessions from flags and
YAML, and bad flags that change nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from steering_core.cli import cli
from steering_core.storage.workspace import Workspace
from tests.steering_core.cli.helpers import error_line, ok, steer


def test_sessions_show_fork_and_diagnostics(
    tmp_path: Path, session_id: str, tiny_sd_path: Path
) -> None:
    rows = json.loads(ok(steer(tmp_path, "round", session_id, "--json")).stdout)["candidates"]
    assert str(rows[0]["candidate_id"]) in ok(steer(tmp_path, "show", session_id)).output
    fork = json.loads(ok(steer(tmp_path, "fork", str(rows[2]["candidate_id"]), "--json")).stdout)
    listing = json.loads(ok(steer(tmp_path, "sessions", "--json")).stdout)
    assert {s["id"] for s in listing} == {session_id, fork["session_id"]}
    forked = json.loads(ok(steer(tmp_path, "round", fork["session_id"], "--json")).stdout)
    assert forked["candidates"][0]["parent_candidate_id"] == rows[2]["candidate_id"]
    report = json.loads(
        ok(
            steer(
                tmp_path,
                "diagnostics",
                "--backend",
                "diffusers",
                "--model",
                str(tiny_sd_path),
                "--device",
                "cpu",
                "--json",
            )
        ).stdout
    )
    assert report["generator"]["warm"] is True
    assert report["generator"]["active_device"] == "cpu"
    assert report["versions"]["torch"] and report["versions"]["diffusers"]
    assert "gpus" in report["devices"]


def test_session_from_a_yaml_config(tmp_path: Path, tiny_sd_path: Path) -> None:
    config = tmp_path / "my.yaml"
    config.write_text(
        f"prompt: a yellow star\ngenerator:\n  backend: diffusers\n  model: {tiny_sd_path}\n"
        "  device: cpu\n"
        "k: 3\npreset: fast-explore\nsteps: 2\nwidth: 32\nheight: 32\n",
        encoding="utf-8",
    )
    created = json.loads(
        ok(steer(tmp_path, "session", "new", "--config", str(config), "--k", "5", "--json")).stdout
    )
    assert created["config"]["k"] == 5 and created["config"]["d"] == 4


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (["--prompt", ""], "prompt: must not be empty"),
        (["--prompt", "x" * 100_000], "prompt: must be at most 2000 characters"),
        (["--prompt", "a", "--k", "1"], "k: must be greater than or equal to 2"),
        (["--prompt", "a", "--k", "40"], "k: must be less than or equal to 32"),
        (["--prompt", "a", "--d", "65"], "d: must be less than or equal to 64"),
        (
            ["--prompt", "a", "--sampler", "magic"],
            "unknown sampler 'magic'; allowed: adaptive_trust_region, ",
        ),
        (["--prompt", "a", "--preference-model", "oracle"], "unknown preference model 'oracle'"),
        (["--prompt", "a", "--model", "/no/such/model"], "generator.model"),
        (["--k", "4"], "prompt: required"),
    ],
)
def test_bad_session_flags(
    tmp_path: Path, tiny_sd_path: Path, flags: list[str], expected: str
) -> None:
    if "--model" not in flags:
        flags = [*flags, "--backend", "diffusers", "--model", str(tiny_sd_path)]
    line = error_line(steer(tmp_path, "session", "new", *flags))
    assert expected in line
    workspace = Workspace.open(tmp_path / "data", tmp_path / "labels")
    assert workspace.db.query_one("SELECT COUNT(*) FROM sessions")[0] == 0


def test_malformed_yaml(tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("prompt: a\nk: [4\n", encoding="utf-8")
    assert "is not valid YAML at line" in error_line(
        steer(tmp_path, "session", "new", "--config", str(config))
    )


def test_non_utf8_prompt_bytes(tmp_path: Path, tiny_sd_path: Path) -> None:
    """Real argv bytes, as a shell would pass them, through the installed entry point."""
    command = [
        sys.executable,
        "-m",
        "steering_core",
        "--data-root",
        str(tmp_path / "data"),
        "session",
        "new",
        "--backend",
        "diffusers",
        "--model",
        str(tiny_sd_path),
        "--prompt",
    ]
    completed = subprocess.run(
        [*(c.encode() for c in command), b"a \xff\xfe circle"],
        capture_output=True,
        timeout=120,
    )
    assert completed.returncode == 2
    stderr = completed.stderr.decode()
    assert "prompt: must be valid UTF-8" in stderr and "Traceback" not in stderr


def test_data_root_from_the_environment(
    tmp_path: Path, tiny_sd_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """$STEER_DATA_ROOT moves the database, the images and (inside it) the label CSVs."""
    monkeypatch.setenv("STEER_DATA_ROOT", str(tmp_path / "elsewhere"))
    runner = CliRunner()
    created = runner.invoke(
        cli,
        [
            "session",
            "new",
            "--prompt",
            "a cat",
            "--backend",
            "diffusers",
            "--model",
            str(tiny_sd_path),
            "--k",
            "2",
            "--steps",
            "1",
            "--guidance",
            "0",
            "--width",
            "32",
            "--height",
            "32",
            "--json",
        ],
    )
    assert created.exit_code == 0, created.output
    session = json.loads(created.stdout)["session_id"]
    # Guidance 0 and one step: how SD-Turbo-style models are sampled.
    assert runner.invoke(cli, ["round", "--quiet"]).exit_code == 0
    assert runner.invoke(cli, ["feedback", "--winner", "1"]).exit_code == 0
    assert (tmp_path / "elsewhere" / "steering.sqlite3").exists()
    assert (tmp_path / "elsewhere" / "labels" / f"{session}.csv").exists()
    assert list((tmp_path / "elsewhere" / "images" / session).rglob("*.png"))


def test_the_built_in_model_is_the_default(tmp_path: Path) -> None:
    """What the README promises on a fresh clone: no --model, no network, real images."""
    ok(steer(tmp_path, "session", "new", "--prompt", "a yellow star on a purple background"))
    rows = json.loads(ok(steer(tmp_path, "round", "--json")).stdout)["candidates"]
    assert len(rows) == 8
    from PIL import Image

    from steering_core.builtin.world import COLOURS
    from steering_core.metrics import classify_shape, colour_scores

    baseline = Image.open(rows[0]["image"])
    assert baseline.size == (32, 32)
    assert colour_scores(baseline, COLOURS["purple"], COLOURS["yellow"]).background_correct
    assert classify_shape(baseline)[0] == "star"


def test_plugins_lists_every_plug_in_with_the_parameters_the_config_checks(
    tmp_path: Path,
) -> None:
    from steering_core.hyperparameters import describe_parameters
    from steering_core.samplers.base import SAMPLERS

    listing = json.loads(ok(steer(tmp_path, "plugins", "--json")).stdout)
    assert {e["name"] for e in listing["samplers"]} == set(SAMPLERS.names())
    assert {e["name"] for e in listing["generators"]} == {"builtin", "diffusers"}
    thompson = next(e for e in listing["samplers"] if e["name"] == "thompson")
    declared = describe_parameters(SAMPLERS, "thompson")
    assert [p["name"] for p in thompson["parameters"]] == [spec.name for spec in declared]
    text = ok(steer(tmp_path, "plugins", "models")).output
    assert "prior_strength (default 1.0)" in text and "samplers:" not in text
    assert "steer plugins" in ok(steer(tmp_path, "session", "new", "--help")).output


def test_sessions_are_named_renamed_and_forks_say_where_they_came_from(
    tmp_path: Path, session_id: str
) -> None:
    ok(steer(tmp_path, "session", "rename", session_id, "warm cats"))
    rows = json.loads(ok(steer(tmp_path, "round", session_id, "--json")).stdout)["candidates"]
    fork = json.loads(
        ok(
            steer(
                tmp_path,
                "fork",
                str(rows[2]["candidate_id"]),
                "--prompt",
                "a blue circle",
                "--name",
                "blue",
                "--json",
            )
        ).stdout
    )
    assert fork["name"] == "blue"
    assert (fork["forked_from_session"], fork["forked_from_round"]) == (session_id, 0)
    listing = ok(steer(tmp_path, "sessions")).output
    assert "'warm cats'" in listing and "'blue'" in listing
    assert f"fork of #{session_id}, round 0" in listing
    status = ok(steer(tmp_path, "status", fork["session_id"])).output
    assert status.startswith(f"session blue (#{fork['session_id']}): 'a blue circle'")
    # Named by its card number (3), as the dashboard numbers it; the id is for `steer fork`.
    assert f"fork of #{session_id}, round 0, candidate 3 (id {rows[2]['candidate_id']})" in status
    by_id = {s["id"]: s for s in json.loads(ok(steer(tmp_path, "sessions", "--json")).stdout)}
    assert by_id[session_id]["name"] == "warm cats"
    assert by_id[fork["session_id"]]["prompt"] == "a blue circle"


def test_a_session_new_with_a_name_and_a_bad_name(tmp_path: Path, tiny_sd_path: Path) -> None:
    model = ["--backend", "diffusers", "--model", str(tiny_sd_path), "--prompt", "a cat"]
    created = json.loads(
        ok(steer(tmp_path, "session", "new", *model, "--name", "cats", "--json")).stdout
    )
    assert created["name"] == "cats"
    line = error_line(steer(tmp_path, "session", "new", *model, "--name", "n" * 81))
    assert "--name: at most 80 characters (got 81)" in line
    line = error_line(steer(tmp_path, "session", "rename", created["session_id"], "a\nb"))
    assert "NAME: one line of text" in line
    listing = json.loads(ok(steer(tmp_path, "sessions", "--json")).stdout)
    assert [s["name"] for s in listing] == ["cats"]
