"""Storage: SQLite system of record, PNG images and label CSVs under one workspace."""

from steering_core.storage.workspace import Workspace

__all__ = ["Workspace"]
