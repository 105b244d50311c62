"""Typst rendering: one compiler per template per process, data passed as a JSON file.

Speed (measurements: docs/decisions/0007-document-throughput.md). Typst memoises layout
(comemo, process-wide, trimmed after each compile to what the last 10 compiles used), so a
document costs only what changed since the previous one, if nothing defeats the cache:

- A `typst.Compiler` is kept per template and process: fonts are loaded once.
- The data reaches the template as a virtual file `data.json` (typst-py's dict input), read
  with `json("data.json")`. Not through `sys.inputs`: those are part of Typst's standard
  library, and a new library invalidates everything, so every compile re-shaped every Arabic
  word. A file is only a dependency of what reads it.
- Templates keep per-document values out of `set page(...)`/`set document(...)` at the top
  (a set rule styles everything after it, so a changing value there defeats the cache too)
  and out of long paragraphs (a paragraph is shaped as a whole); see certificate.typ.

Data is still never spliced into Typst source: the template reads a JSON file.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from pathlib import Path
from typing import Any

import fontpkg_amiri
import typst

TEMPLATE_DIR = Path(__file__).resolve().parent / "typst"
DATA_FILE = "data.json"  # the name templates read their data from
_compilers: dict[str, typst.Compiler] = {}
_lock = threading.Lock()


def template_exists(name: str) -> bool:
    return bool(name) and "/" not in name and (TEMPLATE_DIR / name).is_file()


def _compiler(name: str) -> typst.Compiler:
    compiler = _compilers.get(name)
    if compiler is None:
        compiler = typst.Compiler(
            root=str(TEMPLATE_DIR),
            font_paths=[str(fontpkg_amiri.ROOT)],
            ignore_system_fonts=True,
        )
        _compilers[name] = compiler
    return compiler


def render_pdf(template: str, data: dict[str, Any], timestamp: dt.datetime | None = None) -> bytes:
    """Render `template` with `data` (available in Typst as `json("data.json")`).

    `timestamp` fixes the PDF creation date (and Typst's `datetime.today()`): the same data
    and timestamp give byte-identical output.
    """
    if not template_exists(template):
        raise FileNotFoundError(template)
    files = {
        # Read from disk on each compile: as fast as passing cached bytes (measured), and an
        # edited template applies without a restart.
        "main": TEMPLATE_DIR / template,
        DATA_FILE: json.dumps(data, ensure_ascii=False).encode("utf-8"),
    }
    with _lock:  # a compiler is not safe to share between threads mid-compile
        result = _compiler(template).compile(
            input=files,  # type: ignore[type-var]  # typst-py takes a dict; its stub predates it
            format="pdf",
            timestamp=timestamp.replace(microsecond=0) if timestamp else None,
        )
    assert isinstance(result, bytes)
    return result
