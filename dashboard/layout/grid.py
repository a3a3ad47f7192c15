"""The candidate grid of one round, with the controls of the feedback mode in use.

Clicks and keys on the grid are handled in the browser by assets/judging.js, which reads
the `data-*` attributes set here (session, round, mode, candidate ids) and keeps the
in-progress judgment; the grid itself is rebuilt only when the round or the mode changes.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import dash_bootstrap_components as dbc
from dash import html

from dashboard import ids
from steering_core.samplers.base import shown_role
from steering_core.storage.records import CandidateRecord
from steering_core.views.roles import role_colour

MODE_TITLES = {
    "winner": "Winner only: click the best image (or press its number), then Enter",
    "rating": "Ratings: 1-5 stars per image (click a card, press 1-5), then Enter",
    "pairwise": "Pairwise: pick two images, then [ (A better), ] (B better) or t (tie)",
    "ranking": "Ranking: click images best first (or press their numbers), then Enter",
    "approve_reject": "Approve / reject: a approves, r rejects the focused image, then Enter",
    "critique": "Critique: tags and a note on the round or the focused image, then Enter",
    "reject_all": "Reject all: none is good; say why (optional), then press x",
    "cannot_decide": "Cannot decide: Shift+click the images you cannot choose between, press c",
}


@dataclass(frozen=True)
class Shortcut:
    """Keys (as the browser names them: KeyboardEvent.key, "Alt+" before it with Alt), the
    action assets/judging.js runs for them (its KEY_ACTIONS), and what the list says."""

    label: str
    keys: tuple[str, ...]
    action: str
    what: str


# The one table of keyboard shortcuts: the page lists it (`shortcuts_list`) and hands it to
# assets/judging.js, whose key handler reads nothing else.
SHORTCUTS: tuple[Shortcut, ...] = (
    Shortcut(
        "1-9",
        tuple("123456789"),
        "pick",
        "pick / rank / approve image 1-9 (ratings: 1-5 stars for the focused image); "
        "Shift+digit selects it for cannot decide",
    ),
    Shortcut(
        "← → ↑ ↓", ("ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown"), "move", "move the focus"
    ),
    Shortcut("Space", (" ",), "pick-focused", "pick / rank / approve the focused image"),
    Shortcut("Enter", ("Enter",), "submit", "submit the judgment"),
    Shortcut(
        "Backspace",
        ("Backspace",),
        "undo",
        "undo the last step of the draft (never a stored judgment)",
    ),
    Shortcut("u", ("u",), "withdraw", "undo the last stored judgment (the button says which)"),
    Shortcut(
        "Esc",
        ("Escape",),
        "escape",
        "leave a field, menu or button (back to the grid); on the grid: clear the judgment",
    ),
    Shortcut("[ ] t", ("[", "]", "t"), "pair", "pairwise: A better, B better, tie"),
    Shortcut("a r", ("a", "r"), "approve", "approve / reject the focused image"),
    Shortcut("s", ("s",), "select", "select the focused image (for cannot decide)"),
    Shortcut("x", ("x",), "reject-all", "reject all"),
    Shortcut("c", ("c",), "cannot-decide", "cannot decide"),
    Shortcut("- +", ("-", "+", "="), "confidence", "confidence down / up by 0.1"),
    Shortcut("m M", ("m", "M"), "mode", "next / previous feedback mode"),
    Shortcut("i", ("i",), "inspect", "inspect the focused image"),
    Shortcut("l", ("l",), "more-like-this", "more like this: a round around the focused image"),
    Shortcut("n", ("n",), "advance", "next round"),
    Shortcut("Alt+← Alt+→", ("Alt+ArrowLeft", "Alt+ArrowRight"), "round", "previous / next round"),
    Shortcut(
        "p",
        ("p",),
        "plots",
        "expand the plots: the large steering space and every curve (p or Esc closes)",
    ),
    Shortcut("?", ("?",), "shortcuts", "show / hide this list"),
)


def shortcut_keys() -> dict[str, str]:
    """Key name -> action, as assets/judging.js reads it from the page."""
    keys: dict[str, str] = {}
    for shortcut in SHORTCUTS:
        for key in shortcut.keys:
            assert key not in keys, f"{key!r} is bound twice"
            keys[key] = shortcut.action
    return keys


def mode_banner(mode: str) -> dbc.Alert:
    """A coloured banner saying which feedback mode is in use and how to give it."""
    return dbc.Alert(
        [html.Strong(mode.replace("_", " ").upper() + "  "), MODE_TITLES.get(mode, "")],
        color="info",
        className=f"mode-banner mode-{mode} py-1 px-2 mb-1",
    )


def _stars(slot: int) -> html.Div:
    return html.Div(
        [
            html.Span(
                "★",
                className="star",
                title=f"{stars} star{'s' if stars > 1 else ''}",
                **{"data-action": "rate", "data-slot": str(slot), "data-stars": str(stars)},
            )
            for stars in range(1, 6)
        ],
        className="stars",
    )


def _approve_reject(slot: int) -> html.Div:
    return html.Div(
        [
            html.Button(
                "✓ approve",
                className="btn btn-sm btn-outline-success",
                **{"data-action": "approve", "data-slot": str(slot)},
            ),
            html.Button(
                "✗ reject",
                className="btn btn-sm btn-outline-danger",
                **{"data-action": "reject", "data-slot": str(slot)},
            ),
        ],
        className="approve-reject d-flex gap-1 justify-content-center",
    )


def candidate_card(
    candidate: CandidateRecord, mode: str, received: Sequence[str] = (), kept: str = ""
) -> html.Div:
    """One candidate: its image, number, role badge, why it was kept (a re-shown incumbent)
    and the current mode's controls."""
    role = shown_role(candidate.role)
    badges = [dbc.Badge(role, color=role_colour(role))]
    badges += [dbc.Badge(text, color="light", text_color="dark") for text in received]
    image: Any = (
        html.Img(
            src=f"/{candidate.image_path}",
            alt=f"candidate {candidate.slot + 1}",
            className="candidate-image",
            **{"data-action": "pick", "data-slot": str(candidate.slot)},
        )
        if candidate.image_path
        else html.Div("no image", className="candidate-image missing")
    )
    controls: list[Any] = []
    if mode == "rating":
        controls.append(_stars(candidate.slot))
    elif mode == "approve_reject":
        controls.append(_approve_reject(candidate.slot))
    return html.Div(
        [
            html.Div(
                [
                    html.Span(str(candidate.slot + 1), className="slot-number"),
                    html.Span(badges, className="badges"),
                    html.Span(id=ids.card_mark(candidate.slot), className="judgment-mark"),
                ],
                className="card-head",
            ),
            image,
            *([html.Div(kept, className="kept-note small")] if kept else []),
            *controls,
            # Over the image's corner (when the card is hovered or focused), not in a row of
            # its own: a row less per card, so larger images on one screen.
            html.Button(
                "inspect",
                className="btn btn-sm inspect-link",
                **{"data-action": "inspect", "data-candidate": str(candidate.id)},
            ),
        ],
        id=ids.card(candidate.slot),
        className="candidate-card",
        tabIndex="-1",  # the keys' place: Esc and a new round bring the focus back here
        **{"data-slot": str(candidate.slot), "data-candidate": str(candidate.id)},
    )


