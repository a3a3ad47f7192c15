"""Images: PNGs written atomically under the data root, damaged files reported by name."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from steering_core.errors import DataCorrupt, NotFound
from steering_core.storage.images import ImageStore


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    store = ImageStore(tmp_path)
    image = Image.new("RGB", (16, 16), (200, 30, 40))
    path = store.save(image, "images/s/r000/c00.png")
    assert path == "images/s/r000/c00.png"
    assert store.load(path).getpixel((3, 3)) == (200, 30, 40)
    assert not list((tmp_path / "images/s/r000").glob("*.tmp"))


def test_corrupt_png_is_reported_with_its_path(tmp_path: Path) -> None:
    store = ImageStore(tmp_path)
    path = store.save(Image.new("RGB", (16, 16)), "images/s/c.png")
    data = (tmp_path / path).read_bytes()
    (tmp_path / path).write_bytes(data[:40] + b"\x00" * 20 + data[60:])
    with pytest.raises(
        DataCorrupt, match=r"images/s/c\.png in the data root is not a readable PNG"
    ):
        store.load(path)


def test_missing_image_and_paths_outside_the_root(tmp_path: Path) -> None:
    store = ImageStore(tmp_path / "root")
    assert not store.exists("images/none.png")
    with pytest.raises(DataCorrupt, match="missing"):
        store.load("images/none.png")
    for bad in ("../secret.png", "/etc/passwd", "images/../../x.png"):
        with pytest.raises(NotFound, match="outside the data root"):
            store.resolve(bad)
