"""The round on screen: which round, its grid in the session's feedback mode, the mode
switch, 'next round', and the browser-side rendering of the judgment in progress."""

from __future__ import annotations

from typing import Any

from dash import (
    ALL,
    ClientsideFunction,
    Dash,
    Input,
    Output,
    State,
    ctx,
    html,
    no_update,
)

from dashboard import ids
from dashboard.callbacks.session import error_message
from dashboard.callbacks.space import more_like_this
from dashboard.layout.grid import (
    MODE_TITLES,
    candidate_grid,
    grid_mode,
    mode_banner,
    round_controls,
)
from dashboard.state import DashboardState
from steering_core.errors import NotFound, SteeringError
from steering_core.funnel import FUNNEL_MODE, FUNNEL_STAGES, next_funnel_round
from steering_core.funnel_stages import funnel_keep_limit
from steering_core.sessions import (
    change_settings,
    get_feedback_events,
    get_round,
    get_session,
    judgment_to_undo,
    judgment_words,
    latest_round_index,
)
from steering_core.storage.records import CandidateRecord, FeedbackEventRecord
from steering_core.views.judgment_words import received_labels
from steering_core.views.kept import kept_reason


def show_round(
    state: DashboardState, view: dict[str, Any] | None, mode: str | None
) -> tuple[Any, Any, str]:
    """(grid, mode banner, round label) for the view `{session_id, round_index}`."""
    session_id = (view or {}).get("session_id")
    if not session_id:
        return html.Div("Start a session or open one on the left.", className="text-muted"), "", "-"
    try:
        session = get_session(state.workspace, session_id)
        latest = latest_round_index(state.workspace, session_id)
        if latest is None:
            message = html.Div(
                "No round yet: it is being generated, or press Next round.",
                className="text-muted p-4",
            )
            return message, mode_banner(mode or session.config["feedback_mode"]), "round -"
        wanted = view.get("round_index")
        if wanted is not None and int(wanted) > latest:
            # A round asked for in the URL that this session does not have (yet).
            message = html.Div(
                f"Session {session_id} has no round {wanted}: its latest is round {latest}.",
                className="text-muted p-4",
            )
            return (
                message,
                mode_banner(mode or session.config["feedback_mode"]),
                f"round - of {latest}",
            )
        round_index = latest if wanted is None else max(0, int(wanted))
        record, candidates = get_round(state.workspace, session_id, round_index)
    except SteeringError as error:
        return error_message(error), "", "-"
    mode = mode or session.config["feedback_mode"]
    events = get_feedback_events(state.workspace, session_id, round_index=round_index)
    if record.round_index != latest:
        mode = judged_mode(events) or mode
    received = received_labels(events, {c.id: c.slot for c in candidates})
    kept = round_kept_reason(state, session_id, record.round_index, candidates)
    grid = candidate_grid(
        session_id,
        record.round_index,
        record.round_index == latest,
        candidates,
        mode,
        received,
        kept,
        keep_limit=funnel_keep_limit(record.model_state, len(candidates)),
    )
    label = f"round {record.round_index} of {latest}"
    return grid, mode_banner(mode), label


def round_kept_reason(
    state: DashboardState, session_id: str, round_index: int, candidates: list[CandidateRecord]
) -> str:
    """Why the round's incumbent is the one the round before showed too ('' when not)."""
    if round_index == 0 or not candidates:
        return ""
    try:
        _, previous = get_round(state.workspace, session_id, round_index - 1)
    except NotFound:  # a round before it that is gone: nothing to say why
        return ""
    events = get_feedback_events(state.workspace, session_id, round_index=round_index - 1)
    return kept_reason(candidates[0], previous, events)


def judged_mode(events: list[FeedbackEventRecord]) -> str | None:
    """The grid mode of a round's last judgment still in force (None: not judged in one), so a
    past round reads as it was judged, not in the mode in use now."""
    for event in reversed(events):
        if event.mode != "undo" and event.undone_at is None and event.mode in MODE_TITLES:
            return event.mode
    return None


def step_round(state: DashboardState, view: dict[str, Any] | None, step: int) -> Any:
    """The view one round earlier (-1) or later (+1); later than the latest is the latest."""
    view = dict(view or {})
    session_id = view.get("session_id")
    if not session_id:
        return no_update
    latest = latest_round_index(state.workspace, session_id)
    if latest is None:
        return no_update
    current = latest if view.get("round_index") is None else int(view["round_index"])
    target = max(0, current + step)
    view["round_index"] = None if target >= latest else target
    return view


