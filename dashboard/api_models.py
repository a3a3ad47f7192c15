"""The request bodies the dashboard's routes accept, one model per route, and how a body is
read: capped in size, parsed and validated before anything is stored, or refused in one line."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

import pydantic_core
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationError,
)

from steering_core.errors import one_line
from steering_core.trace import MAX_FRONTEND_EVENTS, SESSION_ID_PATTERN

# The page sends at most 100 judgments a request (assets/judging.js); a script may send more.
MAX_BATCH = 500
# The page's largest possible batch is 100 critiques of 5000 characters each, about 3 MB if
# every character took six bytes of JSON; a real batch is a few kB. Anything larger than
# this is refused unread.
MAX_FEEDBACK_BYTES = 4 * 1024 * 1024
MAX_UNDO_BYTES = 4 * 1024
# A batch of trace events is a few hundred bytes an event; anything much larger is refused.
MAX_TRACE_BYTES = 64 * 1024
# A raw judgment is a mapping of fields, some a list or a mapping of candidate ids: 2 levels.
MAX_RAW_DEPTH = 4
MAX_ROUND_INDEX = 2**31 - 1

Body = TypeVar("Body", bound=BaseModel)


class RequestRefused(Exception):
    """A request the route cannot read: its HTTP status and a one-line reason."""

    def __init__(self, status: int, message: str, index: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.index = index  # the judgment of a batch that is wrong, when it is one


def _session_id(value: str) -> str:
    if not SESSION_ID_PATTERN.fullmatch(value):
        raise ValueError("1-64 letters, digits, '-' or '_'")
    return value


def _depth(value: Any) -> int:
    """How deep lists and mappings nest in a JSON value (a scalar is 0)."""
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


def _shallow(raw: dict[str, Any]) -> dict[str, Any]:
    if _depth(raw) > MAX_RAW_DEPTH:
        raise ValueError(f"lists and mappings nest at most {MAX_RAW_DEPTH} deep")
    return raw


SessionId = Annotated[StrictStr, AfterValidator(_session_id)]


class Request(BaseModel):
    """A route's body: every field named, nothing else accepted."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Judgment(Request):
    """One judgment of the outbox; `raw` is checked by its feedback mode when it is stored."""

    key: Annotated[StrictStr, Field(min_length=1, max_length=64)]
    session_id: SessionId
    round_index: Annotated[StrictInt, Field(ge=0, le=MAX_ROUND_INDEX)] | None = None
    raw: Annotated[dict[str, Any], AfterValidator(_shallow)]
    advance: StrictBool = False


class JudgmentBatch(Request):
    """POST /api/feedback: the outbox's oldest judgments, in order."""

    items: Annotated[list[Judgment], Field(min_length=1, max_length=MAX_BATCH)]


class UndoRequest(Request):
    """POST /api/undo: withdraw the session's last judgment."""

    session_id: SessionId


class TraceBatch(Request):
    """POST /api/trace: page events of one session; each event is checked by the trace."""

    session_id: SessionId
    events: Annotated[list[dict[str, Any]], Field(min_length=1, max_length=MAX_FRONTEND_EVENTS)]


def read_body(model: type[Body], data: bytes, limit: int) -> Body:
    """Parse and validate a request body of at most `limit` bytes (`data` holds at most one
    byte more); raises RequestRefused (413 when too large, else 400) naming the field."""
    if len(data) > limit:
        raise RequestRefused(413, f"body: at most {limit} bytes (got more)")
    try:
        return model.model_validate_json(data)
    except ValidationError as error:
        problems = error.errors(include_url=False, include_input=False)
        first = problems[0]
        location = _location(first["loc"])
        index = first["loc"][1] if len(first["loc"]) > 1 and first["loc"][0] == "items" else None
        if first["type"] == "json_invalid":
            message = f"body: not JSON ({first['msg'].removeprefix('Invalid JSON: ')})"
        else:
            reason = first["msg"].removeprefix("Value error, ")
            message = f"{location or 'body'}: {reason[:1].lower()}{reason[1:]}"
        if len(problems) > 1:
            message += f" (and {len(problems) - 1} more)"
        index = index if isinstance(index, int) else None
        raise RequestRefused(400, one_line(message), index) from None


def _location(loc: tuple[int | str, ...]) -> str:
    """`("items", 0, "round_index")` as `items[0].round_index`."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else f".{str(part)[:40]}"
    return text.removeprefix(".")


def judgment_key(data: bytes, index: int) -> str | None:
    """The key of the batch's judgment at `index`, when the body says one (so the page can
    set that judgment aside and send the others)."""
    try:
        item = pydantic_core.from_json(data)["items"][index]
    except (ValueError, LookupError, TypeError):
        return None
    key = item.get("key") if isinstance(item, dict) else None
    return key if isinstance(key, str) and 1 <= len(key) <= 64 else None
