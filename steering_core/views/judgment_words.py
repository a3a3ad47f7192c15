"""Judgments in words, the same for every reader (the judging grid, the replay page, the HTML
report, the CLI): one line per judgment, and what each candidate got.

Candidates are named as the grid numbers them (slot + 1); a candidate outside the round by
its id (`#42`). Pure functions of the stored feedback events: no database access.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence

from steering_core.feedback import MODES_BY_NAME
from steering_core.storage.records import CandidateRecord, FeedbackEventRecord


def card_name(candidate: CandidateRecord) -> str:
    """A candidate as every reader names it: its card number in its round, "candidate 3 of
    round 4" (one number per candidate; the stored id only where a command takes it)."""
    return f"candidate {candidate.slot + 1} of round {candidate.round_index}"


def judgment_line(event: FeedbackEventRecord, slots: dict[int, int]) -> str:
    """One judgment of a round in a line: what was decided (in its mode's words), then
    confidence, decision time and source when they say something (not full confidence, not
    a human)."""
    mode = MODES_BY_NAME.get(event.mode)
    text = mode.line(event.raw, slots) if mode else event.mode.replace("_", " ")
    return text + _qualifiers(event)


def _qualifiers(event: FeedbackEventRecord) -> str:
    notes = []
    if event.confidence < 1:
        notes.append(f"confidence {event.confidence:.0%}")
    seconds = event.raw.get("decision_seconds")
    if seconds is not None:
        notes.append(f"decided in {float(seconds):.1f} s")
    if event.source != "human":
        notes.append(event.source)
    return f" ({', '.join(notes)})" if notes else ""


def received(event: FeedbackEventRecord, slots: dict[int, int]) -> dict[int, list[str]]:
    """What one judgment said about each candidate of the round, in words
    (candidate id -> phrases): "rated 4/5", "won vs 3", "ranked 2nd of 3", "approved"..."""
    mode = MODES_BY_NAME.get(event.mode)
    words = mode.received(event.raw, slots) if mode else {}
    if event.confidence < 1:
        suffix = f" (confidence {event.confidence:.0%})"
        words = {c: [phrase + suffix for phrase in phrases] for c, phrases in words.items()}
    return words


def received_labels(
    events: Sequence[FeedbackEventRecord], slots: dict[int, int]
) -> dict[int, list[str]]:
    """What each candidate of a round received from the judgments still in force (undone
    ones and undo markers left out), candidate id -> phrases; the same phrase given many
    times shows once with its count ("winner x3")."""
    phrases: dict[int, list[str]] = defaultdict(list)
    for event in events:
        if event.mode == "undo" or event.undone_at is not None:
            continue
        for candidate_id, words in received(event, slots).items():
            phrases[candidate_id] += words
    return {
        candidate_id: [f"{text} x{n}" if n > 1 else text for text, n in Counter(words).items()]
        for candidate_id, words in phrases.items()
    }
