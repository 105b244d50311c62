"""Shared set-up for benchmarks: a fresh database (SQLite file or PostgreSQL), migrated and
seeded with the Homs reference data, Django configured from the environment, and a small
harness that starts N worker processes and releases them at the same moment.

Protocol between `run_workers` (the parent, no Django) and a benchmark script (the child):
the child prepares its data untimed, prints `READY`, waits for `GO` on stdin, runs the timed
part and prints one JSON line with `count`, `started`, `finished` (wall clock, seconds) and
whatever else it measured. One process per worker: Django settings are read once per process,
and the Typst compiler and its caches live in the process, as in a gunicorn worker.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
PG_BENCH_DB = os.environ.get("BENCH_PG_DB", "baladiya_bench")


# ---------------------------------------------------------------- machine


def _meminfo_gib() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB RAM"
    except OSError:
        pass
    return "RAM unknown"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _postgres_version() -> str:
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3) as conn:
            row = conn.execute("SHOW server_version").fetchone()
            sync = conn.execute("SHOW synchronous_commit").fetchone()
        return (
            f"PostgreSQL {row[0] if row else '?'} (synchronous_commit={sync[0] if sync else '?'})"
        )
    except Exception as exc:  # the report still says why
        return f"PostgreSQL unavailable ({exc.__class__.__name__})"


def machine() -> dict[str, str]:
    """What the numbers were measured on (written at the top of results.md)."""
    import sqlite3

    import typst

    return {
        "cpu": f"{_cpu_model()}, {os.cpu_count()} cores",
        "ram": _meminfo_gib(),
        "os": f"{platform.system()} {platform.release()}",
        "python": f"Python {platform.python_version()}",
        "typst": f"typst-py {typst.__version__}",
        "sqlite": f"SQLite {sqlite3.sqlite_version} (WAL, synchronous=FULL)",
        "postgresql": _postgres_version(),
        "host speed": host_speed(),
    }


def host_speed() -> str:
    """CPU seconds of a fixed pure-Python loop, best of three. Virtual machines of the same
    kind differ, and one machine differs from hour to hour (its host's other tenants), by a
    quarter or more: this says how fast the machine was when the numbers were taken, so runs
    can be compared (smaller is faster)."""
    best = float("inf")
    for _ in range(3):
        started = time.process_time()
        total = 0
        for i in range(5_000_000):
            total += i
        best = min(best, time.process_time() - started)
    return f"{best:.3f} CPU-s for a 5,000,000-step Python loop (smaller is faster)"


# ---------------------------------------------------------------- database


def _tmp(prefix: str) -> str:
    """A new folder under BENCH_TMP (bench/run.py sets it and removes it at the end)."""
    return tempfile.mkdtemp(prefix=f"baladiya-bench-{prefix}", dir=os.environ.get("BENCH_TMP"))


def fresh_database(engine: str) -> str:
    """Return a DATABASE_URL for an empty database of `engine` ("sqlite" or "postgresql")."""
    if engine == "sqlite":
        folder = _tmp("db-")
        return f"sqlite:///{folder}/bench.sqlite3"
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{PG_BENCH_DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{PG_BENCH_DB}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    return f"{base}/{PG_BENCH_DB}"


def setup_django(database_url: str, *, migrate: bool = True) -> None:
    """Configure Django for `database_url`; with `migrate`, also create tables and seed."""
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("BALADIYA_TESTING", "1")
    # BALADIYA_TESTING gives sandboxes and a demo secret, but also turns this cache off (tests
    # enrol centers and pull at once); a server keeps it 5 s, so the benchmarks do too,
    # instead of asking the database which centers run a node on every save of an application.
    os.environ.setdefault("BALADIYA_SYNC_ENROLLED_CACHE_SECONDS", "5")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "baladiya.settings")
    os.environ.setdefault("BALADIYA_VAR_DIR", _tmp("var-"))
    # A realistic public address: its length sets the QR code's size (version 17, 85x85).
    os.environ.setdefault("BALADIYA_PUBLIC_URL", "https://baladiya.homs.gov.sy")
    import django
    from django.conf import settings

    django.setup()
    # The demo staff get passwords; argon2 is slow on purpose and nothing here logs in.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    if migrate:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        from baladiya.core.seed.homs import seed_homs

        seed_homs(demo=True)


# ---------------------------------------------------------------- parent side


def prepare_database(engine: str) -> dict[str, str]:
    """Create, migrate and seed a database in a child process; return its URL and key dir
    (workers share the key dir: one signing key for the whole run, as on one server)."""
    return run_child("common.py", engine, "--setup")


def run_child(script: str, engine: str, *args: str, env: dict[str, str] | None = None) -> Any:
    """Run a script in its own process and return its last stdout line, parsed as JSON."""
    out = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), *args],
        env=dict(os.environ, BENCH_ENGINE=engine, **(env or {})),
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_workers(
    script: str, db: dict[str, str], workers: int, env: dict[str, str] | None = None
) -> dict[str, Any]:
    """Start `workers` processes of `script` on the prepared database `db`, release them
    together once all are ready, and combine their results: `count` summed, `per_s` over
    the wall time from the first start to the last finish."""
    procs = []
    for i in range(workers):
        child_env = dict(
            os.environ,
            BENCH_DATABASE_URL=db["database_url"],
            BALADIYA_KEY_DIR=db["key_dir"],
            BENCH_WORKER=str(i),
            **(env or {}),
        )
        procs.append(
            subprocess.Popen(
                [sys.executable, str(ROOT / "bench" / script)],
                env=child_env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
        )
    for p in procs:
        assert p.stdout is not None
        line = p.stdout.readline()
        if line.strip() != "READY":
            for q in procs:
                q.kill()
            raise RuntimeError(f"{script} worker failed before READY: {line!r}")
    for p in procs:
        assert p.stdin is not None
        p.stdin.write("GO\n")
        p.stdin.flush()
    results = []
    for p in procs:
        out, _ = p.communicate()
        if p.returncode:
            raise RuntimeError(f"{script} worker exited with {p.returncode}")
        results.append(json.loads(out.strip().splitlines()[-1]))
    count = sum(r["count"] for r in results)
    elapsed = max(r["finished"] for r in results) - min(r["started"] for r in results)
    return {
        "workers": workers,
        "count": count,
        "seconds": round(elapsed, 2),
        "per_s": round(count / elapsed, 1),
        "results": results,
    }


# ---------------------------------------------------------------- child side


def worker(
    prepare: Callable[[], Any],
    timed: Callable[[Any], dict[str, Any]],
    after: Callable[[Any], dict[str, Any]] | None = None,
) -> None:
    """Child main: Django on the prepared database, `prepare()` untimed, wait for GO, then
    `timed(state)`, then `after(state)` (untimed extras); prints READY, then the JSON line."""
    setup_django(os.environ["BENCH_DATABASE_URL"], migrate=False)
    state = prepare()
    print("READY", flush=True)
    if sys.stdin.readline().strip() != "GO":
        raise SystemExit("no GO from the parent")
    started = time.time()
    cpu, db_cpu = time.process_time(), _db_server_cpu()
    result = timed(state)
    result.update(
        started=started,
        finished=time.time(),
        # CPU time, unlike wall time, hardly depends on what else runs on the machine: the
        # per-core figures are items per CPU-second (this process + its database backend).
        cpu_seconds=round(time.process_time() - cpu, 3),
        db_cpu_seconds=round(_db_server_cpu() - db_cpu, 3),
    )
    if after is not None:
        result.update(after(state))
    print(json.dumps(result), flush=True)


def _db_server_cpu() -> float:
    """CPU seconds used so far by this connection's PostgreSQL backend process (same machine;
    read from /proc), 0 for SQLite (it runs inside this process) or when not readable."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return 0.0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _setup_main() -> None:
    engine = os.environ.get("BENCH_ENGINE", "sqlite")
    key_dir = _tmp("keys-")
    os.environ["BALADIYA_KEY_DIR"] = key_dir
    url = fresh_database(engine)
    setup_django(url)
    print(json.dumps({"database_url": url, "key_dir": key_dir}))


if __name__ == "__main__" and sys.argv[1:] == ["--setup"]:
    _setup_main()
