"""File storage that survives a power cut: a saved file is on disk before its row commits."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.core.files.storage import FileSystemStorage


def fsync_path(path: Path) -> None:
    """Flush a file, then its folder (a new name lives in the folder's entry, not the file)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


class DurableFileSystemStorage(FileSystemStorage):
    """Django's storage plus fsync of each saved file and its folder. Files are saved inside
    the transaction that records them (an attachment, a synced file), so once the row is
    committed, the bytes are too (SQLite `synchronous=FULL` covers only the database)."""

    def _save(self, name: str, content: Any) -> str:
        saved = super()._save(name, content)  # type: ignore[misc]  # private in the stubs
        fsync_path(Path(self.path(saved)))
        return str(saved)