def switch_mode(state: DashboardState, session_id: str | None, mode: str | None) -> Any:
    """Store the session's feedback mode (the next judgments and rounds use it)."""
    if not session_id or not mode:
        return no_update
    try:
        if get_session(state.workspace, session_id).config["feedback_mode"] != mode:
            change_settings(state.workspace, session_id, {"feedback_mode": mode})
    except SteeringError as error:
        return error_message(error)
    return no_update


def next_round(state: DashboardState, session_id: str | None) -> Any:
    """Queue the session's next round (the grid follows when it is stored)."""
    if not session_id:
        return no_update
    try:
        return {"job_id": state.start_round(session_id)}
    except SteeringError as error:
        return {"error": str(error)}


def undo_label(state: DashboardState, session_id: str | None) -> tuple[str, bool]:
    """(label, disabled) of the Undo judgment button: which judgment of which round it
    would withdraw ("Undo round 4's judgment (winner: 3)")."""
    if not session_id:
        return "Undo judgment", True
    try:
        event = judgment_to_undo(state.workspace, session_id)
    except SteeringError:
        return "Undo judgment", True
    if event is None:
        return "Undo judgment (none stored)", True
    words = judgment_words(state.workspace, event)
    return f"Undo round {event.round_index}'s judgment ({words})", False


def start_funnel(
    state: DashboardState, session_id: str | None, mode: str | None = None
) -> tuple[Any, Any, Any, Any]:
    """A wide round of the draft funnel, judged in approve / reject ("keep") mode; `mode`:
    the mode in use before, which the funnel's end brings back. Funnel rounds never start
    the next round by themselves (judging.js), so the auto-advance switch is left alone.
    Returns (job, message, mode, the mode before: FUNNEL_BEFORE's data)."""
    if not session_id:
        return no_update, "Open a session first.", no_update, no_update
    try:
        before = mode or get_session(state.workspace, session_id).config["feedback_mode"]
        change_settings(state.workspace, session_id, {"feedback_mode": FUNNEL_MODE})
        job = {"job_id": state.start_round(session_id, k=FUNNEL_STAGES[0])}
    except SteeringError as error:
        return no_update, error_message(error), no_update, no_update
    message = (
        f"Funnel: approve at most {FUNNEL_STAGES[1]} to keep, then press Next funnel stage "
        "(funnel rounds do not start the next round by themselves)."
    )
    return job, message, FUNNEL_MODE, {"session_id": session_id, "mode": before}


def funnel_stage(
    state: DashboardState, session_id: str | None, before: dict[str, Any] | None = None
) -> tuple[Any, Any, Any, Any]:
    """The next funnel round: variations of what this round's judgment kept. When the funnel
    ends, judging goes back to the mode in use before it (`before`: FUNNEL_BEFORE's data).
    Returns (job, message, mode, FUNNEL_BEFORE's data)."""
    if not session_id:
        return no_update, "Open a session first.", no_update, no_update
    try:
        step = next_funnel_round(state.workspace, session_id)
        job = {"job_id": state.start_round(session_id, around=step.around, k=step.k)}
    except SteeringError as error:
        return no_update, error_message(error), no_update, no_update
    if not step.finished:
        message = f"Kept {len(step.kept)}; a round of {step.k} with variations of them."
        return job, message, no_update, no_update
    done = "Funnel finished: the one you kept is the incumbent from now on"
    before = before or {}
    previous = before.get("mode") if before.get("session_id") == session_id else None
    if not previous or previous == FUNNEL_MODE:
        return job, f"{done}; judging stays in approve / reject mode.", no_update, None
    try:
        change_settings(state.workspace, session_id, {"feedback_mode": previous})
    except SteeringError as error:
        return job, error_message(error), no_update, None
    words = previous.replace("_", " ")
    return job, f"{done}; judging is back in {words} mode.", previous, None


def more_like_focused(state: DashboardState, request: dict[str, Any] | None) -> tuple[Any, Any]:
    """The key for "more like this" (judging.js): a round around the focused candidate."""
    if not request or request.get("candidate_id") is None:
        return no_update, no_update
    job, message = more_like_this(state, request["candidate_id"])
    return job, message


