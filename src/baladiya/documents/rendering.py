"""Typst rendering: one compiler per template per process (fonts loaded once, ~2–4 ms/doc).

Data goes in through `sys.inputs` as JSON, never by building Typst source from user text.
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
_compilers: dict[str, typst.Compiler] = {}
_lock = threading.Lock()


def template_exists(name: str) -> bool:
    return bool(name) and "/" not in name and (TEMPLATE_DIR / name).is_file()


def _compiler(name: str) -> typst.Compiler:
    with _lock:
        compiler = _compilers.get(name)
        if compiler is None:
            if not template_exists(name):
                raise FileNotFoundError(name)
            compiler = typst.Compiler(
                str(TEMPLATE_DIR / name),
                root=str(TEMPLATE_DIR),
                font_paths=[str(fontpkg_amiri.ROOT)],
                ignore_system_fonts=True,
            )
            _compilers[name] = compiler
        return compiler


def render_pdf(template: str, data: dict[str, Any], timestamp: dt.datetime | None = None) -> bytes:
    """Render `template` with `data` (available in Typst as `json(bytes(sys.inputs.data))`).

    `timestamp` fixes the PDF creation date (and Typst's `datetime.today()`): the same data
    and timestamp give byte-identical output.
    """
    compiler = _compiler(template)
    with _lock:  # a compiler is not safe to share between threads mid-compile
        result = compiler.compile(
            format="pdf",
            sys_inputs={"data": json.dumps(data, ensure_ascii=False)},
            timestamp=timestamp.replace(microsecond=0) if timestamp else None,
        )
    assert isinstance(result, bytes)
    return result
