"""Run every benchmark on SQLite and PostgreSQL; print a table and write bench/results.md."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, machine, run_child


def main() -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(stderr=True)
    rows = []
    for engine in ("sqlite", "postgresql"):
        with console.status(f"counter flow on {engine}…"):
            rows.append(run_child("counter_flow.py", engine))
    table = Table(title="Baladiya benchmarks")
    for col in ("engine", "documents/s", "ms/doc", "counter apps/s", "ms/app"):
        table.add_column(col)
    lines = [
        f"Measured {dt.date.today():%Y-%m-%d} on {machine()}, single process.",
        "",
        "| engine | documents issued/s (render+sign+store) | ms/doc | full counter applications/s "
        "(create→cash→approve→issue) | ms/app |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        table.add_row(
            r["engine"], str(r["documents_per_s"]), str(r["ms_per_document"]),
            str(r["applications_per_s"]), str(r["ms_per_application"]),
        )  # fmt: skip
        lines.append(
            f"| {r['engine']} | {r['documents_per_s']} | {r['ms_per_document']} | "
            f"{r['applications_per_s']} | {r['ms_per_application']} |"
        )
    console.print(table)
    (ROOT / "bench" / "results.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
