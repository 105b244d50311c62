"""Typst rendering: one compiler per template per process, data passed as files on disk.

Speed (measurements: docs/decisions/0007-document-throughput.md). Typst memoises layout
(comemo, process-wide, trimmed after each compile to what the last 10 compiles used), so a
document costs only what changed since the previous one, if nothing defeats the cache:

- A `typst.Compiler` is kept per template and process: fonts are loaded once.
- The data reaches the template as the file `data.json`, read with `json("data.json")`. Not
  through `sys.inputs`: those are part of Typst's standard library, and a new library
  invalidates everything, so every compile re-shaped every Arabic word. A file is only a
  dependency of what reads it.
- The files live in a scratch folder of this process (the compilers' root), not in
  typst-py's dict input: a dict input re-parses the template's source on every compile
  (~6 % of a certificate) and holds only UTF-8 text, where a file on disk is parsed again
  only when its bytes change and may be binary (`files`: the QR code's raw pixels, which as
  a JSON array of 7,225 numbers cost ~1 ms to encode and decode).
- Templates keep per-document values out of `set page(...)`/`set document(...)` at the top
  (a set rule styles everything after it, so a changing value there defeats the cache too)
  and out of long paragraphs (a paragraph is shaped as a whole); see certificate.typ.

Data is still never spliced into Typst source: the template reads a JSON file.
"""

from __future__ import annotations

import atexit
import datetime as dt
import json
import os
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import fontpkg_amiri
import typst

TEMPLATE_DIR = Path(__file__).resolve().parent / "typst"
DATA_FILE = "data.json"  # the name templates read their data from
_lock = threading.Lock()  # one compile at a time per process: compilers and files are shared


def template_exists(name: str) -> bool:
    return bool(name) and "/" not in name and (TEMPLATE_DIR / name).is_file()


@dataclass
class _Compiler:
    compiler: typst.Compiler
    copied: tuple[int, int]  # (mtime_ns, size) of the template when copied into the root


@dataclass
class _Workspace:
    """This process's scratch root: copies of the templates, the data files, a compiler per
    template. Made anew in a forked child (the pid differs), so processes never share it."""

    pid: int
    root: Path
    compilers: dict[str, _Compiler]
    open_files: dict[str, int]  # name -> file descriptor, kept open between compiles

    def write(self, name: str, content: bytes) -> None:
        """Replace the file's content. Through a descriptor kept open: opening a file with
        O_TRUNC on every compile cost ~0.1 ms per file (ext4); this costs microseconds.
        Opened again if the file was deleted meanwhile (a cleaner of old temporary files)."""
        fd = self.open_files.get(name)
        if fd is not None and os.fstat(fd).st_nlink == 0:
            os.close(fd)
            fd = None
        if fd is None:
            flags = os.O_RDWR | os.O_CREAT | os.O_CLOEXEC
            fd = self.open_files[name] = os.open(self.root / name, flags, 0o600)
        os.pwrite(fd, content, 0)
        os.ftruncate(fd, len(content))

    def close(self) -> None:
        for fd in self.open_files.values():
            os.close(fd)
        self.open_files.clear()
        shutil.rmtree(self.root, ignore_errors=True)


_workspace: _Workspace | None = None


def _current_workspace() -> _Workspace:
    """This process's workspace; a new one after a fork, or when its folder is gone (a
    server runs for weeks, and some systems delete old files under /tmp)."""
    global _workspace
    if _workspace is not None and _workspace.pid == os.getpid():
        if _workspace.root.is_dir():
            return _workspace
        _workspace.close()
    root = Path(tempfile.mkdtemp(prefix="baladiya-typst-")).resolve()
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    _workspace = _Workspace(os.getpid(), root, {}, {})
    return _workspace


def _compiler(space: _Workspace, name: str) -> typst.Compiler:
    """The template's compiler, its copy refreshed when the template was edited (so an
    edited template applies without a restart; the copy keeps it inside the root)."""
    stat = (TEMPLATE_DIR / name).stat()
    current = (stat.st_mtime_ns, stat.st_size)
    entry = space.compilers.get(name)
    if entry is None or entry.copied != current or not (space.root / name).is_file():
        shutil.copyfile(TEMPLATE_DIR / name, space.root / name)
        if entry is None:
            entry = _Compiler(
                typst.Compiler(
                    input=str(space.root / name),
                    root=str(space.root),
                    font_paths=[str(fontpkg_amiri.ROOT)],
                    ignore_system_fonts=True,
                ),
                current,
            )
            space.compilers[name] = entry
        entry.copied = current
    return entry.compiler


def render_pdf(
    template: str,
    data: dict[str, Any],
    timestamp: dt.datetime | None = None,
    files: dict[str, bytes] | None = None,
) -> bytes:
    """Render `template` with `data` (available in Typst as `json("data.json")`) and binary
    `files` (read with `read(name, encoding: none)`).

    `timestamp` fixes the PDF creation date (and Typst's `datetime.today()`): the same data,
    files and timestamp give byte-identical output.
    """
    if not template_exists(template):
        raise FileNotFoundError(template)
    extra = files or {}
    # Plain names beside the templates' copies, never one of them (nor the data).
    if any(not name or "/" in name or name == DATA_FILE or name.endswith(".typ") for name in extra):
        raise ValueError("file names are plain names, not data.json nor a template")
    body = json.dumps(data, ensure_ascii=False).encode("utf-8")
    with _lock:
        space = _current_workspace()
        compiler = _compiler(space, template)
        space.write(DATA_FILE, body)
        for name, content in extra.items():
            space.write(name, content)
        result = compiler.compile(
            format="pdf",
            timestamp=timestamp.replace(microsecond=0) if timestamp else None,
        )
    assert isinstance(result, bytes)
    return result
