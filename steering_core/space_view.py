"""Read-only views of stored sessions for the dashboard: steering space, curves, label counts.

Everything here reads the database in a few set-wise queries (never one per candidate), so a
data root with tens of thousands of candidates still answers in well under a second.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.decomposition import PCA

from steering_core.errors import InvalidInput
from steering_core.sessions import get_session
from steering_core.storage.workspace import Workspace
from steering_core.synthetic.simulate import stored_targets

SCOPES = ("session", "all")
LABELS = ("won", "lost", "tied", "rejected", "unjudged")
# Predicting 60,000 points at once would build a 60,000-row kernel matrix in a GP.
PREDICT_CHUNK = 4096


@dataclass(frozen=True, eq=False)
class SpacePoints:
    """Every candidate of the plot, one entry per candidate in each array (`n` of them).

    `steering_vectors`: an `n x d` array. `rating`: the latest star rating (NaN if none).
    `label`: one of LABELS. `utility_mean` / `utility_std`: the model's prediction at each
    candidate, None when no model was given. `focus_session_id`: the session the view is for
    (with scope "all", the other sessions' candidates are context).
    """

    focus_session_id: str
    d: int
    candidate_id: np.ndarray
    session_id: np.ndarray
    round_index: np.ndarray
    slot: np.ndarray
    role: np.ndarray
    source: np.ndarray
    image_path: np.ndarray
    steering_vectors: np.ndarray
    rating: np.ndarray
    label: np.ndarray
    utility_mean: np.ndarray | None = None
    utility_std: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.candidate_id)

    def index_of(self, candidate_id: int) -> int:
        """The row of a candidate; raises InvalidInput if it is not in the view."""
        rows = np.flatnonzero(self.candidate_id == candidate_id)
        if not len(rows):
            raise InvalidInput(f"candidate {candidate_id} is not in this view")
        return int(rows[0])


def _in_clause(column: str, values: Sequence[Any]) -> tuple[str, tuple[Any, ...]]:
    return f"{column} IN ({','.join('?' * len(values))})", tuple(values)


def _vectors(texts: Sequence[str], d: int) -> np.ndarray:
    """Parse JSON steering vectors into an `n x d` array in one `json.loads`."""
    if not texts:
        return np.zeros((0, d))
    return np.asarray(json.loads("[" + ",".join(texts) + "]"), dtype=np.float64).reshape(-1, d)


def latest_ratings(workspace: Workspace, session_id: str | None = None) -> dict[int, float]:
    """Candidate id -> the stars of the latest rating judgment that rated it (not undone)."""
    sql = "SELECT raw_json FROM feedback_events WHERE mode = 'rating' AND undone_at IS NULL"
    parameters: tuple[Any, ...] = ()
    if session_id is not None:
        sql += " AND session_id = ?"
        parameters = (session_id,)
    ratings: dict[int, float] = {}
    for row in workspace.db.query(sql + " ORDER BY id", parameters):
        for key, stars in json.loads(row[0]).get("ratings", {}).items():
            ratings[int(key)] = float(stars)
    return ratings


# Per candidate: comparisons won, lost to a shown candidate, tied, and lost to "elsewhere"
# (reject-all), over the judgments that are not undone.
_OUTCOMES_SQL = """
SELECT candidate, SUM(won), SUM(lost), SUM(tied), SUM(rejected) FROM (
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


def candidate_labels(workspace: Workspace, session_id: str | None = None) -> dict[int, str]:
    """Candidate id -> "won", "lost", "tied" or "rejected" for every judged candidate.

    won: won a comparison and lost none; rejected: lost only to "better elsewhere"
    (reject-all, or rejected with nothing approved); lost: lost to a shown candidate (the
    middle of a ranking too); tied: only ties. Unjudged candidates are absent."""
    where, parameters = ("", ()) if session_id is None else ("AND c.session_id = ?", (session_id,))
    labels = {}
    for candidate, won, lost, tied, rejected in workspace.db.query(
        _OUTCOMES_SQL.format(where=where), parameters * 2
    ):
        if lost:
            labels[int(candidate)] = "lost"
        elif rejected:
            labels[int(candidate)] = "lost" if won else "rejected"
        elif won:
            labels[int(candidate)] = "won"
        elif tied:
            labels[int(candidate)] = "tied"
    return labels


def predict_in_chunks(model: Any, vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`model.predict` over an `n x d` array in chunks; returns (mean, std), each `n`."""
    if not len(vectors):
        return np.zeros(0), np.zeros(0)
    means, stds = [], []
    for start in range(0, len(vectors), PREDICT_CHUNK):
        mean, std = model.predict(vectors[start : start + PREDICT_CHUNK])
        means.append(np.asarray(mean, dtype=np.float64).reshape(-1))
        stds.append(np.asarray(std, dtype=np.float64).reshape(-1))
    return np.concatenate(means), np.concatenate(stds)


def space_points(
    workspace: Workspace, session_id: str, scope: str = "session", model: Any = None
) -> SpacePoints:
    """Every candidate of a session (scope "session") or of every session in the data root
    whose steering space has the same `d` (scope "all"), with ratings, labels and, when
    `model` is given, its predicted utility (mean and std) at each candidate.

    With scope "all" the focus session's candidates come last, so they draw on top."""
    if scope not in SCOPES:
        raise InvalidInput(f"scope: must be one of {', '.join(SCOPES)} (got {scope!r})")
    session = get_session(workspace, session_id)
    d = int(session.config["d"])
    select = (
        "SELECT c.id, c.session_id, c.round_index, c.slot, c.role, c.image_path, "
        "c.steering_vector_json, s.source FROM candidates c JOIN sessions s ON s.id = c.session_id "
    )
    if scope == "session":
        rows = workspace.db.query(
            select + "WHERE c.session_id = ? ORDER BY c.round_index, c.slot", (session.id,)
        )
    else:
        rows = workspace.db.query(
            select + "WHERE json_extract(s.config_json, '$.d') = ? "
            "ORDER BY c.session_id = ?, s.created_at, c.session_id, c.round_index, c.slot",
            (d, session.id),
        )
    scoped = None if scope == "all" else session.id
    ratings = latest_ratings(workspace, scoped)
    labels = candidate_labels(workspace, scoped)
    ids = np.array([row[0] for row in rows], dtype=np.int64)
    vectors = _vectors([row[6] for row in rows], d)
    mean = std = None
    if model is not None:
        mean, std = predict_in_chunks(model, vectors)
    return SpacePoints(
        focus_session_id=session.id,
        d=d,
        candidate_id=ids,
        session_id=np.array([row[1] for row in rows], dtype=object),
        round_index=np.array([row[2] for row in rows], dtype=np.int64),
        slot=np.array([row[3] for row in rows], dtype=np.int64),
        role=np.array([row[4] for row in rows], dtype=object),
        source=np.array([row[7] for row in rows], dtype=object),
        image_path=np.array([row[5] for row in rows], dtype=object),
        steering_vectors=vectors,
        rating=np.array([ratings.get(int(i), np.nan) for i in ids], dtype=np.float64),
        label=np.array([labels.get(int(i), "unjudged") for i in ids], dtype=object),
        utility_mean=mean,
        utility_std=std,
    )


@dataclass(frozen=True, eq=False)
class Projection:
    """A plane in the steering space: `origin` (a `d` vector) and two orthonormal
    directions (`components`, a `2 x d` array); a point's 2-D coordinates are its offset
    from the origin along them. `explained_variance_ratio` is None for coordinate axes."""

    origin: np.ndarray
    components: np.ndarray
    axis_titles: tuple[str, str]
    explained_variance_ratio: np.ndarray | None = None

    def transform(self, vectors: np.ndarray) -> np.ndarray:
        """`n x d` steering vectors -> `n x 2` coordinates in the plane."""
        vectors = np.asarray(vectors, dtype=np.float64).reshape(-1, len(self.origin))
        return (vectors - self.origin) @ self.components.T

    def inverse_transform(self, coordinates: np.ndarray) -> np.ndarray:
        """`n x 2` coordinates -> the `n x d` steering vectors at those places of the plane."""
        coordinates = np.asarray(coordinates, dtype=np.float64).reshape(-1, 2)
        return self.origin + coordinates @ self.components


def project(vectors: np.ndarray, reference: np.ndarray | None = None) -> Projection:
    """The plane to draw `n x d` steering vectors in: for d > 2 their first two principal
    directions (PCA) through `reference` (a `d` vector, e.g. the incumbent; default their
    mean), for d <= 2 the steering axes themselves (d = 1 is drawn on a line, y = 0)."""
    vectors = np.asarray(vectors, dtype=np.float64)
    d = vectors.shape[1]
    spread = float(np.var(vectors, axis=0).sum()) if len(vectors) > 1 else 0.0
    if d <= 2 or spread == 0.0:
        # The axes themselves: with nothing to fit (one point, all equal) PCA has no plane.
        components = np.eye(2, d)
        origin = np.zeros(d) if d <= 2 or reference is None else np.asarray(reference, float)
        return Projection(origin=origin, components=components, axis_titles=("w₁", "w₂"))
    pca = PCA(n_components=2, svd_solver="full").fit(vectors)
    origin = pca.mean_ if reference is None else np.asarray(reference, dtype=np.float64)
    ratio = pca.explained_variance_ratio_
    titles = tuple(f"PC {i + 1} ({100 * r:.0f} % of variance)" for i, r in enumerate(ratio))
    return Projection(
        origin=origin,
        components=pca.components_.copy(),
        axis_titles=(titles[0], titles[1]),
        explained_variance_ratio=ratio.copy(),
    )


def plot_extent(coordinates: np.ndarray, margin: float = 0.08) -> tuple[float, float, float, float]:
    """(x_min, x_max, y_min, y_max) around `n x 2` coordinates, widened by `margin` of the
    span on each side (a span of 0 becomes 1 wide)."""
    coordinates = np.asarray(coordinates, dtype=np.float64).reshape(-1, 2)
    if not len(coordinates):
        return (-1.0, 1.0, -1.0, 1.0)
    low, high = coordinates.min(axis=0), coordinates.max(axis=0)
    span = np.where(high > low, high - low, 1.0)
    low, high = low - margin * span, high + margin * span
    return (float(low[0]), float(high[0]), float(low[1]), float(high[1]))


def heat_map(
    model: Any,
    projection: Projection,
    extent: tuple[float, float, float, float],
    resolution: int = 60,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The model's posterior mean on a grid of the projection's plane.

    `extent`: (x_min, x_max, y_min, y_max). Returns `xs` and `ys` (each `resolution`) and
    `z`, a `resolution x resolution` array with `z[i, j]` at (`xs[j]`, `ys[i]`), the layout
    plotly's Heatmap and Contour take."""
    xs = np.linspace(extent[0], extent[1], resolution)
    ys = np.linspace(extent[2], extent[3], resolution)
    grid_x, grid_y = np.meshgrid(xs, ys)
    plane = projection.inverse_transform(np.column_stack([grid_x.ravel(), grid_y.ravel()]))
    mean, _ = predict_in_chunks(model, plane)
    return xs, ys, mean.reshape(resolution, resolution)


@dataclass(frozen=True, eq=False)
class IncumbentPath:
    """The incumbent (slot 0) of each round, in round order; `steering_vectors` is `r x d`."""

    round_index: np.ndarray
    candidate_id: np.ndarray
    steering_vectors: np.ndarray

    def __len__(self) -> int:
        return len(self.round_index)


def incumbent_path(workspace: Workspace, session_id: str) -> IncumbentPath:
    """The slot-0 candidate of every round of a session, in round order."""
    session = get_session(workspace, session_id)
    rows = workspace.db.query(
        "SELECT round_index, id, steering_vector_json FROM candidates "
        "WHERE session_id = ? AND slot = 0 ORDER BY round_index",
        (session.id,),
    )
    return IncumbentPath(
        round_index=np.array([row[0] for row in rows], dtype=np.int64),
        candidate_id=np.array([row[1] for row in rows], dtype=np.int64),
        steering_vectors=_vectors([row[2] for row in rows], int(session.config["d"])),
    )


# Keys of a round's stored model state that the curves read as they are.
_STATE_KEYS = (
    "incumbent_utility",
    "incumbent_uncertainty",
    "value_of_another_round",
    "value_relative",
    "recommendation",
    "rater_reversal_rate",
    "loss_history",
)
_VERDICT = ("status", "reason", "evidence")


def round_series(workspace: Workspace, session_id: str) -> dict[str, list]:
    """Per round of a session (lists in round order, None where a round has no value):
    `round_index`, the stored model state (`incumbent_utility`, `incumbent_uncertainty`,
    `value_of_another_round`, `value_relative`, `recommendation`, `rater_reversal_rate`,
    `loss_history` (the losses of that round's fit), `convergence_status`,
    `convergence_reason`, `convergence_evidence`), `model`, `step_size` (distance from the
    previous round's incumbent), `decision_seconds` (median over the round's judgments that
    say how long they took) and `distance_to_target` (the incumbent's distance to the nearest
    stored synthetic target; all None for sessions without one)."""
    session = get_session(workspace, session_id)
    rows = workspace.db.query(
        "SELECT round_index, model_state_json FROM rounds WHERE session_id = ? "
        "ORDER BY round_index",
        (session.id,),
    )
    keys = ("round_index", "model", *_STATE_KEYS, *(f"convergence_{k}" for k in _VERDICT))
    series: dict[str, list] = {key: [] for key in keys}
    for round_index, state_json in rows:
        state = json.loads(state_json)
        series["round_index"].append(int(round_index))
        series["model"].append(state.get("model"))
        for key in _STATE_KEYS:
            series[key].append(state.get(key))
        convergence = state.get("convergence") or {}
        for key in _VERDICT:
            series[f"convergence_{key}"].append(convergence.get(key))

    path = incumbent_path(workspace, session.id)
    by_round = dict(zip(path.round_index.tolist(), path.steering_vectors, strict=True))
    incumbents = [by_round.get(r) for r in series["round_index"]]
    previous = [None, *incumbents][: len(incumbents)]
    series["step_size"] = [
        None if a is None or b is None else float(np.linalg.norm(b - a))
        for a, b in zip(previous, incumbents, strict=True)
    ]

    seconds: dict[int, list[float]] = defaultdict(list)
    for round_index, raw_json in workspace.db.query(
        "SELECT round_index, raw_json FROM feedback_events WHERE session_id = ? "
        "AND undone_at IS NULL AND mode != 'undo'",
        (session.id,),
    ):
        value = json.loads(raw_json).get("decision_seconds")
        if value is not None:
            seconds[int(round_index)].append(float(value))
    series["decision_seconds"] = [
        float(np.median(seconds[r])) if seconds.get(r) else None for r in series["round_index"]
    ]

    targets = stored_targets(workspace, session.id)
    series["distance_to_target"] = [
        None
        if targets is None or vector is None
        else float(np.linalg.norm(targets - vector, axis=1).min())
        for vector in incumbents
    ]
    return dict(series)


def _counts(workspace: Workspace, session_id: str | None) -> dict[str, Any]:
    where, parameters = ("", ()) if session_id is None else ("WHERE session_id = ?", (session_id,))
    events = workspace.db.query(
        f"SELECT mode, source, undone_at FROM feedback_events {where}", parameters
    )
    judged = [e for e in events if e[0] != "undo" and e[2] is None]
    shown = workspace.db.query_one(f"SELECT COUNT(*) FROM candidates {where}", parameters)[0]
    sessions = workspace.db.query_one(
        "SELECT COUNT(*) FROM sessions" + ("" if session_id is None else " WHERE id = ?"),
        parameters,
    )[0]
    labels = candidate_labels(workspace, session_id)
    rated = latest_ratings(workspace, session_id)
    by_label = Counter(labels.values())
    judged_candidates = len(set(labels) | set(rated))
    by_label["unjudged"] = int(shown) - len(labels)
    return {
        "sessions": int(sessions),
        "judgments": len(judged),
        "undone": sum(1 for e in events if e[0] != "undo" and e[2] is not None),
        "by_mode": dict(sorted(Counter(e[0] for e in judged).items())),
        "by_source": dict(sorted(Counter(e[1] for e in judged).items())),
        "candidates_shown": int(shown),
        "candidates_judged": judged_candidates,
        "by_label": {label: int(by_label.get(label, 0)) for label in LABELS},
    }


def label_statistics(workspace: Workspace, session_id: str | None = None) -> dict[str, Any]:
    """How much has been judged: `{"session": ... or None, "data_root": ...}`, each with
    `sessions`, `judgments` (not undone), `undone`, `by_mode`, `by_source`,
    `candidates_shown`, `candidates_judged` (in a comparison or rated) and `by_label` (how
    many candidates carry each of LABELS; "rejected" and "won" ... as `candidate_labels`)."""
    focus = None if session_id is None else get_session(workspace, session_id).id
    return {
        "session": None if focus is None else _counts(workspace, focus),
        "data_root": _counts(workspace, None),
    }
