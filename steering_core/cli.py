"""The `steer` command line: a thin layer that builds core objects, calls them, formats output.

Core errors become one-line messages with a non-zero exit code (2 for invalid input, 1 for
runtime failures, 130 for a cancelled job); `--json` prints machine-readable output.
"""

from __future__ import annotations

import json
import platform
import sqlite3
import sys
from pathlib import Path
from typing import Any

import click
from filelock import Timeout

from steering_core import __version__
from steering_core.errors import InvalidInput, JobCancelled, NotFound, SteeringError

EXIT_INVALID = 2
EXIT_RUNTIME = 1
EXIT_CANCELLED = 130
# Integers SQLite can hold; larger ones would fail deep inside with an OverflowError.
ID_RANGE = click.IntRange(0, 2**62)


class SteerGroup(click.Group):
    """Turns core errors into one-line messages instead of tracebacks."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (InvalidInput, NotFound) as error:
            click.echo(f"error: {error}", err=True)
            ctx.exit(EXIT_INVALID)
        except SteeringError as error:
            click.echo(f"error ({error.kind}): {error}", err=True)
            ctx.exit(EXIT_CANCELLED if error.kind == "cancelled" else EXIT_RUNTIME)
        except (Timeout, sqlite3.OperationalError) as error:
            # Another process held the data root's lock for too long: transient, retry.
            click.echo(f"error (transient): the data root is busy ({error}); try again", err=True)
            ctx.exit(EXIT_RUNTIME)


def _workspace(ctx: click.Context):  # noqa: ANN202
    from steering_core.storage import Workspace

    options = ctx.find_root().obj
    if "workspace" not in options:
        options["workspace"] = Workspace.open(options["data_root"], options["labels_dir"])
    return options["workspace"]


def _hold_lease(ctx: click.Context, session_id: str) -> None:
    """Hold a lease on the session until the command ends, so `steer gc` leaves it alone."""
    from steering_core.storage.leases import hold_lease

    ctx.with_resource(hold_lease(_workspace(ctx), session_id))


def _print_json(payload: Any) -> None:
    click.echo(json.dumps(payload, indent=2, default=str))


@click.group(cls=SteerGroup)
@click.option(
    "--data-root",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder of the database and images (default: $STEER_DATA_ROOT or ./data).",
)
@click.option(
    "--labels-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder of the label CSVs (default: $STEER_LABELS_DIR, ./labels, or DATA_ROOT/labels).",
)
@click.version_option(__version__, prog_name="steer")
@click.pass_context
def cli(ctx: click.Context, data_root: Path | None, labels_dir: Path | None) -> None:
    """Steer a diffusion model toward what you want by judging rounds of candidates."""
    ctx.obj = {"data_root": data_root, "labels_dir": labels_dir}
    if ctx.invoked_subcommand not in (None, "sessions", "undo", "feedback", "show"):
        from steering_core.quiet import quiet_model_libraries

        quiet_model_libraries()


# --- sessions --------------------------------------------------------------------------
@cli.group()
def session() -> None:
    """Create steering sessions."""


def _overrides(options: dict[str, Any]) -> dict[str, Any]:
    """CLI flags as a nested config mapping (only the flags that were given)."""
    overrides: dict[str, Any] = {}
    simple = {
        "prompt": "prompt",
        "negative_prompt": "negative_prompt",
        "k": "k",
        "d": "d",
        "preset": "preset",
        "steps": "steps",
        "guidance": "guidance_scale",
        "width": "width",
        "height": "height",
        "trust_radius": "trust_radius",
        "feedback_mode": "feedback_mode",
        "seed_policy": "seed_policy",
        "seed": "seed",
    }
    for flag, field in simple.items():
        if options.get(flag) is not None:
            overrides[field] = options[flag]
    generator = {
        field: options[flag]
        for flag, field in (
            ("backend", "backend"),
            ("model", "model"),
            ("device", "device"),
            ("dtype", "dtype"),
        )
        if options.get(flag) is not None
    }
    if generator:
        overrides["generator"] = generator
    if options.get("basis") is not None or options.get("pair"):
        basis: dict[str, Any] = {}
        if options.get("basis") is not None:
            basis["kind"] = options["basis"]
        if options.get("pair"):
            pairs = []
            for text in options["pair"]:
                first, sep, second = text.partition(":")
                if not sep or not first or not second:
                    raise InvalidInput(f"--pair: expected WORD:WORD (got {text!r})")
                pairs.append([first, second])
            basis["pairs"] = pairs
        overrides["basis"] = basis
    if options.get("sampler") is not None:
        overrides["sampler"] = {"name": options["sampler"]}
    if options.get("preference_model") is not None:
        overrides["preference_model"] = {"name": options["preference_model"]}
    return overrides


def _config_options(function: Any) -> Any:
    options = [
        click.option("--prompt", help="What the image should show."),
        click.option("--negative-prompt", help="What it should not show."),
        click.option("--backend", help="Generator backend (default: diffusers)."),
        click.option("--model", help="Local diffusers pipeline folder or cached model id."),
        click.option("--device", help="auto, cpu, cuda, cuda:N or mps."),
        click.option("--dtype", help="auto, float32, float16 or bfloat16."),
        click.option("--k", type=int, help="Candidates per round (2-32, default 8)."),
        click.option("--d", type=int, help="Steering dimension (1-64)."),
        click.option("--preset", help="fast-explore (d=4), balanced (d=8), high-capacity (d=16)."),
        click.option("--steps", type=int, help="Denoising steps (1-200)."),
        click.option("--guidance", type=float, help="Guidance scale (0-30)."),
        click.option("--width", type=int, help="Image width in pixels (multiple of 8)."),
        click.option("--height", type=int, help="Image height in pixels (multiple of 8)."),
        click.option("--basis", help="random_orthogonal, pca or attribute."),
        click.option("--pair", multiple=True, help="Attribute word pair FROM:TO (repeatable)."),
        click.option("--trust-radius", type=float, help="Sampler radius, relative (0-2]."),
        click.option("--sampler", help="Registered sampler name."),
        click.option("--preference-model", help="Registered preference model name."),
        click.option("--feedback-mode", help="Default feedback mode of the session."),
        click.option("--seed-policy", help="fixed, per_round or per_candidate."),
        click.option("--seed", type=int, help="Random seed of the session."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


@session.command("new")
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="YAML config; flags override it.",
)
@_config_options
@click.option("--json", "as_json", is_flag=True, help="Print the session as JSON.")
@click.pass_context
def session_new(
    ctx: click.Context, config_file: Path | None, as_json: bool, **options: Any
) -> None:
    """Start a steering session."""
    from steering_core.config import load_config_file, make_config
    from steering_core.sessions import create_session

    overrides = _overrides(options)
    if config_file is not None:
        config = load_config_file(config_file, overrides)
    else:
        if "prompt" not in overrides:
            raise InvalidInput("prompt: required (give --prompt or --config)")
        config = make_config(overrides)
    record = create_session(_workspace(ctx), config, source="cli")
    if as_json:
        _print_json({"session_id": record.id, "config": record.config})
    else:
        click.echo(f"session {record.id}: {config.prompt!r} (k={config.k}, d={config.d})")
        click.echo("next: steer round")


@cli.command("sessions")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def sessions_command(ctx: click.Context, as_json: bool) -> None:
    """List the sessions of the data root, newest first."""
    from steering_core.sessions import list_sessions

    sessions = list_sessions(_workspace(ctx))
    if as_json:
        _print_json(sessions)
        return
    if not sessions:
        click.echo("no sessions yet")
    for item in sessions:
        fork = (
            f" fork of #{item['forked_from_candidate_id']}"
            if item["forked_from_candidate_id"]
            else ""
        )
        click.echo(
            f"{item['id']}  {item['created_at'][:19]}  rounds={item['rounds']:<3} "
            f"judgments={item['judgments']:<4} {item['prompt'][:60]!r}{fork}"
        )


@cli.command("status")
@click.argument("session_id", required=False)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def status_command(ctx: click.Context, session_id: str | None, as_json: bool) -> None:
    """Round, incumbent and judgment counts of a session (default: the latest)."""
    from steering_core.status import session_status

    status = session_status(_workspace(ctx), session_id)
    if as_json:
        _print_json(status)
        return
    click.echo(f"session {status['session_id']}: {status['prompt']!r}")
    click.echo(
        f"rounds: {status['rounds']}  judgments: {status['judgments']} "
        f"{status['judgments_by_mode']}  undone: {status['undone']}  "
        f"comparisons: {status['comparisons']}  candidates shown: {status['candidates_shown']}"
    )
    incumbent = status["incumbent"]
    if incumbent:
        utility = incumbent["predicted_utility"]
        click.echo(
            f"incumbent: candidate #{incumbent['candidate_id']} from round "
            f"{incumbent['round_index']}, "
            f"distance from prompt {incumbent['distance_from_prompt']:.3f}"
            + (f", predicted utility {utility:.3f}" if utility is not None else "")
        )
        click.echo(f"  image: {incumbent['image_path']}")
    click.echo(f"labels: {status['labels_csv']}")


# --- rounds ----------------------------------------------------------------------------
def _candidates_table(workspace: Any, session_id: str, round_index: int | None) -> list[dict]:
    from steering_core.sessions import get_round

    record, candidates = get_round(workspace, session_id, round_index)
    rows = []
    for candidate in candidates:
        rows.append(
            {
                "slot": candidate.slot,
                "candidate_id": candidate.id,
                "round_index": record.round_index,
                "role": candidate.role,
                "seed": candidate.seed,
                "distance_from_prompt": float(sum(v * v for v in candidate.steering_vector) ** 0.5),
                "parent_candidate_id": candidate.parent_candidate_id,
                "image": str(workspace.data_root / candidate.image_path)
                if candidate.image_path
                else None,
                "why": candidate.sampler_metadata.get("why", ""),
            }
        )
    return rows


def _echo_candidates(rows: list[dict]) -> None:
    # Slots count from 0 as stored; the dashboard numbers the same images from 1.
    click.echo(f"round {rows[0]['round_index']} ([slot], 0..k-1; dashboard image = slot + 1):")
    for row in rows:
        click.echo(
            f"  [{row['slot']}] #{row['candidate_id']:<5} {row['role']:<10} "
            f"|w|={row['distance_from_prompt']:.3f} seed={row['seed']}  {row['image']}"
        )


def _round_request(
    workspace: Any, session_id: str, around: str | None, k: str | None, funnel: bool
) -> tuple[list[int] | None, int | None, Any]:
    """The `around` candidate ids and `k` the flags ask for, and the funnel step if any."""
    from steering_core.funnel import next_funnel_round
    from steering_core.sessions import get_round, get_rounds

    if funnel:
        if around is not None or k is not None:
            raise InvalidInput("--funnel: the funnel chooses --around and --k; give neither")
        try:
            step = next_funnel_round(workspace, session_id)
        except InvalidInput as error:
            raise InvalidInput(f"--funnel: {error}") from None
        return step.around, step.k, step
    size = None
    if k is not None:
        if not k.strip().lstrip("-").isdigit():
            raise InvalidInput(f"--k: expected a whole number of candidates (got {k!r})")
        size = int(k)  # its range (2-32) is the core's to check, in the config's words
    if around is None:
        return None, size, None
    slots = _slots(around, "--around")
    if not slots:
        raise InvalidInput("--around: name at least one slot, e.g. --around 1,4")
    if not get_rounds(workspace, session_id):
        raise InvalidInput(f"--around: session {session_id} has no rounds yet")
    record, candidates = get_round(workspace, session_id)
    slot_to_id = {c.slot: c.id for c in candidates}
    for index, slot in enumerate(slots):
        if slot not in slot_to_id:
            raise InvalidInput(
                f"--around: slot {slot} is not in round {record.round_index} "
                f"(slots 0-{len(slot_to_id) - 1})"
            )
        if slot in slots[:index]:
            raise InvalidInput(f"--around: slot {slot} is named twice")
    return [slot_to_id[slot] for slot in slots], size, None


@cli.command("round")
@click.argument("session_id", required=False)
@click.option(
    "--around",
    help="Slots of the latest round to keep and vary, e.g. 1,4 ('more like this').",
)
@click.option("--k", help="Candidates in this round only (2-32; default: the session's).")
@click.option(
    "--funnel",
    is_flag=True,
    help="The draft funnel's next stage from the latest round's judgment "
    "(start one with --k 20, then keep 8, 3, 1 with --approve).",
)
@click.option("--json", "as_json", is_flag=True)
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.pass_context
def round_command(
    ctx: click.Context,
    session_id: str | None,
    around: str | None,
    k: str | None,
    funnel: bool,
    as_json: bool,
    quiet: bool,
) -> None:
    """Generate the next round of candidates (default session: the latest)."""
    from tqdm import tqdm

    from steering_core.sessions import get_session
    from steering_core.worker import Worker

    workspace = _workspace(ctx)
    session_record = get_session(workspace, session_id)
    _hold_lease(ctx, session_record.id)
    around_ids, size, step = _round_request(workspace, session_record.id, around, k, funnel)
    worker = Worker(workspace)
    # Checked before the worker starts: a bad request changes nothing.
    job_id = worker.submit_round(session_record.id, around=around_ids, k=size)
    worker.start()
    # disable=None: no bar when stderr is not a terminal (pipes, logs, tests).
    bar = None if quiet or as_json else tqdm(total=1, file=sys.stderr, leave=False, disable=None)
    shown: tuple = ()
    try:
        while True:
            snapshot = worker.wait(job_id, timeout=0.1)
            progress = snapshot.progress
            state = (snapshot.phase, progress.get("step"), progress.get("images_done"))
            if bar is not None and state != shown:
                shown = state
                if progress:
                    bar.total = progress["steps"]
                    bar.n = progress["step"]
                bar.set_description(snapshot.phase)
                bar.refresh()
            if snapshot.finished:
                break
    except KeyboardInterrupt:
        worker.cancel(job_id)
        snapshot = worker.wait(job_id)
    finally:
        if bar is not None:
            bar.close()
        worker.stop()
    if snapshot.status == "cancelled":
        raise JobCancelled(snapshot.error or "cancelled")
    if snapshot.status == "failed":
        error = InvalidInput if snapshot.error_kind == "invalid input" else SteeringError
        raise error(snapshot.error)
    rows = _candidates_table(workspace, session_record.id, snapshot.result["round_index"])
    if as_json:
        payload = {
            "session_id": session_record.id,
            "job_id": job_id,
            "candidates": rows,
            "timings": snapshot.result.get("timings", {}),
        }
        if step is not None:
            payload["funnel"] = {"kept": step.kept, "finished": step.finished}
        _print_json(payload)
        return
    if step is not None and step.finished:
        click.echo(f"funnel finished: kept #{step.kept[0]}, the incumbent now; normal rounds go on")
    elif step is not None and step.kept:
        click.echo(f"funnel: kept {', '.join(f'#{c}' for c in step.kept)}")
    _echo_candidates(rows)


@cli.command("show")
@click.argument("session_id", required=False)
@click.option("--round", "round_index", type=ID_RANGE, help="Round index (default: the latest).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def show_command(
    ctx: click.Context, session_id: str | None, round_index: int | None, as_json: bool
) -> None:
    """List the candidates of a round."""
    from steering_core.sessions import get_session

    workspace = _workspace(ctx)
    record = get_session(workspace, session_id)
    rows = _candidates_table(workspace, record.id, round_index)
    if as_json:
        _print_json(rows)
    else:
        _echo_candidates(rows)


# --- feedback --------------------------------------------------------------------------
def _slots(text: str, flag: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",") if part.strip() != ""]
    except ValueError:
        raise InvalidInput(
            f"{flag}: expected comma-separated slot numbers (got {text!r})"
        ) from None


def _feedback_from_flags(options: dict[str, Any], slot_to_id: dict[int, int]) -> dict[str, Any]:
    """The one feedback mode the flags express, with slots turned into candidate ids."""

    def ids(slots: list[int], flag: str) -> list[int]:
        for slot in slots:
            if slot not in slot_to_id:
                raise InvalidInput(
                    f"{flag}: slot {slot} is not in this round (slots 0-{len(slot_to_id) - 1})"
                )
        return [slot_to_id[slot] for slot in slots]

    given = [
        name
        for name in (
            "rate",
            "pairwise",
            "rank",
            "winner",
            "approve",
            "reject",
            "reject_all",
            "critique",
            "cannot_decide",
        )
        # Slot 0 is a valid --winner: compare with None/()/False by identity, not equality.
        if not (options.get(name) is None or options.get(name) is False or options.get(name) == ())
    ]
    if "approve" in given and "reject" in given:
        given.remove("reject")
    if len(given) != 1:
        raise InvalidInput(
            "give exactly one feedback mode: --rate, --pairwise, --rank, --winner, "
            "--approve/--reject, --reject-all, --critique or --cannot-decide"
            + (f" (got {', '.join('--' + g.replace('_', '-') for g in given)})" if given else "")
        )
    mode = given[0]
    companions = {
        "reason": "reject_all",
        "text": "critique",
        "candidate": "critique",
        "between": "cannot_decide",
    }
    for flag, needs in companions.items():
        if options.get(flag) is not None and mode != needs:
            raise InvalidInput(f"--{flag} goes with --{needs.replace('_', '-')}")
    raw: dict[str, Any]
    if mode == "rate":
        ratings: dict[int, int] = {}
        for text in options["rate"]:
            slot_text, sep, stars_text = text.partition("=")
            if not (sep and slot_text.strip().isdigit() and stars_text.strip().isdigit()):
                raise InvalidInput(f"--rate: expected SLOT=STARS (got {text!r})")
            slot, stars = int(slot_text), int(stars_text)
            (candidate,) = ids([slot], "--rate")
            if candidate in ratings:
                raise InvalidInput(f"--rate: slot {slot} is rated twice")
            if not 1 <= stars <= 5:
                raise InvalidInput(f"--rate: stars must be 1-5 (got {stars} for slot {slot})")
            ratings[candidate] = stars
        raw = {"mode": "rating", "ratings": ratings}
    elif mode == "pairwise":
        text = options["pairwise"].replace(" ", "")
        symbol = next((s for s in "><=" if s in text), None)
        if symbol is None:
            raise InvalidInput(f"--pairwise: expected A>B, A<B or A=B (got {text!r})")
        choice = {">": "first", "<": "second", "=": "tie"}[symbol]
        first, _, second = text.partition(symbol)
        pair = ids(_slots(f"{first},{second}", "--pairwise"), "--pairwise")
        if len(pair) != 2:
            raise InvalidInput(f"--pairwise: expected A>B, A<B or A=B (got {text!r})")
        raw = {"mode": "pairwise", "first": pair[0], "second": pair[1], "choice": choice}
    elif mode == "rank":
        raw = {"mode": "ranking", "order": ids(_slots(options["rank"], "--rank"), "--rank")}
    elif mode == "winner":
        raw = {"mode": "winner", "winner": ids([options["winner"]], "--winner")[0]}
    elif mode in ("approve", "reject"):
        raw = {
            "mode": "approve_reject",
            "approved": ids(_slots(options.get("approve") or "", "--approve"), "--approve"),
            "rejected": ids(_slots(options.get("reject") or "", "--reject"), "--reject"),
        }
    elif mode == "reject_all":
        raw = {"mode": "reject_all", "reason": options.get("reason") or ""}
    elif mode == "critique":
        tags = [t.strip() for t in options["critique"].split(",") if t.strip()]
        raw = {"mode": "critique", "tags": tags, "text": options.get("text") or ""}
        if options.get("candidate") is not None:
            raw["candidate"] = ids([options["candidate"]], "--candidate")[0]
    else:
        raw = {"mode": "cannot_decide"}
        if options.get("between") is not None:
            raw["between"] = ids(_slots(options["between"], "--between"), "--between")
    if options.get("confidence") is not None:
        raw["confidence"] = options["confidence"]
    return raw


@cli.command("feedback")
@click.argument("session_id", required=False)
@click.option("--round", "round_index", type=ID_RANGE, help="Round judged (default: the latest).")
@click.option("--rate", multiple=True, help="SLOT=STARS, 1-5 (repeatable).")
@click.option("--pairwise", help="A>B, A<B or A=B (tie), by slot.")
@click.option("--rank", help="Slots best first, e.g. 3,0,5 (top-k).")
@click.option("--winner", type=ID_RANGE, help="Slot of the best candidate.")
@click.option("--approve", help="Slots approved, e.g. 1,4.")
@click.option("--reject", help="Slots rejected, e.g. 2,6.")
@click.option("--reject-all", is_flag=True, help="None of the round is good.")
@click.option("--reason", help="Why everything was rejected (with --reject-all).")
@click.option(
    "--critique",
    help="Comma-separated tags: composition, realism, lighting, colour, faithfulness, artifacts.",
)
@click.option("--text", help="Free-text critique (with --critique).")
@click.option("--candidate", type=ID_RANGE, help="Slot the critique is about (default: the round).")
@click.option("--cannot-decide", is_flag=True, help="No preference this round.")
@click.option("--between", help="Slots you cannot choose between (with --cannot-decide), e.g. 2,5.")
@click.option("--confidence", type=float, help="How sure you are, 0-1 (default 1).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def feedback_command(
    ctx: click.Context,
    session_id: str | None,
    round_index: int | None,
    as_json: bool,
    **options: Any,
) -> None:
    """Judge a round: exactly one mode per call; candidates are named by slot."""
    from steering_core.sessions import get_round, get_session, submit_feedback

    workspace = _workspace(ctx)
    record = get_session(workspace, session_id)
    _hold_lease(ctx, record.id)
    round_record, candidates = get_round(workspace, record.id, round_index)
    slot_to_id = {c.slot: c.id for c in candidates}
    raw = _feedback_from_flags(options, slot_to_id)
    event = submit_feedback(
        workspace, record.id, raw, round_index=round_record.round_index, source="cli"
    )
    if as_json:
        _print_json(
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
@click.argument("session_id", required=False)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def undo_command(ctx: click.Context, session_id: str | None, as_json: bool) -> None:
    """Withdraw the session's last judgment."""
    from steering_core.sessions import get_session, undo_last_feedback

    workspace = _workspace(ctx)
    record = get_session(workspace, session_id)
    _hold_lease(ctx, record.id)
    event = undo_last_feedback(workspace, record.id, source="cli")
    if as_json:
        _print_json({"event_id": event.id, "undoes_event_id": event.undoes_event_id})
    else:
        click.echo(f"undid judgment #{event.undoes_event_id}")


