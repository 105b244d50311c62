"""Power cuts lose nothing: SIGKILL a busy center node many times, restart it, check.

The same harness as the test suite's `core/tests/test_power_cut.py` (which kills 50 times),
`baladiya.core.crashtest.run_crash_test`, with more kills: a center node C03 on its own SQLite
file (WAL, synchronous=FULL) works a stream of counter operations through the service
functions; it is killed at a random point 50–600 ms after its first acknowledgement, restarted
(the start-up check runs, pending work resumes), and after the last kill DESIGN §5 invariants
are checked over the database and every acknowledgement.

    BALADIYA_TESTING=1 .venv/bin/python bench/crash.py [--kills 300] [--seed N] [--keep DIR]

Prints a summary (kills, acknowledgements, operations/s, where the kills landed, problems) on
stderr, one JSON line on stdout, and exits 1 when a problem was found (the database and the
acknowledgements are then kept for inspection).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from baladiya.core.crashtest import CrashReport, run_crash_test


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=300, help="SIGKILLs (default 300)")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: time)")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    return parser.parse_args()


def _summary(report: CrashReport, seed: int) -> Table:
    table = Table(title=f"Power-cut test, seed {seed}", show_header=False)
    table.add_column(style="bold")
    table.add_column()
    acks = report.ack_counts
    table.add_row("kills", f"{report.kills} (worker starts: {report.runs})")
    table.add_row(
        "acknowledged",
        f"{len(report.acks)}: " + ", ".join(f"{op} {n}" for op, n in sorted(acks.items())),
    )
    table.add_row("lines cut by a kill", str(report.cut_lines))
    table.add_row("operations/s", f"{report.ops_per_second:.1f} (while serving)")
    table.add_row(
        "kills landed", ", ".join(f"{k} {n}" for k, n in report.kill_phases.most_common())
    )
    table.add_row("… during", ", ".join(f"{k} {n}" for k, n in report.kill_ops.most_common()))
    table.add_row("final database", ", ".join(f"{k} {n}" for k, n in report.rows.items()))
    table.add_row("time", f"{report.seconds:.1f} s")
    table.add_row(
        "problems",
        "[green]none[/green]"
        if not report.problems
        else "[red]" + "\n".join(report.problems[:30]) + "[/red]",
    )
    return table


def main() -> int:
    args = _arguments()
    seed = args.seed if args.seed is not None else int(time.time())
    console = Console(stderr=True)
    folder = args.keep or Path(tempfile.mkdtemp(prefix="baladiya-crash-"))
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[acks]} acks"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("kills", total=args.kills, acks=0)

        def advance(report: CrashReport) -> None:
            done = report.kills == args.kills
            progress.update(
                task,
                completed=report.kills,
                acks=len(report.acks),
                description="checking" if done else "kills",
            )

        report = run_crash_test(args.kills, seed, folder, progress=advance)
    console.print(_summary(report, seed))
    print(json.dumps({"seed": seed, **report.summary()}, ensure_ascii=False), flush=True)
    if report.problems:
        console.print(f"[red]Kept for inspection:[/red] {folder}")
        return 1
    if args.keep is None:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
