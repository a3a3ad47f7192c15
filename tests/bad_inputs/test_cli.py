"""The CLI's part of the bad-input corpus: malformed `steer` invocations, across every
command, option and argument, each refused with exit code 2 and one line on stderr
(`error: ...`, naming the option or argument, at most 300 characters, no traceback), with
the data root, the label folder and the current folder unchanged.

Most cases come from walking the click group, so a new option or argument is covered the
day it is added; the rest are the cases of issue 14 (empty session ids, slots named twice,
superscript digits, an `--out` that cannot be written, an empty `--data-root`, huge values).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from steering_core.cli import add_plugin_commands, cli
from steering_core.config import make_config
from steering_core.sessions import create_session, submit_feedback
from steering_core.storage.workspace import Workspace
from tests.bad_inputs.snapshot import snapshot
from tests.steering_core.cli.test_params import FREE_TEXT, command_at, commands
from tests.steering_core.helpers import blank_round

MESSAGE_CHARS = 300
# The arguments that name sessions.
SESSION_ARGUMENTS = {"session_id", "session_ids", "source"}
HUGE = "9" * 100_000  # 100 kB: its echo must be cut, not printed whole
# Placeholders in a case's arguments, filled in by the fixture's data root.
SESSION, FILE, CONFIG = "<session>", "<file>", "<config>"
BENCH_CONFIG = Path(__file__).resolve().parents[2] / "experiments" / "smoke.yaml"


@dataclass(frozen=True)
class Case:
    """`steer ARGS` must fail with `code`, on one error line that contains `names`."""

    args: tuple[str, ...]
    names: str
    code: int = 2

    def __str__(self) -> str:
        shown = " ".join(a if len(a) < 40 else f"<{len(a)} chars>" for a in self.args)
        return shown or "(none)"


add_plugin_commands()
COMMANDS = [(path, command_at(path)) for path in commands(cli)]


def placeholders(command: click.Command, skip: str | None = None) -> list[str]:
    """A valid-looking value for each required argument (but `skip`)."""
    values = []
    for param in command.params:
        if isinstance(param, click.Argument) and param.required and param.name != skip:
            if param.name in SESSION_ARGUMENTS:
                values.append(SESSION)
            elif isinstance(param.type, click.Path):
                values.append(CONFIG if param.name == "config_path" else FILE)
            else:
                values.append("1")
    return values


def walked_cases() -> Iterator[Case]:
    """Every typed option with a superscript digit and with 100 kB of digits; every path
    and session id left empty or blank."""
    for path, command in COMMANDS:
        for param in command.params:
            if isinstance(param, click.Option) and (param.is_flag or param.opts[0] in FREE_TEXT):
                continue
            if isinstance(param, click.Option) and isinstance(param.type, click.Path):
                for value in ("", "  "):
                    yield Case((*path, param.opts[0], value, *placeholders(command)), param.opts[0])
            elif isinstance(param, click.Option) and not isinstance(param.type, click.Path):
                for value in ("³", "1²", HUGE):
                    yield Case((*path, param.opts[0], value, *placeholders(command)), param.opts[0])
            elif isinstance(param, click.Argument) and (
                param.name in SESSION_ARGUMENTS or isinstance(param.type, click.Path)
            ):
                name = param.human_readable_name
                rest = placeholders(command, skip=param.name)
                for value in ("", " \t"):
                    yield Case((*path, value, *rest), name)
        yield Case((*path, "--no-such-option", *placeholders(command)), "--no-such-option")
        if any(isinstance(p, click.Argument) and p.required for p in command.params):
            yield Case(path, "Missing argument")


ISSUE_CASES = [
    # 1. An empty session id is never "the latest session".
    Case(("feedback", "", "--winner", "1"), "SESSION_ID"),
    Case(("undo", ""), "SESSION_ID"),
    Case(("undo", "   "), "SESSION_ID"),
    Case(("undo",), "SESSION_ID"),  # undo always names its session ("latest" is a word)
    Case(("round", "", "--k", "4"), "SESSION_ID"),
    # 2. A slot named twice would multiply the comparisons.
    Case(("feedback", SESSION, "--approve", "1,1"), "--approve"),
    Case(("feedback", SESSION, "--reject", "2,2,2"), "--reject"),
    Case(("feedback", SESSION, "--approve", "1", "--reject", "2,2"), "--reject"),
    Case(("feedback", SESSION, "--approve", "1", "--reject", "1"), "approved and rejected"),
    Case(("feedback", SESSION, "--rank", "3,1,3"), "--rank"),
    Case(("feedback", SESSION, "--cannot-decide", "--between", "2,2"), "--between"),
    Case(("feedback", SESSION, "--rate", "1=3", "--rate", "1=4"), "--rate"),
    Case(("feedback", SESSION, "--pairwise", "2>2"), "--pairwise"),
    Case(("round", SESSION, "--around", "1,1"), "--around"),
    # 5. Digits that pass `isdigit` but not `int()`; outputs that cannot be written.
    Case(("feedback", SESSION, "--rate", "0=³"), "--rate"),
    Case(("feedback", SESSION, "--rate", "³=1"), "--rate"),
    Case(("feedback", SESSION, "--winner", "³"), "--winner"),
    Case(("feedback", SESSION, "--pairwise", "³>1"), "--pairwise"),
    Case(("feedback", SESSION, "--rank", "1,²"), "--rank"),
    Case(("round", SESSION, "--k", "³"), "--k"),
    Case(("round", SESSION, "--around", "¹"), "--around"),
    Case(("session", "new", "--prompt", "a cat", "--k", "³"), "--k"),
    Case(("bench", CONFIG, "--seeds", "³"), "--seeds"),
    Case(("export", SESSION, "--out", "/proc/x.zip"), "--out"),
    Case(("export", SESSION, "--out", f"{FILE}/x.zip"), "--out"),
    Case(("export", SESSION, "--out", f"{FILE}/deeper/x.zip"), "--out"),
    Case(("report", SESSION, "--out", "/proc/x"), "--out"),
    Case(("report", SESSION, "--out", f"{FILE}/x"), "--out"),
    Case(("report", SESSION, "--out", FILE), "--out"),
    Case(("bench", CONFIG, "--out", "/proc/x"), "--out"),
    Case(("bench", CONFIG, "--out", f"{FILE}/x"), "--out"),
    # 6. An empty data root or label folder is not the current folder.
    Case(("--data-root", "", "sessions"), "--data-root"),
    Case(("--data-root", "", "feedback", "--winner", "1"), "--data-root"),
    Case(("--labels-dir", "", "sessions"), "--labels-dir"),
    Case(("--data-root", FILE, "sessions"), "--data-root"),
    # 7. Huge values are cut in the message.
    Case(("feedback", SESSION, "--reject-all", "--reason", "x" * 100_000), "reason"),
    Case(("feedback", SESSION, "--critique", "lighting", "--text", "y" * 100_000), "text"),
    Case(("session", "new", "--prompt", "z" * 100_000), "prompt"),
    Case(("feedback", "s" * 100_000, "--winner", "1"), "no session"),
    Case(("feedback", SESSION, "--critique", "v" * 100_000), "--critique"),
    Case(("plugins", "k" * 100_000), "KIND"),
    # Others: unknown session, bad choice, a value on a line of its own.
    Case(("feedback", "nosuchsession", "--winner", "1"), "nosuchsession"),
    Case(("undo", "nosuchsession"), "nosuchsession"),
    Case(("feedback", SESSION, "--winner", "1\n2"), "--winner"),
    Case(("feedback", SESSION, "--winner", "1", "--approve", "2"), "feedback mode"),
    Case(("feedback", SESSION, "--reason", "dark"), "feedback mode"),
    Case(("plugins", "nonsense"), "KIND"),
    Case(("import", FILE), "bundle"),
    # Session names: one line, at most 80 characters; renaming names a session that exists.
    Case(("session", "new", "--prompt", "a cat", "--name", "n" * 81), "--name"),
    Case(("session", "new", "--prompt", "a cat", "--name", "a\nb"), "--name"),
    Case(("session", "rename", SESSION, "x" * 100_000), "NAME"),
    Case(("session", "rename", SESSION, "tab\there"), "NAME"),
    Case(("session", "rename", "nosuchsession", "cats"), "nosuchsession"),
    Case(("fork", "1", "--name", "f" * 81), "--name"),
    Case(("fork", "1", "--name", "two\nlines"), "--name"),
]
CASES = [*walked_cases(), *ISSUE_CASES]


def test_the_corpus_covers_every_command() -> None:
    named = {case.args[0] for case in CASES}
    assert {" ".join(path).split()[0] for path, _ in COMMANDS} <= named
    assert len(CASES) >= 120


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A data root with a judged round and an open one (so a write reaching it would store
    something), a regular file, and an empty folder to run in."""
    root = tmp_path_factory.mktemp("bad-cli")
    workspace = Workspace.open(root / "data", root / "labels")
    session = create_session(workspace, make_config({"prompt": "a red circle", "k": 4, "d": 4}))
    _, candidates = blank_round(workspace, session.id)
    submit_feedback(workspace, session.id, {"mode": "winner", "winner": candidates[1].id})
    blank_round(workspace, session.id)
    (root / "a-file").write_text("not a folder\n")
    (root / "cwd").mkdir()
    return {
        "data": workspace.data_root,
        "labels": workspace.labels_dir,
        "file": root / "a-file",
        "cwd": root / "cwd",
        "session": Path(session.id),
    }


