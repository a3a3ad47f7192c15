"""Read-only views of stored sessions for the dashboard: steering space, curves, label counts.

Everything here reads the database in a few set-wise queries (never one per candidate), so a
data root with tens of thousands of candidates still answers in well under a second.
"""

from __future__ import annotations

import contextlib
import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.decomposition import PCA

from steering_core.derived import cache_key, cached
from steering_core.errors import InvalidInput
from steering_core.incumbent import fit_preference_model
from steering_core.models.base import PreferenceModel
from steering_core.sessions import get_session, load_session_config
from steering_core.storage import judgment_store, round_store, session_store, tables
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


def _vectors(texts: Sequence[str], d: int) -> np.ndarray:
    """Parse JSON steering vectors into an `n x d` array in one `json.loads`."""
    if not texts:
        return np.zeros((0, d))
    return np.asarray(json.loads("[" + ",".join(texts) + "]"), dtype=np.float64).reshape(-1, d)


def latest_ratings(workspace: Workspace, session_id: str | None = None) -> dict[int, float]:
    """Candidate id -> the stars of the latest rating judgment that rated it (not undone)."""
    ratings: dict[int, float] = {}
    for rated in judgment_store.rating_judgments(workspace.db.connection(), session_id):
        ratings.update((int(key), float(stars)) for key, stars in rated.items())
    return ratings


def candidate_labels(workspace: Workspace, session_id: str | None = None) -> dict[int, str]:
    """Candidate id -> "won", "lost", "tied" or "rejected" for every judged candidate.

    won: won a comparison and lost none; rejected: lost only to "better elsewhere"
    (reject-all, or rejected with nothing approved); lost: lost to a shown candidate (the
    middle of a ranking too); tied: only ties. Unjudged candidates are absent."""
    outcomes = tables.candidate_outcomes(workspace.db.connection(), session_id)
    won, lost, tied, rejected = (outcomes[n] > 0 for n in ("won", "lost", "tied", "rejected"))
    # The first that holds decides: a candidate that won and was rejected (in two
    # judgments) lost something.
    label = np.select(
        [lost | (rejected & won), rejected, won, tied], ["lost", "rejected", "won", "tied"], ""
    )
    judged = label != ""
    return dict(zip(outcomes["candidate"][judged].tolist(), label[judged].tolist(), strict=True))


def predict_in_chunks(model: PreferenceModel, vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
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
    workspace: Workspace,
    session_id: str,
    scope: str = "session",
    model: PreferenceModel | None = None,
) -> SpacePoints:
    """Every candidate of a session (scope "session") or of every session in the data root
    whose steering space has the same `d` (scope "all"), with ratings, labels and, when
    `model` is given, its predicted utility (mean and std) at each candidate.

    With scope "all" the focus session's candidates come last, so they draw on top."""
    if scope not in SCOPES:
        raise InvalidInput(f"scope: must be one of {', '.join(SCOPES)} (got {scope!r})")
    session = get_session(workspace, session_id)
    d = int(session.config["d"])
    connection = workspace.db.connection()
    if scope == "session":
        rows = round_store.candidate_points(connection, session.id)
    else:
        rows = round_store.candidate_points_of_dimension(connection, d, session.id)
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


def fitted_space_points(
    workspace: Workspace, session_id: str, scope: str = "session"
) -> tuple[SpacePoints, PreferenceModel]:
    """`space_points` with the session's preference model fitted on all its judgments, and
    that model (for the heat map).

    Kept in the data root's derived cache, shared by the dashboard, its restarts and other
    processes: for tens of thousands of candidates the read and the predictions take most
    of a second. The key is what they depend on: the session's rounds and judgments, its
    model settings (they can change between rounds) and, for scope "all", every session's
    candidates and judgments."""
    session = get_session(workspace, session_id)
    config = load_session_config(session)
    connection = workspace.db.connection()
    depends_on = {
        "session": session.id,
        "scope": scope,
        "session_version": judgment_store.session_version(connection, session.id),
        "model": config.preference_model.model_dump(mode="json"),
        "data_root_version": (
            judgment_store.data_root_version(connection) if scope == "all" else None
        ),
    }

    def compute() -> tuple[SpacePoints, PreferenceModel]:
        model, _, _ = fit_preference_model(workspace, session.id, config)
        return space_points(workspace, session.id, scope=scope, model=model), model

    return cached(workspace.derived, "space_points", depends_on, compute)


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


