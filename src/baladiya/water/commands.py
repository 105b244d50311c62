"""`baladiya water …`: the exchange with the water establishment from the command line.

    baladiya water import FILE --kind subscribers|readings|bills [--as USER] [--force]
                                 [--errors REPORT.csv]
    baladiya water fetch [--as USER]              import the establishment's waiting files
    baladiya water export-collections --day YYYY-MM-DD [--as USER]

Exit status: 0 every row imported (or the day's file acknowledged), 1 some rows refused or
some file not imported (listed), 2 a usage error, an unreadable file or the establishment
unreachable after retries.
"""

from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table


class UsageError(Exception):
    """Reported by the caller as a usage error (exit status 2)."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True, metavar="action")
    imp = sub.add_parser("import", help="import a subscribers, readings or bills file")
    imp.add_argument("file", metavar="FILE", help="CSV or XLSX")
    imp.add_argument("--kind", required=True, choices=["subscribers", "readings", "bills"])
    imp.add_argument("--force", action="store_true", help="read it again even if identical")
    imp.add_argument("--errors", metavar="REPORT.csv", help="write the refused rows here")
    fetch = sub.add_parser("fetch", help="import the files the establishment left for us")
    export = sub.add_parser("export-collections", help="send a day's collections file")
    export.add_argument("--day", required=True, help="business day, YYYY-MM-DD")
    for each in (imp, fetch, export):
        each.add_argument("--as", dest="as_user", metavar="USERNAME", help="who acts (audit)")


def _columns(label: str) -> tuple[Any, ...]:
    return (TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())


def _progress_to(progress: Progress, label: str) -> Callable[[int, int | None], None]:
    task = progress.add_task(label, total=None)

    def report(done: int, total: int | None) -> None:
        progress.update(task, completed=done, total=max(total or 0, done) or None)

    return report


def _summary(console: Console, batches: list[Any]) -> None:
    table = Table(show_edge=False)
    for column in ("file", "kind", "state", "rows", "created", "updated", "unchanged", "refused"):
        table.add_column(column, justify="right" if column[0] in "rcuU" else "left")
    for b in batches:
        table.add_row(b.file_name, b.kind, b.state, *(str(n) for n in (
            b.rows, b.created, b.updated, b.unchanged, b.failed)))  # fmt: skip
    console.print(table)


def _show_issues(console: Console, batch: Any, limit: int = 20) -> None:
    from baladiya.water.importing import issue_message

    for issue in batch.issues.order_by("row", "id")[:limit]:
        console.print(f"  row {issue.row}, {issue.column} “{issue.value}”: {issue_message(issue)}")
    if batch.failed and batch.issues.count() > limit:
        console.print(f"  … {batch.issues.count() - limit} more (--errors REPORT.csv)")


def run(args: argparse.Namespace, console: Console, actor: Any) -> int:
    if args.action == "import":
        return _import(args, console, actor)
    if args.action == "fetch":
        return _fetch(console, actor)
    return _export(args, console, actor)


def _import(args: argparse.Namespace, console: Console, actor: Any) -> int:
    from baladiya.water.importing import error_report_lines, import_file

    path = Path(args.file)
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from exc
    with Progress(*_columns(path.name), console=console, transient=True) as progress:
        batch = import_file(
            content,
            path.name,
            args.kind,
            actor,
            source="cli",
            force=args.force,
            progress=_progress_to(progress, path.name),
        )
    _summary(console, [batch])
    if batch.state == "identical":
        console.print("This very file was imported before: nothing done (--force reads it again).")
    if batch.failed:
        _show_issues(console, batch)
        if args.errors:
            with open(args.errors, "wb") as out:
                for chunk in error_report_lines(batch):
                    out.write(chunk)
            console.print(f"Error report: {args.errors}")
        return 1
    return 0


def _retrying(console: Console) -> Callable[[int, Exception], None]:
    def report(attempt: int, exc: Exception) -> None:
        console.print(f"[yellow]the establishment did not answer ({exc}); trying again…[/]")

    return report


def _fetch(console: Console, actor: Any) -> int:
    from baladiya.water.importing import fetch_and_import

    with Progress(*_columns("fetch"), console=console, transient=True) as progress:
        results = fetch_and_import(
            actor,
            on_retry=_retrying(console),
            progress=lambda name: _progress_to(progress, name),
        )
    if not results:
        console.print("No file waiting at the water establishment.")
        return 0
    _summary(console, [r.batch for r in results if r.batch is not None])
    for r in results:
        if r.error:
            console.print(f"[red]{r.name}: {r.error}[/] (left at the establishment)")
        elif r.batch is not None and r.batch.failed:
            console.print(f"[yellow]{r.name}: {r.batch.failed} rows refused[/]")
            _show_issues(console, r.batch, limit=5)
    failed = any(r.error or (r.batch is not None and r.batch.failed) for r in results)
    return 1 if failed else 0


def _export(args: argparse.Namespace, console: Console, actor: Any) -> int:
    from baladiya.water.collections import send_collections

    try:
        day = dt.date.fromisoformat(args.day)
    except ValueError as exc:
        raise UsageError(f"--day: {args.day!r} is not a date (YYYY-MM-DD)") from exc

    export = send_collections(day, actor, on_retry=_retrying(console))
    console.print(
        f"{export.file_name}: {export.lines} payments, {export.amount} piastres "
        f"(of which paid twice {export.overpayment}); "
        f"acknowledged by the establishment as {export.acknowledgement}"
    )
    return 0