def grid_shape(k: int) -> tuple[int, int]:
    """(columns, rows) of a round of k cards: one row up to 4, two rows up to 12 (k = 8:
    4 x 2), then about 3 columns for every 2 rows; the CSS scales the thumbnails to fit."""
    if k <= 4:
        columns = max(k, 1)
    elif k <= 12:
        columns = math.ceil(k / 2)
    else:
        columns = math.ceil(math.sqrt(k * 1.5))
    return columns, math.ceil(max(k, 1) / columns)


def candidate_grid(
    session_id: str,
    round_index: int,
    latest: bool,
    candidates: Sequence[CandidateRecord],
    mode: str,
    received: dict[int, list[str]] | None = None,
    kept: str = "",
    keep_limit: int | None = None,
) -> html.Div:
    """The round's cards in a responsive grid; `received`: what each candidate id received,
    in the words of `steering_core.views.judgment_words.received_labels`; `kept`: why the
    incumbent (slot 0) was kept, from `steering_core.views.kept.kept_reason`; `keep_limit`:
    how many a funnel round lets one keep (None: not a funnel round)."""
    received = received or {}
    # A round of two judged as a pair: the two images side by side, large.
    pair = mode == "pairwise" and len(candidates) == 2
    columns, rows = (2, 1) if pair else grid_shape(len(candidates))
    return html.Div(
        [
            candidate_card(c, mode, received.get(c.id, ()), kept if c.slot == 0 else "")
            for c in candidates
        ],
        className="candidate-grid pair-round" if pair else "candidate-grid",
        style={"--columns": str(columns), "--rows": str(rows)},
        **{
            "data-session": session_id,
            "data-round": str(round_index),
            "data-latest": "true" if latest else "false",
            "data-mode": mode,
            "data-candidates": json.dumps([c.id for c in candidates]),
            "data-keep-limit": str(keep_limit or ""),
        },
    )


PAIR_BUTTON = "btn btn-outline-primary pair"


def round_controls(mode: str | None) -> list[html.Button]:
    """The whole-round buttons only the mode in use has (pairwise's A / B / tie); the
    per-image ones (stars, approve / reject) are on the cards of their mode only."""
    if mode != "pairwise":
        return []
    return [
        html.Button("A better [", className=PAIR_BUTTON, **{"data-action": "A"}),
        html.Button("B better ]", className=PAIR_BUTTON, **{"data-action": "B"}),
        html.Button("Tie (t)", className=PAIR_BUTTON, **{"data-action": "tie"}),
    ]


def grid_mode(grid: Any) -> str | None:
    """The mode a grid from `candidate_grid` is judged in (None for a message instead)."""
    return getattr(grid, "data-mode", None)


def shortcuts_list() -> html.Details:
    """The keyboard shortcuts, on screen (folded by default), and as data for the key
    handler: both from SHORTCUTS. Shortcuts pause while a text field has the focus."""
    return html.Details(
        [
            html.Summary("Keyboard shortcuts (?)"),
            html.Table(
                [
                    html.Tr([html.Td(html.Kbd(shortcut.label)), html.Td(shortcut.what)])
                    for shortcut in SHORTCUTS
                ],
                className="table table-sm mb-0",
            ),
            html.Div(
                "They pause while you type in a text field; Esc leaves it.",
                className="text-muted",
            ),
        ],
        id=ids.SHORTCUTS,
        className="shortcuts small",
        **{"data-shortcuts": json.dumps(shortcut_keys())},
    )
