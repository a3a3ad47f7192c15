"""The replay page: every round of a session with its candidates, judgments and lineage."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard import ids
from steering_core.storage.records import CandidateRecord
from steering_core.views.roles import role_colour
from steering_core.views.session_view import (
    FINAL_CHOICE_MEANING,
    CandidateView,
    RoundView,
    SessionView,
)

# Rounds drawn per page. Dash 4.4 takes time quadratic in the number of components to draw
# a page: 12 rounds of 8 cards take 0.7 s, 50 take 7.5 s, 100 take 30 s (measured).
ROUNDS_PER_VIEW = 10


@dataclass(frozen=True)
class View:
    """The rounds one page of the replay draws (the index lists them all)."""

    session_id: str
    rounds: range


def counted(n: int, noun: str) -> str:
    """ "1 round", "3 rounds"."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def view_start(round_index: int) -> int:
    """The first round of the view that shows `round_index` (views are aligned)."""
    return round_index // ROUNDS_PER_VIEW * ROUNDS_PER_VIEW


def round_href(round_index: int, session_id: str) -> str:
    """A URL that opens the view holding a round of a session and scrolls to it."""
    start = view_start(round_index)
    return f"/replay?session={session_id}&from={start}#{ids.replay_round(round_index)}"


def round_link(
    children: Any,
    round_index: int,
    session_id: str,
    view: View,
    **props: Any,
) -> Any:
    """A link to a round: a plain anchor when it is on this view (the browser scrolls), a
    Dash link that opens its view otherwise (assets/replay.js scrolls once it is drawn)."""
    if session_id == view.session_id and round_index in view.rounds:
        return html.A(children, href=f"#{ids.replay_round(round_index)}", **props)
    return dcc.Link(children, href=round_href(round_index, session_id), **props)


def session_list(sessions: Sequence[dict[str, Any]]) -> html.Div:
    """The sessions of the data root, newest first, each opening its replay."""
    if not sessions:
        return html.Div(
            dbc.Alert("No sessions in this data root yet: start one on the Steer page.", "info"),
            id=ids.REPLAY,
        )
    rows = [
        html.Tr(
            [
                html.Td(dcc.Link(s["prompt"] or "(no prompt)", href=f"/replay?session={s['id']}")),
                html.Td(html.Code(s["id"])),
                html.Td(s["rounds"], className="text-end"),
                html.Td(s["judgments"], className="text-end"),
                html.Td(s["source"]),
                html.Td(_time(s["created_at"])),
            ]
        )
        for s in sessions
    ]
    header = html.Thead(
        html.Tr(
            [
                html.Th("Prompt"),
                html.Th("Session"),
                html.Th("Rounds", className="text-end"),
                html.Th("Judgments", className="text-end"),
                html.Th("Source"),
                html.Th("Created (UTC)"),
            ]
        )
    )
    return html.Div(
        [
            html.H4("Replay a session"),
            html.P("Pick a session to see every round it went through.", className="text-muted"),
            dbc.Table([header, html.Tbody(rows)], hover=True, size="sm", className="bg-white"),
        ],
        id=ids.REPLAY,
    )


def _time(stamp: str) -> str:
    return stamp[:19].replace("T", " ")


def rounds_index(rounds: Sequence[RoundView], view: View) -> html.Nav:
    """One link per round of the session; the rounds on this page are framed, the rounds
    after which the incumbent moved stand out."""
    links = []
    for replay_round in rounds:
        index = replay_round.record.round_index
        classes = ["round-link"]
        title = f"round {index}"
        if replay_round.incumbent_moved:
            classes.append("moved")
            title += ": a new incumbent came from here"
        if not replay_round.judged:
            classes.append("unjudged")
            title += " (not judged)"
        if index in view.rounds:
            classes.append("shown")
        links.append(
            round_link(
                str(index), index, view.session_id, view, className=" ".join(classes), title=title
            )
        )
    return html.Nav(
        [
            html.Span("Rounds ", className="me-1 fw-semibold"),
            *links,
            html.Span(
                [
                    html.Span("■", className="legend-moved"),
                    " a new incumbent came from this round  ",
                    html.Span("□", className="legend-shown"),
                    " on this page  ",
                    html.Span("■", className="legend-unjudged"),
                    " not judged",
                ],
                className="ms-2 small text-muted",
            ),
        ],
        id=ids.REPLAY_INDEX,
        className="rounds-index",
    )