def register(app: Dash, state: DashboardState) -> None:
    @app.callback(
        Output(ids.JOB, "data", allow_duplicate=True),
        Output(ids.ROUND_MESSAGE, "children"),
        Output(ids.MODE_SWITCH, "value"),
        Output(ids.FUNNEL_BEFORE, "data"),
        Input(ids.FUNNEL_START, "n_clicks"),
        State(ids.SESSION, "data"),
        State(ids.MODE_SWITCH, "value"),
        prevent_initial_call=True,
    )
    def funnel_start(_: int, session: dict | None, mode: str | None) -> Any:
        return start_funnel(state, (session or {}).get("session_id"), mode)

    # "Next funnel stage" is judging.js's: it stores the judgment on screen, then asks here.
    @app.callback(
        Output(ids.JOB, "data", allow_duplicate=True),
        Output(ids.ROUND_MESSAGE, "children", allow_duplicate=True),
        Output(ids.MODE_SWITCH, "value", allow_duplicate=True),
        Output(ids.FUNNEL_BEFORE, "data", allow_duplicate=True),
        Input(ids.FUNNEL_REQUEST, "data"),
        State(ids.SESSION, "data"),
        State(ids.FUNNEL_BEFORE, "data"),
        prevent_initial_call=True,
    )
    def funnel_next(request: dict | None, session: dict | None, before: dict | None) -> Any:
        if not request:  # the store as the page is built: nothing was asked for
            return no_update, no_update, no_update, no_update
        return funnel_stage(state, (session or {}).get("session_id"), before)

    @app.callback(
        Output(ids.JOB, "data", allow_duplicate=True),
        Output(ids.ROUND_MESSAGE, "children", allow_duplicate=True),
        Input(ids.MORE_LIKE_REQUEST, "data"),
        prevent_initial_call=True,
    )
    def more_like_key(request: dict | None) -> Any:
        return more_like_focused(state, request)

    @app.callback(
        Output(ids.GRID, "children"),
        Output(ids.MODE_BANNER, "children"),
        Output(ids.ROUND_LABEL, "children"),
        Output(ids.MODE_CONTROLS, "children"),
        Input(ids.VIEW, "data"),
        Input(ids.VERSION, "data"),
        Input(ids.MODE_SWITCH, "value"),
    )
    def grid(view: dict | None, _version: Any, mode: str | None) -> tuple[Any, Any, str, Any]:
        shown, banner, label = show_round(state, view, mode)
        return shown, banner, label, round_controls(grid_mode(shown))

    @app.callback(
        Output(ids.UNDO_JUDGMENT, "children"),
        Output(ids.UNDO_JUDGMENT, "disabled"),
        Input(ids.VERSION, "data"),
        Input(ids.SESSION, "data"),
    )
    def undo_button(_version: Any, session: dict | None) -> tuple[str, bool]:
        return undo_label(state, (session or {}).get("session_id"))

    @app.callback(
        Output(ids.VIEW, "data"),
        Input(ids.ROUND_PREV, "n_clicks"),
        Input(ids.ROUND_NEXT, "n_clicks"),
        State(ids.VIEW, "data"),
        prevent_initial_call=True,
    )
    def navigate(_prev: int, _next: int, view: dict | None) -> Any:
        return step_round(state, view, -1 if ctx.triggered_id == ids.ROUND_PREV else 1)

    @app.callback(
        Output(ids.SETTINGS_MESSAGE, "children", allow_duplicate=True),
        Input(ids.MODE_SWITCH, "value"),
        State(ids.SESSION, "data"),
        prevent_initial_call=True,
    )
    def mode(mode: str | None, session: dict | None) -> Any:
        return switch_mode(state, (session or {}).get("session_id"), mode)

    @app.callback(
        Output(ids.JOB, "data", allow_duplicate=True),
        Input(ids.NEXT_ROUND, "n_clicks"),
        State(ids.SESSION, "data"),
        prevent_initial_call=True,
    )
    def advance(_: int, session: dict | None) -> Any:
        return next_round(state, (session or {}).get("session_id"))

    # The judgment in progress lives in the browser (assets/judging.js); these render it.
    app.clientside_callback(
        ClientsideFunction("steer", "renderDraft"),
        Output(ids.card(ALL), "className"),
        Output(ids.card_mark(ALL), "children"),
        Output(ids.DRAFT_SUMMARY, "children"),
        Input(ids.DRAFT, "data"),
    )
    app.clientside_callback(
        ClientsideFunction("steer", "renderOutbox"),
        Output(ids.OUTBOX_STATUS, "children"),
        Input(ids.OUTBOX, "data"),
    )
    app.clientside_callback(
        ClientsideFunction("steer", "gridChanged"),
        Output(ids.DRAFT, "data"),
        Input(ids.GRID, "children"),
    )
    app.clientside_callback(
        ClientsideFunction("steer", "setFields"),
        Output(ids.DRAFT, "data", allow_duplicate=True),
        Input(ids.CONFIDENCE, "value"),
        Input(ids.CRITIQUE_TAGS, "value"),
        Input(ids.CRITIQUE_TEXT, "value"),
        Input(ids.REJECT_REASON, "value"),
        prevent_initial_call=True,
    )
