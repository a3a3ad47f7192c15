"""One session as every reader shows it: its rounds with their candidates, roles and the
judgments they got in words, the final choice and its lineage, and the round each candidate
was carried to. Built once by `session_view`; the dashboard's replay page, the HTML report and
the CLI only format it."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from steering_core.errors import NotFound, error_kind
from steering_core.incumbent import choose_incumbent, fit_preference_model, shown_incumbent
from steering_core.sessions import (
    get_candidate,
    get_candidates,
    get_feedback_events,
    get_rounds,
    get_session,
    list_sessions,
    load_session_config,
)
from steering_core.storage.records import (
    CandidateRecord,
    FeedbackEventRecord,
    RoundRecord,
    SessionRecord,
)
from steering_core.storage.workspace import Workspace
from steering_core.views.judgment_words import judgment_line, received
from steering_core.views.kept import kept_reason

logger = logging.getLogger(__name__)

# What the final choice is, said the same way wherever it is shown.
FINAL_CHOICE_MEANING = (
    "What the next round would re-show as its incumbent: the preference model fitted on every "
    "judgment picks among the last judged round's winners and the current incumbent."
)


@dataclass(frozen=True)
class Phrase:
    """What one judgment said about one candidate ("rated 4/5"); `undone` when it was."""

    text: str
    undone: bool = False


@dataclass(frozen=True)
class Judgment:
    """One judgment of a round in a line of words; `undone` when it was."""

    event: FeedbackEventRecord
    line: str

    @property
    def undone(self) -> bool:
        return self.event.undone_at is not None


@dataclass(frozen=True)
class Origin:
    """Where a candidate's parent was shown. `round_index`, `slot` and `session_id` are None
    when the parent is not read (a fork's parent, for a reader of this session only) or gone."""

    candidate_id: int
    round_index: int | None = None
    slot: int | None = None
    session_id: str | None = None


@dataclass(frozen=True)
class CandidateView:
    """One candidate with what it received, the round that re-shows it as its incumbent
    (`carried_to`), where its parent was shown, and the sessions forked from it."""

    candidate: CandidateRecord
    received: tuple[Phrase, ...] = ()
    carried_to: int | None = None
    final_choice: bool = False
    origin: Origin | None = None
    forks: tuple[str, ...] = ()
    # Why a re-shown incumbent was kept ("kept: nothing beat it in round 4"); '' otherwise.
    kept: str = ""

    @property
    def carried_forward(self) -> bool:
        """Whether a later round re-shows this new candidate (not a re-shown incumbent)."""
        return self.carried_to is not None and self.candidate.slot != 0


@dataclass(frozen=True)
class RoundView:
    """A round: its stored record, its candidates in slot order and its judgments (undone
    ones included, marked)."""

    record: RoundRecord
    candidates: tuple[CandidateView, ...]
    judgments: tuple[Judgment, ...] = ()

    @property
    def round_index(self) -> int:
        return self.record.round_index

    @property
    def judged(self) -> bool:
        """Whether a judgment of this round is still in force."""
        return any(not j.undone for j in self.judgments)

    @property
    def incumbent_moved(self) -> bool:
        """Whether a later round re-shows a new candidate of this round, not its incumbent."""
        return any(c.carried_forward for c in self.candidates)


@dataclass(frozen=True)
class LineageStep:
    """One step of the final choice's lineage: the candidate that first showed a steering
    vector and seed, and every round of this session that showed it (re-shown incumbents
    are the same image, so they are one step)."""

    candidate: CandidateRecord
    rounds: tuple[int, ...]


@dataclass(frozen=True)
class FinalChoice:
    """The incumbent the next round would re-show. `note` says why it is not the fitted
    model's choice (the model could not be fitted: the latest round's incumbent is shown),
    or why there is none; "" when it is the model's."""

    candidate: CandidateRecord | None
    note: str = ""


@dataclass(frozen=True)
class SessionView:
    session: SessionRecord
    rounds: tuple[RoundView, ...]
    final: FinalChoice
    lineage: tuple[LineageStep, ...] = ()
    # The candidate of another session (a fork's origin) the lineage continues in.
    lineage_parent: int | None = None

    @property
    def judgments(self) -> int:
        """How many judgments are in force (undone ones left out)."""
        return sum(1 for r in self.rounds for j in r.judgments if not j.undone)

    def round(self, round_index: int | None = None) -> RoundView:
        """A round (the latest when `round_index` is None)."""
        if not self.rounds:
            raise NotFound(f"session {self.session.id} has no rounds yet; run `steer round` first")
        if round_index is None:
            return self.rounds[-1]
        for shown in self.rounds:
            if shown.round_index == round_index:
                return shown
        raise NotFound(f"session {self.session.id} has no round {round_index}")

    def candidate(self, candidate_id: int) -> CandidateView | None:
        for replay_round in self.rounds:
            for entry in replay_round.candidates:
                if entry.candidate.id == candidate_id:
                    return entry
        return None


def final_choice(workspace: Workspace, session: SessionRecord, has_rounds: bool) -> FinalChoice:
    """The incumbent the next round would re-show, from the preference model fitted on every
    judgment; the latest round's incumbent, with a note, when the model cannot be fitted here
    (a plug-in this machine lacks, a failing fit)."""
    if not has_rounds:
        return FinalChoice(None, "no round yet")
    try:
        config = load_session_config(session)
        model, _, _ = fit_preference_model(workspace, session.id, config)
        return FinalChoice(choose_incumbent(workspace, session.id, model))
    except Exception as error:
        # The rounds are still worth reading when the model cannot be fitted. Only the
        # error's kind is shown: its message may name paths of this machine.
        logger.warning("could not fit the preference model of %s: %s", session.id, error)
        return FinalChoice(
            shown_incumbent(workspace, session.id),
            f"the preference model could not be fitted here ({error_kind(error)}); "
            "showing the latest round's incumbent",
        )


def _same_image(a: CandidateRecord, b: CandidateRecord) -> bool:
    return a.seed == b.seed and a.steering_vector.tobytes() == b.steering_vector.tobytes()


def _lineage(
    final: CandidateRecord | None, by_id: dict[int, CandidateRecord]
) -> tuple[tuple[LineageStep, ...], int | None]:
    """The final choice's ancestors inside this session, oldest first, re-showings merged;
    and the id of the ancestor in another session (a fork's origin) where it continues."""
    if final is None:
        return (), None
    chain = [final]
    seen = {final.id}
    while chain[-1].parent_candidate_id in by_id and chain[-1].parent_candidate_id not in seen:
        chain.append(by_id[chain[-1].parent_candidate_id])
        seen.add(chain[-1].id)
    outside = chain[-1].parent_candidate_id
    steps: list[LineageStep] = []
    for candidate in reversed(chain):
        if steps and _same_image(steps[-1].candidate, candidate):
            previous = steps[-1]
            steps[-1] = LineageStep(previous.candidate, (*previous.rounds, candidate.round_index))
        else:
            steps.append(LineageStep(candidate, (candidate.round_index,)))
    return tuple(steps), outside if outside not in by_id else None


def carried_to(
    rounds: Sequence[RoundRecord], by_round: dict[int, list[CandidateRecord]]
) -> dict[int, int]:
    """Candidate id -> the round that re-shows it as its incumbent. A round's incumbent
    (slot 0) is a copy of the candidate chosen after the round before: its parent."""
    carried: dict[int, int] = {}
    for record in rounds:
        shown = by_round.get(record.round_index) or []
        if shown and shown[0].slot == 0 and shown[0].parent_candidate_id is not None:
            carried.setdefault(shown[0].parent_candidate_id, record.round_index)
    return carried


def _round_words(
    events: Sequence[FeedbackEventRecord], shown: Sequence[CandidateRecord]
) -> tuple[tuple[Judgment, ...], dict[int, list[Phrase]]]:
    """A round's judgments in lines, and what each candidate received (undo markers left
    out: an undone judgment is shown marked instead)."""
    slots = {c.id: c.slot for c in shown}
    judgments = []
    phrases: dict[int, list[Phrase]] = defaultdict(list)
    for event in events:
        if event.mode == "undo":
            continue
        judgment = Judgment(event, judgment_line(event, slots))
        judgments.append(judgment)
        for candidate_id, texts in received(event, slots).items():
            phrases[candidate_id] += [Phrase(text, judgment.undone) for text in texts]
    return tuple(judgments), phrases


def session_view(
    workspace: Workspace, session_id: str | None, *, other_sessions: bool = True
) -> SessionView:
    """Everything a reader shows of a session (None or "latest": the newest one), in a
    handful of queries whatever the number of rounds.

    `other_sessions=False` reads this session's data only (the HTML report, whose bytes
    must not change when other sessions do): no forks listed, and a fork's parent known by
    its id only."""
    session = get_session(workspace, session_id)
    records = get_rounds(workspace, session.id)
    by_round: dict[int, list[CandidateRecord]] = defaultdict(list)
    for candidate in get_candidates(workspace, session.id):
        by_round[candidate.round_index].append(candidate)
    events_by_round: dict[int, list[FeedbackEventRecord]] = defaultdict(list)
    for event in get_feedback_events(workspace, session.id):
        events_by_round[event.round_index].append(event)
    by_id = {c.id: c for shown in by_round.values() for c in shown}
    carried = carried_to(records, by_round)

    def origin(candidate: CandidateRecord) -> Origin | None:
        parent_id = candidate.parent_candidate_id
        if parent_id is None:
            return None
        parent = by_id.get(parent_id)
        if parent is None and other_sessions:
            try:
                parent = get_candidate(workspace, parent_id)
            except NotFound:
                parent = None
        if parent is None:
            return Origin(parent_id)
        return Origin(parent_id, parent.round_index, parent.slot, parent.session_id)

    forks: dict[int, list[str]] = defaultdict(list)
    if other_sessions:
        for other in list_sessions(workspace):
            if other["forked_from_candidate_id"] in by_id:
                forks[other["forked_from_candidate_id"]].append(other["id"])
    final = final_choice(workspace, session, bool(records))
    chosen_id = final.candidate.id if final.candidate is not None else None
    rounds = []
    for record in records:
        shown = by_round.get(record.round_index, [])
        judgments, phrases = _round_words(events_by_round.get(record.round_index, []), shown)
        before = record.round_index - 1
        entries = tuple(
            CandidateView(
                candidate=candidate,
                received=tuple(phrases.get(candidate.id, ())),
                carried_to=carried.get(candidate.id),
                final_choice=candidate.id == chosen_id,
                origin=origin(candidate),
                forks=tuple(forks.get(candidate.id, ())),
                kept=kept_reason(candidate, by_round.get(before, []), events_by_round[before])
                if candidate.slot == 0
                else "",
            )
            for candidate in shown
        )
        rounds.append(RoundView(record, entries, judgments))
    lineage, parent = _lineage(final.candidate, by_id)
    return SessionView(session, tuple(rounds), final, lineage, parent)
