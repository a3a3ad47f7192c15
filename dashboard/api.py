"""The HTTP routes beside Dash's own: candidate images, the judgment outbox, the trace.

Judgments do not go through a Dash callback: the browser keeps them in an outbox (local
storage) and sends them here one request at a time, oldest first, each with a key of its
own, so that a burst of keystrokes is stored in order and a retry never stores one twice.
Errors come back as JSON with status 200 and a `kind`, so the page can say what happened
(and the browser console stays clean). The page also posts small batches of trace events
(judgments with their decision time, page views, retries, undos) to /api/trace.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import flask

from dashboard.state import DashboardState
from steering_core import trace
from steering_core.errors import InvalidInput, NotFound, SteeringError, error_kind
from steering_core.feedback import ADVANCING_MODES
from steering_core.sessions import (
    get_candidate,
    get_session,
    latest_round_index,
    submit_feedback,
    undo_last_feedback,
)
from steering_core.storage.database import TRANSIENT_ERRORS

logger = logging.getLogger(__name__)
MAX_BATCH = 500
# A batch of trace events is a few hundred bytes an event; anything much larger is refused.
MAX_TRACE_BYTES = 64 * 1024
# A page waits at most this long for a data root another process is writing; then it says
# so and keeps the judgment for a retry, instead of hanging.
LOCK_TIMEOUT_SECONDS = 3.0


def error_reply(error: BaseException) -> dict[str, Any]:
    """What the page shows for an error: its kind and a one-line message."""
    if isinstance(error, SteeringError):
        return {"ok": False, "kind": error.kind, "message": str(error)}
    if isinstance(error, TRANSIENT_ERRORS):
        return {
            "ok": False,
            "kind": "transient",
            "message": f"the data root is busy or unavailable ({error}); "
            "your judgment is kept, retry in a moment",
        }
    logger.exception("dashboard: unexpected error")
    message = f"{type(error).__name__}: {error}"
    return {"ok": False, "kind": error_kind(error), "message": message}


def store_judgments(state: DashboardState, items: list[dict[str, Any]]) -> dict[str, Any]:
    """Store the outbox's judgments in order; stops at the first one that fails.

    Each item: `{"key", "session_id", "round_index", "raw", "advance"}`. Returns the keys
    stored (`acked`, including ones stored by an earlier request), the event ids, the job
    started when a judgment asked to advance to the next round, and the error if any."""
    if not isinstance(items, list) or len(items) > MAX_BATCH:
        return {"ok": False, "kind": "invalid input", "message": "items: a list of judgments"}
    acked: list[str] = []
    events: list[int] = []
    job_id = None
    with state.feedback_lock:
        for item in items:
            try:
                if not isinstance(item, dict) or not isinstance(item.get("raw"), dict):
                    raise InvalidInput("each judgment needs a `raw` mapping")
                event = submit_feedback(
                    state.workspace,
                    str(item.get("session_id")),
                    item["raw"],
                    round_index=item.get("round_index"),
                    source="human",
                    client_key=str(item.get("key")) if item.get("key") else None,
                    lock_timeout=LOCK_TIMEOUT_SECONDS,
                )
            except Exception as error:
                reply = error_reply(error)
                reply.update(acked=acked, events=events, job_id=job_id, failed=item.get("key"))
                trace_error(state, item, "feedback", error, reply)
                return reply
            acked.append(str(item.get("key")))
            events.append(event.id)
            # Judgments that settle the round start the next by itself (when asked).
            if item.get("advance") and event.mode in ADVANCING_MODES:
                job_id = advance(state, event.session_id, event.round_index) or job_id
    return {"ok": True, "acked": acked, "events": events, "job_id": job_id}


def trace_error(
    state: DashboardState, item: Any, where: str, error: BaseException, reply: dict[str, Any]
) -> None:
    """A failed judgment or undo in the session's trace (not for a session that is not
    there: its trace would be a file for a name the browser made up)."""
    if isinstance(error, NotFound) or not isinstance(item, dict):
        return
    session_id = str(item.get("session_id"))
    if trace.SESSION_ID_PATTERN.fullmatch(session_id):
        trace.record(
            state.workspace,
            session_id,
            "error",
            where=where,
            error_kind=reply["kind"],
            message=reply["message"][:500],
            client_key=item.get("key"),
        )


def store_trace(state: DashboardState, data: bytes) -> tuple[dict[str, Any], int]:
    """Record a batch of frontend trace events; returns the reply and its HTTP status
    (400 for a batch that is too large or not valid, naming the problem; 404 for a session
    that does not exist)."""
    if len(data) > MAX_TRACE_BYTES:
        message = f"trace: a batch is at most {MAX_TRACE_BYTES} bytes (got {len(data)} or more)"
        return {"ok": False, "kind": "invalid input", "message": message}, 400
    try:
        session_id, events = trace.check_frontend_batch(json.loads(data or b"null"))
        get_session(state.workspace, session_id)
    except NotFound as error:
        return {"ok": False, "kind": error.kind, "message": str(error)}, 404
    except (InvalidInput, ValueError) as error:  # ValueError: the body is not JSON
        message = str(error) if isinstance(error, InvalidInput) else "trace: the body is not JSON"
        return {"ok": False, "kind": "invalid input", "message": message}, 400
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


def register(server: flask.Flask, state: DashboardState) -> None:
    """Add the image and judgment routes to Dash's Flask server."""
    images_root = (state.workspace.data_root / "images").resolve()

    @server.get("/images/<path:relative>")
    def image(relative: str) -> flask.Response:
        # Only PNGs inside the data root's image folder: never the database or a label CSV,
        # and a path that climbs out (../) is a 404 like any file that is not there.
        path = (images_root / relative).resolve()
        if not path.is_relative_to(images_root) or path.suffix != ".png" or not path.is_file():
            flask.abort(404)
        response = flask.send_file(path, mimetype="image/png", max_age=31536000)
        return response

    @server.get("/api/candidates/<int:candidate_id>/image")
    def candidate_image(candidate_id: int) -> flask.Response:
        # The inspector asks for a candidate's image by id, so a click on a point shows it
        # without a round trip through Dash first (the plot only carries ids).
        try:
            relative = get_candidate(state.workspace, candidate_id).image_path
        except SteeringError:
            flask.abort(404)
        if not relative or not relative.startswith("images/"):
            flask.abort(404)
        return image(relative.removeprefix("images/"))

    @server.before_request
    def only_images_under_images() -> None:
        # Paths the image route cannot match (`/images//etc/passwd`) would otherwise fall
        # through to Dash's page; anything under /images/ is an image or a 404.
        if flask.request.path.startswith("/images/") and flask.request.endpoint != "image":
            flask.abort(404)

    @server.post("/api/feedback")
    def feedback() -> flask.Response:
        body = flask.request.get_json(silent=True) or {}
        return flask.jsonify(store_judgments(state, body.get("items", [])))

    @server.post("/api/undo")
    def undo() -> flask.Response:
        body = flask.request.get_json(silent=True) or {}
        with state.feedback_lock:
            try:
                event = undo_last_feedback(state.workspace, str(body.get("session_id")))
            except Exception as error:
                reply = error_reply(error)
                trace_error(state, body, "undo", error, reply)
                return flask.jsonify(reply)
        return flask.jsonify({"ok": True, "undone": event.undoes_event_id})

    @server.post("/api/trace")
    def trace_events() -> flask.Response:
        # Read at most one byte past the limit: an oversized body is never held in memory.
        reply, status = store_trace(state, flask.request.stream.read(MAX_TRACE_BYTES + 1))
        return flask.jsonify(reply), status
