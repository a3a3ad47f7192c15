"""The open session's identity: its title, the state line under it, and the fork dialog."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard import ids
from steering_core.session_names import MAX_NAME_CHARS, fork_label


def session_title(name: str, prompt: str) -> str:
    """The page's heading for a session: its name, then its prompt."""
    return f"{name} — {prompt}" if name else prompt


def picker_label(summary: dict[str, Any], rounds: str) -> str:
    """A session in the session picker: name (or prompt), rounds, source, fork origin."""
    fork = fork_label(summary.get("forked_from_session"), summary.get("forked_from_round"))
    parts = [summary["name"] or summary["prompt"][:40]]
    if summary["name"]:
        parts[0] += f" ({summary['prompt'][:30]})"
    parts += [rounds, summary["source"]]
    if fork:
        parts.append(fork)
    return " · ".join(parts)


def status_parts(
    session_id: str,
    fork: str,
    round_text: str,
    mode: str | None,
    waiting: int,
    generating: str,
) -> list[str]:
    """The state line's pieces: id, fork origin, round, mode, judgments waiting to be
    stored, and who is generating a round ('' pieces left out)."""
    parts = [f"#{session_id}", fork, round_text]
    if mode:
        parts.append(f"mode: {mode.replace('_', ' ')}")
    if waiting:
        parts.append(f"{waiting} judgment{'s' if waiting > 1 else ''} waiting")
    parts.append(generating)
    return [part for part in parts if part]


def status_line(parts: Sequence[str]) -> list[Any]:
    """The state line's pieces, separated by dots."""
    children: list[Any] = []
    for part in parts:
        if children:
            children.append(html.Span(" · ", className="text-muted"))
        busy = "generating" in part
        children.append(html.Span(part, className="status-busy" if busy else None))
    return children


def rename_field(name: str) -> html.Div:
    """The open session's name, to change (in the setup panel's "Open a session")."""
    return html.Div(
        [
            dbc.Label("Name of the open session", className="mb-0 small fw-semibold"),
            dbc.InputGroup(
                [
                    dbc.Input(
                        id=ids.RENAME_NAME,
                        value=name,
                        placeholder="unnamed",
                        maxLength=MAX_NAME_CHARS + 20,  # longer is refused with a message
                    ),
                    dbc.Button("Rename", id=ids.RENAME, color="secondary"),
                ],
                size="sm",
            ),
            html.Div(id=ids.RENAME_MESSAGE, className="mt-1"),
        ],
        className="mt-3",
    )


def fork_dialog() -> html.Div:
    """The dialog 'Fork from here' opens: a new prompt (the parent's, to edit) and a name."""
    return html.Div(
        [
            dcc.Store(id=ids.FORK_CANDIDATE, data=None),
            dbc.Modal(
                [
                    dbc.ModalHeader(
                        dbc.ModalTitle("Fork", id=ids.FORK_DIALOG_TITLE, className="h6 mb-0")
                    ),
                    dbc.ModalBody(
                        [
                            dbc.Label("Prompt of the fork", className="mb-0 small fw-semibold"),
                            dbc.Textarea(id=ids.FORK_PROMPT, rows=2),
                            dbc.FormText("the parent's prompt; change it to steer elsewhere"),
                            dbc.Label("Name (optional)", className="mb-0 mt-2 small fw-semibold"),
                            dbc.Input(id=ids.FORK_NAME, placeholder="unnamed"),
                            html.Div(id=ids.FORK_MESSAGE, className="mt-2"),
                        ]
                    ),
                    dbc.ModalFooter(
                        [
                            dbc.Button("Cancel", id=ids.FORK_CANCEL, color="light"),
                            dbc.Button("Fork", id=ids.FORK_CONFIRM, color="primary"),
                        ]
                    ),
                ],
                id=ids.FORK_DIALOG,
                is_open=False,
            ),
        ]
    )
