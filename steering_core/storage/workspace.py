"""A workspace: the data root (database and images) plus the label folder, opened together."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import diskcache

from steering_core.derived import open_cache
from steering_core.errors import InvalidInput
from steering_core.storage.database import Database
from steering_core.storage.images import ImageStore
from steering_core.storage.labels import LabelLog

DATA_ROOT_ENV = "STEER_DATA_ROOT"
LABELS_DIR_ENV = "STEER_LABELS_DIR"
DEFAULT_DATA_ROOT = Path("data")
DEFAULT_LABELS_DIR = Path("labels")
DATABASE_FILE = "steering.sqlite3"


@dataclass
class Workspace:
    """Everything stored for sessions: `data_root/steering.sqlite3`, images, label CSVs."""

    data_root: Path
    labels_dir: Path
    db: Database
    images: ImageStore
    labels: LabelLog
    # Whether events go to `traces/<session>.jsonl` (steering_core.trace); synthetic
    # benchmarks switch it off, since they create thousands of throwaway sessions.
    tracing: bool = True

    @cached_property
    def derived(self) -> diskcache.Cache:
        """The data root's cache of derived artifacts (steering_core.derived), opened on
        first use; safe to share between threads."""
        return open_cache(self.data_root)

    @classmethod
    def open(
        cls, data_root: Path | str | None = None, labels_dir: Path | str | None = None
    ) -> Workspace:
        """Open (creating if needed) a workspace.

        The data root comes from the argument, else $STEER_DATA_ROOT, else ./data. The data
        root remembers its label folder (relative to itself) the first time it is opened:
        ./labels beside the default ./data, else DATA_ROOT/labels, unless the argument or
        $STEER_LABELS_DIR names one. Naming a different folder later is refused, so that one
        data root never has two label mirrors.
        """
        # An empty name would be the current folder (`Path("")`), which nobody means.
        for name, value in (("data root", data_root), ("labels dir", labels_dir)):
            if isinstance(value, str) and not value.strip():
                raise InvalidInput(f"{name}: empty; name a folder")
        root = Path(data_root or os.environ.get(DATA_ROOT_ENV) or DEFAULT_DATA_ROOT).resolve()
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise InvalidInput(f"data root {root} cannot be used as a folder: {error}") from None
        db = Database(root / DATABASE_FILE)
        asked = labels_dir or os.environ.get(LABELS_DIR_ENV)
        if asked is not None:
            labels = Path(asked).resolve()
        elif root == DEFAULT_DATA_ROOT.resolve():
            labels = DEFAULT_LABELS_DIR.resolve()
        else:
            labels = root / "labels"
        stored = db.setting("labels_dir")
        if stored is None:
            stored = db.remember("labels_dir", os.path.relpath(labels, root))
        remembered = (root / stored).resolve()
        if asked is not None and labels != remembered:
            raise InvalidInput(
                f"labels dir: data root {root} keeps its label CSVs in {remembered}; "
                f"use that folder (or move the CSVs and the data root together)"
            )
        return cls(
            data_root=root,
            labels_dir=remembered,
            db=db,
            images=ImageStore(root),
            labels=LabelLog(remembered),
        )
