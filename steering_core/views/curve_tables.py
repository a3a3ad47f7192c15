"""Each curve of a session as a pandas table: the dashboard's and the report's figures draw
the next-choice curve from it, and every curve is exported from it as CSV (one file each)."""

from __future__ import annotations

import io
import logging
import math
import zipfile
from pathlib import Path

import pandas as pd

from steering_core.errors import SteeringError
from steering_core.next_choice import COLUMNS as NEXT_CHOICE_COLUMNS
from steering_core.next_choice import next_choice_table
from steering_core.space_view import round_series
from steering_core.storage.workspace import Workspace
from steering_core.views.curve_values import plotted_number, plotted_numbers, plotted_texts

# The next-choice columns in the per-round series, prefixed so they never clash.
NEXT_CHOICE_PREFIX = "next_choice_"

logger = logging.getLogger(__name__)


def curve_series(workspace: Workspace, session_id: str) -> dict[str, list]:
    """`space_view.round_series` of a session with the next-choice columns added
    (`next_choice_<column>` for each of `next_choice.COLUMNS` but the round)."""
    series = round_series(workspace, session_id)
    try:
        table = next_choice_table(workspace, session_id).set_index("round_index")
    except SteeringError as error:
        # A session whose model this machine cannot fit (e.g. a plug-in it lacks) still
        # shows its other curves; the next-choice curve is left empty, and says why here.
        logger.warning("no next-choice curve for %s: %s", session_id, error)
        table = pd.DataFrame(columns=list(NEXT_CHOICE_COLUMNS)).set_index("round_index")
    for column in NEXT_CHOICE_COLUMNS[1:]:
        values = table[column].to_dict()
        series[NEXT_CHOICE_PREFIX + column] = [
            plotted_number(values.get(r)) for r in series["round_index"]
        ]
    return series


def next_choice_frame(series: dict[str, list]) -> pd.DataFrame:
    """The next-choice columns of `curve_series` as a table, one row per round (NaN where
    a round has no value)."""
    rounds = [int(r) for r in series.get("round_index") or []]
    frame = pd.DataFrame({"round": rounds})
    for column in NEXT_CHOICE_COLUMNS[1:]:
        frame[column] = pd.array(
            plotted_numbers(series, NEXT_CHOICE_PREFIX + column, len(rounds)), dtype="Float64"
        ).astype(float)
    return frame


def curve_tables(series: dict[str, list]) -> dict[str, pd.DataFrame]:
    """Every curve's values, by curve key: `loss` (one row per fit and optimizer
    iteration), `utility`, `step`, `value`, `decision`, `next_choice` and, for sessions with
    a hidden target, `distance`; one row per round in the others."""
    rounds = [int(r) for r in series.get("round_index") or []]
    n = len(rounds)
    histories = (list(series.get("loss_history") or []) + [None] * n)[:n]
    loss = pd.DataFrame(
        [
            {"fit_before_round": r, "iteration": i, "loss": plotted_number(v)}
            for r, history in zip(rounds, histories, strict=True)
            for i, v in enumerate(history or [])
        ],
        columns=["fit_before_round", "iteration", "loss"],
    )
    verdict = plotted_texts(series, "convergence_status", n)
    value = plotted_numbers(series, "value_relative", n)
    tables = {
        "loss": loss,
        "utility": pd.DataFrame(
            {
                "round": rounds,
                "utility": plotted_numbers(series, "incumbent_utility", n),
                "utility_sd": plotted_numbers(series, "incumbent_uncertainty", n),
                "verdict": verdict,
            }
        ),
        "step": pd.DataFrame(
            {"round": rounds, "step_size": plotted_numbers(series, "step_size", n)}
        ),
        "value": pd.DataFrame(
            {
                "round": rounds,
                "value_percent_of_spread": [None if v is None else 100 * v for v in value],
                "recommendation": plotted_texts(series, "recommendation", n),
            }
        ),
        "decision": pd.DataFrame(
            {"round": rounds, "median_seconds": plotted_numbers(series, "decision_seconds", n)}
        ),
        "next_choice": next_choice_frame(series),
    }
    distance = plotted_numbers(series, "distance_to_target", n)
    if any(d is not None for d in distance):
        tables["distance"] = pd.DataFrame({"round": rounds, "distance_to_target": distance})
    return tables


def csv_text(table: pd.DataFrame) -> str:
    """A table as CSV: no index, empty cells where there is no value, floats in full."""
    return table.to_csv(index=False, na_rep="", float_format=_float_format)


def _float_format(value: float) -> str:
    return "" if math.isnan(value) else repr(float(value))


def write_curve_csvs(tables: dict[str, pd.DataFrame], folder: Path) -> list[Path]:
    """Each table as `curve-<key>.csv` in `folder` (created); the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for key, table in tables.items():
        path = folder / f"curve-{key}.csv"
        path.write_text(csv_text(table), encoding="utf-8")
        paths.append(path)
    return paths


def curves_zip(tables: dict[str, pd.DataFrame]) -> bytes:
    """Every table as `curve-<key>.csv` in one zip (the dashboard's download)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for key, table in tables.items():
            archive.writestr(f"curve-{key}.csv", csv_text(table))
    return buffer.getvalue()
