"""Uploaded files are flushed to disk (file and folder) before the row that names them commits."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile

from baladiya.core.storage import DurableFileSystemStorage


def test_a_saved_file_and_its_folder_are_flushed(monkeypatch: pytest.MonkeyPatch) -> None:
    flushed: list[str] = []
    real_fsync = os.fsync

    def spy(fd: int) -> None:
        flushed.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", spy)
    storage = DurableFileSystemStorage()
    name = storage.save("attachments/id-card.pdf", ContentFile(b"%PDF-1.7 test"))
    path = Path(storage.path(name))
    assert path.read_bytes() == b"%PDF-1.7 test"
    assert str(path) in flushed
    assert str(path.parent) in flushed


def test_it_is_the_default_storage(settings: Any) -> None:
    assert settings.STORAGES["default"]["BACKEND"].endswith("DurableFileSystemStorage")


def test_many_files_saved_together_are_flushed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """A sync batch's PDFs: one sync() before the batch commits, not two fsyncs a file."""
    from baladiya.core.storage import one_flush_for_many

    calls: list[str] = []
    monkeypatch.setattr(os, "fsync", lambda fd: calls.append("fsync"))
    monkeypatch.setattr(os, "sync", lambda: calls.append("sync"))
    storage = DurableFileSystemStorage()
    with one_flush_for_many():
        for i in range(5):
            storage.save(f"documents/d{i}.pdf", ContentFile(b"%PDF-1.7 doc"))
        assert calls == []  # nothing flushed yet: the rows are not committed either
    assert calls == ["sync"]
    with pytest.raises(RuntimeError), one_flush_for_many():
        storage.save("documents/x.pdf", ContentFile(b"%PDF"))
        raise RuntimeError("the batch failed: its transaction rolls back")
    assert calls == ["sync"]
    storage.save("documents/alone.pdf", ContentFile(b"%PDF"))  # outside: flushed at once
    assert calls == ["sync", "fsync", "fsync"]
