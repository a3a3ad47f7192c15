"""A workspace: the data root (database and images) plus the label folder, opened together."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

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

    @classmethod
    def open(
        cls, data_root: Path | str | None = None, labels_dir: Path | str | None = None
    ) -> Workspace:
        """Open (creating if needed) a workspace.

        The data root comes from the argument, else $STEER_DATA_ROOT, else ./data. Labels go to
        the argument, else $STEER_LABELS_DIR, else ./labels beside the default data root, and
        inside a data root that was chosen explicitly (so one flag moves everything).
        """
        explicit_root = data_root is not None or DATA_ROOT_ENV in os.environ
        root = Path(data_root or os.environ.get(DATA_ROOT_ENV) or DEFAULT_DATA_ROOT)
        if labels_dir is None:
            labels_dir = os.environ.get(LABELS_DIR_ENV) or (
                root / "labels" if explicit_root else DEFAULT_LABELS_DIR
            )
        root = root.resolve()
        root.mkdir(parents=True, exist_ok=True)
        db = Database(root / DATABASE_FILE)
        return cls(
            data_root=root,
            labels_dir=Path(labels_dir).resolve(),
            db=db,
            images=ImageStore(root),
            labels=LabelLog(Path(labels_dir).resolve()),
        )
