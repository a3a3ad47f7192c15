"""`steer export`, `import` and `report`: a session as a bundle or an HTML report."""

from __future__ import annotations

from pathlib import Path

import click

from steering_core.cli.app import cli, print_json, workspace_of
from steering_core.cli.params import PathText, SessionId, check_writable
from steering_core.errors import InvalidInput


@cli.command("export")
@click.argument("session_id", type=SessionId())
@click.option(
    "--out",
    type=PathText(dir_okay=False, path_type=Path),
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

    workspace = workspace_of(ctx)
    record = get_session(workspace, session_id)
    out = out or Path(f"{record.id}.zip")
    if out.exists() and not force:
        raise InvalidInput(f"--out: {out} exists; give --force to overwrite it")
    check_writable(out.absolute().parent, "--out")
    path = export_bundle(workspace, record.id, out)
    if as_json:
        print_json({"session_id": record.id, "bundle": str(path)})
    else:
        click.echo(f"exported session {record.id} to {path}")


@cli.command("import")
@click.argument("bundle", type=PathText(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def import_command(ctx: click.Context, bundle: Path, as_json: bool) -> None:
    """Verify a bundle (checksums, paths, sizes) and restore its session into this data
    root, under a new id if its id is taken."""
    from steering_core.exports.bundle import import_bundle

    result = import_bundle(workspace_of(ctx), bundle)
    if as_json:
        print_json({"session_id": result.session_id, "bundle_session_id": result.bundle_session_id})
    elif result.renamed:
        click.echo(
            f"imported session {result.bundle_session_id} under a new id: {result.session_id}"
        )
    else:
        click.echo(f"imported session {result.session_id}")


@cli.command("report")
@click.argument("session_id", type=SessionId(), required=False)
@click.option(
    "--out",
    "folder",
    required=True,
    type=PathText(file_okay=False, path_type=Path),
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
    check_writable(folder, "--out")
    path = write_report(workspace_of(ctx), session_id, folder)
    click.echo(f"wrote {path}")