@cli.command("fork")
@click.argument("candidate_id", type=ID_RANGE)
@click.option("--prompt", help="A new prompt for the fork (default: the parent's).")
@click.option("--negative-prompt")
@click.option("--k", type=int)
@click.option("--trust-radius", type=float)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def fork_command(ctx: click.Context, candidate_id: int, as_json: bool, **options: Any) -> None:
    """Start a new session from any past candidate (by its #id); lineage is kept."""
    from steering_core.sessions import fork_session

    record = fork_session(_workspace(ctx), candidate_id, _overrides(options), source="cli")
    if as_json:
        _print_json({"session_id": record.id, "forked_from_candidate_id": candidate_id})
    else:
        click.echo(f"session {record.id}: fork of candidate #{candidate_id}")
        click.echo(f"next: steer round {record.id}")


# --- report ----------------------------------------------------------------------------
@cli.command("report")
@click.argument("session_id", required=False)
@click.option(
    "--out",
    "folder",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write report.html and its images into (created; must be empty).",
)
@click.option("--force", is_flag=True, help="Write into --out even when it is not empty.")
@click.pass_context
def report_command(ctx: click.Context, session_id: str | None, folder: Path, force: bool) -> None:
    """Write a session's self-contained HTML report (opens offline, from any folder)."""
    from steering_core.exports.report import write_report

    if folder.is_dir() and any(folder.iterdir()) and not force:
        raise InvalidInput(
            f"--out: {folder} exists and is not empty; name an empty or new folder, "
            "or pass --force to write into it"
        )
    path = write_report(_workspace(ctx), session_id, folder)
    click.echo(f"wrote {path}")


