"""Feedback: every mode validates and normalizes to weighted comparisons and ties."""

from __future__ import annotations

import pytest

from steering_core.errors import InvalidInput
from steering_core.feedback import ELSEWHERE, check_candidates, normalize, parse_feedback

SHOWN = [10, 11, 12, 13]


def triples(raw: dict) -> set[tuple[int, int, float, bool]]:
    feedback = parse_feedback(raw)
    return {
        (c.winner, c.loser, round(c.weight, 6), c.tie)
        for c in normalize(feedback, SHOWN).comparisons
    }


def test_winner_beats_every_other_shown_candidate() -> None:
    assert triples({"mode": "winner", "winner": 12}) == {
        (12, 10, 1.0, False),
        (12, 11, 1.0, False),
        (12, 13, 1.0, False),
    }


def test_confidence_scales_weights() -> None:
    assert {w for _, _, w, _ in triples({"mode": "winner", "winner": 12, "confidence": 0.4})} == {
        0.4
    }


def test_ratings_give_graded_comparisons_and_ties() -> None:
    result = triples({"mode": "rating", "ratings": {"10": 5, "11": 1, "12": 5}})
    assert result == {(10, 11, 1.0, False), (12, 11, 1.0, False), (10, 12, 0.5, True)}


def test_pairwise_with_tie() -> None:
    assert triples({"mode": "pairwise", "first": 10, "second": 13, "choice": "second"}) == {
        (13, 10, 1.0, False)
    }
    assert triples({"mode": "pairwise", "first": 10, "second": 13, "choice": "tie"}) == {
        (10, 13, 1.0, True)
    }


def test_top_k_ranking_keeps_the_order_and_beats_the_unranked() -> None:
    result = triples({"mode": "ranking", "order": [12, 10]})
    assert result == {
        (12, 10, 1.0, False),
        (12, 11, 1.0, False),
        (12, 13, 1.0, False),
        (10, 11, 1.0, False),
        (10, 13, 1.0, False),
    }


def test_approve_reject_ranks_approved_unmarked_rejected() -> None:
    assert triples({"mode": "approve_reject", "approved": [10], "rejected": [11, 12]}) == {
        (10, 11, 1.0, False),
        (10, 12, 1.0, False),
        (10, 13, 0.5, False),  # approved beat the unmarked candidate at half weight
        (13, 11, 0.5, False),  # and the unmarked one beats each rejected one
        (13, 12, 0.5, False),
    }


def test_approve_only_and_reject_only_still_carry_evidence() -> None:
    assert triples({"mode": "approve_reject", "approved": [10]}) == {
        (10, other, 0.5, False) for other in (11, 12, 13)
    }
    assert triples({"mode": "approve_reject", "rejected": [11]}) == {
        (ELSEWHERE, 11, 1.0, False),
        (10, 11, 0.5, False),
        (12, 11, 0.5, False),
        (13, 11, 0.5, False),
    }


def test_reject_all_is_evidence_not_an_error() -> None:
    result = triples({"mode": "reject_all", "reason": "all too dark"})
    assert result == {(ELSEWHERE, c, 1.0, False) for c in SHOWN}


def test_cannot_decide_is_weak_ties_among_the_round() -> None:
    result = triples({"mode": "cannot_decide", "confidence": 0.6})
    pairs = {(a, b) for a, b, _, _ in result}
    assert len(pairs) == len(SHOWN) * (len(SHOWN) - 1) // 2
    assert all(
        tie and weight == pytest.approx(0.6 / (len(SHOWN) - 1)) for *_, weight, tie in result
    )


def test_cannot_decide_between_named_candidates_ties_them_above_the_rest() -> None:
    first, second, *rest = SHOWN
    result = triples({"mode": "cannot_decide", "between": [second, first], "confidence": 0.8})
    ties = {(a, b) for a, b, _, tie in result if tie}
    wins = {(a, b) for a, b, _, tie in result if not tie}
    assert ties == {(second, first)}
    assert wins == {(named, other) for named in (first, second) for other in rest}
    assert all(weight == pytest.approx(0.8) for _, _, weight, _ in result)


