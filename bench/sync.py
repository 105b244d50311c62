"""Sync benchmark (issue 4): a center offline for a week catches up; a large backlog applies
centrally. Two real nodes on loopback: central = `baladiya run` on PostgreSQL, center = SQLite.

1. The center serves DAYS days of work (default 7 x 120 applications to a signed document and
   300 cash payments a day) with the link down; then one sync round is timed: push (central
   applies every event) and pull. Target: <= 10 s.
2. Backlog: the center accumulates BACKLOG events (default 100,000) of the same kind of work,
   then pushes them; events applied per second centrally. Target: >= 2,000 events/s.

`python bench/sync.py [--days 7] [--backlog 100000] [--skip-backlog]`; prints a summary and
one JSON line; `make bench-sync` writes bench/sync-results.json.
"""

from __future__ import annotations

import argparse
import json
import math
import os
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


def _script(node: Any, name: str, *args: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, str(ROOT / "bench" / name), *args],
        env=node.env,
        capture_output=True,
        text=True,
        check=False,
        cwd=node.folder,
    )
    if out.returncode:
        raise SystemExit(f"{name} failed:\n{out.stdout}\n{out.stderr}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _week(folder: Path, days: int, apps: int, payments: int) -> dict[str, Any]:
    from baladiya.sync.tests.twonodes import (
        center_node,
        central_node,
        drop_central_database,
        enrolment_code,
    )

    central = central_node(folder / "central")
    # As in production: processes cache the list of enrolled centers (tests use 0).
    central.env["BALADIYA_SYNC_ENROLLED_CACHE_SECONDS"] = "5"
    central.start()
    try:
        center = center_node(folder / "center")
        if os.environ.get("BENCH_SYNC_BATCH"):
            center.env["BALADIYA_SYNC_BATCH_SIZE"] = os.environ["BENCH_SYNC_BATCH"]
        center.cli("center", "enroll", "--central", central.url, "--code", enrolment_code(central))
        central.stop()  # offline for the whole period
        work = _script(center, "sync_center_work.py", str(days), str(apps), str(payments))
        central.start()
        round_ = _script(center, "sync_round.py")
        applied = central.sql("select count(*) from sync_inboundevent")[0][0]
        return {
            "work": work,
            "sync": round_,
            "central_events": applied,
            "events_per_s": round(round_["events"] / max(round_["push_s"], 1e-9)),
        }
    finally:
        central.stop()
        drop_central_database(central)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--apps", type=int, default=120)
    parser.add_argument("--payments", type=int, default=300)
    parser.add_argument("--backlog", type=int, default=100_000)
    parser.add_argument("--skip-backlog", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("DATABASE_URL", PG_ADMIN_URL)  # central on PostgreSQL
    results: dict[str, Any] = {"machine": machine()}
    with tempfile.TemporaryDirectory(prefix="baladiya-sync-bench-") as tmp:
        week = _week(Path(tmp) / "week", args.days, args.apps, args.payments)
        results["week"] = week
        print(
            f"{args.days} days offline ({week['work']['payments']} payments, "
            f"{week['work']['applications_issued']} documents, {week['sync']['events']} events, "
            f"{week['work']['unsent_json_mb']} MB): sync round {week['sync']['round_s']} s "
            f"(push {week['sync']['push_s']} s, pull {week['sync']['pull_s']} s), "
            f"{week['events_per_s']} events/s",
            file=sys.stderr,
        )
        if not args.skip_backlog:
            per_day = max(week["sync"]["events"] / args.days, 1)
            days = max(1, math.ceil(args.backlog / per_day))
            started = time.perf_counter()
            backlog = _week(Path(tmp) / "backlog", days, args.apps, args.payments)
            backlog["wall_s"] = round(time.perf_counter() - started, 1)
            results["backlog"] = backlog
            print(
                f"backlog of {backlog['sync']['events']} events: applied in "
                f"{backlog['sync']['push_s']} s = {backlog['events_per_s']} events/s",
                file=sys.stderr,
            )
    print(json.dumps(results))


if __name__ == "__main__":
    main()