def _badge(text: str, colour: str, extra: str = "") -> html.Span:
    # A Bootstrap badge as a plain span: a page draws hundreds, and a plain component draws
    # faster than dbc.Badge.
    return html.Span(text, className=f"badge text-bg-{colour} {extra}".strip())


def _image(candidate: CandidateRecord) -> Any:
    if not candidate.image_path:
        return html.Div("no image", className="replay-image missing")
    # Dash's Img has no `loading` attribute: assets/replay.js sets loading="lazy" and then
    # the src from data-src, so the browser fetches only the images near the screen.
    return html.Img(
        alt=f"round {candidate.round_index}, candidate {candidate.slot + 1}",
        className="replay-image",
        **{"data-src": f"/{candidate.image_path}"},
    )


def replay_card(entry: CandidateView, view: View) -> html.Div:
    """A candidate's thumbnail with its role, what it received and its lineage."""
    candidate = entry.candidate
    head = [
        html.Span(str(candidate.slot + 1), className="slot-number"),
        _badge(candidate.role, role_colour(candidate.role)),
    ]
    # Under the image, so that every image of a round sits at the same height.
    notes: list[Any] = [
        html.Span(html.Del(phrase.text), className="badge text-bg-light received undone")
        if phrase.undone
        else _badge(phrase.text, "light", "received")
        for phrase in entry.received
    ]
    if entry.final_choice:
        notes.append(_badge("final choice", "danger"))
    if entry.carried_to is not None:
        notes.append(
            round_link(
                [_badge("carried forward", "success"), f" → round\u00a0{entry.carried_to}"],
                entry.carried_to,
                view.session_id,
                view,
                className="carried-link",
                title=f"round {entry.carried_to} re-shows this candidate as its incumbent",
            )
        )
    origin = entry.origin
    # Every candidate of a round shares its parent: the origin is worth showing on the
    # incumbent and on a carried-forward winner only.
    shows_origin = candidate.slot == 0 or entry.carried_to is not None
    if shows_origin and origin is not None and origin.round_index is not None:
        forked = origin.session_id != view.session_id
        notes.append(
            round_link(
                f"from round {origin.round_index}" + (" of the parent session" if forked else ""),
                origin.round_index,
                origin.session_id,
                view,
                className="origin-link",
                title=f"the round that showed its parent (session {origin.session_id})",
            )
        )
    notes += [
        dcc.Link(f"forked into {fork}", href=f"/replay?session={fork}", className="fork-link")
        for fork in entry.forks
    ]
    classes = "replay-card"
    if entry.carried_to is not None:
        classes += " carried"
    if entry.final_choice:
        classes += " final"
    return html.Div(
        [
            html.Div(head, className="replay-card-head"),
            _image(candidate),
            html.Div(notes, className="replay-notes"),
        ],
        id=ids.replay_candidate(candidate.id),
        className=classes,
    )


def round_section(replay_round: RoundView, view: View) -> html.Section:
    """A round: its heading, the judgments it got and every candidate's card."""
    record = replay_round.record
    judgments: list[Any] = [
        html.Li([html.Del(j.line), " (undone)"], className="text-muted undone")
        if j.undone
        else html.Li(j.line)
        for j in replay_round.judgments
    ] or [html.Li("not judged", className="text-muted")]
    return html.Section(
        [
            html.Div(
                [
                    html.H5(f"Round {record.round_index}", className="mb-0 me-2"),
                    html.Span(_time(record.created_at) + " UTC", className="small text-muted"),
                    html.A("↑ rounds", href=f"#{ids.REPLAY_INDEX}", className="ms-auto small"),
                ],
                className="d-flex align-items-baseline",
            ),
            html.Ul(judgments, className="round-judgments small mb-1"),
            html.Div(
                [replay_card(entry, view) for entry in replay_round.candidates],
                className="replay-grid",
            ),
        ],
        id=ids.replay_round(record.round_index),
        className="replay-round",
    )


