"""Shared set-up for benchmarks: a fresh database (SQLite file or PostgreSQL), migrated and
seeded with the Homs reference data, Django configured from the environment."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


def fresh_database(engine: str) -> str:
    """Return a DATABASE_URL for an empty database of `engine` ("sqlite" or "postgresql")."""
    if engine == "sqlite":
        folder = tempfile.mkdtemp(prefix="baladiya-bench-")
        return f"sqlite:///{folder}/bench.sqlite3"
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS baladiya_bench WITH (FORCE)")
        conn.execute("CREATE DATABASE baladiya_bench")
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    return f"{base}/baladiya_bench"


def setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("BALADIYA_TESTING", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "baladiya.settings")
    os.environ.setdefault("BALADIYA_VAR_DIR", tempfile.mkdtemp(prefix="baladiya-bench-var-"))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    from baladiya.core.seed.homs import seed_homs

    seed_homs(demo=True)


def run_child(script: str, engine: str, *args: str) -> dict[str, Any]:
    """Run a benchmark script in its own process (settings are read once per process)."""
    env = dict(os.environ, BENCH_ENGINE=engine)
    out = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), *args],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])
