"""The HTTP routes beside Dash's own: candidate images, the judgment outbox, the trace.

Judgments do not go through a Dash callback: the browser keeps them in an outbox (local
storage) and sends them here one request at a time, oldest first, each with a key of its
own, so that a burst of keystrokes is stored in order and a retry never stores one twice.
A judgment the core refuses comes back as JSON with status 200 and a `kind`, so the page
can say what happened (and the browser console stays clean); a request that cannot be read
(not JSON, wrong fields, too large) is a 4xx with kind "invalid input", and nothing of it is
stored or acknowledged. Bodies are read through the models of `dashboard.api_models`. The
page also posts small batches of trace events (judgments with their decision time, page
views, retries, undos) to /api/trace.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import flask
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from dashboard.api_models import (
    MAX_FEEDBACK_BYTES,
    MAX_TRACE_BYTES,
    MAX_UNDO_BYTES,
    Judgment,
    JudgmentBatch,
    RequestRefused,
    TraceBatch,
    UndoRequest,
    judgment_key,
    read_body,
)
from dashboard.state import DashboardState
from steering_core import trace
from steering_core.errors import (
    InvalidInput,
    NotFound,
    SteeringError,
    error_kind,
    one_line,
    shown,
)
from steering_core.feedback import ADVANCING_MODES
from steering_core.sessions import (
    get_candidate,
    get_session,
    latest_round_index,
    submit_feedback,
    withdraw_last_judgment,
)
from steering_core.storage.database import TRANSIENT_ERRORS

logger = logging.getLogger(__name__)
# A page waits at most this long for a data root another process is writing; then it says
# so and keeps the judgment for a retry, instead of hanging.
LOCK_TIMEOUT_SECONDS = 3.0
# SQLite's integers are 64-bit: a larger candidate id names no candidate.
MAX_ID = 2**63 - 1
# The routes of this module: any other path under /api/ is a 404, not Dash's page.
API_PATHS = {"/api/feedback": "feedback", "/api/undo": "undo", "/api/trace": "trace_events"}


def error_reply(error: BaseException) -> dict[str, Any]:
    """What the page shows for an error: its kind and a one-line message."""
    if isinstance(error, SteeringError):
        return {"ok": False, "kind": error.kind, "message": one_line(str(error))}
    if isinstance(error, TRANSIENT_ERRORS):
        return {
            "ok": False,
            "kind": "transient",
            "message": f"the data root is busy or unavailable ({error}); "
            "your judgment is kept, retry in a moment",
        }
    logger.exception("dashboard: unexpected error")
    message = one_line(f"{type(error).__name__}: {error}")
    return {"ok": False, "kind": error_kind(error), "message": message}


def refusal_reply(refusal: RequestRefused) -> dict[str, Any]:
    """What the page gets for a request it sent that cannot be read."""
    return {"ok": False, "kind": InvalidInput.kind, "message": str(refusal)}


def store_judgments(state: DashboardState, judgments: Sequence[Judgment]) -> dict[str, Any]:
    """Store the outbox's judgments in order; stops at the first one that fails.

    Returns the keys stored (`acked`, including ones stored by an earlier request), the
    event ids, the job started when a judgment asked to advance to the next round, and the
    error if any (`failed`: the key of the judgment refused)."""
    acked: list[str] = []
    events: list[int] = []
    job_id = None
    with state.feedback_lock:
        for judgment in judgments:
            try:
                event = submit_feedback(
                    state.workspace,
                    judgment.session_id,
                    judgment.raw,
                    round_index=judgment.round_index,
                    source="human",
                    client_key=judgment.key,
                    lock_timeout=LOCK_TIMEOUT_SECONDS,
                )
            except Exception as error:
                reply = error_reply(error)
                reply.update(acked=acked, events=events, job_id=job_id, failed=judgment.key)
                trace_error(state, judgment.session_id, judgment.key, "feedback", error, reply)
                return reply
            acked.append(judgment.key)
            events.append(event.id)
            # Judgments that settle the round start the next by itself (when asked).
            if judgment.advance and event.mode in ADVANCING_MODES:
                job_id = advance(state, event.session_id, event.round_index) or job_id
    return {"ok": True, "acked": acked, "events": events, "job_id": job_id}


def trace_error(
    state: DashboardState,
    session_id: str,
    client_key: str | None,
    where: str,
    error: BaseException,
    reply: dict[str, Any],
) -> None:
    """A failed judgment or undo in the session's trace (not for a session that is not
    there: its trace would be a file for a name the browser made up)."""
    if isinstance(error, NotFound):
        return
    trace.record(
        state.workspace,
        session_id,
        "error",
        where=where,
        error_kind=reply["kind"],
        message=reply["message"][:500],
        client_key=client_key,
    )


def store_trace(state: DashboardState, data: bytes) -> tuple[dict[str, Any], int]:
    """Record a batch of frontend trace events; returns the reply and its HTTP status
    (413 for a batch that is too large, 400 for one that is not valid, naming the problem;
    404 for a session that does not exist)."""
    try:
        batch = read_body(TraceBatch, data, MAX_TRACE_BYTES)
        session_id, events = trace.check_frontend_batch(batch.model_dump())
        get_session(state.workspace, session_id)
    except RequestRefused as refusal:
        return refusal_reply(refusal), refusal.status
    except NotFound as error:
        return {"ok": False, "kind": error.kind, "message": one_line(str(error))}, 404
    except InvalidInput as error:
        return {"ok": False, "kind": error.kind, "message": one_line(str(error))}, 400
    if not trace.record_events(state.workspace, session_id, events, source="frontend"):
        # A disk problem is the server's, not the page's: status 200 keeps the console clean.
        reply = {"ok": False, "kind": "transient", "message": "trace: could not be written"}
        return reply, 200
    return {"ok": True, "recorded": len(events)}, 200


def advance(state: DashboardState, session_id: str, judged_round: int) -> str | None:
    """Start the next round after a judgment of the session's latest round."""
    if latest_round_index(state.workspace, session_id) != judged_round:
        return None
    return state.start_round(session_id)


