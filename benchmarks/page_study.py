"""A synthetic researcher drives the real dashboard page, by keyboard, in headless Chromium.

Each session is started from the setup panel; every round, the synthetic user (an anchor
user with a hidden target, its noise model as in `steer bench`) looks at the candidates'
steering vectors, decides, and answers with the keys a researcher would press. Along the
way it uses Backspace inside a draft and Undo on a stored judgment, and the script checks,
against the data root, that:
- every judgment the user gave is stored exactly once (no loss, no duplicate);
- Backspace changed the draft only (nothing stored changed);
- Undo withdrew exactly the judgment it named, the page went back to that round, and no
  round planned from the withdrawn judgment was kept;
- the browser console logged no error.

Usage: python benchmarks/page_study.py [--sessions 10] [--rounds 10] [--k 6] [--steps 8]
Writes test-artifacts/page_study.json and prints a markdown table.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from steering_core.sessions import get_feedback_events, get_round, get_rounds  # noqa: E402
from steering_core.storage import Workspace  # noqa: E402
from steering_core.synthetic.users import AnchorUser, NoiseModel, Shown  # noqa: E402
from tests.dashboard.browser.conftest import DashboardServer, chromium_path  # noqa: E402
from tests.dashboard.browser.helpers import GRID_LOADED, OUTBOX_EMPTY  # noqa: E402

MODES = ["winner", "ranking", "rating", "pairwise", "approve_reject"]
PROMPTS = [
    "a red circle on a blue background",
    "a yellow triangle on a grey background",
    "a green square on a white background",
    "a purple ring on an orange background",
    "a teal cross on a black background",
]
ROUND_TIMEOUT_MS = 120_000


@dataclass
class SessionResult:
    session_id: str
    mode: str
    rounds_judged: int = 0
    judgments_given: int = 0
    judgments_stored: int = 0
    duplicates: int = 0
    lost: int = 0
    backspace_checks: int = 0
    backspace_failures: list[str] = field(default_factory=list)
    undo_checks: int = 0
    undo_failures: list[str] = field(default_factory=list)
    orphan_rounds: int = 0
    console_errors: list[str] = field(default_factory=list)
    first_distance: float = 0.0
    last_distance: float = 0.0
    seconds: float = 0.0


def keys_for(raw: dict[str, Any], ids: list[int]) -> list[str]:
    """The key presses that give `raw` on a grid showing candidates `ids` (slot order)."""
    slot = {candidate: index for index, candidate in enumerate(ids)}
    digit = lambda candidate: str(slot[candidate] + 1)  # noqa: E731
    mode = raw["mode"]
    if mode == "winner":
        return [digit(raw["winner"]), "Enter"]
    if mode == "ranking":
        return [digit(c) for c in raw["order"]] + ["Enter"]
    if mode == "rating":
        # Each digit rates the focused image and moves on, from image 1.
        return [str(raw["ratings"][str(c)]) for c in ids] + ["Enter"]
    if mode == "pairwise":
        choice = {"first": "BracketLeft", "second": "BracketRight", "tie": "t"}[raw["choice"]]
        return [digit(raw["first"]), digit(raw["second"]), choice]
    if mode == "approve_reject":
        presses: list[str] = []
        for index, candidate in enumerate(ids):
            if candidate in raw["approved"]:
                presses.append("a")
            elif candidate in raw["rejected"]:
                presses.append("r")
            if index < len(ids) - 1:
                presses.append("ArrowRight")
        return [*presses, "Enter"]
    raise ValueError(f"mode: the study does not press keys for {mode!r}")


def same_judgment(stored: dict[str, Any], given: dict[str, Any]) -> bool:
    """Whether a stored raw judgment is the one the user gave (ignoring timing fields)."""
    keep = lambda raw: {k: v for k, v in raw.items() if k not in ("confidence", "decision_seconds")}  # noqa: E731
    return keep(stored) == keep(given)


class Study:
    def __init__(self, page: Any, server: DashboardServer, args: argparse.Namespace) -> None:
        self.page, self.server, self.args = page, server, args
        self.workspace = Workspace.open(server.data_root)

    # --- what the data root holds -------------------------------------------------------
    def judgments(self, session_id: str) -> list[Any]:
        return [e for e in get_feedback_events(self.workspace, session_id) if e.mode != "undo"]

    def in_force(self, session_id: str) -> list[Any]:
        return [e for e in self.judgments(session_id) if e.undone_at is None]

    def stored_state(self, session_id: str) -> list[tuple[int | None, str | None]]:
        return [(e.id, e.undone_at) for e in get_feedback_events(self.workspace, session_id)]

    # --- the page -------------------------------------------------------------------------
    def start_session(self, prompt: str, mode: str) -> str:
        page = self.page
        page.goto(self.server.url + "/")
        page.wait_for_selector("#setup-prompt", state="attached")
        # With a session open, the setup is folded into its rail, and "New session" may be
        # a closed section of it.
        if not page.is_visible("#setup-prompt") and page.is_visible("#setup-toggle"):
            page.click("#setup-toggle")
        if not page.is_visible("#setup-prompt"):
            page.get_by_role("button", name="New session").click()
        page.fill("#setup-prompt", prompt)
        page.select_option("#setup-feedback-mode", mode)
        page.fill("#setup-k", str(self.args.k))
        page.fill("#setup-steps", str(self.args.steps))
        page.click("#setup-start")
        self.wait_for_round(0)
        return page.evaluate("document.querySelector('.candidate-grid').dataset.session")

    def wait_for_round(self, round_index: int) -> None:
        self.page.wait_for_function(GRID_LOADED, arg=round_index, timeout=ROUND_TIMEOUT_MS)

    def shown_ids(self) -> list[int]:
        return self.page.evaluate(
            "JSON.parse(document.querySelector('.candidate-grid').dataset.candidates)"
        )

    def draft(self) -> dict[str, Any] | None:
        return self.page.evaluate("window.steer.loadDraft()")

    def press(self, keys: list[str]) -> None:
        self.page.locator("body").focus()
        for key in keys:
            self.page.keyboard.press(key)

    def undo_label(self, round_index: int) -> str:
        """What the Undo judgment button says it withdraws, once it names `round_index` (it
        follows the store a poll after the judgment is acknowledged), or after 10 s."""
        # A timeout is reported by the caller, with what the button said.
        with contextlib.suppress(Exception):
            self.page.wait_for_function(
                "(r) => document.getElementById('undo-judgment').textContent"
                ".startsWith(`Undo round ${r}'s judgment`)",
                arg=round_index,
                timeout=10_000,
            )
        return self.page.inner_text("#undo-judgment")

    def undo_judgment(self) -> None:
        self.press(["u"])  # the key of the Undo judgment button

    # --- one session ----------------------------------------------------------------------
    def run_session(self, index: int) -> SessionResult:
        args = self.args
        rng = np.random.default_rng(args.seed + index)
        mode = MODES[index % len(MODES)]
        started = time.monotonic()
        session_id = self.start_session(PROMPTS[index % len(PROMPTS)], mode)
        result = SessionResult(session_id=session_id, mode=mode)
        d = len(get_round(self.workspace, session_id, 0)[1][0].steering_vector)
        user = AnchorUser(
            noise=NoiseModel(temperature=0.05, reversal_probability=0.1),
            target=rng.normal(scale=0.5, size=d) / np.sqrt(d) * 2,
        )
        given: dict[int, dict[str, Any]] = {}
        for round_index in range(args.rounds):
            self.wait_for_round(round_index)
            ids = self.shown_ids()
            _, candidates = get_round(self.workspace, session_id, round_index)
            shown = [Shown(c.id, c.slot, c.steering_vector) for c in candidates]
            distance = user.distance_to_target(candidates[0].steering_vector)
            if round_index == 0:
                result.first_distance = distance
            result.last_distance = distance
            raw = user.judge(shown, mode, round_index, rng)
            presses = keys_for(raw, ids)
            if round_index % 3 == 1:
                self.check_backspace(session_id, presses, result)
            self.press(presses)
            result.judgments_given += 1
            self.page.wait_for_function(OUTBOX_EMPTY, timeout=30_000)
            given[round_index] = raw
            if round_index % 4 == 2:
                self.check_undo(session_id, round_index, result)
                raw = user.judge(shown, mode, round_index, rng)
                # Undo brings the withdrawn judgment back as the draft; the user judges
                # afresh, so they clear it first (Esc), as the action bar says.
                self.press(["Escape", *keys_for(raw, ids)])
                result.judgments_given += 1
                self.page.wait_for_function(OUTBOX_EMPTY, timeout=30_000)
                given[round_index] = raw
            result.rounds_judged += 1
            if round_index + 1 < args.rounds:
                self.next_round(round_index + 1, mode)
        self.check_stored(session_id, given, result)
        result.seconds = time.monotonic() - started
        return result

    def next_round(self, round_index: int, mode: str) -> None:
        """Auto-advance brings the next round; pairwise (several pairs a round) and a page
        without it ask for one with the key n."""
        if mode == "pairwise":
            self.press(["n"])
        try:
            self.wait_for_round(round_index)
        except Exception:  # no auto-advance: ask for the round
            self.press(["n"])
            self.wait_for_round(round_index)

    def check_backspace(self, session_id: str, presses: list[str], result: SessionResult) -> None:
        """Make part of a draft, then press Backspace once more than there are steps: the
        draft empties and nothing stored changes."""
        result.backspace_checks += 1
        before = self.stored_state(session_id)
        partial = [key for key in presses[:-1] if key != "ArrowRight"][:2]
        self.press(partial)
        self.press(["Backspace"] * (len(partial) + 1))
        self.page.wait_for_timeout(500)  # let a wrongly sent undo reach the store
        draft = self.draft() or {}
        if draft.get("winner") is not None or draft.get("order") or draft.get("pair"):
            result.backspace_failures.append(f"draft not emptied: {draft}")
        if self.stored_state(session_id) != before:
            result.backspace_failures.append("Backspace changed what is stored")

    def check_undo(self, session_id: str, round_index: int, result: SessionResult) -> None:
        """Undo the judgment just given: it, and only it, is withdrawn; the page is back on
        its round; no round planned from it is kept."""
        result.undo_checks += 1
        judged = self.in_force(session_id)
        last = judged[-1]
        label = self.undo_label(round_index)
        if not label.startswith(f"Undo round {round_index}'s judgment"):
            result.undo_failures.append(f"round {round_index}: the button said {label!r}")
        self.undo_judgment()
        self.page.wait_for_function(GRID_LOADED, arg=round_index, timeout=30_000)
        self.page.wait_for_timeout(1500)  # a round that should not exist has time to appear
        after = self.in_force(session_id)
        if [e.id for e in after] != [e.id for e in judged[:-1]]:
            result.undo_failures.append(f"round {round_index}: withdrew the wrong judgment")
        if last.round_index != round_index:
            result.undo_failures.append(f"round {round_index}: the last judgment was elsewhere")
        latest = get_rounds(self.workspace, session_id)[-1].round_index
        if latest > round_index:
            result.undo_failures.append(
                f"round {round_index}: round {latest}, planned from it, was kept"
            )
        on_screen = self.page.evaluate("document.querySelector('.candidate-grid').dataset.round")
        if on_screen != str(round_index):
            result.undo_failures.append(f"round {round_index}: the page shows round {on_screen}")

    def check_stored(
        self, session_id: str, given: dict[int, dict[str, Any]], result: SessionResult
    ) -> None:
        stored = self.in_force(session_id)
        result.judgments_stored = len(stored)
        keys = [e.client_key for e in self.judgments(session_id)]
        result.duplicates = len(keys) - len(set(keys))
        by_round: dict[int, list[Any]] = {}
        for event in stored:
            by_round.setdefault(event.round_index, []).append(event)
        for round_index, raw in given.items():
            events = by_round.get(round_index, [])
            if len(events) != 1 or not same_judgment(events[0].raw, raw):
                result.lost += 1
        rounds = get_rounds(self.workspace, session_id)
        result.orphan_rounds = max(0, len(rounds) - (len(given) + 1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--k", type=int, default=6)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    results: list[SessionResult] = []
    with tempfile.TemporaryDirectory() as scratch, sync_playwright() as playwright:
        server = DashboardServer(Path(scratch) / "data").start()
        browser = playwright.chromium.launch(executable_path=chromium_path())
        try:
            context = browser.new_context(viewport={"width": 1440, "height": 900})
            page = context.new_page()
            errors: list[str] = []
            page.on("console", lambda m: m.type == "error" and errors.append(m.text))
            page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
            study = Study(page, server, args)
            for index in range(args.sessions):
                errors.clear()
                result = study.run_session(index)
                result.console_errors = list(errors)
                results.append(result)
                print(json.dumps(asdict(result)), flush=True)
        finally:
            browser.close()
            server.stop()
    out = ROOT / "test-artifacts" / "page_study.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps([asdict(r) for r in results], indent=2))
    print(f"\nmachine: {platform.node()}, load average {os.getloadavg()}")
    print(
        "| session | mode | judged | given | stored | dup | lost | ⌫ ok | undo ok | orphan"
        " rounds | console errors | distance first → last |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---|---|---:|---:|---|")
    for r in results:
        print(
            f"| {r.session_id[:8]} | {r.mode} | {r.rounds_judged} | {r.judgments_given} |"
            f" {r.judgments_stored} | {r.duplicates} | {r.lost} |"
            f" {r.backspace_checks - len(r.backspace_failures)}/{r.backspace_checks} |"
            f" {r.undo_checks - len(r.undo_failures)}/{r.undo_checks} | {r.orphan_rounds} |"
            f" {len(r.console_errors)} | {r.first_distance:.2f} → {r.last_distance:.2f} |"
        )
    failures = [
        r
        for r in results
        if r.duplicates
        or r.lost
        or r.backspace_failures
        or r.undo_failures
        or r.orphan_rounds
        or r.console_errors
    ]
    for r in failures:
        print(f"FAILED {r.session_id}: {r.backspace_failures} {r.undo_failures} {r.console_errors}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
