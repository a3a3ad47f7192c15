"""'More like these': from candidates selected together (a lasso in the steering space) to
the few a round is built around, spread over the selection."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from steering_core.errors import InvalidInput
from steering_core.rounds import check_round_request
from steering_core.sessions import get_session
from steering_core.space_view import space_points
from steering_core.storage.workspace import Workspace


def anchors_of_selection(
    workspace: Workspace,
    session_id: str,
    selected: Sequence[int],
    k: int | None = None,
) -> list[int]:
    """The candidates of `selected` (ids, any order, repeats and other sessions' candidates
    allowed: a lasso over the "all sessions" view takes them) that a "more like these" round
    of `k` images (None: the session's k) is built around: `plan_round(around=...)`.

    At most half of the round's new slots go to them (they are re-shown unchanged), so that
    at least as many slots show new variations: the one nearest the selection's centre
    first, then each time the one farthest from those chosen, so the round covers the
    selected region rather than one corner of it. Distinct images only (a winner re-shown as
    the next incumbent is one image). Raises InvalidInput when none of `selected` is a
    candidate of the session; stores nothing."""
    session = get_session(workspace, session_id)
    config, _ = check_round_request(workspace, session.id, None, k)
    wanted: set[int] = set()
    for candidate_id in selected:
        if isinstance(candidate_id, bool) or not isinstance(candidate_id, int | np.integer):
            raise InvalidInput(f"selection: candidate ids are whole numbers (got {candidate_id!r})")
        wanted.add(int(candidate_id))
    points = space_points(workspace, session.id, scope="session")
    rows = np.flatnonzero(np.isin(points.candidate_id, list(wanted)))
    if not len(rows):
        raise InvalidInput(
            f"selection: none of the {len(wanted)} selected candidates belongs to session "
            f"{session.id} (select this session's points)"
        )
    # Oldest first, so a re-shown image counts as the candidate it was first shown as.
    rows = rows[np.argsort(points.candidate_id[rows], kind="stable")]
    _, first = np.unique(points.steering_vectors[rows], axis=0, return_index=True)
    rows = rows[np.sort(first)]
    vectors = points.steering_vectors[rows]
    count = min(len(rows), max(1, (config.k - 1) // 2))
    chosen = [int(np.argmin(np.linalg.norm(vectors - vectors.mean(axis=0), axis=1)))]
    distance = np.linalg.norm(vectors - vectors[chosen[0]], axis=1)
    while len(chosen) < count:
        chosen.append(int(np.argmax(distance)))
        distance = np.minimum(distance, np.linalg.norm(vectors - vectors[chosen[-1]], axis=1))
    return [int(points.candidate_id[rows[i]]) for i in chosen]
