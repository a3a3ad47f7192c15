"""Integrity check of a workspace: database, images and label CSVs against the database."""

from __future__ import annotations

from typing import Any

from steering_core.errors import SteeringError
from steering_core.sessions import get_candidates, get_feedback_events, get_session
from steering_core.storage import session_store
from steering_core.storage.workspace import Workspace


def verify_workspace(workspace: Workspace, session_id: str | None = None) -> dict[str, Any]:
    """Check everything stored (or one session); returns problems found, changes nothing."""
    problems: list[str] = []
    integrity = workspace.db.integrity_check()
    if integrity != "ok":
        problems.append(f"database integrity_check: {integrity}")
    if session_id is None:
        session_ids = session_store.session_ids(workspace.db.connection())
    else:
        session_ids = [get_session(workspace, session_id).id]
    images_checked = label_rows = images_removed = 0
    for sid in session_ids:
        seen: set[str] = set()
        for candidate in get_candidates(workspace, sid):
            if candidate.image_path and candidate.image_path not in seen:
                seen.add(candidate.image_path)
                images_checked += 1
                if not workspace.images.exists(candidate.image_path):
                    # Removed (`steer gc --images`): seed and vector make it again, and a
                    # round that re-shows it does; a damaged file is a problem.
                    images_removed += 1
                    continue
                try:
                    workspace.images.load(candidate.image_path)
                except SteeringError as error:
                    problems.append(f"candidate #{candidate.id}: {error}")
        events = get_feedback_events(workspace, sid)
        try:
            rows = workspace.labels.read(sid)
        except SteeringError as error:
            problems.append(str(error))
            continue
        label_rows += len(rows)
        missing = {e.id for e in events} - {row["event_id"] for row in rows}
        if missing:
            problems.append(
                f"{workspace.labels.path(sid)}: {len(missing)} judgment(s) of the database are "
                f"missing (first #{min(missing)}); `steer labels rebuild {sid}` restores them"
            )
    return {
        "database": integrity,
        "sessions": len(session_ids),
        "images_checked": images_checked,
        "images_removed": images_removed,
        "label_rows": label_rows,
        "problems": problems,
    }