def filled(args: tuple[str, ...], folders: dict[str, Path]) -> list[str]:
    values = {SESSION: folders["session"].name, FILE: str(folders["file"])}
    values[CONFIG] = str(BENCH_CONFIG)
    out = []
    for arg in args:
        for placeholder, value in values.items():
            arg = arg.replace(placeholder, value)
        out.append(arg)
    return out


@pytest.mark.parametrize("case", CASES, ids=str)
def test_a_malformed_invocation_is_refused_in_one_line(
    case: Case, folders: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(folders["cwd"])
    before = snapshot(folders["data"], folders["labels"])
    root = ["--data-root", str(folders["data"]), "--labels-dir", str(folders["labels"])]
    args = filled(case.args, folders)
    if args[0] in ("--data-root", "--labels-dir"):
        root = []  # the case names the data root itself
    result = CliRunner().invoke(cli, [*root, *args])
    assert type(result.exception) is SystemExit, result.exception
    assert result.exit_code == case.code, result.output[:2000]
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr[:2000]
    (line,) = lines
    assert line.startswith("error: "), line
    assert case.names in line, line
    assert len(line) <= MESSAGE_CHARS, len(line)
    assert snapshot(folders["data"], folders["labels"]) == before
    assert os.listdir(folders["cwd"]) == []