def final_choice_panel(replay: SessionView, view: View) -> html.Div:
    """The candidate the session would re-show next as its incumbent, with a link to it."""
    children: list[Any] = [html.Strong("Final choice: ")]
    final = replay.final.candidate
    if final is None:
        children.append(html.Span(f"none yet ({replay.final.note})", className="text-muted"))
        return html.Div(children, id=ids.REPLAY_FINAL, className="mb-2")
    children.append(
        round_link(
            f"round {final.round_index}, candidate {final.slot + 1}"
            + ("" if final.session_id == view.session_id else f" of session {final.session_id}"),
            final.round_index,
            final.session_id,
            view,
        )
    )
    if replay.final.note:
        # The model could not be fitted: say which candidate this is instead.
        children.append(html.Div(f"{replay.final.note}.", className="final-note text-danger small"))
    else:
        children.append(html.Span(f" — {FINAL_CHOICE_MEANING}", className="text-muted small"))
    return html.Div(children, id=ids.REPLAY_FINAL, className="mb-2")


def page_links(rounds: Sequence[RoundView], view: View) -> html.Div:
    """Earlier and later pages of rounds, around the rounds this page draws."""
    first = rounds[0].record.round_index
    last = rounds[-1].record.round_index
    shown = [r.record.round_index for r in rounds if r.record.round_index in view.rounds]
    children: list[Any] = []
    if view.rounds.start <= first and view.rounds.stop > last:
        return html.Div(children)  # every round is on this page
    if view.rounds.start > first:
        start = max(first, view.rounds.start - ROUNDS_PER_VIEW)
        children.append(
            dcc.Link(
                f"← rounds {start}-{view.rounds.start - 1}",
                href=f"/replay?session={view.session_id}&from={start}",
            )
        )
    if shown:
        children.append(
            html.Span(f"rounds {shown[0]}-{shown[-1]} of 0-{last}", className="mx-3 text-muted")
        )
    if view.rounds.stop <= last:
        end = min(last, view.rounds.stop + ROUNDS_PER_VIEW - 1)
        children.append(
            dcc.Link(
                f"rounds {view.rounds.stop}-{end} →",
                href=f"/replay?session={view.session_id}&from={view.rounds.stop}",
            )
        )
    return html.Div(children, className="page-links small mb-2")


def replay_view(replay: SessionView, start: int = 0) -> html.Div:
    """The replay: heading, final choice, the index of every round, then the rounds of the
    page that begins at round `start` (aligned to a page), one section each."""
    session = replay.session
    heading = html.Div(
        [
            html.H4(session.prompt or "(no prompt)", className="mb-0"),
            html.Div(
                [
                    html.Code(session.id),
                    f" · {counted(len(replay.rounds), 'round')}"
                    f" · {counted(replay.judgments, 'judgment')} · ",
                    dcc.Link("open on the Steer page", href=f"/?session={session.id}"),
                    " · ",
                    dcc.Link("other sessions", href="/replay"),
                ],
                className="small text-muted",
            ),
        ],
        className="mb-2",
    )
    if not replay.rounds:
        body: list[Any] = [dbc.Alert("This session has no rounds yet.", color="info")]
        return html.Div([heading, *body], id=ids.REPLAY, className="replay")
    last = replay.rounds[-1].record.round_index
    first_shown = view_start(max(0, min(start, last)))
    view = View(session.id, range(first_shown, first_shown + ROUNDS_PER_VIEW))
    body = [
        final_choice_panel(replay, view),
        rounds_index(replay.rounds, view),
        page_links(replay.rounds, view),
        *(round_section(r, view) for r in replay.rounds if r.record.round_index in view.rounds),
        page_links(replay.rounds, view),
    ]
    return html.Div([heading, *body], id=ids.REPLAY, className="replay")
