"""Footprint of a center node (issue 4 point 8): `baladiya run` on an enrolled center node
(web server, task worker, message pump, sync loop), on a quiet machine.

- start to serving: from starting `baladiya run` to the first page answered (login page);
- memory: the whole process tree after it settles: RSS summed, and PSS (shared pages counted
  once between processes, the honest total) from /proc/<pid>/smaps_rollup;
- idle CPU: CPU seconds the tree uses over IDLE seconds with nobody using it, as a share of
  one core.

`python bench/node_footprint.py [--idle 60]`; prints a summary and one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "src"))
from common import machine  # noqa: E402


def _tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        try:
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        todo.extend(int(c) for c in children)
    return pids


def _memory_mb(pids: list[int]) -> tuple[float, float]:
    rss = pss = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Rss:"):
                    rss += int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss += int(line.split()[1])
        except OSError:
            continue
    return round(rss / 1024, 1), round(pss / 1024, 1)


def _cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--idle", type=float, default=60.0)
    args = parser.parse_args()
    from baladiya.sync.tests.twonodes import (
        center_node,
        central_node,
        drop_central_database,
        enrolment_code,
        free_port,
    )

    with tempfile.TemporaryDirectory(prefix="baladiya-footprint-") as tmp:
        central = central_node(Path(tmp) / "central")
        central.start()
        try:
            center = center_node(Path(tmp) / "center")
            center.cli(
                "center", "enroll", "--central", central.url, "--code", enrolment_code(central)
            )
            port = free_port()
            env = dict(center.env)
            env.pop("BALADIYA_TESTING", None)  # production settings: nothing test-only
            env["BALADIYA_SECRET_KEY"] = "bench-" + "x" * 50
            started = time.perf_counter()
            proc = subprocess.Popen(
                [sys.executable, "-m", "baladiya.cli", "run", "--port", str(port)],
                env=env,
                cwd=center.folder,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                process_group=0,
            )
            url = f"http://127.0.0.1:{port}/accounts/login/"
            while True:
                try:
                    if httpx.get(url, timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if proc.poll() is not None or time.perf_counter() - started > 120:
                    raise SystemExit("the center node did not start")
                time.sleep(0.05)
            start_s = time.perf_counter() - started
            time.sleep(10)  # let it settle (first sync round, imports)
            pids = _tree(proc.pid)
            rss, pss = _memory_mb(pids)
            cpu0, t0 = _cpu_seconds(pids), time.perf_counter()
            time.sleep(args.idle)
            pids = _tree(proc.pid)
            idle = (_cpu_seconds(pids) - cpu0) / (time.perf_counter() - t0)
            rss_after, pss_after = _memory_mb(pids)
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
        finally:
            central.stop()
            drop_central_database(central)
    result: dict[str, Any] = {
        "machine": machine(),
        "processes": len(pids),
        "start_to_serving_s": round(start_s, 2),
        "rss_mb": max(rss, rss_after),
        "pss_mb": max(pss, pss_after),
        "idle_cpu_share_of_one_core": round(idle, 4),
        "idle_seconds": args.idle,
    }
    print(
        f"center node: {result['processes']} processes, serving {result['start_to_serving_s']} s "
        f"after start, memory {result['pss_mb']} MB PSS ({result['rss_mb']} MB RSS summed), "
        f"idle CPU {result['idle_cpu_share_of_one_core'] * 100:.2f} % of a core",
        file=sys.stderr,
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
