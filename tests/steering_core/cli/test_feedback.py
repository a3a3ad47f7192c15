"""`steer feedback` and `undo`: every feedback mode end to end, and bad feedback flags
that change nothing."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from steering_core.sessions import get_candidates, get_feedback_events, lineage
from steering_core.storage.workspace import Workspace
from tests.steering_core.cli.helpers import error_line, ok, steer
from tests.steering_core.helpers import stored_state


def test_five_rounds_with_a_different_feedback_mode_each(tmp_path: Path, session_id: str) -> None:
    feedback = [
        # Candidates by card number (1..k), as the dashboard numbers them.
        ["--winner", "3"],
        ["--rate", "1=1", "--rate", "2=4", "--rate", "3=5", "--rate", "4=2", "--confidence", "0.8"],
        ["--pairwise", "2>1"],
        ["--rank", "4,2,1"],
        ["--approve", "3", "--reject", "2,4"],
    ]
    incumbents = []
    for flags in feedback:
        rows = json.loads(ok(steer(tmp_path, "round", session_id, "--json")).stdout)["candidates"]
        assert [r["number"] for r in rows] == [1, 2, 3, 4]
        assert [r["slot"] for r in rows] == [0, 1, 2, 3]
        assert all(Path(r["image"]).exists() for r in rows)
        incumbents.append(rows[0]["candidate_id"])
        ok(steer(tmp_path, "feedback", session_id, *flags))
    ok(steer(tmp_path, "feedback", session_id, "--reject-all", "--reason", "all too dark"))
    ok(steer(tmp_path, "feedback", session_id, "--critique", "lighting,colour", "--text", "flat"))
    ok(steer(tmp_path, "feedback", session_id, "--cannot-decide", "--between", "2,4"))
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
    # "Cannot decide between 2 and 4": they tie, and each beats the other two.
    assert stored == 3 + 6 + 1 + 6 + 5 + 4 + 1 + 4

    # The best of each round, by each mode, is re-shown as the next round's incumbent, and
    # every candidate of a round descends from that incumbent's candidate.
    candidates = {c.id: c for c in get_candidates(workspace, session_id)}
    best_slot = {0: 2, 1: 2, 2: 1, 3: 3}  # winner 3; 5 stars on 3; 2>1; rank 4 first
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


def test_winner_one_keeps_the_incumbent(tmp_path: Path, session_id: str) -> None:
    first = json.loads(ok(steer(tmp_path, "round", session_id, "--json")).stdout)["candidates"]
    stored = ok(steer(tmp_path, "feedback", session_id, "--winner", "1")).stdout
    assert "winner" in stored and "3 comparisons" in stored
    status = json.loads(ok(steer(tmp_path, "status", session_id, "--json")).stdout)
    assert status["incumbent"]["candidate_id"] == first[0]["candidate_id"]
    ok(steer(tmp_path, "feedback", session_id, "--pairwise", "3>2"))
    # The pairwise winner never lost; the incumbent did not lose either: the model decides,
    # and a candidate that just lost (card 2) is never promoted.
    status = json.loads(ok(steer(tmp_path, "status", session_id, "--json")).stdout)
    assert status["incumbent"]["candidate_id"] in {
        first[0]["candidate_id"],
        first[2]["candidate_id"],
    }


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (["--rate", "1=7"], "--rate: stars must be 1-5 (got 7 for candidate 1)"),
        (["--rank", "1,2,1"], "--rank: candidate 1 is named twice"),
        (["--approve", "1,1"], "--approve: candidate 1 is named twice"),
        (["--reject", "2,2,2"], "--reject: candidate 2 is named twice"),
        (["--winner", "9"], "--winner: candidate 9 is not in this round (candidates 1-4)"),
        (["--winner", "0"], "--winner: expected a candidate number from 1 to"),
        (["--rank", "0,1"], "--rank: expected comma-separated candidate numbers, 1 to"),
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


def test_undo_names_its_session_or_the_word_latest(tmp_path: Path, session_id: str) -> None:
    rows = json.loads(ok(steer(tmp_path, "round", session_id, "--json")).stdout)["candidates"]
    ok(steer(tmp_path, "feedback", session_id, "--winner", "1"))
    refused = steer(tmp_path, "undo")
    assert refused.exit_code == 2 and "SESSION_ID" in refused.output
    assert "withdrew round 0's judgment" in ok(steer(tmp_path, "undo", "latest")).output
    assert rows  # the round the judgment was about


def test_cli_undo_says_which_judgment_of_which_round_and_what_it_discarded(
    tmp_path: Path, session_id: str
) -> None:
    ok(steer(tmp_path, "round", session_id))
    ok(steer(tmp_path, "feedback", session_id, "--winner", "3"))
    ok(steer(tmp_path, "round", session_id))
    output = ok(steer(tmp_path, "undo", session_id)).output
    # One number per candidate: the CLI's --winner 3 is the dashboard's card 3.
    assert "withdrew round 0's judgment #1 (winner: 3)" in output
    assert "discarded round 1, planned from it" in output
    ok(steer(tmp_path, "feedback", session_id, "--winner", "2"))  # round 0 is open again
    reply = json.loads(ok(steer(tmp_path, "undo", session_id, "--json")).stdout)
    assert reply["round_index"] == 0 and reply["discarded_rounds"] == []
    assert reply["judgment"] == "winner: 2"
