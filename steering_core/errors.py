"""Errors the core raises; the CLI and the dashboard turn each into a one-line message."""

from __future__ import annotations


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
    """The researcher gave something the tool cannot accept; nothing was stored."""

    kind = "invalid input"


class NotFound(SteeringError, LookupError):
    """A session, round, candidate or job that does not exist in this data root."""

    kind = "invalid input"


class DataCorrupt(SteeringError):
    """A stored file (image, labels CSV, database) is damaged; it is named in the message."""

    kind = "runtime"


class JobCancelled(SteeringError):
    """A worker job was cancelled by the researcher."""

    kind = "cancelled"


class GeneratorFailure(SteeringError):
    """The generator failed at run time (for example out of GPU memory)."""

    kind = "runtime"
