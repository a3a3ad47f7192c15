"""Durable file writes: a whole file replaced in one step, and bytes appended in full."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


def write_atomically(path: Path, write: Callable[[BinaryIO], None]) -> None:
    """Write `path` through `write(handle)` into a temporary file beside it, fsync it and
    rename it over `path`: a reader sees the old file or the new one, never part of one.
    The temporary file (`*.tmp`, which `steer gc` clears if a crash leaves one) goes if
    anything fails."""
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_all(descriptor: int, payload: bytes) -> None:
    """Write all of `payload` to an open file and fsync it (os.write may write less than
    asked: a full disk, a signal)."""
    view = memoryview(payload)
    while view:
        view = view[os.write(descriptor, view) :]
    os.fsync(descriptor)
