"""A session's name: what a researcher calls it, checked the same way by every entry point."""

from __future__ import annotations

import unicodedata
from typing import Any

from steering_core.errors import InvalidInput, shown

# Long enough for "cats, warm light, after the fork at round 4", short enough for a picker.
MAX_NAME_CHARS = 80


def check_name(name: Any) -> str:
    """`name` with its outer spaces stripped ('' means unnamed); InvalidInput naming the
    field when it is not one line of at most MAX_NAME_CHARS characters."""
    if name is None:
        return ""
    if not isinstance(name, str):
        raise InvalidInput(f"name: must be text (got {shown(name)})")
    name = name.strip()
    if len(name) > MAX_NAME_CHARS:
        raise InvalidInput(f"name: at most {MAX_NAME_CHARS} characters (got {len(name)})")
    if any(unicodedata.category(character).startswith("C") for character in name):
        raise InvalidInput("name: one line of text, without tabs, newlines or control characters")
    return name


def session_label(session_id: str, name: str) -> str:
    """How a session is called on screen: its name and id, or its id alone when unnamed."""
    return f"{name} (#{session_id})" if name else f"#{session_id}"


def fork_label(forked_from_session: str | None, forked_from_round: int | None) -> str:
    """ "fork of #ID, round R" for a fork ('' for a session that is not one)."""
    if forked_from_session is None:
        return ""
    return f"fork of #{forked_from_session}, round {forked_from_round}"
