"""The replay page's data: a session's rounds, their judgments and each winner's lineage."""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard.callbacks.judging import received_labels
from dashboard.callbacks.session import error_message
from dashboard.layout.replay import (
    Origin,
    Replay,
    ReplayCandidate,
    ReplayRound,
    judgment_line,
    replay_view,
    session_list,
)
from dashboard.state import DashboardState
from steering_core.errors import SteeringError
from steering_core.incumbent import choose_incumbent, fit_preference_model
from steering_core.sessions import (
    get_candidate,
    get_candidates,
    get_feedback_events,
    get_rounds,
    get_session,
    list_sessions,
    load_session_config,
)
from steering_core.storage.records import CandidateRecord, FeedbackEventRecord
from steering_core.storage.workspace import Workspace

logger = logging.getLogger(__name__)


def final_choice(workspace: Workspace, session_id: str) -> tuple[CandidateRecord | None, Any]:
    """(the incumbent the next round would re-show, problem): the same choice the next round
    makes, from the preference model fitted on every judgment of the session."""
    try:
        config = load_session_config(get_session(workspace, session_id))
        model, _, _ = fit_preference_model(workspace, session_id, config)
        return choose_incumbent(workspace, session_id, model), None
    except SteeringError as error:
        return None, error_message(error)
    except Exception as error:
        # The rounds are still worth seeing when the model cannot be fitted.
        logger.exception("replay: could not fit the preference model of %s", session_id)
        return None, dbc.Alert(f"Runtime: {type(error).__name__}: {error}", color="danger")


def load_replay(workspace: Workspace, session_id: str) -> Replay:
    """Everything the replay shows, in a handful of queries whatever the number of rounds."""
    session = get_session(workspace, session_id)
    rounds = get_rounds(workspace, session.id)
    candidates = get_candidates(workspace, session.id)
    events = get_feedback_events(workspace, session.id)
    by_id = {c.id: c for c in candidates}
    by_round: dict[int, list[CandidateRecord]] = defaultdict(list)
    for candidate in candidates:
        by_round[candidate.round_index].append(candidate)
    events_by_round: dict[int, list[FeedbackEventRecord]] = defaultdict(list)
    for event in events:
        events_by_round[event.round_index].append(event)

    # A round's incumbent (slot 0) is a copy of the candidate chosen after the round before:
    # its parent. That parent is the "carried-forward winner" of the round that showed it.
    carried_to: dict[int, int] = {}
    for record in rounds:
        shown = by_round.get(record.round_index) or []
        if shown and shown[0].slot == 0 and shown[0].parent_candidate_id is not None:
            carried_to.setdefault(shown[0].parent_candidate_id, record.round_index)

    def origin(candidate: CandidateRecord) -> Origin | None:
        if candidate.parent_candidate_id is None:
            return None
        parent = by_id.get(candidate.parent_candidate_id)
        if parent is None:  # a fork: the parent lives in another session
            parent = get_candidate(workspace, candidate.parent_candidate_id)
        return Origin(parent.round_index, parent.session_id)

    forks: dict[int, list[str]] = defaultdict(list)
    for other in list_sessions(workspace):
        if other["forked_from_candidate_id"] in by_id:
            forks[other["forked_from_candidate_id"]].append(other["id"])
    chosen, problem = final_choice(workspace, session.id)
    replay_rounds = []
    for record in rounds:
        shown = by_round.get(record.round_index, [])
        round_events = events_by_round.get(record.round_index, [])
        received = received_labels(round_events, record.round_index)
        slots = {c.id: c.slot for c in shown}
        judged = [e for e in round_events if e.mode != "undo" and e.undone_at is None]
        entries = []
        for candidate in shown:
            carried = carried_to.get(candidate.id)
            shows_origin = candidate.slot == 0 or carried is not None
            entries.append(
                ReplayCandidate(
                    candidate=candidate,
                    received=received.get(candidate.id, []),
                    carried_to=carried,
                    final_choice=chosen is not None and chosen.id == candidate.id,
                    origin=origin(candidate) if shows_origin else None,
                    forks=forks.get(candidate.id, ()),
                )
            )
        replay_rounds.append(
            ReplayRound(
                record=record,
                candidates=entries,
                judgments=[judgment_line(e, slots) for e in judged],
                undone=sum(1 for e in round_events if e.undone_at is not None),
            )
        )
    judgments = sum(1 for e in events if e.mode != "undo" and e.undone_at is None)
    return Replay(session, replay_rounds, chosen, problem, judgments)


def first_round(query: dict[str, str]) -> int:
    """The round a page starts at (`from=20`); anything else than a number starts at 0."""
    text = query.get("from", "")
    return int(text) if text.isdigit() else 0


def replay_page(state: DashboardState, query: dict[str, str]) -> Any:
    """`/replay`: the session picker, or `/replay?session=ID&from=N`: that session's rounds,
    a page of them from round N."""
    session_id = query.get("session")
    try:
        if not session_id:
            return session_list(list_sessions(state.workspace))
        return replay_view(load_replay(state.workspace, session_id), first_round(query))
    except SteeringError as error:
        return html.Div([error_message(error), dcc.Link("← every session", href="/replay")])