@pytest.mark.parametrize(
    "raw",
    [
        {"mode": "critique", "tags": ["lighting", "colour"], "text": "too flat", "candidate": 11},
        {"mode": "critique", "tags": [], "text": "the round drifts away from the prompt"},
    ],
)
def test_critiques_carry_no_comparison(raw: dict) -> None:
    feedback = parse_feedback(raw)
    assert normalize(feedback, SHOWN).comparisons == []


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            {"mode": "rating", "ratings": {"10": 7}},
            "ratings.10: Input should be less than or equal to 5",
        ),
        ({"mode": "rating", "ratings": {}}, "ratings"),
        ({"mode": "ranking", "order": [10, 11, 10]}, "order: a candidate is named twice: [10]"),
        (
            {"mode": "approve_reject", "approved": [10, 10]},
            "approved: a candidate is named twice: [10]",
        ),
        (
            {"mode": "approve_reject", "approved": [11], "rejected": [10, 10, 10]},
            "rejected: a candidate is named twice: [10]",
        ),
        ({"mode": "pairwise", "first": 10, "second": 10, "choice": "tie"}, "must be different"),
        (
            {"mode": "approve_reject", "approved": [10], "rejected": [10]},
            "both approved and rejected",
        ),
        ({"mode": "approve_reject"}, "approve or reject at least one"),
        ({"mode": "critique", "tags": ["vibes"]}, "tags.0"),
        ({"mode": "critique", "tags": []}, "at least one tag or some text"),
        ({"mode": "winner", "winner": 10, "confidence": 1.5}, "confidence"),
        ({"mode": "cannot_decide", "between": [10]}, "between: name at least two"),
        ({"mode": "cannot_decide", "between": [10, 10]}, "between: a candidate is named twice"),
        ({"mode": "telepathy"}, "mode: must be one of"),
        ({"mode": "winner", "winner": 10, "extra": 1}, "extra"),
    ],
)
def test_bad_feedback_names_the_problem(raw: dict, expected: str) -> None:
    with pytest.raises(InvalidInput) as error:
        parse_feedback(raw)
    assert expected in str(error.value)


@pytest.mark.parametrize(
    "raw",
    [{"mode": "winner", "winner": 99}, {"mode": "cannot_decide", "between": [10, 99]}],
)
def test_candidate_of_another_round_is_refused(raw: dict) -> None:
    with pytest.raises(InvalidInput, match="candidate 99 is not in round 3"):
        check_candidates(parse_feedback(raw), SHOWN, where="round 3 of session s")


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"mode": "winner", "winner": 999}, "winner"),
        ({"mode": "rating", "ratings": {"10": 5, "999": 1}}, "ratings"),
        ({"mode": "pairwise", "first": 10, "second": 999, "choice": "first"}, "second"),
        ({"mode": "pairwise", "first": 999, "second": 10, "choice": "tie"}, "first"),
        ({"mode": "ranking", "order": [12, 999]}, "order"),
        ({"mode": "approve_reject", "approved": [999]}, "approved"),
        ({"mode": "approve_reject", "approved": [10], "rejected": [999]}, "rejected"),
        ({"mode": "critique", "candidate": 999, "tags": ["lighting"]}, "candidate"),
        ({"mode": "cannot_decide", "between": [10, 999]}, "between"),
    ],
)
def test_normalize_refuses_a_candidate_that_was_not_shown(raw: dict, field: str) -> None:
    # Without the refusal a winner of 999 beat every shown candidate: three comparisons
    # about a candidate the researcher never saw.
    with pytest.raises(InvalidInput) as error:
        normalize(parse_feedback(raw), SHOWN)
    assert str(error.value) == (
        f"{field}: candidate 999 was not shown in this round (shown: {', '.join(map(str, SHOWN))})"
    )
