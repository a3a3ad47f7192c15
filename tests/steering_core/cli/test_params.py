"""Every option of every `steer` command, given a malformed value, is refused at parsing:
exit code 2, one message naming the option, no traceback, and the data root untouched.

The commands are found by walking the click group, so a new option is covered the day it
is added; only options whose value is free text (a prompt, a path) are left out.
"""

from __future__ import annotations

from collections.abc import Iterator

import click
import pytest
from click.testing import CliRunner

from steering_core.cli import add_plugin_commands, cli
from steering_core.config import make_config
from steering_core.sessions import create_session, submit_feedback
from steering_core.storage.workspace import Workspace
from tests.steering_core.helpers import blank_round, stored_state

MALFORMED = ("--5", "abc", "-1", "1e999", "nan", "", "9" * 40)
# Options whose value is any text: there is no malformed value to give them.
FREE_TEXT = {
    "--prompt",
    "--negative-prompt",
    "--backend",
    "--model",
    "--text",
    "--reason",
    "--host",
    "--name",  # a session's name: any one line of text
}


def commands(group: click.Group, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            yield from commands(command, (*path, name))
        else:
            yield (*path, name)


def command_at(path: tuple[str, ...]) -> click.Command:
    command: click.Command = cli
    for name in path:
        command = command.commands[name]  # type: ignore[attr-defined]
    return command


def valued_options(command: click.Command) -> list[str]:
    """The command's options that take a value which can be malformed."""
    return [
        param.opts[0]
        for param in command.params
        if isinstance(param, click.Option)
        and not param.is_flag
        and not isinstance(param.type, click.Path)
        and param.opts[0] not in FREE_TEXT
    ]


def arguments(command: click.Command) -> list[str]:
    """A placeholder for each required argument (never reached: the option fails first)."""
    return ["1" for param in command.params if isinstance(param, click.Argument) and param.required]


add_plugin_commands()
CASES = [
    (path, option, value)
    for path in commands(cli)
    for option in valued_options(command_at(path))
    for value in MALFORMED
]


def test_the_walk_finds_the_typed_options() -> None:
    found = {(" ".join(path), option) for path, option, _ in CASES}
    assert {("round", "--k"), ("feedback", "--rate"), ("session new", "--k")} <= found
    assert ("bench", "--workers") in found and ("fork", "--trust-radius") in found


@pytest.fixture(scope="module")
def data_root(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """A data root with a judged round, so that a command reaching it could change it."""
    root = tmp_path_factory.mktemp("steer")
    workspace = Workspace.open(root / "data", root / "labels")
    session = create_session(workspace, make_config({"prompt": "a red circle", "k": 4, "d": 4}))
    _, candidates = blank_round(workspace, session.id)
    submit_feedback(workspace, session.id, {"mode": "winner", "winner": candidates[1].id})
    return workspace


def everything(workspace: Workspace) -> tuple[object, list[str]]:
    listing = sorted(
        str(p.relative_to(workspace.data_root)) for p in workspace.data_root.rglob("*")
    )
    return stored_state(workspace), listing


@pytest.mark.parametrize(("path", "option", "value"), CASES, ids=str)
def test_a_malformed_option_value_is_a_usage_error(
    data_root: Workspace, path: tuple[str, ...], option: str, value: str
) -> None:
    before = everything(data_root)
    command = command_at(path)
    args = [
        "--data-root",
        str(data_root.data_root),
        "--labels-dir",
        str(data_root.labels_dir),
        *path,
        option,
        value,
        *arguments(command),
    ]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    assert type(result.exception) is SystemExit, result.exception
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    one_line = len(lines) == 1 and lines[0].startswith(f"error: {option}")
    usage = f"Invalid value for '{option}'" in result.output
    assert one_line or usage, result.output
    assert everything(data_root) == before
