"""Water import benchmark (issue 5): 100,000 subscribers and 600,000 bills imported from the
establishment's CSV files, on SQLite (a file database in a temporary folder: WAL,
synchronous=FULL, as in production) and on PostgreSQL (its own database, created and dropped
here); then the bill look-up by meter number the counter does (find_subscriptions +
unpaid_bills) for 2,000 random meters at that size, p50/p99. XLSX files (smaller) too.

    .venv/bin/python bench/water_import.py [--subscribers 100000] [--cycles 6]
        [--xlsx-subscribers 10000] [--engines sqlite,postgresql] [--enrol 0]

Target: >= 20,000 rows/s per kind and engine. Prints a summary; writes bench/water-results.json.
Each engine runs in its own process (Django reads its settings once per process).
`--enrol N`: N centers enrolled as center nodes first, so every bulk write also feeds their
change feed (rows of the neighbourhoods they serve), as on a central node in production.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "src"))
from common import PG_ADMIN_URL, machine  # noqa: E402

PG_DB = os.environ.get("BENCH_WATER_PG_DB", "bench_water")
FIRST = ["أحمد", "محمد", "خالد", "عمر", "يوسف", "رنا", "هبة", "لمى", "ريم", "سلمى", "نور"]
FATHER = ["محمود", "عبد الله", "إبراهيم", "حسن", "مصطفى", "سليمان", ""]
LAST = ["الحمصي", "الأتاسي", "السباعي", "الدروبي", "الجندي", "الخوري", "الزهراوي", "العطار"]
CYCLE_ENDS = ["02-28", "04-30", "06-30", "08-31", "10-31", "12-31"]


# ---------------------------------------------------------------- files


def _subscriber_rows(count: int, prefix: str, neighbourhoods: list[str], seed: int) -> list[Any]:
    rng = random.Random(seed)
    rows = []
    for i in range(count):
        # One citizen in ten holds a second meter (a shop below the flat).
        person = i - 1 if i % 10 == 9 else i
        national = f"04{(person % 97) + 1:02d}{person:07d}"
        rng_p = random.Random(person)
        rows.append(
            (
                f"{prefix}{i:07d}",
                national,
                rng_p.choice(FIRST),
                rng_p.choice(FATHER),
                rng_p.choice(LAST),
                f"09{rng_p.randint(30, 99)}{rng_p.randint(100000, 999999)}" if i % 3 else "",
                f"شارع {rng.randint(1, 400)}، بناء {rng.randint(1, 60)}",
                rng.choice(neighbourhoods),
                "household" if i % 20 else "commercial",
                "working" if i % 50 else "broken",
                f"{rng.randint(1995, 2025)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
            )
        )
    return rows


def _bill_rows(count: int, prefix: str, cycles: int, seed: int) -> list[Any]:
    """`cycles` bills per meter, cycle after cycle (as the establishment exports a cycle)."""
    rng = random.Random(seed)
    readings = [rng.randint(0, 5000) for _ in range(count)]
    rows = []
    for c in range(cycles):
        year, number = 2025 + c // 6, c % 6 + 1
        end = f"{year}-{CYCLE_ENDS[number - 1]}"
        due = (dt.date.fromisoformat(end) + dt.timedelta(days=30)).isoformat()
        for i in range(count):
            used = rng.randint(0, 140)
            previous, readings[i] = readings[i], readings[i] + used
            price = 150 if used <= 50 else 400 if used <= 80 else 1500 if used <= 120 else 3000
            rows.append(
                (
                    f"{prefix}{i:07d}",
                    f"{year}-{number:02d}",
                    end,
                    previous,
                    readings[i],
                    used,
                    used * price,
                    due,
                    f"EB-{year}{number}-{i:07d}",
                )
            )
    return rows


# ---------------------------------------------------------------- child: one engine


def _enrol(count: int) -> list[str]:
    from django.utils import timezone

    from baladiya.centers.models import Center
    from baladiya.documents.models import SigningKey
    from baladiya.sync.models import CenterNode

    enrolled = []
    for center in Center.objects.exclude(kind="electronic").order_by("code")[:count]:
        key = SigningKey.objects.create(
            key_id=f"bench-{center.code}",
            node=f"center:{center.code}",
            public_key="A" * 43,
            valid_from=timezone.now(),
            active=False,
        )
        CenterNode.objects.create(
            center=center,
            key=key,
            enrolled_at=timezone.now(),
            valid_until=timezone.now() + dt.timedelta(days=365),
        )
        enrolled.append(center.code)
    return enrolled


def _import(path: Path, kind: str) -> dict[str, Any]:
    from baladiya.water.importing import import_file

    content = path.read_bytes()
    started = time.perf_counter()
    cpu = time.process_time()
    batch = import_file(content, path.name, kind, "bench", source="cli")
    seconds = time.perf_counter() - started
    assert batch.failed == 0, f"{kind}: {batch.failed} rows refused"
    return {
        "kind": kind,
        "file": path.name,
        "bytes": len(content),
        "rows": batch.rows,
        "created": batch.created,
        "unchanged": batch.unchanged,
        "seconds": round(seconds, 2),
        "rows_per_s": round(batch.rows / seconds),
        "cpu_seconds": round(time.process_time() - cpu, 2),
    }


def _lookups(meters: list[str], count: int) -> dict[str, Any]:
    from baladiya.water.services import find_subscriptions as find
    from baladiya.water.services import unpaid_bills

    rng = random.Random(99)
    chosen = [rng.choice(meters) for _ in range(count)]
    times = []
    for meter in chosen:
        started = time.perf_counter()
        subs = list(find(meter))
        bills = [list(unpaid_bills(s)) for s in subs]
        times.append(time.perf_counter() - started)
        assert subs and bills[0], meter
    times.sort()
    return {
        "lookups": count,
        "p50_ms": round(times[len(times) // 2] * 1000, 2),
        "p99_ms": round(times[int(len(times) * 0.99) - 1] * 1000, 2),
        "max_ms": round(times[-1] * 1000, 2),
    }


def child(engine: str, url: str, args: argparse.Namespace) -> dict[str, Any]:
    from common import setup_django

    setup_django(url)  # migrate + the Homs seed (neighbourhoods, household tariff)
    from django.db import connection

    from baladiya.centers.models import Neighbourhood
    from baladiya.water.samples import BILLS, SUBSCRIBERS, csv_bytes, xlsx_bytes
    from baladiya.water.seed import seed_tariffs

    seed_tariffs()
    enrolled = _enrol(args.enrol) if args.enrol else []
    folder = Path(tempfile.mkdtemp(prefix="baladiya-bench-water-"))
    names = list(Neighbourhood.objects.values_list("name_ar", flat=True))
    made = time.perf_counter()
    subscribers = _subscriber_rows(args.subscribers, "HMS-", names, 1)
    (folder / "subscribers.csv").write_bytes(csv_bytes(SUBSCRIBERS, subscribers))
    bills = _bill_rows(args.subscribers, "HMS-", args.cycles, 2)
    (folder / "bills.csv").write_bytes(csv_bytes(BILLS, bills))
    del bills
    files_s = time.perf_counter() - made
    results = [
        _import(folder / "subscribers.csv", "subscribers"),
        _import(folder / "bills.csv", "bills"),
    ]
    # The same bills again as another file (a copy with a trailing blank line): all unchanged.
    (folder / "bills-again.csv").write_bytes((folder / "bills.csv").read_bytes() + b"\r\n")
    again = _import(folder / "bills-again.csv", "bills")
    again["kind"] = "bills, again (all unchanged)"
    results.append(again)
    if args.xlsx_subscribers:
        small = _subscriber_rows(args.xlsx_subscribers, "XLS-", names, 3)
        (folder / "subscribers.xlsx").write_bytes(xlsx_bytes(SUBSCRIBERS, small))
        small_bills = _bill_rows(args.xlsx_subscribers, "XLS-", args.cycles, 4)
        (folder / "bills.xlsx").write_bytes(xlsx_bytes(BILLS, small_bills))
        results.append(_import(folder / "subscribers.xlsx", "subscribers"))
        results.append(_import(folder / "bills.xlsx", "bills"))
    meters = [row[0] for row in subscribers]
    lookup = _lookups(meters, args.lookups)
    nationals = [row[1] for row in subscribers]
    lookup["by_national_number"] = _lookups(nationals, args.lookups)
    feed = 0
    if enrolled:
        from baladiya.sync.models import Change

        feed = Change.objects.count()
    shutil.rmtree(folder, ignore_errors=True)
    return {
        "engine": engine,
        "vendor": connection.vendor,
        "enrolled_centers": enrolled,
        "change_feed_rows": feed,
        "file_generation_s": round(files_s, 1),
        "imports": results,
        "lookup": lookup,
    }


# ---------------------------------------------------------------- parent


def _pg(action: str) -> str:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)')
        if action == "create":
            conn.execute(f'CREATE DATABASE "{PG_DB}"')
    return f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{PG_DB}"


def _run_engine(engine: str, args: argparse.Namespace) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="baladiya-bench-water-db-"))
    url = f"sqlite:///{folder}/bench.sqlite3" if engine == "sqlite" else _pg("create")
    env = dict(
        os.environ,
        BALADIYA_VAR_DIR=str(folder / "var"),
        BALADIYA_KEY_DIR=str(folder),
        # As in production (BALADIYA_TESTING, set for the seed, would make it 0: a query
        # for the enrolled centers on every captured row).
        BALADIYA_SYNC_ENROLLED_CACHE_SECONDS="5",
    )
    command = [sys.executable, __file__, "--child", engine, url, *sys.argv[1:]]
    try:
        out = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        if out.returncode:
            raise SystemExit(f"{engine} failed:\n{out.stdout[-3000:]}\n{out.stderr[-5000:]}")
        result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
        return result
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        if engine == "postgresql":
            _pg("drop")


def _arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--cycles", type=int, default=6, help="bills per subscriber")
    parser.add_argument("--xlsx-subscribers", type=int, default=10_000)
    parser.add_argument("--lookups", type=int, default=2000)
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--enrol", type=int, default=0, help="centers enrolled as nodes")
    parser.add_argument("--output", default=str(ROOT / "bench" / "water-results.json"))
    return parser.parse_args(argv)


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        engine, url = sys.argv[2], sys.argv[3]
        print(json.dumps(child(engine, url, _arguments(sys.argv[4:]))), flush=True)
        return
    args = _arguments(sys.argv[1:])
    started = time.time()
    load_before = os.getloadavg()[0]  # others' work on this shared machine
    runs = []
    for engine in args.engines.split(","):
        print(f"{engine}: importing…", flush=True)
        run = _run_engine(engine, args)
        runs.append(run)
        for item in run["imports"]:
            print(
                f"  {item['kind']:<30} {item['rows']:>8,} rows in {item['seconds']:>6.1f} s "
                f"= {item['rows_per_s']:>7,} rows/s  ({item['file']})",
                flush=True,
            )
        lookup = run["lookup"]
        for label, found in (
            ("by meter", lookup),
            ("by national number", lookup["by_national_number"]),
        ):
            print(
                f"  bill look-up {label} ({found['lookups']}): p50 {found['p50_ms']} ms, "
                f"p99 {found['p99_ms']} ms",
                flush=True,
            )
    report = {
        "measured": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "load_before": load_before,
        "load_after": os.getloadavg()[0],
        "target_rows_per_s": 20_000,
        "subscribers": args.subscribers,
        "bills": args.subscribers * args.cycles,
        "runs": runs,
        "total_seconds": round(time.time() - started, 1),
    }
    Path(args.output).write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
    print(json.dumps(report["runs"]))


if __name__ == "__main__":
    main()
