"""The `steer` CLI in-process: five rounds end to end, and bad inputs that change nothing."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner, Result

from steering_core.cli import cli
from steering_core.sessions import get_candidates, get_feedback_events, lineage
from steering_core.storage.workspace import Workspace
from tests.steering_core.helpers import stored_state


def steer(tmp_path: Path, *args: str) -> Result:
    root = ["--data-root", str(tmp_path / "data"), "--labels-dir", str(tmp_path / "labels")]
    return CliRunner().invoke(cli, [*root, *args], catch_exceptions=False)


def ok(result: Result) -> Result:
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture
def session_id(tmp_path: Path, tiny_sd_path: Path) -> str:
    result = ok(
        steer(
            tmp_path,
            "session",
            "new",
            "--prompt",
            "a red circle",
            "--backend",
            "diffusers",
            "--model",
            str(tiny_sd_path),
            "--device",
            "cpu",
            "--steps",
            "2",
            "--k",
            "4",
            "--d",
            "4",
            "--width",
            "32",
            "--height",
            "32",
            "--seed",
            "3",
            "--json",
        )
    )
    return json.loads(result.stdout)["session_id"]


def test_five_rounds_with_a_different_feedback_mode_each(tmp_path: Path, session_id: str) -> None:
    feedback = [
        ["--winner", "2"],
        ["--rate", "0=1", "--rate", "1=4", "--rate", "2=5", "--rate", "3=2", "--confidence", "0.8"],
        ["--pairwise", "1>0"],
        ["--rank", "3,1,0"],
        ["--approve", "2", "--reject", "1,3"],
    ]
    incumbents = []
    for flags in feedback:
        rows = json.loads(ok(steer(tmp_path, "round", session_id, "--json")).stdout)["candidates"]
        assert [r["slot"] for r in rows] == [0, 1, 2, 3]
        assert all(Path(r["image"]).exists() for r in rows)
        incumbents.append(rows[0]["candidate_id"])
        ok(steer(tmp_path, "feedback", session_id, *flags))
    ok(steer(tmp_path, "feedback", session_id, "--reject-all", "--reason", "all too dark"))
    ok(steer(tmp_path, "feedback", session_id, "--critique", "lighting,colour", "--text", "flat"))
    ok(steer(tmp_path, "feedback", session_id, "--cannot-decide", "--between", "1,3"))
    ok(steer(tmp_path, "undo", session_id))

    workspace = Workspace.open(tmp_path / "data", tmp_path / "labels")
    events = get_feedback_events(workspace, session_id)
    assert [e.mode for e in events] == [
        "winner",
        "rating",
        "pairwise",
        "ranking",
        "approve_reject",
        "reject_all",
        "critique",
        "cannot_decide",
        "undo",
    ]
    assert [e.round_index for e in events[:5]] == [0, 1, 2, 3, 4]
    assert events[7].undone_at is not None and events[8].undoes_event_id == events[7].id
    assert all(e.source == "cli" for e in events)
    # Comparisons: winner of 4 -> 3; ratings 4 distinct -> 6; pairwise 1; ranking top-3 of 4 -> 6;
    # approve 1 / reject 2 / 1 unmarked -> 2 + 1 + 2; reject-all -> 4.
    assert [len(e.comparisons) for e in events[:6]] == [3, 6, 1, 6, 5, 4]
    assert events[1].raw["confidence"] == 0.8
    stored = workspace.db.query_one("SELECT COUNT(*) FROM comparisons")[0]
    # "Cannot decide between 1 and 3": they tie, and each beats the other two.
    assert stored == 3 + 6 + 1 + 6 + 5 + 4 + 1 + 4

    # The best of each round, by each mode, is re-shown as the next round's incumbent, and
    # every candidate of a round descends from that incumbent's candidate.
    candidates = {c.id: c for c in get_candidates(workspace, session_id)}
    best_slot = {0: 2, 1: 2, 2: 1, 3: 3}  # winner 2; 5 stars on 2; 1>0; rank 3 first
    for round_index, slot in best_slot.items():
        best = next(
            c for c in candidates.values() if c.round_index == round_index and c.slot == slot
        )
        incumbent = candidates[incumbents[round_index + 1]]
        np.testing.assert_array_equal(incumbent.steering_vector, best.steering_vector)
        assert incumbent.image_path == best.image_path and incumbent.seed == best.seed
        children = [c for c in candidates.values() if c.round_index == round_index + 1]
        assert {c.parent_candidate_id for c in children} == {best.id}
    chain = lineage(workspace, incumbents[-1])
    assert [c.round_index for c in chain] == [4, 3, 2, 1, 0]

    status = json.loads(ok(steer(tmp_path, "status", session_id, "--json")).stdout)
    assert status["rounds"] == 5 and status["judgments"] == 7 and status["undone"] == 1
    # Round 4's approval was followed by a reject-all of the same round: nothing there is
    # undefeated, so the incumbent stays the one round 4 re-showed.
    assert status["incumbent"]["candidate_id"] == incumbents[-1]

    with open(tmp_path / "labels" / f"{session_id}.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["event_id"]) for r in rows] == [e.id for e in events]
    assert json.loads(rows[5]["raw_json"])["reason"] == "all too dark"
    assert ok(steer(tmp_path, "verify", session_id)).output.strip().endswith("ok")


def test_winner_slot_zero_keeps_the_incumbent(tmp_path: Path, session_id: str) -> None:
    first = json.loads(ok(steer(tmp_path, "round", session_id, "--json")).stdout)["candidates"]
    stored = ok(steer(tmp_path, "feedback", session_id, "--winner", "0")).stdout
    assert "winner" in stored and "3 comparisons" in stored
    status = json.loads(ok(steer(tmp_path, "status", session_id, "--json")).stdout)
    assert status["incumbent"]["candidate_id"] == first[0]["candidate_id"]
    ok(steer(tmp_path, "feedback", session_id, "--pairwise", "2>1"))
    # The pairwise winner never lost; the incumbent did not lose either: the model decides,
    # and a candidate that just lost (slot 1) is never promoted.
    status = json.loads(ok(steer(tmp_path, "status", session_id, "--json")).stdout)
    assert status["incumbent"]["candidate_id"] in {
        first[0]["candidate_id"],
        first[2]["candidate_id"],
    }


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
    assert report["torch"] and report["diffusers"]


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


def error_line(result: Result) -> str:
    assert result.exit_code != 0
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output  # one line, no traceback
    assert lines[0].startswith("error")
    return lines[0]


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


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (["--rate", "0=7"], "--rate: stars must be 1-5 (got 7 for slot 0)"),
        (["--rank", "1,2,1"], "ranked twice"),
        (["--winner", "9"], "--winner: slot 9 is not in this round"),
        (["--winner", "1", "--cannot-decide"], "give exactly one feedback mode"),
        (["--cannot-decide", "--between", "1"], "between: name at least two"),
        (["--winner", "1", "--between", "1,2"], "--between goes with --cannot-decide"),
        ([], "give exactly one feedback mode"),
        (["--pairwise", "1~2"], "--pairwise: expected A>B"),
        (["--critique", "vibes"], "tags"),
        (["--winner", "1", "--confidence", "2"], "confidence"),
        (["--winner", "1", "--round", "5"], "has no round 5"),
    ],
)
def test_bad_feedback_flags_change_nothing(
    tmp_path: Path, session_id: str, flags: list[str], expected: str
) -> None:
    ok(steer(tmp_path, "round", session_id, "--quiet"))
    ok(steer(tmp_path, "feedback", session_id, "--winner", "1"))
    workspace = Workspace.open(tmp_path / "data", tmp_path / "labels")
    before = stored_state(workspace)
    assert expected in error_line(steer(tmp_path, "feedback", session_id, *flags))
    assert stored_state(workspace) == before


def test_the_funnel_and_more_like_this_from_the_cli(tmp_path: Path, session_id: str) -> None:
    wide = json.loads(ok(steer(tmp_path, "round", session_id, "--k", "6", "--json")).stdout)
    assert len(wide["candidates"]) == 6
    # The funnel: a round of 6 lets one keep 3; they are re-shown beside a variation each.
    ok(steer(tmp_path, "feedback", session_id, "--approve", "1,3,4", "--reject", "0,2,5"))
    stage = json.loads(ok(steer(tmp_path, "round", session_id, "--funnel", "--json")).stdout)
    kept = [wide["candidates"][s]["candidate_id"] for s in (1, 3, 4)]
    assert stage["funnel"] == {"kept": kept, "finished": False}
    assert len(stage["candidates"]) == 7
    assert {r["parent_candidate_id"] for r in stage["candidates"][1:]} == set(kept)
    ok(steer(tmp_path, "feedback", session_id, "--approve", "5"))
    chosen = stage["candidates"][5]["candidate_id"]
    finished = ok(steer(tmp_path, "round", session_id, "--funnel"))
    assert f"funnel finished: kept #{chosen}" in finished.output
    normal = json.loads(ok(steer(tmp_path, "show", session_id, "--json")).stdout)
    assert len(normal) == 4 and normal[0]["parent_candidate_id"] == chosen

    # "More like this" on slots 1 and 3 of that round, in a round of 5.
    around = json.loads(
        ok(steer(tmp_path, "round", session_id, "--around", "1,3", "--k", "5", "--json")).stdout
    )["candidates"]
    assert [r["role"] for r in around] == ["incumbent", "kept", "kept", "variation", "variation"]
    ids = [normal[s]["candidate_id"] for s in (0, 1, 3, 1, 3)]
    assert [r["parent_candidate_id"] for r in around] == ids
    assert [r["image"] for r in around[:3]] == [normal[s]["image"] for s in (0, 1, 3)]


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (["--around", "9"], "--around: slot 9 is not in round 0 (slots 0-3)"),
        (["--around", "1,1"], "--around: slot 1 is named twice"),
        (["--around", "1,x"], "--around: expected comma-separated slot numbers"),
        (["--around", ","], "--around: name at least one slot"),
        (["--around", "0,1,2,3", "--k", "3"], "around: 4 candidates do not fit"),
        (["--k", "1"], "k: must be greater than or equal to 2 (got 1)"),
        (["--k", "40"], "k: must be less than or equal to 32 (got 40)"),
        (["--k", "many"], "--k: expected a whole number of candidates (got 'many')"),
        (["--funnel", "--k", "5"], "--funnel: the funnel chooses --around and --k"),
        (["--funnel"], "--funnel: approved: nothing was kept in round 0"),
    ],
)
def test_bad_round_flags_change_nothing(
    tmp_path: Path, session_id: str, flags: list[str], expected: str
) -> None:
    ok(steer(tmp_path, "round", session_id, "--quiet"))
    ok(steer(tmp_path, "feedback", session_id, "--reject-all"))
    workspace = Workspace.open(tmp_path / "data", tmp_path / "labels")
    before = stored_state(workspace)
    result = steer(tmp_path, "round", session_id, *flags)
    assert result.exit_code == 2
    assert expected in error_line(result)
    assert stored_state(workspace) == before


def test_corrupt_incumbent_png_stops_the_round_with_its_name(
    tmp_path: Path, session_id: str
) -> None:
    rows = json.loads(ok(steer(tmp_path, "round", session_id, "--json")).stdout)["candidates"]
    ok(steer(tmp_path, "feedback", session_id, "--winner", "2"))
    Path(rows[2]["image"]).write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 10)
    workspace = Workspace.open(tmp_path / "data", tmp_path / "labels")
    before = stored_state(workspace)
    line = error_line(steer(tmp_path, "round", session_id))
    assert "c02.png in the data root is not a readable PNG" in line
    assert stored_state(workspace) == before
    verify = steer(tmp_path, "verify", session_id)
    assert verify.exit_code == 1 and "not a readable PNG" in verify.output


def test_a_removed_image_is_reported_as_removed_not_as_a_problem(
    tmp_path: Path, session_id: str
) -> None:
    rows = json.loads(ok(steer(tmp_path, "round", session_id, "--json")).stdout)["candidates"]
    Path(rows[1]["image"]).unlink()  # as `steer gc --images --delete` does
    verify = ok(steer(tmp_path, "verify", session_id))
    assert "images removed" in verify.output and verify.output.strip().endswith("ok")


def test_mangled_labels_csv_row(tmp_path: Path, session_id: str) -> None:
    ok(steer(tmp_path, "round", session_id, "--quiet"))
    for slot in ("1", "2", "3"):
        ok(steer(tmp_path, "feedback", session_id, "--winner", slot))
    path = tmp_path / "labels" / f"{session_id}.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[2] = lines[2][:25] + "\n"
    path.write_text("".join(lines), encoding="utf-8")
    # A fresh process (the CLI) checks the mirror before writing to it.
    from steering_core import sessions

    sessions._reconciled.clear()
    workspace = Workspace.open(tmp_path / "data", tmp_path / "labels")
    before = stored_state(workspace)
    line = error_line(steer(tmp_path, "feedback", session_id, "--winner", "1"))
    assert f"{session_id}.csv line 3" in line and "steer labels rebuild" in line
    assert stored_state(workspace) == before
    ok(steer(tmp_path, "labels", "rebuild", session_id))
    ok(steer(tmp_path, "feedback", session_id, "--winner", "1"))
    assert len(workspace.labels.read(session_id)) == 4


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
