"""The candidate grid of one round, with the controls of the feedback mode in use.

Clicks and keys on the grid are handled in the browser by assets/judging.js, which reads
the `data-*` attributes set here (session, round, mode, candidate ids) and keeps the
in-progress judgment; the grid itself is rebuilt only when the round or the mode changes.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
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

SHORTCUTS = [
    ("1-9", "pick / rank / select image (rate the focused image in ratings mode)"),
    ("← → ↑ ↓", "move the focus"),
    ("Enter", "submit"),
    ("Backspace", "undo the last step (or the last judgment)"),
    ("Esc", "clear the judgment"),
    ("[ ] t", "pairwise: A better, B better, tie"),
    ("a r", "approve / reject the focused image"),
    ("s", "select the focused image (for cannot decide)"),
    ("x c", "reject all, cannot decide"),
    ("Alt+← Alt+→", "previous / next round"),
    ("m", "expand the plots: the large steering space and every curve (m or Esc closes)"),
]


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


def candidate_card(candidate: CandidateRecord, mode: str, received: Sequence[str] = ()) -> html.Div:
    """One candidate: its image, number, role badge and the current mode's controls."""
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
) -> html.Div:
    """The round's cards in a responsive grid; `received`: what each candidate id received,
    in the words of `steering_core.views.judgment_words.received_labels`."""
    received = received or {}
    columns, rows = grid_shape(len(candidates))
    return html.Div(
        [candidate_card(c, mode, received.get(c.id, ())) for c in candidates],
        className="candidate-grid",
        style={"--columns": str(columns), "--rows": str(rows)},
        **{
            "data-session": session_id,
            "data-round": str(round_index),
            "data-latest": "true" if latest else "false",
            "data-mode": mode,
            "data-candidates": json.dumps([c.id for c in candidates]),
        },
    )


def shortcuts_list() -> html.Details:
    """The keyboard shortcuts, on screen (folded by default)."""
    return html.Details(
        [
            html.Summary("Keyboard shortcuts"),
            html.Table(
                [html.Tr([html.Td(html.Kbd(keys)), html.Td(what)]) for keys, what in SHORTCUTS],
                className="table table-sm mb-0",
            ),
        ],
        className="shortcuts small",
    )
