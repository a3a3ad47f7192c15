"""`steer round` and `show`: the funnel, "more like this", and bad round flags that
change nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from steering_core.storage.workspace import Workspace
from tests.steering_core.cli.helpers import error_line, ok, steer
from tests.steering_core.helpers import stored_state


def test_the_funnel_and_more_like_this_from_the_cli(tmp_path: Path, session_id: str) -> None:
    wide = json.loads(ok(steer(tmp_path, "round", session_id, "--k", "6", "--json")).stdout)
    assert len(wide["candidates"]) == 6
    # The funnel: a round of 6 lets one keep 3; they are re-shown beside a variation each.
    ok(steer(tmp_path, "feedback", session_id, "--approve", "2,4,5", "--reject", "1,3,6"))
    stage = json.loads(ok(steer(tmp_path, "round", session_id, "--funnel", "--json")).stdout)
    kept = [wide["candidates"][s]["candidate_id"] for s in (1, 3, 4)]
    assert stage["funnel"] == {"kept": kept, "finished": False}
    assert len(stage["candidates"]) == 7
    assert {r["parent_candidate_id"] for r in stage["candidates"][1:]} == set(kept)
    ok(steer(tmp_path, "feedback", session_id, "--approve", "6"))
    chosen = stage["candidates"][5]["candidate_id"]
    finished = ok(steer(tmp_path, "round", session_id, "--funnel"))
    assert "funnel finished: kept candidate 6 of round 1" in finished.output
    normal = json.loads(ok(steer(tmp_path, "show", session_id, "--json")).stdout)
    assert len(normal) == 4 and normal[0]["parent_candidate_id"] == chosen

    # "More like this" on cards 2 and 4 (slots 1 and 3) of that round, in a round of 5.
    around = json.loads(
        ok(steer(tmp_path, "round", session_id, "--around", "2,4", "--k", "5", "--json")).stdout
    )["candidates"]
    assert [r["role"] for r in around] == ["incumbent", "kept", "kept", "variation", "variation"]
    ids = [normal[s]["candidate_id"] for s in (0, 1, 3, 1, 3)]
    assert [r["parent_candidate_id"] for r in around] == ids
    assert [r["image"] for r in around[:3]] == [normal[s]["image"] for s in (0, 1, 3)]


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (["--around", "9"], "--around: candidate 9 is not in round 0 (candidates 1-4)"),
        (["--around", "1,1"], "--around: candidate 1 is named twice"),
        (["--around", "1,x"], "--around: expected comma-separated candidate numbers"),
        (["--around", "0"], "--around: expected comma-separated candidate numbers, 1 to"),
        (["--around", ","], "--around: name at least one candidate"),
        (["--around", "1,2,3,4", "--k", "3"], "around: 4 candidates do not fit"),
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
    ok(steer(tmp_path, "feedback", session_id, "--winner", "3"))
    Path(rows[2]["image"]).write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 10)
    workspace = Workspace.open(tmp_path / "data", tmp_path / "labels")
    before = stored_state(workspace)
    line = error_line(steer(tmp_path, "round", session_id))
    assert "c02.png in the data root is not a readable PNG" in line
    assert stored_state(workspace) == before
    verify = steer(tmp_path, "verify", session_id)
    assert verify.exit_code == 1 and "not a readable PNG" in verify.output


def test_show_says_what_each_candidate_received_in_the_replay_pages_words(
    tmp_path: Path, session_id: str
) -> None:
    rows = json.loads(ok(steer(tmp_path, "round", session_id, "--json")).stdout)["candidates"]
    ok(steer(tmp_path, "feedback", session_id, "--winner", "3"))
    shown = json.loads(ok(steer(tmp_path, "show", session_id, "--json")).stdout)
    assert [row["candidate_id"] for row in shown] == [row["candidate_id"] for row in rows]
    assert shown[2]["received"] == ["winner"]
    assert shown[0]["received"] == ["lost to 3"]  # its card number, as --winner named it
    assert sum(row["final_choice"] for row in shown) == 1
    text = ok(steer(tmp_path, "show", session_id)).output
    assert "received: winner" in text and "received: lost to 3" in text
    assert text.count("<- final choice") == 1
