"""Running `steer` in-process: the data root options, success, and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result

from steering_core.cli import cli


def steer(tmp_path: Path, *args: str) -> Result:
    root = ["--data-root", str(tmp_path / "data"), "--labels-dir", str(tmp_path / "labels")]
    return CliRunner().invoke(cli, [*root, *args], catch_exceptions=False)


def ok(result: Result) -> Result:
    assert result.exit_code == 0, result.output
    return result


def error_line(result: Result) -> str:
    assert result.exit_code != 0
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output  # one line, no traceback
    assert lines[0].startswith("error")
    return lines[0]


def new_session(tmp_path: Path, tiny_sd_path: Path) -> str:
    """A session on the tiny random-weight pipeline: 4 candidates of 32x32 pixels, 2 steps."""
    result = ok(
        steer(
            tmp_path,
            "session",
            "new",
            "--prompt",
            "a red circle",
            "--backend",
            "diffusers",
            "--model",
            str(tiny_sd_path),
            "--device",
            "cpu",
            "--steps",
            "2",
            "--k",
            "4",
            "--d",
            "4",
            "--width",
            "32",
            "--height",
            "32",
            "--seed",
            "3",
            "--json",
        )
    )
    return json.loads(result.stdout)["session_id"]