# --- maintenance -----------------------------------------------------------------------
@cli.group()
def labels() -> None:
    """Label CSV maintenance."""


@labels.command("rebuild")
@click.argument("session_id")
@click.pass_context
def labels_rebuild(ctx: click.Context, session_id: str) -> None:
    """Rewrite a session's label CSV from the database (old file kept as .bak)."""
    from steering_core.sessions import rebuild_labels

    result = rebuild_labels(_workspace(ctx), session_id)
    click.echo(f"wrote {result['rows']} rows to {result['path']}")


@cli.command("verify")
@click.argument("session_id", required=False)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def verify_command(ctx: click.Context, session_id: str | None, as_json: bool) -> None:
    """Check the database, every image and every label CSV; exit 1 on any problem."""
    from steering_core.verify import verify_workspace

    report = verify_workspace(_workspace(ctx), session_id)
    if as_json:
        _print_json(report)
    else:
        click.echo(f"database: {report['database']}")
        click.echo(
            f"images checked: {report['images_checked']}  label rows: {report['label_rows']}"
        )
        if report["images_removed"]:
            click.echo(
                f"images removed (steer gc --images; regenerable from seed and vector): "
                f"{report['images_removed']}"
            )
        for problem in report["problems"]:
            click.echo(f"problem: {problem}")
        click.echo("ok" if not report["problems"] else f"{len(report['problems'])} problem(s)")
    if report["problems"]:
        ctx.exit(EXIT_RUNTIME)


