"""Error messages stay one readable line whatever value they quote."""

from __future__ import annotations

import pytest

from steering_core.errors import MAX_MESSAGE_CHARS, InvalidInput, NotFound, shown
from steering_core.feedback import parse_feedback


def test_shown_cuts_a_long_text_and_says_how_long_it_was() -> None:
    text = shown("x" * 100_000)
    assert len(text) < 120 and text.endswith("\u2026 (100000 characters)")
    assert shown("a cat") == "'a cat'"


def test_shown_does_not_walk_a_huge_structure() -> None:
    shared = ["lol"] * 9
    for _ in range(8):  # 9**9 strings through shared references, as an alias bomb builds
        shared = [shared] * 9
    assert len(shown(shared)) < 120
    assert shown(10**5000) == f"<an integer of {(10**5000).bit_length()} bits>"


@pytest.mark.parametrize("error_class", [InvalidInput, NotFound])
def test_a_core_error_is_one_capped_line(error_class: type[Exception]) -> None:
    message = str(error_class("reason: " + "line\n" * 50_000))
    assert "\n" not in message and len(message) <= MAX_MESSAGE_CHARS
    assert message.startswith("reason: line line")


def test_a_reason_of_100_kb_is_not_echoed_whole() -> None:
    with pytest.raises(InvalidInput) as error:
        parse_feedback({"mode": "winner", "winner": 1, "reason": "x" * 100_000})
    assert "reason" in str(error.value) and len(str(error.value)) <= MAX_MESSAGE_CHARS
