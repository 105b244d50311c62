"""Run the benchmarks on SQLite and PostgreSQL; print a table and write bench/results.md.

For each engine: one fresh, seeded database; then the documents benchmark and the counter
flow, each with 1 worker process and with 2 in parallel (each worker at its own center, as
a central server serving several centers). Targets (the issue): >= 100 documents/s per core,
>= 50 full counter applications/s.

Knobs: BENCH_ENGINES (default "sqlite,postgresql"), BENCH_WORKERS (default "1,2"),
BENCH_DOCS / BENCH_APPS (per worker, default 300 / 200).
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, machine, prepare_database, run_workers


def _fmt_stages(stages: dict[str, float]) -> str:
    return ", ".join(f"{k} {v}" for k, v in stages.items())


def main() -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(stderr=True)
    engines = os.environ.get("BENCH_ENGINES", "sqlite,postgresql").split(",")
    worker_counts = [int(w) for w in os.environ.get("BENCH_WORKERS", "1,2").split(",")]
    env = {
        "BENCH_DOCS": os.environ.get("BENCH_DOCS", "300"),
        "BENCH_APPS": os.environ.get("BENCH_APPS", "200"),
    }
    began = time.perf_counter()
    rows: list[dict[str, Any]] = []
    for engine in engines:
        with console.status(f"{engine}: new database, migrate, seed…"):
            db = prepare_database(engine)
        for workers in worker_counts:
            with console.status(f"{engine}: documents, {workers} worker(s)…"):
                docs = run_workers("documents.py", db, workers, env)
            with console.status(f"{engine}: counter flow, {workers} worker(s)…"):
                flow = run_workers("counter_flow.py", db, workers, env)
            rows.append({"engine": engine, "workers": workers, "docs": docs, "flow": flow})
    seconds = time.perf_counter() - began

    table = Table(title="Baladiya benchmarks")
    for col in ("engine", "processes", "documents/s", "ms/doc", "counter apps/s", "ms/app"):
        table.add_column(col, justify="right")
    info = machine()
    lines = [
        "# Benchmark results",
        "",
        f"Measured {dt.date.today():%Y-%m-%d} with `make bench` (bench/run.py, {seconds:.0f} s).",
        "",
        *(f"- {k}: {v}" for k, v in info.items()),
        "",
        "Each process is one worker at its own center (C03, then the next staffed center),",
        "started together; rates are total items over the wall time from the first start to",
        "the last finish. ms per item is per process (wall time).",
        "",
        "| engine | processes | documents issued/s (render+sign+store) | ms/doc per process "
        "| full counter applications/s (create→cash→review→approve→issue) | ms/app per process |",
        "|---|---|---|---|---|---|",
    ]
    details = ["", "## Where the time goes (ms per item, per process)", ""]
    for r in rows:
        docs, flow = r["docs"], r["flow"]
        ms_doc = "/".join(str(x["ms_per_document"]) for x in docs["results"])
        ms_app = "/".join(str(x["ms_per_application"]) for x in flow["results"])
        table.add_row(
            r["engine"], str(r["workers"]), str(docs["per_s"]), ms_doc,
            str(flow["per_s"]), ms_app,
        )  # fmt: skip
        lines.append(
            f"| {r['engine']} | {r['workers']} | {docs['per_s']} | {ms_doc} "
            f"| {flow['per_s']} | {ms_app} |"
        )
        first_doc, first_flow = docs["results"][0], flow["results"][0]
        details.append(
            f"- {r['engine']}, {r['workers']} process(es): issuing = "
            f"{_fmt_stages(first_doc['stages_ms'])}, the rest is the database work "
            f"(of {first_doc['ms_per_document']}); signed PDF alone, no database: "
            f"{first_doc['pdf_only_ms']} ms. Counter flow: {_fmt_stages(first_flow['steps_ms'])}."
        )
    console.print(table)
    text = "\n".join(lines + details) + "\n"
    (ROOT / "bench" / "results.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
