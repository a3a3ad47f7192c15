"""Durable file writes: a failed replacement leaves the old file and no temporary file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import BinaryIO

import pytest

from steering_core.storage.files import write_all, write_atomically


def test_a_replacement_writes_the_whole_new_file(tmp_path: Path) -> None:
    path = tmp_path / "replay.json"
    path.write_bytes(b"old")
    write_atomically(path, lambda handle: handle.write(b"new contents"))
    assert path.read_bytes() == b"new contents"
    assert [p.name for p in tmp_path.iterdir()] == ["replay.json"]


def test_a_failed_replacement_keeps_the_old_file_and_leaves_no_temporary(
    tmp_path: Path,
) -> None:
    path = tmp_path / "replay.json"
    path.write_bytes(b"old")

    def fail_halfway(handle: BinaryIO) -> None:
        handle.write(b"half of the new")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_atomically(path, fail_halfway)
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["replay.json"]


def test_write_all_appends_every_byte(tmp_path: Path) -> None:
    path = tmp_path / "labels.csv"
    path.write_bytes(b"header\n")
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND)
    try:
        write_all(descriptor, b"row\n" * 100_000)
    finally:
        os.close(descriptor)
    assert path.read_bytes() == b"header\n" + b"row\n" * 100_000
