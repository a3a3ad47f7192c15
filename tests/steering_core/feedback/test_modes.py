"""Every feedback mode keeps the contract the rest of the code relies on: it is listed once,
its judgments name only the round's candidates, normalize, say themselves in words, remap
on import, and synthetic users answer in the modes that declare it. A new mode is checked
here without a line of this file changing (unless it has no synthetic answer: then give an
example in EXAMPLES)."""

from __future__ import annotations

import importlib
import pkgutil
import typing
from typing import Any

import numpy as np
import pytest

import steering_core.feedback as feedback_package
from steering_core.cli.feedback import FEEDBACK_FLAGS
from steering_core.errors import InvalidInput
from steering_core.feedback import (
    ADVANCING_MODES,
    BENCHMARK_MODES,
    ELSEWHERE,
    FEEDBACK_MODE_NAMES,
    FEEDBACK_MODES,
    SESSION_MODES,
    FeedbackBase,
    normalize,
    parse_feedback,
)
from steering_core.synthetic.users import AnchorUser, NoiseModel, Shown

SHOWN_IDS = [100, 101, 102, 103, 104, 105]
SLOTS = {candidate: slot for slot, candidate in enumerate(SHOWN_IDS)}
# Judgments in the modes a synthetic user does not answer in (the others come from one).
EXAMPLES: dict[str, list[dict[str, Any]]] = {
    "critique": [
        {"mode": "critique", "tags": ["lighting"], "text": "too dark", "candidate": 102},
        {"mode": "critique", "tags": [], "text": "all alike"},
    ],
}
MODES = [pytest.param(mode, id=mode.mode_name()) for mode in FEEDBACK_MODES]


def judgments(mode: type[FeedbackBase]) -> list[dict[str, Any]]:
    """Raw judgments in `mode` on the round SHOWN_IDS: a noisy synthetic user's, or EXAMPLES."""
    if not mode.synthetic:
        assert mode.mode_name() in EXAMPLES, "a mode without a synthetic answer needs EXAMPLES"
        return EXAMPLES[mode.mode_name()]
    user = AnchorUser(
        target=np.zeros(2), noise=NoiseModel(temperature=0.2, reversal_probability=0.2)
    )
    rng = np.random.default_rng(0)
    vectors = np.random.default_rng(1).normal(size=(len(SHOWN_IDS), 2))
    shown = [Shown(c, slot, vectors[slot]) for c, slot in SLOTS.items()]
    return [user.judge(shown, mode.mode_name(), r, rng) for r in range(10)]


def test_each_module_of_the_package_is_one_listed_mode() -> None:
    modules = {
        info.name for info in pkgutil.iter_modules(feedback_package.__path__) if info.name != "base"
    }
    assert modules == set(FEEDBACK_MODE_NAMES)
    for mode in FEEDBACK_MODES:
        module = importlib.import_module(f"steering_core.feedback.{mode.mode_name()}")
        defined = [
            value
            for value in vars(module).values()
            if isinstance(value, type)
            and issubclass(value, FeedbackBase)
            and value.__module__ == module.__name__
        ]
        assert defined == [mode]


def test_the_derived_lists_follow_the_declarations() -> None:
    assert len(set(FEEDBACK_MODE_NAMES)) == len(FEEDBACK_MODES)
    assert tuple(m.mode_name() for m in FEEDBACK_MODES if m.session_mode) == SESSION_MODES
    assert set(BENCHMARK_MODES) <= set(SESSION_MODES)
    assert set(ADVANCING_MODES) <= set(FEEDBACK_MODE_NAMES)
    assert "winner" in BENCHMARK_MODES  # the bench's default


@pytest.mark.parametrize("mode", MODES)
def test_every_mode_can_be_given_on_the_command_line(mode: type[FeedbackBase]) -> None:
    assert mode.mode_name() in {flag.mode for flag in FEEDBACK_FLAGS}


@pytest.mark.parametrize("mode", MODES)
def test_judgments_name_the_round_normalize_and_say_themselves(mode: type[FeedbackBase]) -> None:
    for raw in judgments(mode):
        feedback = parse_feedback(raw)
        assert feedback.mode == mode.mode_name()
        assert set(feedback.candidate_ids()) <= set(SHOWN_IDS)
        for comparison in normalize(feedback, SHOWN_IDS).comparisons:
            assert comparison.winner in {*SHOWN_IDS, ELSEWHERE}
            assert comparison.loser in SHOWN_IDS
        line = mode.line(raw, SLOTS)
        assert line and "#" not in line  # every candidate named by its grid number
        received = mode.received(raw, SLOTS)
        assert set(received) <= set(SHOWN_IDS) and all(received.values())
        best = mode.best(raw)
        assert best is None or best in SHOWN_IDS
        kept = mode.kept(raw)
        assert kept is None or set(kept[1]) <= set(SHOWN_IDS)


# Every field of every mode that holds a list of candidate ids (approved, rejected, order...).
CANDIDATE_LISTS = [
    pytest.param(mode, name, id=f"{mode.mode_name()}.{name}")
    for mode in FEEDBACK_MODES
    for name in mode.candidate_fields
    if typing.get_origin(mode.model_fields[name].annotation) is list
]


def test_the_modes_with_candidate_lists_are_found() -> None:
    found = {(p.values[0].mode_name(), p.values[1]) for p in CANDIDATE_LISTS}
    assert {("approve_reject", "approved"), ("approve_reject", "rejected")} <= found
    assert {("ranking", "order"), ("cannot_decide", "between")} <= found


@pytest.mark.parametrize(("mode", "field"), CANDIDATE_LISTS)
def test_a_candidate_named_twice_in_a_list_is_refused(mode: type[FeedbackBase], field: str) -> None:
    # It would count its comparisons twice: `--approve 1,1` gave 6 comparisons, not 3.
    examples = [raw for raw in judgments(mode) if raw.get(field)]
    example = examples[0] if examples else {"mode": mode.mode_name()}
    named = example.get(field) or [SHOWN_IDS[0]]
    raw = {**example, field: [named[0], *named]}
    with pytest.raises(InvalidInput, match=f"{field}: a candidate is named twice"):
        parse_feedback(raw)


@pytest.mark.parametrize("mode", MODES)
def test_remapping_rewrites_every_candidate_id(mode: type[FeedbackBase]) -> None:
    for raw in judgments(mode):
        remapped = mode.remap_raw(raw, lambda c: c + 1000)
        moved = parse_feedback(remapped)
        assert moved.candidate_ids() == [c + 1000 for c in parse_feedback(raw).candidate_ids()]


@pytest.mark.parametrize("mode", [m for m in FEEDBACK_MODES if not m.synthetic])
def test_a_synthetic_user_refuses_a_mode_without_a_synthetic_answer(
    mode: type[FeedbackBase],
) -> None:
    user = AnchorUser(target=np.zeros(1))
    with pytest.raises(InvalidInput, match="cannot answer"):
        user.judge([Shown(1, 0, np.zeros(1))], mode.mode_name(), 0, np.random.default_rng(0))
