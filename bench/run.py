"""Run the benchmarks on SQLite and PostgreSQL; print a table and write bench/results.md.

For each engine: one fresh, seeded database; then the documents benchmark and the counter
flow, each with 1 worker process and with 2 in parallel (each worker at its own center, as
a central server serving several centers). Targets (the issue): >= 100 documents/s per core,
>= 50 full counter applications/s.

Two kinds of rate: per second of wall time (what the machine delivered, depends on whatever
else was running), and per CPU-second (worker process + its PostgreSQL backend, read from
/proc): the per-core figure, which hardly depends on other load.

Knobs: BENCH_ENGINES (default "sqlite,postgresql"), BENCH_WORKERS (default "1,2"),
BENCH_DOCS / BENCH_APPS (per worker, default 200 / 150).
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, machine, prepare_database, run_workers


def _per_cpu_s(run: dict[str, Any]) -> float:
    cpu = sum(r["cpu_seconds"] + r["db_cpu_seconds"] for r in run["results"])
    return round(run["count"] / cpu, 1) if cpu else 0.0


def _pdfs_per_cpu_s(run: dict[str, Any]) -> float:
    """Signed PDFs (claims, QR, Typst, both signatures; no database) per CPU-second."""
    cpu_ms = [r["pdf_only_ms"]["cpu"] for r in run["results"]]
    return round(1000 * len(cpu_ms) / sum(cpu_ms), 1)


def _stored_per_cpu_s(run: dict[str, Any]) -> float:
    """Documents rendered, signed and stored (the issue's "render + sign + store") per
    CPU-second of the worker and its database backend."""
    cpu_ms = [r["pdf_stored_ms"]["cpu"] for r in run["results"]]
    return round(1000 * len(cpu_ms) / sum(cpu_ms), 1)


def _stages(stages: dict[str, float]) -> str:
    return ", ".join(f"{k} {v}" for k, v in stages.items())


def _load() -> str:
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "?"


def main() -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(stderr=True)
    engines = os.environ.get("BENCH_ENGINES", "sqlite,postgresql").split(",")
    worker_counts = [int(w) for w in os.environ.get("BENCH_WORKERS", "1,2").split(",")]
    env = {
        "BENCH_DOCS": os.environ.get("BENCH_DOCS", "200"),
        "BENCH_APPS": os.environ.get("BENCH_APPS", "150"),
    }
    began = time.perf_counter()
    rows: list[dict[str, Any]] = []
    scratch = tempfile.TemporaryDirectory(prefix="baladiya-bench-")  # databases, keys, media
    os.environ["BENCH_TMP"] = scratch.name
    for engine in engines:
        with console.status(f"{engine}: new database, migrate, seed…"):
            db = prepare_database(engine)
        for workers in worker_counts:
            load = _load()
            with console.status(f"{engine}: documents, {workers} worker(s)…"):
                docs = run_workers("documents.py", db, workers, env)
            with console.status(f"{engine}: counter flow, {workers} worker(s)…"):
                flow = run_workers("counter_flow.py", db, workers, env)
            rows.append(
                {"engine": engine, "workers": workers, "docs": docs, "flow": flow, "load": load}
            )
    seconds = time.perf_counter() - began
    scratch.cleanup()

    table = Table(title="Baladiya benchmarks")
    columns = ("engine", "procs", "PDFs/CPU-s", "stored/CPU-s", "docs/s", "docs/CPU-s")
    columns = (*columns, "apps/s", "apps/CPU-s")
    columns = (*columns, "load")
    for col in columns:
        table.add_column(col, justify="right")
    lines = [
        "# Benchmark results",
        "",
        f"Measured {dt.date.today():%Y-%m-%d} with `make bench` (bench/run.py, {seconds:.0f} s).",
        "",
        *(f"- {k}: {v}" for k, v in machine().items()),
        "",
        "Each process is one worker at its own center (C03, then the next staffed center),",
        "released together; `/s` = items over the wall time from the first start to the last",
        "finish; `/CPU-s` = items per CPU-second of the workers plus their PostgreSQL backends",
        "(the per-core rate; it hardly depends on other load). `load` = 1-minute load average",
        "before the run (other work on the machine slows the wall-time rates).",
        "",
        "| engine | processes | signed PDFs per CPU-second (no database) "
        "| rendered + signed + stored per CPU-second "
        "| whole issuances/s | whole issuances per CPU-second "
        "| counter applications/s | counter applications per CPU-second | load |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    details = [
        "",
        "Signed PDF = claims, QR code, Typst render, both Ed25519 signatures, no database.",
        "Rendered + signed + stored = the signed PDF for the next number of the center's",
        "series and its document row (holder, claims, PDF bytes, SHA-256) committed: the",
        'issue\'s "documents issued (render + sign + store)", without the workflow.',
        "Whole issuance = `issue_document` (the signed PDF, stored, with the `issue` and",
        "`route_to_pickup` transitions, their history, audit events and SMS) for approved",
        "applications. Counter application = submit → cash payment → start review → approve",
        "→ issue, through the service functions.",
        "",
        "## Where the time goes (ms per item, wall time, per process)",
        "",
    ]
    for r in rows:
        docs, flow = r["docs"], r["flow"]
        row = (
            r["engine"], str(r["workers"]), str(_pdfs_per_cpu_s(docs)),
            str(_stored_per_cpu_s(docs)), str(docs["per_s"]), str(_per_cpu_s(docs)),
            str(flow["per_s"]), str(_per_cpu_s(flow)), r["load"],
        )  # fmt: skip
        table.add_row(*row)
        lines.append("| " + " | ".join(row) + " |")
        for i, (d, f) in enumerate(zip(docs["results"], flow["results"], strict=True)):
            pdf = d["pdf_only_ms"]
            details.append(
                f"- {r['engine']}, {r['workers']} process(es), worker {i}: "
                f"issue {d['ms_per_document']} = {_stages(d['stages_ms'])} + database; "
                f"signed PDF alone (no database) {pdf['wall']} wall / {pdf['cpu']} CPU "
                f"(= {round(1000 / pdf['cpu'])} PDFs per CPU-second); rendered + signed + "
                f"stored {d['pdf_stored_ms']['wall']} wall / {d['pdf_stored_ms']['cpu']} CPU. "
                f"Counter application {f['ms_per_application']} = {_stages(f['steps_ms'])}."
            )
    console.print(table)
    text = "\n".join(lines + details) + "\n"
    (ROOT / "bench" / "results.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
