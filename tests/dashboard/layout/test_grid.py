"""The candidate cards: a hidden repeat probe is badged like any other candidate."""

from __future__ import annotations

import numpy as np

from dashboard.layout.grid import MODE_TITLES, candidate_card, mode_banner
from steering_core.feedback import FEEDBACK_MODE_NAMES
from steering_core.storage.records import CandidateRecord
from tests.dashboard.helpers import text


def _candidate(role: str) -> CandidateRecord:
    return CandidateRecord(
        id=7,
        session_id="abc",
        round_index=3,
        slot=2,
        steering_vector=np.zeros(4),
        seed=11,
        role=role,
        parent_candidate_id=None,
        sampler_metadata={},
        image_path="images/abc/r3/c2.png",
        created_at="2026-11-24T00:00:00Z",
    )


def test_a_probe_is_badged_as_exploration_so_the_rater_cannot_tell() -> None:
    probe = text(candidate_card(_candidate("probe"), "winner"))
    explore = text(candidate_card(_candidate("explore"), "winner"))
    assert "probe" not in probe
    assert probe == explore


def test_other_roles_show_as_they_are() -> None:
    assert "challenger" in text(candidate_card(_candidate("challenger"), "winner"))


def test_every_feedback_mode_has_its_banner_instructions() -> None:
    # A new mode (steering_core/feedback/) says here how it is given on the grid.
    assert set(MODE_TITLES) == set(FEEDBACK_MODE_NAMES)
    for mode in FEEDBACK_MODE_NAMES:
        assert MODE_TITLES[mode] in text(mode_banner(mode))
