"""What every feedback mode is: a validated judgment that names candidates, turns into
weighted comparisons, says itself in words and can be given by a synthetic user."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

ELSEWHERE = -1
MAX_TEXT_CHARS = 5000


@dataclass(frozen=True)
class Comparison:
    """`winner` beat `loser` (candidate ids; `winner` may be ELSEWHERE), or they tied."""

    winner: int
    loser: int
    weight: float
    tie: bool = False


@dataclass(frozen=True)
class NormalizedFeedback:
    comparisons: list[Comparison] = field(default_factory=list)

    def to_json(self) -> list[dict[str, Any]]:
        return [
            {"winner": c.winner, "loser": c.loser, "weight": c.weight, "tie": c.tie}
            for c in self.comparisons
        ]


@dataclass(frozen=True)
class Perception:
    """What a synthetic user perceived of one round, from which it answers in any mode.

    `utility`: the hidden, noiseless utility of each shown candidate (`ids`, in slot order);
    `perceived`: the noisy utilities its choices follow; `temperature`: the noise at this
    round; `reversal_probability`, `tie_threshold`: its slips and near ties (see
    `steering_core.synthetic.NoiseModel`); `scale`, `relative_ratings`: how utilities become
    stars; `rng`: the only source of randomness (draws in a fixed order keep runs exact).
    """

    ids: list[int]
    utility: np.ndarray
    perceived: np.ndarray
    temperature: float
    reversal_probability: float
    tie_threshold: float
    scale: float
    relative_ratings: bool
    rng: np.random.Generator

    def maybe_reverse(self, choice: int) -> int:
        """`choice` (an index), or on a slip another index drawn at random."""
        n = len(self.ids)
        if n > 1 and self.rng.random() < self.reversal_probability:
            others = [i for i in range(n) if i != choice]
            return int(self.rng.choice(others))
        return choice


# --- words: candidates as the grid numbers them -------------------------------------------
def slot_name(slots: dict[int, int], candidate_id: int) -> str:
    """A candidate as the grid numbers it (slot + 1), or `#id` when not in the round."""
    slot = slots.get(int(candidate_id))
    return str(slot + 1) if slot is not None else f"#{candidate_id}"


def ordinal(place: int) -> str:
    """A rank in words: 1st, 2nd, 3rd, 4th, ... 11th, 12th, 13th, 21st (never `#1`, which
    reads as a candidate's number)."""
    suffix = "th" if 10 <= place % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(place % 10, "th")
    return f"{place}{suffix}"


def slot_names(slots: dict[int, int], candidates: Sequence[int]) -> str:
    return ", ".join(slot_name(slots, c) for c in candidates)


def quoted(text: str) -> str:
    return f"“{text.strip()}”"


class FeedbackBase(BaseModel):
    """One feedback mode: its fields (validated, stored raw as given), the comparisons it
    implies, its words, and how a synthetic user gives it.

    A mode is a subclass in a module of its own under `steering_core/feedback/`, with a
    `mode: Literal["name"] = "name"` field, listed once in `FEEDBACK_MODES`
    (`steering_core/feedback/__init__.py`). The class-level declarations below say where it
    appears; every method has a default, so a mode writes only what it means.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    # The raw fields that hold candidate ids (an id, a list of ids, or a mapping keyed by
    # id); checked against the round, remapped when a bundle is imported.
    candidate_fields: ClassVar[tuple[str, ...]] = ()
    # A session can judge round after round in this mode (the setup's mode dropdown); False
    # for judgments given beside the session's mode, at any time (reject all, cannot decide).
    session_mode: ClassVar[bool] = True
    # A judgment in this mode settles the round, so the next one may start by itself; False
    # for a note that leaves the round open (critique).
    advances: ClassVar[bool] = True
    # A synthetic user answers in this mode (`synthetic_answer`), so benchmarks can use it.
    synthetic: ClassVar[bool] = False
    # A synthetic user torn between its top two (and allowed to) says "cannot decide"
    # instead of answering in this mode.
    ties_as_cannot_decide: ClassVar[bool] = True

    confidence: float = Field(default=1.0, ge=0.0, le=1.0)
    decision_seconds: float | None = Field(default=None, ge=0.0)

    @model_validator(mode="after")
    def _no_candidate_twice(self) -> FeedbackBase:
        # A candidate listed twice would count its comparisons twice (`approved: [3, 3]`).
        for name in self.candidate_fields:
            value = getattr(self, name)
            if isinstance(value, list):
                twice = sorted({c for c in value if value.count(c) > 1})
                if twice:
                    raise ValueError(f"{name}: a candidate is named twice: {twice}")
        return self

    @classmethod
    def mode_name(cls) -> str:
        """The mode's name, as stored (`raw["mode"]`)."""
        return str(cls.model_fields["mode"].default)

    # --- the candidates it names, and the comparisons it implies ---------------------------
    def named_candidates(self) -> dict[str, list[int]]:
        """The candidate ids this judgment names, by the field that names them."""
        named: dict[str, list[int]] = {}
        for name in self.candidate_fields:
            value = getattr(self, name)
            if value is None:
                continue
            named[name] = list(value) if isinstance(value, list | dict) else [value]
        return named

    def candidate_ids(self) -> list[int]:
        """Every candidate id this judgment names."""
        return [c for ids in self.named_candidates().values() for c in ids]

    def comparisons(self, shown: Sequence[int]) -> list[Comparison]:
        """The weighted comparisons this judgment on the round's `shown` candidates implies
        (weights already scaled by its confidence); none by default (a note)."""
        return []

    @classmethod
    def remap_raw(cls, raw: dict[str, Any], named: Callable[[int], int]) -> dict[str, Any]:
        """A stored raw judgment with every candidate id passed through `named`."""
        raw = dict(raw)
        for key in cls.candidate_fields:
            value = raw.get(key)
            if value is None:
                continue
            if isinstance(value, dict):  # JSON object keys are text
                raw[key] = {str(named(int(c))): v for c, v in value.items()}
            elif isinstance(value, list):
                raw[key] = [named(c) for c in value]
            else:
                raw[key] = named(value)
        return raw

    # --- words (of a stored raw judgment; `slots`: candidate id -> slot of the round) ------
    @classmethod
    def line(cls, raw: dict[str, Any], slots: dict[int, int]) -> str:
        """What was decided, in a line (without confidence, time and source)."""
        return cls.mode_name().replace("_", " ")

    @classmethod
    def received(cls, raw: dict[str, Any], slots: dict[int, int]) -> dict[int, list[str]]:
        """What the judgment said about each candidate: candidate id -> phrases."""
        return {}

    # --- what other parts read of a stored raw judgment ------------------------------------
    @classmethod
    def best(cls, raw: dict[str, Any]) -> int | None:
        """The candidate the judgment names as best, or None (a synthetic diversity user
        remembers it)."""
        return None

    @classmethod
    def kept(cls, raw: dict[str, Any]) -> tuple[str, list[int]] | None:
        """For the draft funnel: the field and the candidates this judgment keeps, or None
        when a funnel cannot be judged in this mode."""
        return None

    # --- a synthetic user's answer ---------------------------------------------------------
    @classmethod
    def synthetic_answer(cls, seen: Perception) -> dict[str, Any]:
        """The raw judgment a synthetic user gives in this mode (modes with `synthetic`)."""
        raise NotImplementedError(f"a synthetic user cannot answer in mode {cls.mode_name()!r}")
