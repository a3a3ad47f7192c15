"""`steer dashboard`: the dashboard's command, added to `steer` through an entry point (the
core's CLI never imports the dashboard)."""

from __future__ import annotations

import click


@click.command("dashboard")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port", type=click.IntRange(1, 65535), default=8050, show_default=True, help="TCP port."
)
@click.option("--debug", is_flag=True, help="Dash debug mode (tracebacks in the page).")
@click.pass_context
def dashboard_command(ctx: click.Context, host: str, port: int, debug: bool) -> None:
    """Open the research dashboard on localhost (http://127.0.0.1:8050 by default)."""
    from dashboard.app import serve

    options = ctx.find_root().obj
    if host not in ("127.0.0.1", "localhost", "::1"):
        click.echo(
            f"warning: listening on {host}; anyone who can reach it can read and judge "
            "your sessions",
            err=True,
        )
    click.echo(f"StableSteering dashboard on http://{host}:{port}  (Ctrl+C stops it)")
    serve(options["data_root"], options["labels_dir"], host=host, port=port, debug=debug)