def undo_judgment(state: DashboardState, session_id: str) -> dict[str, Any]:
    """Withdraw the session's last judgment and stop the round being made after it: the
    reply says which judgment of which round was withdrawn (with the key the page gave it,
    so the page can bring its draft back), the rounds discarded and the round now latest."""
    withdrawal = withdraw_last_judgment(state.workspace, session_id)
    # A round started after the judgment would be planned from it, or (still queued) would
    # follow a round that is open again: either way not what the researcher wants now.
    cancelled = state.cancel_round(withdrawal.event.session_id)
    withdrawn = withdrawal.withdrawn
    message = f"Withdrew round {withdrawn.round_index}'s judgment ({withdrawal.words})"
    if withdrawal.discarded_rounds:
        message += "; discarded round " + ", ".join(map(str, withdrawal.discarded_rounds))
    elif cancelled is not None:
        message += "; stopped the round being made from it"
    return {
        "ok": True,
        "undone": withdrawn.id,
        "round_index": withdrawn.round_index,
        "judgment": withdrawal.words,
        "client_key": withdrawn.client_key,
        "discarded_rounds": withdrawal.discarded_rounds,
        "cancelled_job": cancelled,
        "latest_round": latest_round_index(state.workspace, withdrawn.session_id),
        "message": message,
    }


