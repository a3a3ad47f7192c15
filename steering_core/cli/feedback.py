"""`steer feedback` and `steer undo`: judging a round by card number (1..k, as the dashboard
numbers its images), with the flags read from one table (`FEEDBACK_FLAGS`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import click

from steering_core.cli.app import cli, hold_lease, print_json, workspace_of
from steering_core.cli.params import (
    ID_RANGE,
    CardNumber,
    CardNumbers,
    CardStars,
    Confidence,
    CritiqueTags,
    Pairwise,
    SessionId,
)
from steering_core.errors import InvalidInput

# Turns card numbers into candidate ids, naming the flag when a number is not in the round.
Ids = Callable[[list[int], str], list[int]]


@dataclass(frozen=True)
class FeedbackFlag:
    """One flag of `steer feedback`: what it is, which mode it selects (or, for a
    companion, which mode it goes with), and how its value enters the raw judgment."""

    name: str
    help: str
    type: click.ParamType | None = None
    mode: str | None = None  # the judgment mode it selects
    goes_with: str | None = None  # a companion: the flag whose mode it needs
    multiple: bool = False
    is_flag: bool = False
    fill: Callable[[dict[str, Any], Any, Ids], None] | None = None

    @property
    def option(self) -> str:
        return "--" + self.name.replace("_", "-")


def _rate(raw: dict[str, Any], ratings: tuple[tuple[int, int], ...], ids: Ids) -> None:
    stars_of: dict[int, int] = {}
    for number, stars in ratings:
        (candidate,) = ids([number], "--rate")
        if candidate in stars_of:
            raise InvalidInput(f"--rate: candidate {number} is rated twice")
        stars_of[candidate] = stars
    raw["ratings"] = stars_of


def _pairwise(raw: dict[str, Any], value: tuple[int, int, str], ids: Ids) -> None:
    first, second, choice = value
    raw["first"], raw["second"] = ids([first, second], "--pairwise")
    raw["choice"] = choice


def _into(key: str, flag: str, single: bool = False) -> Callable[[dict, Any, Ids], None]:
    """A flag whose card numbers become candidate ids under `key` of the raw judgment."""

    def fill(raw: dict[str, Any], value: Any, ids: Ids) -> None:
        found = ids([value] if single else value, flag)
        raw[key] = found[0] if single else found

    return fill


def _as_is(key: str) -> Callable[[dict, Any, Ids], None]:
    """A flag whose value goes into the raw judgment unchanged (text, tags)."""

    def fill(raw: dict[str, Any], value: Any, ids: Ids) -> None:
        raw[key] = value

    return fill


FEEDBACK_FLAGS: tuple[FeedbackFlag, ...] = (
    FeedbackFlag(
        "rate", "NUMBER=STARS, 1-5 (repeatable).", CardStars(), "rating", multiple=True, fill=_rate
    ),
    FeedbackFlag(
        "pairwise", "A>B, A<B or A=B (tie), by number.", Pairwise(), "pairwise", fill=_pairwise
    ),
    FeedbackFlag(
        "rank",
        "Candidate numbers best first, e.g. 3,1,5 (top-k).",
        CardNumbers(),
        "ranking",
        fill=_into("order", "--rank"),
    ),
    FeedbackFlag(
        "winner",
        "Number of the best candidate (as on its card).",
        CardNumber(),
        "winner",
        fill=_into("winner", "--winner", single=True),
    ),
    FeedbackFlag(
        "approve",
        "Numbers approved, e.g. 1,4.",
        CardNumbers(),
        "approve_reject",
        fill=_into("approved", "--approve"),
    ),
    FeedbackFlag(
        "reject",
        "Numbers rejected, e.g. 2,6.",
        CardNumbers(),
        "approve_reject",
        fill=_into("rejected", "--reject"),
    ),
    FeedbackFlag("reject_all", "None of the round is good.", mode="reject_all", is_flag=True),
    FeedbackFlag(
        "reason",
        "Why everything was rejected (with --reject-all).",
        goes_with="reject_all",
        fill=_as_is("reason"),
    ),
    FeedbackFlag(
        "critique",
        "Comma-separated tags: composition, realism, lighting, colour, faithfulness, artifacts.",
        CritiqueTags(),
        mode="critique",
        fill=_as_is("tags"),
    ),
    FeedbackFlag(
        "text", "Free-text critique (with --critique).", goes_with="critique", fill=_as_is("text")
    ),
    FeedbackFlag(
        "candidate",
        "Number of the candidate the critique is about (default: the round).",
        CardNumber(),
        goes_with="critique",
        fill=_into("candidate", "--candidate", single=True),
    ),
    FeedbackFlag("cannot_decide", "No preference this round.", mode="cannot_decide", is_flag=True),
    FeedbackFlag(
        "between",
        "Numbers you cannot choose between (with --cannot-decide), e.g. 2,5.",
        CardNumbers(),
        goes_with="cannot_decide",
        fill=_into("between", "--between"),
    ),
)
# Companions name the flag they go with; the table gives its mode.
_MODE_OF_FLAG = {flag.name: flag.mode for flag in FEEDBACK_FLAGS if flag.mode}
# Raw fields every mode starts with (the ones its flags do not fill).
_DEFAULTS: dict[str, dict[str, Any]] = {
    "approve_reject": {"approved": [], "rejected": []},
    "reject_all": {"reason": ""},
    "critique": {"tags": [], "text": ""},
}


def _given(value: Any) -> bool:
    # Compare with None/()/False by identity, not equality (0 == False).
    return not (value is None or value is False or value == ())


def _modes_named() -> str:
    """`--rate, --pairwise, ... or --cannot-decide`, one entry per mode, from the table."""
    names: dict[str, list[str]] = {}
    for flag in FEEDBACK_FLAGS:
        if flag.mode:
            names.setdefault(flag.mode, []).append(flag.option)
    entries = ["/".join(options) for options in names.values()]
    return ", ".join(entries[:-1]) + " or " + entries[-1]


def feedback_from_flags(options: dict[str, Any], number_to_id: dict[int, int]) -> dict[str, Any]:
    """The one feedback mode the flags express, with card numbers turned into candidate ids."""

    def ids(numbers: list[int], flag: str) -> list[int]:
        for index, number in enumerate(numbers):
            if number not in number_to_id:
                raise InvalidInput(
                    f"{flag}: candidate {number} is not in this round "
                    f"(candidates 1-{len(number_to_id)})"
                )
            if number in numbers[:index]:
                raise InvalidInput(f"{flag}: candidate {number} is named twice")
        return [number_to_id[number] for number in numbers]

    selecting = [f for f in FEEDBACK_FLAGS if f.mode and _given(options.get(f.name))]
    modes = list(dict.fromkeys(f.mode for f in selecting))
    if len(modes) != 1:
        first_flags = [next(f for f in selecting if f.mode == mode).option for mode in modes]
        raise InvalidInput(
            f"give exactly one feedback mode: {_modes_named()}"
            + (f" (got {', '.join(first_flags)})" if first_flags else "")
        )
    (mode,) = modes
    for flag in FEEDBACK_FLAGS:
        needs = _MODE_OF_FLAG.get(flag.goes_with or "")
        if needs and needs != mode and options.get(flag.name) is not None:
            raise InvalidInput(f"{flag.option} goes with --{flag.goes_with.replace('_', '-')}")
    raw: dict[str, Any] = {"mode": mode, **_DEFAULTS.get(mode, {})}
    for flag in FEEDBACK_FLAGS:
        if flag.fill is not None and _given(options.get(flag.name)):
            flag.fill(raw, options[flag.name], ids)
    if options.get("confidence") is not None:
        raw["confidence"] = options["confidence"]
    return raw


def feedback_options(function: Any) -> Any:
    """The judgment flags of `steer feedback`, from `FEEDBACK_FLAGS`."""
    for flag in reversed(FEEDBACK_FLAGS):
        if flag.is_flag:
            decorator = click.option(flag.option, flag.name, is_flag=True, help=flag.help)
        else:
            decorator = click.option(
                flag.option, flag.name, type=flag.type, multiple=flag.multiple, help=flag.help
            )
        function = decorator(function)
    return function


@cli.command("feedback")
@click.argument("session_id", type=SessionId(), required=False)
@click.option("--round", "round_index", type=ID_RANGE, help="Round judged (default: the latest).")
@feedback_options
@click.option("--confidence", type=Confidence(), help="How sure you are, 0-1 (default 1).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def feedback_command(
    ctx: click.Context,
    session_id: str | None,
    round_index: int | None,
    as_json: bool,
    **options: Any,
) -> None:
    """Judge a round: exactly one mode per call; candidates are named by card number (1..k)."""
    from steering_core.sessions import get_round, get_session, submit_feedback

    workspace = workspace_of(ctx)
    record = get_session(workspace, session_id)
    hold_lease(ctx, record.id)
    round_record, candidates = get_round(workspace, record.id, round_index)
    raw = feedback_from_flags(options, {c.slot + 1: c.id for c in candidates})
    event = submit_feedback(
        workspace, record.id, raw, round_index=round_record.round_index, source="cli"
    )
    if as_json:
        print_json(
            {
                "event_id": event.id,
                "mode": event.mode,
                "round_index": event.round_index,
                "comparisons": event.comparisons,
                "raw": event.raw,
            }
        )
    else:
        click.echo(
            f"stored judgment #{event.id} ({event.mode}) on round {event.round_index} of "
            f"session {record.id}: {len(event.comparisons)} comparisons"
        )


@cli.command("undo")
# Always named ("latest" is a word one writes): an unset shell variable must not withdraw a
# judgment from whichever session happens to be the latest.
@click.argument("session_id", type=SessionId())
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def undo_command(ctx: click.Context, session_id: str | None, as_json: bool) -> None:
    """Withdraw the last judgment of SESSION_ID (a session id, or the word `latest`)."""
    from steering_core.sessions import get_session, withdraw_last_judgment

    workspace = workspace_of(ctx)
    record = get_session(workspace, session_id)
    hold_lease(ctx, record.id)
    withdrawal = withdraw_last_judgment(workspace, record.id, source="cli")
    event = withdrawal.event
    if as_json:
        print_json(
            {
                "event_id": event.id,
                "undoes_event_id": event.undoes_event_id,
                "round_index": withdrawal.withdrawn.round_index,
                "mode": withdrawal.withdrawn.mode,
                "judgment": withdrawal.words,
                "discarded_rounds": withdrawal.discarded_rounds,
            }
        )
    else:
        click.echo(f"session {record.id}: {withdrawal.describe()}")
