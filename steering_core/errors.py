"""Errors the core raises; the CLI and the dashboard turn each into a one-line message."""

from __future__ import annotations

import re
import reprlib
from collections.abc import Sized
from typing import Any

# A message is one line a researcher reads; longer is a value echoed whole, not a message.
# 280 leaves room for what the CLI puts before it ("error (invalid input): ") within 300.
MAX_MESSAGE_CHARS = 280
# Every character `str.splitlines` breaks at, so a message stays one line however printed.
_LINE_BREAKS = re.compile(r"[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]+")
# reprlib walks only the first few items of a container, so showing a value nested a
# million times over (a YAML alias bomb) costs as little as showing a short one.
_BOUNDED_REPR = reprlib.Repr()
_BOUNDED_REPR.maxlevel = 3
_BOUNDED_REPR.maxstring = 200
_BOUNDED_REPR.maxother = 200


def shown(value: Any, limit: int = 80) -> str:
    """`value` as its repr, cut to about `limit` characters: `'aaaa…' (100000 characters)`.

    For the "(got ...)" part of a message: the value the researcher gave, recognisable,
    without echoing a 100 kB string or a huge structure whole."""
    if isinstance(value, str | bytes):
        text = repr(value[: limit + 1])
        if len(value) <= limit and len(text) <= limit:
            return text
        unit = "characters" if isinstance(value, str) else "bytes"
        return f"{text[: limit - 1]}\u2026 ({len(value)} {unit})"
    try:
        text = _BOUNDED_REPR.repr(value)
    except ValueError:  # an integer too long to write out (Python refuses > 4300 digits)
        if isinstance(value, int):
            return f"<an integer of {value.bit_length()} bits>"
        return "<a value too long to show>"
    if len(text) <= limit:
        return text
    size = f" ({len(value)} items)" if isinstance(value, Sized) else ""
    return f"{text[: limit - 1]}\u2026{size}"


def one_line(message: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """`message` on one line (line breaks become spaces) of at most `limit` characters."""
    message = _LINE_BREAKS.sub(" ", message)
    if len(message) <= limit:
        return message
    return message[: limit - 1] + "\u2026"


def error_kind(error: BaseException) -> str:
    """How a failure is reported: a core error's own kind, "out of memory" for an
    allocation failure (CUDA's, or any error saying so), else "runtime"."""
    if isinstance(error, SteeringError):
        return error.kind
    return "out of memory" if "out of memory" in str(error).lower() else "runtime"


class SteeringError(Exception):
    """Base of every error a researcher should see as a message, not a traceback."""

    kind = "runtime"


class InvalidInput(SteeringError, ValueError):
    """The researcher gave something the tool cannot accept; nothing was stored.

    Its message is one line of at most MAX_MESSAGE_CHARS characters, whatever value it
    quotes: the last guard for a message built from a value nobody cut with `shown`."""

    kind = "invalid input"

    def __init__(self, message: object = "", *args: object) -> None:
        super().__init__(one_line(str(message)), *args)


class RoundSuperseded(InvalidInput):
    """The round asked for was stored by another process first (the page and a CLI `steer
    round` racing); nothing of this one was stored, and nothing went wrong."""

    kind = "superseded"


class NotFound(SteeringError, LookupError):
    """A session, round, candidate or job that does not exist in this data root; one line
    of at most MAX_MESSAGE_CHARS characters, like InvalidInput (it quotes the id it was
    given)."""

    kind = "invalid input"

    def __init__(self, message: object = "", *args: object) -> None:
        super().__init__(one_line(str(message)), *args)


class DataCorrupt(SteeringError):
    """A stored file (image, labels CSV, database) is damaged; it is named in the message."""

    kind = "runtime"


class JobCancelled(SteeringError):
    """A worker job was cancelled by the researcher."""

    kind = "cancelled"


class GeneratorFailure(SteeringError):
    """The generator failed at run time (for example out of GPU memory)."""

    kind = "runtime"
