"""The label statistics table: how much has been judged, in this session and in the data root."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import html

from steering_core.space_view import LABELS


def _percent(part: int, whole: int) -> str:
    return f"{part:,} ({100 * part / whole:.0f} %)" if whole else f"{part:,}"


def _rows(counts: dict[str, Any] | None) -> dict[str, str]:
    """One column of the table: row name -> cell text ("" where there is no session)."""
    if counts is None:
        return {}
    rows = {
        "sessions": f"{counts['sessions']:,}",
        "judgments": f"{counts['judgments']:,}",
        "undone": f"{counts['undone']:,}",
        "candidates shown": f"{counts['candidates_shown']:,}",
        "candidates judged": _percent(counts["candidates_judged"], counts["candidates_shown"]),
    }
    for mode, number in counts["by_mode"].items():
        rows[f"mode: {mode.replace('_', ' ')}"] = f"{number:,}"
    for source, number in counts["by_source"].items():
        rows[f"source: {source}"] = f"{number:,}"
    for label in LABELS:
        rows[f"candidates {label}"] = _percent(
            counts["by_label"].get(label, 0), counts["candidates_shown"]
        )
    return rows


def label_stats_table(statistics: dict[str, Any]) -> dbc.Table:
    """A table of `space_view.label_statistics`: one row per count, one column for the
    session (when there is one) and one for the whole data root."""
    session = _rows(statistics.get("session"))
    data_root = _rows(statistics["data_root"])
    names = list(data_root)
    names += [name for name in session if name not in data_root]
    head = [html.Th("")] + ([html.Th("this session")] if session else [])
    head.append(html.Th("data root"))
    body = []
    for name in names:
        cells = [html.Th(name, scope="row", className="fw-normal")]
        if session:
            cells.append(html.Td(session.get(name, "0")))
        cells.append(html.Td(data_root.get(name, "0")))
        body.append(html.Tr(cells))
    return dbc.Table(
        [html.Thead(html.Tr(head)), html.Tbody(body)],
        bordered=False,
        hover=True,
        size="sm",
        striped=True,
        className="mb-0 small",
    )
