"""The `steer` command line: a thin layer that builds core objects, calls them, formats output.

Core errors become one-line messages with a non-zero exit code (2 for invalid input, 1 for
runtime failures, 130 for a cancelled job); `--json` prints machine-readable output. One
module per command group; importing them adds their commands to `cli`.
"""

from __future__ import annotations

from steering_core.cli import (
    bench,
    builtin,
    exports,
    feedback,
    maintenance,
    plugins,
    rounds,
    sessions,
)
from steering_core.cli.app import EXIT_CANCELLED, EXIT_INVALID, EXIT_RUNTIME, cli

__all__ = [
    "EXIT_CANCELLED",
    "EXIT_INVALID",
    "EXIT_RUNTIME",
    "add_plugin_commands",
    "bench",
    "builtin",
    "cli",
    "exports",
    "feedback",
    "main",
    "maintenance",
    "plugins",
    "rounds",
    "sessions",
]


def add_plugin_commands() -> None:
    """Commands other packages add to `steer` (the dashboard's `steer dashboard`)."""
    from importlib.metadata import entry_points

    for entry in entry_points(group="steer.commands"):
        if entry.name not in cli.commands:
            cli.add_command(entry.load(), entry.name)


def main() -> None:
    add_plugin_commands()
    cli(prog_name="steer")
