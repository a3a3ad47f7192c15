"""The `steer` group itself: exit codes, the data root options, and turning core errors into
one-line messages."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
from filelock import Timeout

from steering_core import __version__
from steering_core.cli.params import PathText, shorten
from steering_core.errors import InvalidInput, NotFound, SteeringError
from steering_core.quiet import quiet_environment
from steering_core.storage.database import DatabaseBusy

EXIT_INVALID = 2
EXIT_RUNTIME = 1
EXIT_CANCELLED = 130


def echo_error(message: str) -> None:
    """One line on stderr, at most 300 characters, however long the value it echoes."""
    click.echo(shorten(f"error{message}"), err=True)


def usage_message(error: click.ClickException) -> str:
    """A usage error (unknown option, missing argument, bad value) as one line, with where
    help is instead of click's usage block (a bad value's message says enough)."""
    context = getattr(error, "ctx", None)
    bad_value = isinstance(error, click.BadParameter) and not isinstance(
        error, click.MissingParameter
    )
    helpful = context is not None and not bad_value
    hint = f" (see '{context.command_path} --help')" if helpful else ""
    return f": {error.format_message()}{hint}"


class SteerGroup(click.Group):
    """Turns core errors and usage errors into one-line messages instead of tracebacks."""

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        if not standalone_mode:
            return super().main(*args, standalone_mode=False, **kwargs)
        try:
            code = super().main(*args, standalone_mode=False, **kwargs)
        except click.ClickException as error:
            echo_error(usage_message(error))
            sys.exit(error.exit_code)
        except click.Abort:
            echo_error(": aborted")
            sys.exit(EXIT_RUNTIME)
        # Without standalone mode click returns the code of `ctx.exit` (or None) instead.
        sys.exit(code if isinstance(code, int) else 0)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (InvalidInput, NotFound) as error:
            echo_error(f": {error}")
            ctx.exit(EXIT_INVALID)
        except SteeringError as error:
            echo_error(f" ({error.kind}): {error}")
            ctx.exit(EXIT_CANCELLED if error.kind == "cancelled" else EXIT_RUNTIME)
        except (Timeout, DatabaseBusy) as error:
            # Another process held the data root's lock for too long: transient, retry.
            echo_error(f" (transient): the data root is busy ({error}); try again")
            ctx.exit(EXIT_RUNTIME)
        except OSError as error:
            # The disk, not the input (full, gone, permissions changed mid-command).
            echo_error(f" (runtime): {error}")
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
    type=PathText(file_okay=False, path_type=Path),
    default=None,
    help="Folder of the database and images (default: $STEER_DATA_ROOT or ./data).",
)
@click.option(
    "--labels-dir",
    type=PathText(file_okay=False, path_type=Path),
    default=None,
    help="Folder of the label CSVs (default: $STEER_LABELS_DIR, ./labels, or DATA_ROOT/labels).",
)
@click.version_option(__version__, prog_name="steer")
@click.pass_context
def cli(ctx: click.Context, data_root: Path | None, labels_dir: Path | None) -> None:
    """Steer a diffusion model toward what you want by judging rounds of candidates."""
    ctx.obj = {"data_root": data_root, "labels_dir": labels_dir}
    # Only the environment here: importing the model libraries (torch, 0.3 GB and seconds)
    # before a command has read its input would make every refusal slow; a generator quiets
    # them itself when it loads.
    quiet_environment()
