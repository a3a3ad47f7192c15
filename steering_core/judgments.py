"""A session's judgments in the form preference models take: points, comparisons, rankings.

Every model gets the weighted comparisons and ties (the normalized feedback). Models that
read rankings (the "rankings" capability, e.g. Plackett-Luce) get winner and ranking events
as rankings instead of their pairwise expansion, so a ranking is never collapsed.
Repeated comparisons of the same two points (hidden repeat probes make them on purpose)
measure how consistent the rater is; `reversal_rate` turns them into a noise estimate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from steering_core.feedback import ELSEWHERE
from steering_core.sessions import get_candidates
from steering_core.storage import judgment_store
from steering_core.storage.workspace import Workspace

RANKING_MODES = ("winner", "ranking")


@dataclass(frozen=True)
class Ranking:
    """`order`: rows of X, best first; `rest`: rows shown in the same round but not ranked,
    all worse than the last of `order` (Plackett-Luce's partial ranking)."""

    order: np.ndarray
    rest: np.ndarray
    weight: float
    round_index: int


@dataclass(frozen=True)
class Judgments:
    """`X`: `n x d` distinct steering vectors shown; `candidate_ids`: the candidate id of each
    row's first showing; `comparisons`: `m x 2` (winner row, loser row), winner -1 =
    elsewhere, with `weights`, the round each was judged on (`comparison_rounds`) and whether
    it came from a winner or ranking event (`from_ranking`); `ties`: `t x 2` rows with
    `tie_weights` and `tie_rounds`; `rankings`: the winner and ranking events."""

    X: np.ndarray
    candidate_ids: list[int]
    comparisons: np.ndarray
    weights: np.ndarray
    comparison_rounds: np.ndarray
    from_ranking: np.ndarray
    ties: np.ndarray
    tie_weights: np.ndarray
    tie_rounds: np.ndarray
    rankings: list[Ranking] = field(default_factory=list)

    def before_round(self, round_index: int) -> Judgments:
        """Only the judgments made on rounds before `round_index` (same X)."""
        keep = self.comparison_rounds < round_index
        keep_ties = self.tie_rounds < round_index
        return Judgments(
            X=self.X,
            candidate_ids=self.candidate_ids,
            comparisons=self.comparisons[keep],
            weights=self.weights[keep],
            comparison_rounds=self.comparison_rounds[keep],
            from_ranking=self.from_ranking[keep],
            ties=self.ties[keep_ties],
            tie_weights=self.tie_weights[keep_ties],
            tie_rounds=self.tie_rounds[keep_ties],
            rankings=[r for r in self.rankings if r.round_index < round_index],
        )

    def reversal_rate(self) -> tuple[float, int]:
        """The share of repeated comparisons (the same two points judged in different rounds)
        that contradict the earlier judgment, and how many repeats it is based on."""
        first: dict[tuple[int, int], tuple[int, int]] = {}
        repeats = reversals = 0
        for (winner, loser), round_index in zip(
            self.comparisons.tolist(), self.comparison_rounds.tolist(), strict=True
        ):
            if winner == ELSEWHERE:
                continue
            key = (min(winner, loser), max(winner, loser))
            if key not in first:
                first[key] = (winner, round_index)
            elif first[key][1] != round_index:
                repeats += 1
                reversals += first[key][0] != winner
        return (reversals / repeats if repeats else 0.0), repeats

    def fit_arguments(self, consumes_rankings: bool) -> dict[str, Any]:
        """Keyword arguments for a preference model's `fit`."""
        if not consumes_rankings:
            return {
                "comparisons": self.comparisons,
                "weights": self.weights,
                "ties": self.ties,
                "tie_weights": self.tie_weights,
            }
        keep = ~self.from_ranking
        return {
            "comparisons": self.comparisons[keep],
            "weights": self.weights[keep],
            "ties": self.ties,
            "tie_weights": self.tie_weights,
            "rankings": self.rankings,
        }


def session_judgments(workspace: Workspace, session_id: str) -> Judgments:
    """Every judgment of the session that is not undone, as rows of the shown points."""
    candidates = get_candidates(workspace, session_id)
    row_of_vector: dict[bytes, int] = {}
    row_of_candidate: dict[int, int] = {}
    shown_in_round: dict[int, list[int]] = {}
    points: list[np.ndarray] = []
    first_ids: list[int] = []
    for candidate in candidates:
        key = candidate.steering_vector.tobytes()
        if key not in row_of_vector:
            row_of_vector[key] = len(points)
            points.append(candidate.steering_vector)
            first_ids.append(candidate.id)
        row_of_candidate[candidate.id] = row_of_vector[key]
        shown_in_round.setdefault(candidate.round_index, []).append(candidate.id)

    connection = workspace.db.connection()
    rows = judgment_store.judged_comparisons(connection, session_id)
    pairs, weights, rounds, ranked = [], [], [], []
    ties, tie_weights, tie_rounds = [], [], []
    for row in rows:
        winner = row["winner_candidate_id"]
        winner_row = ELSEWHERE if winner == ELSEWHERE else row_of_candidate[winner]
        loser_row = row_of_candidate[row["loser_candidate_id"]]
        if row["is_tie"]:
            ties.append((winner_row, loser_row))
            tie_weights.append(row["weight"])
            tie_rounds.append(row["round_index"])
        elif winner_row != loser_row:
            pairs.append((winner_row, loser_row))
            weights.append(row["weight"])
            rounds.append(row["round_index"])
            ranked.append(row["mode"] in RANKING_MODES)

    rankings = []
    events = judgment_store.feedback_events(
        connection, session_id, include_undone=False, modes=RANKING_MODES
    )
    for event in events:
        raw = event.raw
        order_ids = [raw["winner"]] if event.mode == "winner" else raw["order"]
        rest_ids = [c for c in shown_in_round[event.round_index] if c not in set(order_ids)]
        order = [row_of_candidate[c] for c in order_ids]
        # A re-shown vector is one point: it cannot lose to itself.
        rest = [row_of_candidate[c] for c in rest_ids if row_of_candidate[c] not in set(order)]
        rankings.append(
            Ranking(
                order=np.array(order, dtype=np.int64),
                rest=np.array(rest, dtype=np.int64),
                weight=float(event.confidence),
                round_index=int(event.round_index),
            )
        )

    d = len(points[0]) if points else 0
    return Judgments(
        X=np.array(points).reshape(len(points), d),
        candidate_ids=first_ids,
        comparisons=np.array(pairs, dtype=np.int64).reshape(-1, 2),
        weights=np.array(weights, dtype=np.float64),
        comparison_rounds=np.array(rounds, dtype=np.int64),
        from_ranking=np.array(ranked, dtype=bool),
        ties=np.array(ties, dtype=np.int64).reshape(-1, 2),
        tie_weights=np.array(tie_weights, dtype=np.float64),
        tie_rounds=np.array(tie_rounds, dtype=np.int64),
        rankings=rankings,
    )
