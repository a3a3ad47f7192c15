"""Judgments in words, the same for every reader (the judging grid, the replay page, the HTML
report, the CLI): one line per judgment, and what each candidate got.

Candidates are named as the grid numbers them (slot + 1); a candidate outside the round by
its id (`#42`). Pure functions of the stored feedback events: no database access.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence

from steering_core.storage.records import FeedbackEventRecord


def slot_name(slots: dict[int, int], candidate_id: int) -> str:
    """A candidate as the grid numbers it (slot + 1), or `#id` when not in the round."""
    slot = slots.get(int(candidate_id))
    return str(slot + 1) if slot is not None else f"#{candidate_id}"


def _names(slots: dict[int, int], candidates: Sequence[int]) -> str:
    return ", ".join(slot_name(slots, c) for c in candidates)


def _quoted(text: str) -> str:
    return f"“{text.strip()}”"


def judgment_line(event: FeedbackEventRecord, slots: dict[int, int]) -> str:
    """One judgment of a round in a line: what was decided, then confidence, decision time
    and source when they say something (not full confidence, not a human)."""
    raw = event.raw
    mode = event.mode
    if mode == "winner":
        text = f"winner: {slot_name(slots, raw['winner'])}"
    elif mode == "rating":
        stars = sorted(raw["ratings"].items(), key=lambda item: (-int(item[1]), int(item[0])))
        text = "ratings: " + ", ".join(f"{slot_name(slots, int(c))} → {s}/5" for c, s in stars)
    elif mode == "ranking":
        text = "ranking: " + " > ".join(slot_name(slots, c) for c in raw["order"])
    elif mode == "pairwise":
        first, second = slot_name(slots, raw["first"]), slot_name(slots, raw["second"])
        if raw["choice"] == "tie":
            text = f"pair {first} vs {second}: tie"
        else:
            better = first if raw["choice"] == "first" else second
            text = f"pair {first} vs {second}: {better} is better"
    elif mode == "approve_reject":
        parts = []
        if raw.get("approved"):
            parts.append(f"approved {_names(slots, raw['approved'])}")
        if raw.get("rejected"):
            parts.append(f"rejected {_names(slots, raw['rejected'])}")
        text = "; ".join(parts)
    elif mode == "reject_all":
        text = "rejected the whole round" + (
            f": {_quoted(raw['reason'])}" if raw.get("reason") else ""
        )
    elif mode == "critique":
        about = "the round" if raw.get("candidate") is None else slot_name(slots, raw["candidate"])
        tags = ", ".join(raw.get("tags") or [])
        text = f"critique of {about}" + (f" [{tags}]" if tags else "")
        if (raw.get("text") or "").strip():
            text += f": {_quoted(raw['text'])}"
    elif mode == "cannot_decide":
        between = raw.get("between") or []
        text = "cannot decide" + (f" between {_names(slots, between)}" if between else "")
    else:
        text = mode.replace("_", " ")
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
    (candidate id -> phrases): "rated 4/5", "won vs 3", "ranked 2 of 3", "approved"..."""
    raw = event.raw
    mode = event.mode
    words: dict[int, list[str]] = defaultdict(list)
    shown = list(slots)
    if mode == "winner":
        winner = int(raw["winner"])
        words[winner].append("winner")
        for candidate in shown:
            if candidate != winner:
                words[candidate].append(f"lost to {slot_name(slots, winner)}")
    elif mode == "rating":
        for candidate, stars in raw["ratings"].items():
            words[int(candidate)].append(f"rated {int(stars)}/5")
    elif mode == "ranking":
        order = [int(c) for c in raw["order"]]
        for place, candidate in enumerate(order, start=1):
            words[candidate].append(f"ranked {place} of {len(order)}")
        for candidate in shown:
            if candidate not in order:
                words[candidate].append(f"not in the top {len(order)}")
    elif mode == "pairwise":
        first, second = int(raw["first"]), int(raw["second"])
        if raw["choice"] == "tie":
            words[first].append(f"tied with {slot_name(slots, second)}")
            words[second].append(f"tied with {slot_name(slots, first)}")
        else:
            better, worse = (first, second) if raw["choice"] == "first" else (second, first)
            words[better].append(f"won vs {slot_name(slots, worse)}")
            words[worse].append(f"lost vs {slot_name(slots, better)}")
    elif mode == "approve_reject":
        for candidate in raw.get("approved", []):
            words[int(candidate)].append("approved")
        for candidate in raw.get("rejected", []):
            words[int(candidate)].append("rejected")
    elif mode == "reject_all":
        reason = f": {_quoted(raw['reason'])}" if raw.get("reason") else ""
        for candidate in shown:
            words[candidate].append(f"rejected with the whole round{reason}")
    elif mode == "critique" and raw.get("candidate") is not None:
        tags = ", ".join(raw.get("tags") or [])
        text = "critique" + (f" [{tags}]" if tags else "")
        if (raw.get("text") or "").strip():
            text += f": {_quoted(raw['text'])}"
        words[int(raw["candidate"])].append(text)
    elif mode == "cannot_decide":
        between = [int(c) for c in raw.get("between") or []]
        for candidate in between:
            others = [c for c in between if c != candidate]
            words[candidate].append(f"cannot decide vs {_names(slots, others)}")
    if event.confidence < 1:
        suffix = f" (confidence {event.confidence:.0%})"
        for phrases in words.values():
            phrases[:] = [phrase + suffix for phrase in phrases]
    return dict(words)


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