@dataclass(frozen=True, eq=False)
class SessionProjection:
    """The plane a session's steering space is drawn in and its `revision` (1 for the first
    fit, one more on each refit): the map's zoom is kept for as long as the revision is."""

    projection: Projection
    revision: int


def _has_plane(projection: Projection, d: int) -> bool:
    """Whether the projection was fitted by PCA (for d > 2 it falls back to the axes while
    there is nothing to fit: one point, or all points equal)."""
    return d <= 2 or projection.explained_variance_ratio is not None


def session_projection(
    workspace: Workspace, session_id: str, scope: str = "session", refit: bool = False
) -> SessionProjection:
    """The plane to draw a session's steering space in (scope as `space_points`), fitted
    once and then kept, so that a new round adds points to the map without changing its
    shape; `refit=True` fits it anew to the candidates there are now (the researcher asked).

    Fitted as `project` does: PCA of the scope's candidates through the latest incumbent.
    A plane fitted while there was none to fit (a single point) is refitted as soon as there
    is one. Kept in the data root's derived cache, so the dashboard's restarts and other
    processes see the same map; a lost cache only costs a refit."""
    if scope not in SCOPES:
        raise InvalidInput(f"scope: must be one of {', '.join(SCOPES)} (got {scope!r})")
    session = get_session(workspace, session_id)
    d = int(session.config["d"])
    key = cache_key("space_projection", {"session": session.id, "scope": scope})
    try:
        stored = workspace.derived.get(key, default=None, retry=True)
    except Exception:  # a damaged entry costs a refit, nothing more
        stored = None
    points = None
    if stored is not None and not refit:
        if _has_plane(stored.projection, d):
            return stored  # type: ignore[no-any-return]
        points, _ = fitted_space_points(workspace, session.id, scope)
        if not len(points) or not _has_plane(project(points.steering_vectors), d):
            return stored  # type: ignore[no-any-return]
    if points is None:
        points, _ = fitted_space_points(workspace, session.id, scope)
    path = incumbent_path(workspace, session.id)
    reference = path.steering_vectors[-1] if len(path) else None
    fitted = SessionProjection(
        projection=project(points.steering_vectors.reshape(-1, d), reference=reference),
        revision=1 if stored is None else stored.revision + 1,
    )
    # Not stored (a full disk): the next call fits again, from the same candidates.
    with contextlib.suppress(Exception):
        workspace.derived.set(key, fitted, retry=True)
    return fitted


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
    model: PreferenceModel,
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
    rows = round_store.incumbents(workspace.db.connection(), session.id)
    d = int(session.config["d"])
    return IncumbentPath(
        round_index=np.array([row[0] for row in rows], dtype=np.int64),
        candidate_id=np.array([row[1] for row in rows], dtype=np.int64),
        steering_vectors=np.array([row[2] for row in rows], dtype=np.float64).reshape(-1, d),
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
    connection = workspace.db.connection()
    keys = ("round_index", "model", *_STATE_KEYS, *(f"convergence_{k}" for k in _VERDICT))
    series: dict[str, list] = {key: [] for key in keys}
    for round_record in round_store.rounds(connection, session.id):
        state = round_record.model_state
        series["round_index"].append(round_record.round_index)
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
    for event in judgment_store.feedback_events(connection, session.id, include_undone=False):
        value = event.raw.get("decision_seconds")
        if value is not None:
            seconds[event.round_index].append(float(value))
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


def _tally(values: pd.Series) -> dict[str, int]:
    """How often each value occurs, by value."""
    return {str(value): int(n) for value, n in values.value_counts().sort_index().items()}


def _counts(workspace: Workspace, session_id: str | None) -> dict[str, Any]:
    connection = workspace.db.connection()
    events = tables.feedback_event_table(connection, session_id)
    judgments = events[events["mode"] != "undo"]
    standing = judgments[~judgments["undone"]]
    shown = round_store.candidate_count(connection, session_id)
    labels = candidate_labels(workspace, session_id)
    rated = latest_ratings(workspace, session_id)
    by_label = pd.Series(list(labels.values()), dtype=object).value_counts()
    by_label["unjudged"] = shown - len(labels)
    return {
        "sessions": 1 if session_id is not None else session_store.session_count(connection),
        "judgments": len(standing),
        "undone": int(judgments["undone"].sum()),
        "by_mode": _tally(standing["mode"]),
        "by_source": _tally(standing["source"]),
        "candidates_shown": shown,
        "candidates_judged": len(labels.keys() | rated.keys()),
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
