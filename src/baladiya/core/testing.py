"""Test support shared by every app's tests (kept out of the test packages so any of them may
import it): logged-in clients, and work run in threads released together to reproduce races
on PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.db import connections
from django.test import Client


def logged_in(user: Any, language: str = "en") -> Client:
    """A test client logged in as `user`, asking for `language` (messages are asserted in it)."""
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


def in_threads(jobs: list[Callable[[], Any]]) -> list[Any]:
    """Run each job in its own thread (own connection), all released at once; return each
    job's result or the exception it raised, in the order of `jobs`."""
    results: list[Any] = [None] * len(jobs)
    barrier = threading.Barrier(len(jobs))

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = jobs[i]()
        except BaseException as exc:
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def race(work: Callable[[], Any], n: int = 4) -> tuple[list[Any], list[BaseException]]:
    """Run `work` in `n` threads at once; return (results, errors)."""
    outcomes = in_threads([work] * n)
    errors = [o for o in outcomes if isinstance(o, BaseException)]
    return [o for o in outcomes if not isinstance(o, BaseException)], errors


def pdf_line_as_seen(pdf: bytes, token: str) -> str:
    """The line of the PDF's first page that holds `token`, as the eye sees it: its
    characters ordered left to right by their place on the page (not in the order they are
    stored, which is what text extraction gives). Shows whether a number inside Arabic text
    is printed the right way round."""
    import pypdfium2

    doc = pypdfium2.PdfDocument(pdf)
    try:
        textpage = doc[0].get_textpage()
        chars = [
            (textpage.get_text_range(i, 1), textpage.get_charbox(i))
            for i in range(textpage.count_chars())
        ]
        at = "".join(c for c, _ in chars).index(token)
        _left, bottom, _right, top = chars[at][1]
        # On the line: a character whose middle is within the token's height (a hyphen sits
        # higher than a letter's foot, a comma lower).
        line = [
            (box[0], c) for c, box in chars if c.strip() and bottom <= (box[1] + box[3]) / 2 <= top
        ]
        return "".join(c for _, c in sorted(line))
    finally:
        doc.close()
