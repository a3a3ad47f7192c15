"""`steer bench`, `evaluate` and `replay`: benchmarks and offline evaluation of models."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from steering_core.cli.app import cli, print_json, workspace_of
from steering_core.cli.params import ModelNames, PathText, SessionId, check_writable

# Which preference models `evaluate` and `replay` compare.
MODELS_OPTION = click.option(
    "--models",
    type=ModelNames(),
    help="Comma-separated model names (default: every registered one).",
)


@cli.command("evaluate")
@click.argument("session_ids", type=SessionId(), nargs=-1)
@MODELS_OPTION
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def evaluate_command(
    ctx: click.Context, session_ids: tuple[str, ...], models: list[str] | None, as_json: bool
) -> None:
    """Offline evaluation: each model, fitted on the rounds before each round, predicts that
    round's comparisons (default session: the latest)."""
    from steering_core.evaluation import evaluate_models

    workspace = workspace_of(ctx)
    report = {
        session_id: evaluate_models(workspace, session_id, models)
        for session_id in (session_ids or ("latest",))
    }
    if as_json:
        print_json(report)
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
@click.argument("source", type=SessionId(), metavar="SESSION_OR_FILE")
@MODELS_OPTION
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def replay_command(
    ctx: click.Context, source: str, models: list[str] | None, as_json: bool
) -> None:
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

    names = check_model_names(models) if models is not None else None
    workspace = None if is_replay_file(source) else workspace_of(ctx)
    result = counterfactual_replay(load_session_or_file(workspace, source), names)
    if as_json:
        print_json(result.to_dict())
        return
    for line in table_lines(result):
        click.echo(line)


@cli.command("bench")
@click.argument("config_path", metavar="CONFIG", type=PathText(dir_okay=False, path_type=Path))
@click.option(
    "--out",
    type=PathText(file_okay=False, path_type=Path),
    help=(
        "Output folder (default: EXPERIMENTS/<name>/, where the dashboard looks: "
        "$STEER_EXPERIMENTS_DIR, ./experiments beside the default ./data, "
        "else DATA_ROOT/experiments)."
    ),
)
@click.option("--workers", type=click.IntRange(1, 64), help="Processes (overrides the config).")
@click.option("--seeds", type=click.IntRange(1, 1000), help="Seeds per cell (overrides).")
@click.option("--rounds", type=click.IntRange(1, 500), help="Rounds per run (overrides).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def bench_command(
    ctx: click.Context,
    config_path: Path,
    out: Path | None,
    workers: int | None,
    seeds: int | None,
    rounds: int | None,
    as_json: bool,
) -> None:
    """Run a steering benchmark: the grid of CONFIG (YAML, see experiments/), in parallel."""
    from steering_core.bench.config import load_bench_config
    from steering_core.bench.location import experiments_dir
    from steering_core.bench.report import markdown_summary, write_report
    from steering_core.bench.results import read_bench
    from steering_core.bench.runner import run_bench, tasks

    overrides = {
        name: value
        for name, value in {"workers": workers, "seeds": seeds, "rounds": rounds}.items()
        if value is not None
    }
    config = load_bench_config(config_path, overrides)
    # The dashboard's Experiments page looks in the same folder (bench.location).
    out = out or experiments_dir(ctx.obj["data_root"]) / config.name
    check_writable(out, "--out")
    grid = tasks(config)
    show = sys.stderr.isatty() and not as_json
    with click.progressbar(length=len(grid), label=f"{config.name}", file=sys.stderr) as bar:
        rows = run_bench(config, out, progress=bar.update if show else None)
    report = write_report(rows, config, out)
    if as_json:
        print_json({"runs": len(grid), "outputs": report["paths"]})
        return
    # Read back as every reader reads it (the dashboard's Experiments page too).
    click.echo(markdown_summary(read_bench(out).summary, config))
    click.echo(f"{len(grid)} runs; outputs in {out}:")
    for path in report["paths"]:
        click.echo(f"  {path}")
