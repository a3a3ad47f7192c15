"""`steer round` and `steer show`: generating a round and listing its candidates."""

from __future__ import annotations

import sys
import time
from typing import Any

import click

from steering_core.cli.app import cli, hold_lease, print_json, workspace_of
from steering_core.cli.params import ID_RANGE, CardNumbers, ConfigValue, SessionId
from steering_core.errors import InvalidInput, JobCancelled, SteeringError


def echo_candidates(rows: list[dict]) -> None:
    """The rows of `views.show.round_rows`, one line per candidate, with what it received."""
    # One number per candidate: its card number, as the dashboard shows it and as the
    # flags of `steer feedback` and `steer round --around` take it.
    click.echo(f"round {rows[0]['round_index']} (candidates by card number):")
    for row in rows:
        choice = "  <- final choice" if row["final_choice"] else ""
        click.echo(
            f"  {row['number']:>2}  {row['role']:<10} "
            f"|w|={row['distance_from_prompt']:.3f} seed={row['seed']}  "
            # The stored id, labelled: `steer fork` takes it.
            f"id={row['candidate_id']}  {row['image']}{choice}"
        )
        if row["received"]:
            click.echo(f"      received: {'; '.join(row['received'])}")


def _round_request(
    workspace: Any, session_id: str, around: list[int] | None, k: int | None, funnel: bool
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
    if around is None:
        return None, k, None
    if not get_rounds(workspace, session_id):
        raise InvalidInput(f"--around: session {session_id} has no rounds yet")
    record, candidates = get_round(workspace, session_id)
    number_to_id = {c.slot + 1: c.id for c in candidates}
    for index, number in enumerate(around):
        if number not in number_to_id:
            raise InvalidInput(
                f"--around: candidate {number} is not in round {record.round_index} "
                f"(candidates 1-{len(number_to_id)})"
            )
        if number in around[:index]:
            raise InvalidInput(f"--around: candidate {number} is named twice")
    return [number_to_id[number] for number in around], k, None


@cli.command("round")
@click.argument("session_id", type=SessionId(), required=False)
@click.option(
    "--around",
    type=CardNumbers(),
    help="Card numbers of the latest round to keep and vary, e.g. 1,4 ('more like this').",
)
@click.option(
    "--k",
    type=ConfigValue("k", noun="candidates"),
    help="Candidates in this round only (2-32; default: the session's).",
)
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
    around: list[int] | None,
    k: int | None,
    funnel: bool,
    as_json: bool,
    quiet: bool,
) -> None:
    """Generate the next round of candidates (default session: the latest)."""
    from steering_core.sessions import get_session
    from steering_core.views.show import round_rows

    workspace = workspace_of(ctx)
    session_record = get_session(workspace, session_id)
    hold_lease(ctx, session_record.id)
    around_ids, size, step = _round_request(workspace, session_record.id, around, k, funnel)
    job_id, snapshot = _run_round(workspace, session_record.id, around_ids, size, quiet or as_json)
    rows = round_rows(workspace, session_record.id, snapshot.result["round_index"])
    if as_json:
        payload = {
            "session_id": session_record.id,
            "job_id": job_id,
            "candidates": rows,
            "timings": snapshot.result.get("timings", {}),
        }
        if step is not None:
            payload["funnel"] = {"kept": step.kept, "finished": step.finished}
        print_json(payload)
        return
    if step is not None and step.finished:
        (kept,) = card_names(workspace, session_record.id, step.kept[:1])
        click.echo(f"funnel finished: kept {kept}, the incumbent now; normal rounds go on")
    elif step is not None and step.kept:
        click.echo(f"funnel: kept {', '.join(card_names(workspace, session_record.id, step.kept))}")
    echo_candidates(rows)


def card_names(workspace: Any, session_id: str, candidate_ids: list[int]) -> list[str]:
    """Candidates as the dashboard names them: "candidate 3 of round 4" (its card number)."""
    from steering_core.sessions import get_candidates
    from steering_core.views.judgment_words import card_name

    by_id = {c.id: c for c in get_candidates(workspace, session_id)}
    return [card_name(by_id[i]) for i in candidate_ids]


def _run_round(
    workspace: Any, session_id: str, around: list[int] | None, k: int | None, quiet: bool
) -> tuple[str, Any]:
    """Generate the round on a worker, with a progress bar unless `quiet`; Ctrl-C cancels."""
    from tqdm import tqdm

    from steering_core.views.progress_words import fraction_done, progress_words
    from steering_core.worker import Worker

    worker = Worker(workspace)
    # Checked before the worker starts: a bad request changes nothing.
    job_id = worker.submit_round(session_id, around=around, k=k)
    worker.start()
    # disable=None: no bar when stderr is not a terminal (pipes, logs, tests). The words
    # are the dashboard's ("generating · step 17/20 · 8 images in one batch · about 3 s
    # left"); tqdm's own rate and ETA are left out, they would count a batch as one image.
    bar = (
        None
        if quiet
        else tqdm(
            total=100,
            file=sys.stderr,
            leave=False,
            disable=None,
            bar_format="{percentage:3.0f}%|{bar:20}| {desc}",
        )
    )
    shown = ""
    try:
        while True:
            snapshot = worker.wait(job_id, timeout=0.1)
            words = progress_words(snapshot.phase, snapshot.progress, time.time())
            if bar is not None and words != shown:
                shown = words
                bar.n = round(100 * fraction_done(snapshot.progress))
                bar.set_description_str(words)
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
        # A round another process stored first is an invalid request here, as before.
        invalid = snapshot.error_kind in ("invalid input", "superseded")
        error = InvalidInput if invalid else SteeringError
        raise error(snapshot.error)
    return job_id, snapshot


@cli.command("show")
@click.argument("session_id", type=SessionId(), required=False)
@click.option("--round", "round_index", type=ID_RANGE, help="Round index (default: the latest).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def show_command(
    ctx: click.Context, session_id: str | None, round_index: int | None, as_json: bool
) -> None:
    """List the candidates of a round, what each received, and the final choice."""
    from steering_core.sessions import get_session
    from steering_core.views.show import round_rows

    workspace = workspace_of(ctx)
    record = get_session(workspace, session_id)
    rows = round_rows(workspace, record.id, round_index)
    if as_json:
        print_json(rows)
    else:
        echo_candidates(rows)