def register(server: flask.Flask, state: DashboardState) -> None:
    """Add the image and judgment routes to Dash's Flask server."""
    images_root = (state.workspace.data_root / "images").resolve()

    @server.get("/images/<path:relative>")
    def image(relative: str) -> flask.Response:
        # Only PNGs inside the data root's image folder: never the database or a label CSV,
        # and a path that climbs out (../) is a 404 like any file that is not there.
        try:
            path = (images_root / relative).resolve()
            found = path.is_relative_to(images_root) and path.suffix == ".png" and path.is_file()
        except (ValueError, OSError):  # a NUL byte, a name too long for the file system
            found = False
        if not found:
            flask.abort(404, "image: no such image in the data root")
        response = flask.send_file(path, mimetype="image/png", max_age=31536000)
        return response

    @server.get("/api/candidates/<int:candidate_id>/image")
    def candidate_image(candidate_id: int) -> flask.Response:
        # The inspector asks for a candidate's image by id, so a click on a point shows it
        # without a round trip through Dash first (the plot only carries ids).
        message = f"candidate_id: no candidate {shown(candidate_id)} in the data root"
        if candidate_id > MAX_ID:
            flask.abort(404, message)
        try:
            relative = get_candidate(state.workspace, candidate_id).image_path
        except SteeringError:
            flask.abort(404, message)
        if not relative or not relative.startswith("images/"):
            flask.abort(404, f"candidate_id: candidate {candidate_id} has no image")
        return image(relative.removeprefix("images/"))

    @server.before_request
    def only_our_routes_under_images_and_api() -> None:
        # Paths these routes cannot match (`/images//etc/passwd`, `/api/nosuch`) would
        # otherwise fall through to Dash's page: under /images/ and /api/ it is a route of
        # this module or an error.
        path, endpoint = flask.request.path, flask.request.endpoint
        if path.startswith("/images/") and endpoint != "image":
            flask.abort(404, "image: no such image in the data root")
        if path.startswith("/api/") and endpoint not in {"candidate_image", *API_PATHS.values()}:
            if path in API_PATHS:
                raise MethodNotAllowed(valid_methods=["POST"])
            flask.abort(404, f"{path[:60]}: no such route")

    @server.errorhandler(HTTPException)
    def json_errors(error: HTTPException) -> Any:
        # The routes of this module answer every error in JSON, like their other replies;
        # Dash's own routes keep Flask's.
        path = flask.request.path
        if not path.startswith(("/api/", "/images/")):
            return error
        if isinstance(error, MethodNotAllowed):
            allowed = ", ".join(sorted(set(error.valid_methods or ()) - {"HEAD", "OPTIONS"}))
            message = (
                f"{path[:60]}: {flask.request.method[:10]} is not allowed (allowed: {allowed})"
            )
        else:
            message = one_line(error.description or error.name)
        return flask.jsonify({"ok": False, "kind": InvalidInput.kind, "message": message}), (
            error.code or 400
        )

    @server.post("/api/feedback")
    def feedback() -> Any:
        data = b""
        try:
            data = json_body(MAX_FEEDBACK_BYTES)
            batch = read_body(JudgmentBatch, data, MAX_FEEDBACK_BYTES)
        except RequestRefused as refusal:
            # Nothing of the request was stored: no key is acknowledged. The judgment at
            # fault is named, so the page can set it aside and send the others.
            failed = None if refusal.index is None else judgment_key(data, refusal.index)
            reply = {**refusal_reply(refusal), "acked": [], "events": [], "job_id": None}
            return flask.jsonify({**reply, "failed": failed}), refusal.status
        return flask.jsonify(store_judgments(state, batch.items))

    @server.post("/api/undo")
    def undo() -> Any:
        try:
            request = read_body(UndoRequest, json_body(MAX_UNDO_BYTES), MAX_UNDO_BYTES)
        except RequestRefused as refusal:
            return flask.jsonify(refusal_reply(refusal)), refusal.status
        with state.feedback_lock:
            try:
                reply = undo_judgment(state, request.session_id)
            except Exception as error:
                reply = error_reply(error)
                trace_error(state, request.session_id, None, "undo", error, reply)
        return flask.jsonify(reply)

    @server.post("/api/trace")
    def trace_events() -> Any:
        # Any content type: the page hands its last events to `navigator.sendBeacon`, which
        # sends text/plain.
        reply, status = store_trace(state, capped_body(MAX_TRACE_BYTES))
        return flask.jsonify(reply), status


def capped_body(limit: int) -> bytes:
    """The request's body, read to at most one byte past `limit`: an oversized body is never
    held in memory."""
    return flask.request.stream.read(limit + 1)


def json_body(limit: int) -> bytes:
    """The body of a request that must say it is JSON (the page always does): another
    content type is refused unread rather than taken for an empty body."""
    if flask.request.mimetype != "application/json":
        raise RequestRefused(415, "Content-Type: send the body as application/json")
    return capped_body(limit)
