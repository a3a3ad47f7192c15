"""Candidate images as PNG files under the data root, referenced by relative paths."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, UnidentifiedImageError

from steering_core.errors import DataCorrupt, NotFound
from steering_core.storage.files import write_atomically


class ImageStore:
    """Writes PNGs atomically and reads them back verified; never outside `root`."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()

    def resolve(self, relative_path: str) -> Path:
        """The absolute path of a stored image; refuses paths that escape the data root."""
        path = (self.root / relative_path).resolve()
        if not path.is_relative_to(self.root) or Path(relative_path).is_absolute():
            raise NotFound(f"image path {relative_path!r} is outside the data root")
        return path

    def save(self, image: Image.Image, relative_path: str) -> str:
        """Write `image` as PNG (temp file, fsync, rename) and return its relative path."""
        path = self.resolve(relative_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, lambda handle: image.save(handle, format="PNG"))
        return relative_path

    def exists(self, relative_path: str) -> bool:
        """Whether a stored image file is there (it may still be damaged)."""
        return self.resolve(relative_path).is_file()

    def load(self, relative_path: str) -> Image.Image:
        """Read a stored PNG; a missing or damaged file raises an error naming it."""
        path = self.resolve(relative_path)
        if not path.exists():
            # A stored image that is gone means the data root was changed behind the tool.
            raise DataCorrupt(f"image {relative_path} is missing from the data root {self.root}")
        try:
            with Image.open(path) as probe:
                probe.verify()
            with Image.open(path) as image:
                image.load()
                return image.convert("RGB")
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
            raise DataCorrupt(
                f"image {relative_path} in the data root is not a readable PNG ({error})"
            ) from None
