"""The `steer` group itself: exit codes, the data root options, and turning core errors into
one-line messages."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from filelock import Timeout

from steering_core import __version__
from steering_core.errors import InvalidInput, NotFound, SteeringError
from steering_core.storage.database import DatabaseBusy

EXIT_INVALID = 2
EXIT_RUNTIME = 1
EXIT_CANCELLED = 130
# Commands that never load a model: they skip quieting the model libraries (an import).
_NO_MODEL_COMMANDS = (None, "sessions", "undo", "feedback", "show")


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
        except (Timeout, DatabaseBusy) as error:
            # Another process held the data root's lock for too long: transient, retry.
            click.echo(f"error (transient): the data root is busy ({error}); try again", err=True)
            ctx.exit(EXIT_RUNTIME)


def workspace_of(ctx: click.Context):  # noqa: ANN201
    """The data root's workspace, opened once per command."""
    from steering_core.storage import Workspace

    options = ctx.find_root().obj
    if "workspace" not in options:
        options["workspace"] = Workspace.open(options["data_root"], options["labels_dir"])
    return options["workspace"]


def hold_lease(ctx: click.Context, session_id: str) -> None:
    """Hold a lease on the session until the command ends, so `steer gc` leaves it alone."""
    from steering_core.storage.leases import hold_lease as lease

    ctx.with_resource(lease(workspace_of(ctx), session_id))


def print_json(payload: Any) -> None:
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
    if ctx.invoked_subcommand not in _NO_MODEL_COMMANDS:
        from steering_core.quiet import quiet_model_libraries

        quiet_model_libraries()
