"""Benchmark: what a single API request costs the server at the least, to put issue 3's
target in proportion (>= 50 online applications/s on 2 cores, i.e. at most 40 ms of CPU for
everything one application makes the server do).

The same set-up as `api_flow.py` (PostgreSQL seeded with the Homs demo, gunicorn with
BENCH_GUNICORN_WORKERS sync workers on loopback, BENCH_CLIENTS keep-alive clients), then, for
each kind of request, BENCH_FLOOR_REQUESTS requests as fast as the clients can send them,
and the server's CPU per request (gunicorn and its PostgreSQL backends):

  static   GET /.well-known/baladiya/keys.json   plain Django view, no token, one small read
  whoami   GET /api/v1/auth/me                   the API's floor: token looked up, JSON out
  status   GET /api/v1/applications/{reference}  a citizen's status read (a poll)

Prints one JSON line.

    BALADIYA_TESTING=1 .venv/bin/python bench/api_floor.py
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from api_flow import (
    CLIENTS,
    GUNICORN_WORKERS,
    Client,
    CpuMeter,
    Recorder,
    _free_port,
    _ms,
    _wait_listening,
    prepare,
)
from common import ROOT, host_speed, machine, prepare_database, setup_django

REQUESTS = int(os.environ.get("BENCH_FLOOR_REQUESTS", "3000"))
WARMUP = 300


def hammer(base: str, path: str, token: str | None, total: int) -> tuple[float, Recorder]:
    """`total` GETs of `path` over CLIENTS connections; the wall time and the latencies."""
    recorder = Recorder()
    left = [total]
    lock = threading.Lock()

    def loop() -> None:
        client = Client(base, recorder)
        try:
            while True:
                with lock:
                    if left[0] <= 0:
                        return
                    left[0] -= 1
                if token is not None:
                    client.call("get", "GET", path, token)
                    continue
                started = time.perf_counter()
                status, _answer = client._send("GET", path, None, {})
                recorder.add("get", time.perf_counter() - started)
                if status != 200:
                    raise RuntimeError(f"{path}: {status}")
        finally:
            client.http.close()

    threads = [threading.Thread(target=loop) for _ in range(CLIENTS)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - started, recorder


def main() -> None:
    db = prepare_database("postgresql")
    os.environ["BALADIYA_KEY_DIR"] = db["key_dir"]
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    os.environ["BALADIYA_PUBLIC_URL"] = base
    setup_django(db["database_url"], migrate=False)
    setup = prepare("online")
    citizen = setup.citizens[0]
    env = dict(
        os.environ,
        DATABASE_URL=db["database_url"],
        BALADIYA_PUBLIC_URL=base,
        BALADIYA_LOG_LEVEL="ERROR",
        PGAPPNAME="web",
    )
    gunicorn = [
        sys.executable, "-m", "gunicorn", "baladiya.wsgi:application",
        "--bind", f"127.0.0.1:{port}", "--workers", str(GUNICORN_WORKERS),
        "--log-level", "warning", "--backlog", "256",
    ]  # fmt: skip
    server = subprocess.Popen(gunicorn, env=env, cwd=ROOT)
    results: dict[str, dict[str, float]] = {}
    try:
        _wait_listening(port, [server], timeout=60)
        body = {
            "service": setup.service,
            "fields": setup.fields,
            "delivery": {"mode": "pickup", "center": setup.pickup},
        }
        made = Client(base, Recorder()).call(
            "apply", "POST", "/api/v1/applications", citizen, body, 201
        )
        kinds = {
            "static": ("/.well-known/baladiya/keys.json", None),
            "whoami": ("/api/v1/auth/me", citizen),
            "status": (f"/api/v1/applications/{made['reference']}", citizen),
        }
        for kind, (path, token) in kinds.items():
            hammer(base, path, token, WARMUP)
            with CpuMeter(server.pid, [], db["database_url"]) as meter:
                seconds, recorder = hammer(base, path, token, REQUESTS)
            cpu = meter.seconds()
            latencies = recorder.requests["get"]
            results[kind] = {
                "requests_per_s": round(REQUESTS / seconds, 1),
                "p50_ms": _ms(latencies, 0.50),
                "p99_ms": _ms(latencies, 0.99),
                "server_cpu_ms_per_request": round(
                    1000 * (cpu.get("web", 0.0) + cpu.get("web_postgresql", 0.0)) / REQUESTS, 2
                ),
                "web_postgresql_cpu_ms_per_request": round(
                    1000 * cpu.get("web_postgresql", 0.0) / REQUESTS, 2
                ),
                "clients_cpu_ms_per_request": round(
                    1000 * cpu.get("clients_and_gateway", 0.0) / REQUESTS, 2
                ),
            }
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
    print(
        json.dumps(
            {
                "benchmark": "api_floor",
                "engine": "postgresql",
                "clients": CLIENTS,
                "gunicorn_workers": GUNICORN_WORKERS,
                "requests_each": REQUESTS,
                "kinds": results,
                "host_speed_after": host_speed(),
                "machine": machine(),
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
