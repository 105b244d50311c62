"""File storage that survives a power cut: a saved file is on disk before its row commits."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.core.files.storage import FileSystemStorage

_local = threading.local()


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


@contextlib.contextmanager
def one_flush_for_many() -> Iterator[None]:
    """Files saved inside are flushed together on the way out, before the caller commits:
    one `sync()` instead of two fsyncs per file. A sync batch carries dozens of documents'
    PDFs, and each fsync waits for the disk (6.5 ms a file here: most of a week's catch-up).
    Nested use flushes once, at the outermost exit; an exception skips the flush (the
    caller's transaction rolls back, and the unreferenced files are harmless)."""
    if getattr(_local, "deferring", False):
        yield
        return
    _local.deferring, _local.pending = True, 0
    try:
        yield
        if _local.pending:
            os.sync()  # waits until written (Linux); covers the files and their folders
    finally:
        _local.deferring, _local.pending = False, 0


class DurableFileSystemStorage(FileSystemStorage):
    """Django's storage plus fsync of each saved file and its folder. Files are saved inside
    the transaction that records them (an attachment, a synced file), so once the row is
    committed, the bytes are too (SQLite `synchronous=FULL` covers only the database)."""

    def _save(self, name: str, content: Any) -> str:
        saved = super()._save(name, content)  # type: ignore[misc]  # private in the stubs
        if getattr(_local, "deferring", False):
            _local.pending += 1
        else:
            fsync_path(Path(self.path(saved)))
        return str(saved)
