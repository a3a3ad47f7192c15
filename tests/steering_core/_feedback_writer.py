"""Test helper run as a subprocess: submits a stream of judgments and acknowledges each one.

After every `submit_feedback` (or `undo_last_feedback`) call returns, one JSON line naming
the stored event (with the wall-clock time writing began and the time the call returned) is
printed and flushed, so the parent test knows exactly which events were
acknowledged to the caller. Not collected by pytest (leading underscore).

    python tests/steering_core/_feedback_writer.py --data-root D --labels-dir L \
        --sessions S1,S1,S1,S2 --count 500 --source script --seed 1 \
        [--ready-file R --start-file GO] [--undo-every 4]

`--sessions` is cycled: judgment i goes to the i-th entry modulo its length. `--count 0`
writes until the process is killed. With `--ready-file`/`--start-file` the process announces
that it has opened the workspace, then waits for the start file, so that several writers
begin at the same moment.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
from itertools import count as counter
from pathlib import Path
from typing import Any

import PIL.Image

from steering_core.config import SessionConfig
from steering_core.rounds import plan_round, store_round
from steering_core.sessions import create_session, get_round, submit_feedback, undo_last_feedback
from steering_core.storage import Workspace

SCRIPT = Path(__file__).resolve()

# Free text with everything a CSV writer must quote or encode: commas, quotes, a newline,
# non-ASCII letters (the label CSV keeps raw JSON with ensure_ascii=False).
AWKWARD_TEXT = 'too dark, "muddy"\nsky; couleur saturée — 色'


def judgment(rng: random.Random, shown: list[int], index: int) -> dict[str, Any]:
    """One valid judgment on the round's `shown` candidates; cycles through every mode."""
    a, b = rng.sample(shown, 2)
    confidence = round(rng.uniform(0.1, 1.0), 3)
    kinds: list[dict[str, Any]] = [
        {"mode": "winner", "winner": a},
        {"mode": "rating", "ratings": {a: rng.randint(1, 5), b: rng.randint(1, 5)}},
        {"mode": "pairwise", "first": a, "second": b, "choice": "first"},
        {"mode": "pairwise", "first": a, "second": b, "choice": "tie"},
        {"mode": "ranking", "order": rng.sample(shown, rng.randint(1, len(shown)))},
        {"mode": "approve_reject", "approved": [a], "rejected": [b]},
        {"mode": "approve_reject", "rejected": [b]},
        {"mode": "reject_all", "reason": AWKWARD_TEXT},
        {"mode": "critique", "candidate": a, "tags": ["lighting"], "text": AWKWARD_TEXT},
        {"mode": "cannot_decide", "decision_seconds": round(rng.uniform(0, 30), 2)},
    ]
    raw = kinds[index % len(kinds)]
    raw["confidence"] = confidence
    return raw


def acknowledge(message: dict[str, Any]) -> None:
    # One short write per line: a pipe write under PIPE_BUF bytes is atomic, so a SIGKILL
    # never leaves the parent half an acknowledgement that it might count.
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def wait_for(path: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            raise SystemExit(f"start file {path} never appeared")
        time.sleep(0.001)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-root", required=True)
    parser.add_argument("--labels-dir", required=True)
    parser.add_argument("--sessions", required=True, help="comma-separated, cycled")
    parser.add_argument("--count", type=int, default=1, help="0 = until killed")
    parser.add_argument("--source", default="script")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--undo-every", type=int, default=0)
    parser.add_argument("--ready-file")
    parser.add_argument("--start-file")
    args = parser.parse_args(argv)

    workspace = Workspace.open(args.data_root, args.labels_dir)
    targets = args.sessions.split(",")
    shown = {sid: [c.id for c in get_round(workspace, sid)[1]] for sid in set(targets)}
    rng = random.Random(args.seed)
    if args.ready_file:
        Path(args.ready_file).touch()
    if args.start_file:
        wait_for(Path(args.start_file))

    since = time.time()  # when this process began writing (after the barrier)
    for index in counter() if args.count == 0 else range(args.count):
        session_id = targets[index % len(targets)]
        raw = judgment(rng, shown[session_id], index)
        event = submit_feedback(workspace, session_id, raw, source=args.source)
        acknowledge(
            {
                "id": event.id,
                "session": session_id,
                "mode": event.mode,
                "since": since,
                "at": time.time(),
            }
        )
        if args.undo_every and (index + 1) % args.undo_every == 0:
            undo = undo_last_feedback(workspace, session_id, source=args.source)
            acknowledge(
                {
                    "id": undo.id,
                    "session": session_id,
                    "mode": undo.mode,
                    "undoes": undo.undoes_event_id,
                    "since": since,
                    "at": time.time(),
                }
            )
    return 0


# Helpers for the tests that drive this script.


def session_with_round(workspace: Workspace, config: SessionConfig) -> tuple[str, list[int]]:
    """A new session with one stored round of blank images (no generator); (id, candidates)."""
    session = create_session(workspace, config)
    plan = plan_round(workspace, session.id)
    images = {slot: PIL.Image.new("RGB", (8, 8)) for slot in range(plan.config.k)}
    _, candidates = store_round(workspace, plan, images)
    return session.id, [c.id for c in candidates]


def writer_command(workspace: Workspace, sessions: list[str], **options: object) -> list[str]:
    """The command line that runs this script on `workspace` (options as --kebab-case)."""
    command = [
        sys.executable,
        str(SCRIPT),
        "--data-root",
        str(workspace.data_root),
        "--labels-dir",
        str(workspace.labels_dir),
        "--sessions",
        ",".join(sessions),
    ]
    for name, value in options.items():
        command += [f"--{name.replace('_', '-')}", str(value)]
    return command


def run_writer(
    workspace: Workspace, sessions: list[str], **options: object
) -> list[dict[str, Any]]:
    """Run the script to completion in a fresh process; its acknowledgements."""
    done = subprocess.run(
        writer_command(workspace, sessions, **options),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return parse_acknowledgements(done.stdout)


def parse_acknowledgements(text: str) -> list[dict[str, Any]]:
    """Every complete line (ending in a newline) the script printed, decoded."""
    lines = text.split("\n")[:-1]  # the piece after the last newline is never complete
    return [json.loads(line) for line in lines]


if __name__ == "__main__":
    raise SystemExit(main())
