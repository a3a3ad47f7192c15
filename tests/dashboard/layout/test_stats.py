"""The label statistics table shows the session's and the data root's counts side by side."""

from __future__ import annotations

from typing import Any

from dashboard.layout.stats import label_stats_table
from steering_core.config import SessionConfig
from steering_core.sessions import create_session, submit_feedback
from steering_core.space_view import label_statistics
from steering_core.storage.workspace import Workspace
from tests.steering_core.helpers import blank_round


def _rows(component: Any) -> dict[str, list[str]]:
    body = component.children[1]
    return {
        row.children[0].children: [cell.children for cell in row.children[1:]]
        for row in body.children
    }


def test_the_table_has_a_column_for_the_session_and_one_for_the_data_root(
    workspace: Workspace, tiny_config: SessionConfig
) -> None:
    session = create_session(workspace, tiny_config)
    _, candidates = blank_round(workspace, session.id)
    submit_feedback(workspace, session.id, {"mode": "winner", "winner": candidates[1].id})
    other = create_session(workspace, tiny_config)
    blank_round(workspace, other.id)

    rows = _rows(label_stats_table(label_statistics(workspace, session.id)))
    assert rows["judgments"] == ["1", "1"]
    assert rows["candidates shown"] == ["4", "8"]
    assert rows["candidates judged"] == ["4 (100 %)", "4 (50 %)"]
    assert rows["candidates won"] == ["1 (25 %)", "1 (12 %)"]
    assert rows["mode: winner"] == ["1", "1"]

    root_only = _rows(label_stats_table(label_statistics(workspace)))
    assert root_only["sessions"] == ["2"]
