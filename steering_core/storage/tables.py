"""Whole-table reads as pandas DataFrames, for statistics over a session or a data root.

pandas is imported here only, not by the stores the live path uses, so that judging and
making rounds do not pay for importing it.
"""

from __future__ import annotations

import sqlite3

import pandas as pd

# Per candidate: comparisons won, lost to a shown candidate, tied, and lost to "elsewhere"
# (reject-all), over the judgments that are not undone.
_OUTCOMES_SQL = """
SELECT candidate, SUM(won) AS won, SUM(lost) AS lost, SUM(tied) AS tied,
       SUM(rejected) AS rejected FROM (
    SELECT c.winner_candidate_id AS candidate, 1 - c.is_tie AS won, 0 AS lost,
           c.is_tie AS tied, 0 AS rejected
      FROM comparisons c JOIN feedback_events f ON f.id = c.event_id
     WHERE f.undone_at IS NULL AND c.winner_candidate_id >= 0 {where}
    UNION ALL
    SELECT c.loser_candidate_id,
           0,
           CASE WHEN c.is_tie = 0 AND c.winner_candidate_id >= 0 THEN 1 ELSE 0 END,
           c.is_tie,
           CASE WHEN c.winner_candidate_id IS NULL OR c.winner_candidate_id < 0 THEN 1 ELSE 0 END
      FROM comparisons c JOIN feedback_events f ON f.id = c.event_id
     WHERE f.undone_at IS NULL {where}
) GROUP BY candidate
"""


def candidate_outcomes(
    connection: sqlite3.Connection, session_id: str | None = None
) -> pd.DataFrame:
    """One row per candidate in a comparison of a judgment not undone (of one session, or
    (None) of the data root): `candidate` (its id) and how many comparisons it `won`,
    `lost` to a shown candidate, `tied`, and lost to "elsewhere" (`rejected`)."""
    where, parameters = ("", ()) if session_id is None else ("AND c.session_id = ?", (session_id,))
    return pd.read_sql_query(
        _OUTCOMES_SQL.format(where=where),
        connection,
        params=parameters * 2,
        dtype={name: "int64" for name in ("candidate", "won", "lost", "tied", "rejected")},
    )


def feedback_event_table(
    connection: sqlite3.Connection, session_id: str | None = None
) -> pd.DataFrame:
    """One row per feedback event (undos too) of one session, or (None) of the data root:
    `mode`, `source` and `undone` (whether the judgment was undone)."""
    where, parameters = ("", ()) if session_id is None else ("WHERE session_id = ?", (session_id,))
    return pd.read_sql_query(
        f"SELECT mode, source, undone_at IS NOT NULL AS undone FROM feedback_events {where}",
        connection,
        params=parameters,
        dtype={"mode": object, "source": object, "undone": bool},
    )
