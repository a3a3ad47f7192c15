"""`steer labels rebuild`, `verify`, `gc` and `diagnostics`: keeping a data root healthy."""

from __future__ import annotations

from typing import Any

import click

from steering_core.cli.app import EXIT_RUNTIME, cli, print_json, workspace_of
from steering_core.cli.params import ConfigValue, SessionId


@cli.group()
def labels() -> None:
    """Label CSV maintenance."""


@labels.command("rebuild")
@click.argument("session_id", type=SessionId())
@click.pass_context
def labels_rebuild(ctx: click.Context, session_id: str) -> None:
    """Rewrite a session's label CSV from the database (old file kept as .bak)."""
    from steering_core.sessions import rebuild_labels

    result = rebuild_labels(workspace_of(ctx), session_id)
    click.echo(f"wrote {result['rows']} rows to {result['path']}")


@cli.command("verify")
@click.argument("session_id", type=SessionId(), required=False)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def verify_command(ctx: click.Context, session_id: str | None, as_json: bool) -> None:
    """Check the database, every image and every label CSV; exit 1 on any problem."""
    from steering_core.verify import verify_workspace

    report = verify_workspace(workspace_of(ctx), session_id)
    if as_json:
        print_json(report)
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

    workspace = workspace_of(ctx)
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
        print_json(payload)
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
@click.option("--device", type=ConfigValue("generator.device"), default="auto")
@click.option("--dtype", type=ConfigValue("generator.dtype"), default="auto")
@click.option("--json", "as_json", is_flag=True)
def diagnostics_command(
    backend: str, model: str | None, device: str, dtype: str, as_json: bool
) -> None:
    """Versions, devices, and (with --model) the generator's device and load time."""
    from steering_core.diagnostics import diagnostics_report, generator_report

    report = diagnostics_report()
    if model is not None:
        report["generator"] = generator_report(backend, model, device, dtype)
    if as_json:
        print_json(report)
        return
    for section in ("versions", "devices"):
        for key, value in report[section].items():
            click.echo(f"{key}: {value}")
    if "generator" in report:
        click.echo(f"generator: {report['generator']}")