# --- bundles and retention ---------------------------------------------------------------
@cli.command("export")
@click.argument("session_id")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The zip to write (default: SESSION.zip in the current folder).",
)
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def export_command(
    ctx: click.Context, session_id: str, out: Path | None, force: bool, as_json: bool
) -> None:
    """Write a session as one portable zip: report, replay JSON, trace, labels, config,
    images and a manifest of SHA-256 checksums."""
    from steering_core.exports.bundle import export_bundle
    from steering_core.sessions import get_session

    workspace = _workspace(ctx)
    record = get_session(workspace, session_id)
    out = out or Path(f"{record.id}.zip")
    if out.exists() and not force:
        raise InvalidInput(f"--out: {out} exists; give --force to overwrite it")
    path = export_bundle(workspace, record.id, out)
    if as_json:
        _print_json({"session_id": record.id, "bundle": str(path)})
    else:
        click.echo(f"exported session {record.id} to {path}")


@cli.command("import")
@click.argument("bundle", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def import_command(ctx: click.Context, bundle: Path, as_json: bool) -> None:
    """Verify a bundle (checksums, paths, sizes) and restore its session into this data
    root, under a new id if its id is taken."""
    import json as json_module
    import zipfile

    from steering_core.exports.bundle import import_bundle

    session_id = import_bundle(_workspace(ctx), bundle)
    with zipfile.ZipFile(bundle) as archive:
        original = json_module.loads(archive.read("manifest.json"))["session_id"]
    if as_json:
        _print_json({"session_id": session_id, "bundle_session_id": original})
    elif session_id == original:
        click.echo(f"imported session {session_id}")
    else:
        click.echo(f"imported session {original} under a new id: {session_id}")


@cli.command("gc")
@click.option(
    "--dry-run/--delete",
    default=True,
    help="List what would be deleted (the default), or delete it.",
)
@click.option(
    "--images",
    is_flag=True,
    help="Also delete candidate images of sessions no process has open (regenerable).",
)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def gc_command(ctx: click.Context, dry_run: bool, images: bool, as_json: bool) -> None:
    """Classify the data root's files (essential, reproducible, disposable) and free the
    space of what may go; never touches a session that a process has open."""
    from steering_core.exports.retention import folder_bytes, plan_gc, run_gc

    workspace = _workspace(ctx)
    plan = plan_gc(workspace, images=images)
    result = None
    if not dry_run:
        before = folder_bytes(workspace.data_root)
        result = run_gc(workspace, plan)
        measured = before - folder_bytes(workspace.data_root)
    if as_json:
        payload: dict[str, Any] = {
            "dry_run": dry_run,
            "images": images,
            "open_sessions": sorted(plan.live_sessions),
            "summary": plan.summary(),
            "to_delete": [
                {"path": a.path, "class": a.kind, "session": a.session_id, "bytes": a.bytes}
                for a in plan.to_delete
            ],
            "bytes_to_free": plan.bytes_to_free,
        }
        if result is not None:
            payload.update(
                bytes_freed=result.bytes_freed,
                bytes_freed_measured=measured,
                deleted=len(result.deleted),
                skipped=list(result.skipped),
            )
        _print_json(payload)
        return
    click.echo(f"{'class':<13} {'session':<12} {'files':>6} {'bytes':>12}  action")
    for row in plan.summary():
        click.echo(
            f"{row['class']:<13} {row['session']:<12} {row['files']:>6} {row['bytes']:>12}  "
            f"{row['action']}"
        )
    for artifact in plan.to_delete:
        click.echo(f"  {'delete' if result else 'would delete'} {artifact.path} ({artifact.bytes})")
    files = len(plan.to_delete)
    if result is None:
        click.echo(
            f"would free {plan.bytes_to_free} bytes in {files} files "
            "(dry run: nothing deleted; --delete to delete)"
        )
    else:
        click.echo(
            f"freed {result.bytes_freed} bytes in {len(result.deleted)} files "
            f"(data root {measured} bytes smaller)"
        )
        for path in result.skipped:
            click.echo(f"  kept {path}: its session was opened or it changed meanwhile")


@cli.command("diagnostics")
@click.option("--backend", default="diffusers")
@click.option("--model", help="Load this model and report cold-start time and device.")
@click.option("--device", default="auto")
@click.option("--dtype", default="auto")
@click.option("--json", "as_json", is_flag=True)
def diagnostics_command(
    backend: str, model: str | None, device: str, dtype: str, as_json: bool
) -> None:
    """Versions, devices, and (with --model) the generator's device and load time."""
    import torch

    from steering_core.config import GeneratorConfig
    from steering_core.generators.base import make_generator

    report: dict[str, Any] = {
        "steer": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "cuda_available": torch.cuda.is_available(),
        "mps_available": bool(getattr(torch.backends, "mps", None))
        and torch.backends.mps.is_available(),
    }
    for package in ("diffusers", "transformers", "dash", "numpy"):
        try:
            report[package] = __import__(package).__version__
        except ImportError:
            report[package] = None
    if torch.cuda.is_available():
        properties = torch.cuda.get_device_properties(0)
        report["gpu"] = {"name": properties.name, "memory_gib": properties.total_memory / 2**30}
    if model is not None:
        from pydantic import ValidationError

        try:
            config = GeneratorConfig(backend=backend, model=model, device=device, dtype=dtype)
        except ValidationError as error:
            first = error.errors(include_url=False)[0]
            raise InvalidInput(f"generator.{first['loc'][0]}: {first['msg']}") from None
        generator = make_generator(config)
        generator.load()  # checks the config first
        report["generator"] = generator.describe()
    if as_json:
        _print_json(report)
    else:
        for key, value in report.items():
            click.echo(f"{key}: {value}")


@cli.group()
def builtin() -> None:
    """The built-in shapes model."""


@builtin.command("train")
@click.option("--steps", type=click.IntRange(1, 10_000_000), default=5000, show_default=True)
@click.option("--batch-size", type=click.IntRange(1, 4096), default=64, show_default=True)
@click.option("--seed", type=click.IntRange(0, 2**32 - 1), default=0, show_default=True)
@click.option(
    "--run-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("checkpoints/runs/builtin"),
    show_default=True,
    help="Checkpoint, loss log and caches; an existing run is resumed.",
)
@click.option(
    "--export-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where the trained pipeline goes (default: RUN_DIR/pipeline; the shipped model "
    "lives in checkpoints/builtin).",
)
def builtin_train(
    steps: int, batch_size: int, seed: int, run_dir: Path, export_dir: Path | None
) -> None:
    """Train (or resume training) the built-in model on the procedural world."""
    from steering_core.builtin.train import TrainConfig, train

    folder = train(TrainConfig(steps=steps, batch_size=batch_size, seed=seed), run_dir, export_dir)
    click.echo(f"exported the pipeline to {folder}")


@builtin.command("export")
@click.option(
    "--run-dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=Path("checkpoints/runs/builtin"),
    show_default=True,
)
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
def builtin_export(run_dir: Path, folder: Path) -> None:
    """Export a run's latest checkpoint (EMA weights) as a pipeline folder."""
    from steering_core.builtin.train import export_checkpoint

    click.echo(f"exported the pipeline to {export_checkpoint(run_dir, folder)}")


@cli.command("evaluate")
@click.argument("session_ids", nargs=-1)
@click.option("--models", help="Comma-separated model names (default: every registered one).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def evaluate_command(
    ctx: click.Context, session_ids: tuple[str, ...], models: str | None, as_json: bool
) -> None:
    """Offline evaluation: each model, fitted on the rounds before each round, predicts that
    round's comparisons (default session: the latest)."""
    from steering_core.evaluation import evaluate_models

    workspace = _workspace(ctx)
    names = [m.strip() for m in models.split(",") if m.strip()] if models else None
    report = {
        session_id: evaluate_models(workspace, session_id, names)
        for session_id in (session_ids or ("latest",))
    }
    if as_json:
        _print_json(report)
        return
    for session_id, rows in report.items():
        click.echo(f"session {session_id}: next-round accuracy")
        for row in rows:
            accuracy = "-" if row["accuracy"] is None else f"{row['accuracy']:.1%}"
            click.echo(
                f"  {row['model']:<16} {accuracy:>6}  "
                f"({row['comparisons']} comparisons over {row['rounds']} rounds)"
            )


@cli.command("replay")
@click.argument("source", metavar="SESSION_OR_FILE")
@click.option("--models", help="Comma-separated model names (default: every registered one).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def replay_command(ctx: click.Context, source: str, models: str | None, as_json: bool) -> None:
    """Counterfactual replay: before every round of a logged session (or of a replay JSON
    file), each model re-fitted on the judgments of that moment chooses the incumbent;
    compared with the logged choices."""
    from steering_core.exports.counterfactual import (
        check_model_names,
        counterfactual_replay,
        is_replay_file,
        load_session_or_file,
        table_lines,
    )

    names = None
    if models is not None:
        names = check_model_names([m.strip() for m in models.split(",") if m.strip()])
    workspace = None if is_replay_file(source) else _workspace(ctx)
    result = counterfactual_replay(load_session_or_file(workspace, source), names)
    if as_json:
        _print_json(result.to_dict())
        return
    for line in table_lines(result):
        click.echo(line)


@cli.command("bench")
@click.argument("config_path", metavar="CONFIG", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Output folder (default: experiments/<name>/ beside the config's folder).",
)
@click.option("--workers", type=click.IntRange(1, 64), help="Processes (overrides the config).")
@click.option("--seeds", type=click.IntRange(1, 1000), help="Seeds per cell (overrides).")
@click.option("--rounds", type=click.IntRange(1, 500), help="Rounds per run (overrides).")
@click.option("--json", "as_json", is_flag=True)
def bench_command(
    config_path: Path,
    out: Path | None,
    workers: int | None,
    seeds: int | None,
    rounds: int | None,
    as_json: bool,
) -> None:
    """Run a steering benchmark: the grid of CONFIG (YAML, see experiments/), in parallel."""
    from steering_core.bench.config import load_bench_config
    from steering_core.bench.report import write_report
    from steering_core.bench.runner import run_bench, tasks

    overrides = {
        name: value
        for name, value in {"workers": workers, "seeds": seeds, "rounds": rounds}.items()
        if value is not None
    }
    config = load_bench_config(config_path, overrides)
    out = out or config_path.resolve().parent / config.name
    grid = tasks(config)
    show = sys.stderr.isatty() and not as_json
    with click.progressbar(length=len(grid), label=f"{config.name}", file=sys.stderr) as bar:
        rows = run_bench(config, out, progress=bar.update if show else None)
    report = write_report(rows, config, out)
    if as_json:
        _print_json({"runs": len(grid), "outputs": report["paths"]})
        return
    click.echo((out / "summary.md").read_text(encoding="utf-8"))
    click.echo(f"{len(grid)} runs; outputs in {out}:")
    for path in report["paths"]:
        click.echo(f"  {path}")


@cli.group()
def dev() -> None:
    """Developer helpers."""


@dev.command("tiny-pipeline")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--sdxl", is_flag=True, help="SDXL-style (two text encoders, pooled embeds).")
def dev_tiny_pipeline(folder: Path, sdxl: bool) -> None:
    """Write a tiny random-weight pipeline (for trying the CLI without a checkpoint)."""
    from steering_core.generators.tiny import build_tiny_sd_pipeline, build_tiny_sdxl_pipeline

    (build_tiny_sdxl_pipeline if sdxl else build_tiny_sd_pipeline)(folder)
    click.echo(f"wrote a random-weight pipeline to {folder}")


def add_plugin_commands() -> None:
    """Commands other packages add to `steer` (the dashboard's `steer dashboard`)."""
    from importlib.metadata import entry_points

    for entry in entry_points(group="steer.commands"):
        if entry.name not in cli.commands:
            cli.add_command(entry.load(), entry.name)


def main() -> None:
    add_plugin_commands()
    cli(prog_name="steer")
