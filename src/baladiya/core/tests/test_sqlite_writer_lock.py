"""The SQLite writer queue (core/sqlite): a transaction waits for another process's
transaction on a file lock, starts as soon as that one ends, gives up with "database is
locked" after the timeout, and a killed writer never blocks the others."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from django.db import OperationalError

from baladiya.core.sqlite.base import DatabaseWrapper


def _connection(path: Path, timeout: float = 5) -> Any:
    wrapper = DatabaseWrapper(
        {
            "NAME": str(path),
            "ENGINE": "baladiya.core.sqlite",
            "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": timeout},
            "TIME_ZONE": None,
            "CONN_MAX_AGE": 0,
            "CONN_HEALTH_CHECKS": False,
            "AUTOCOMMIT": True,
            "ATOMIC_REQUESTS": False,
            "USER": "",
            "PASSWORD": "",
            "HOST": "",
            "PORT": "",
            "TEST": {},
        },
        alias=f"writer-{id(path)}-{time.monotonic_ns()}",
    )
    wrapper.inc_thread_sharing()  # made here, used in a test thread
    return wrapper


def _begin(conn: Any) -> None:
    conn.ensure_connection()
    conn.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)


def _end(conn: Any, commit: bool = True) -> None:
    if commit:
        conn.commit()
    else:
        conn.rollback()
    conn.set_autocommit(True)


@pytest.fixture(autouse=True)
def _own_database_files(django_db_blocker: Any) -> Any:
    """These tests open their own database files, not the test database."""
    with django_db_blocker.unblock():
        yield


@pytest.fixture
def db_file(tmp_path: Path) -> Path:
    path = tmp_path / "center.sqlite3"
    conn = _connection(path)
    with conn.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("CREATE TABLE receipt (number INTEGER)")
    conn.close()
    return path


def test_second_writer_starts_as_soon_as_the_first_commits(db_file: Path) -> None:
    """Five hand-overs after the first writer held the lock 0.3 s. SQLite's own busy handler
    naps 50-100 ms at a time by then (about 50 ms late on average); the queue starts the
    second within a few milliseconds."""
    first, second = _connection(db_file), _connection(db_file)
    delays: list[float] = []
    for number in range(5):
        _begin(first)
        with first.cursor() as cursor:
            cursor.execute("INSERT INTO receipt VALUES (%s)", [2 * number])
        started: list[float] = []

        def write_second(number: int = number, started: list[float] = started) -> None:
            _begin(second)
            started.append(time.monotonic())
            with second.cursor() as cursor:
                cursor.execute("INSERT INTO receipt VALUES (%s)", [2 * number + 1])
            _end(second)

        thread = threading.Thread(target=write_second)
        thread.start()
        time.sleep(0.3)
        assert started == []  # queued behind the first transaction
        committed = time.monotonic()
        _end(first)
        thread.join(5)
        delays.append(started[0] - committed)
    assert sorted(delays)[2] < 0.015, delays
    with first.cursor() as cursor:
        cursor.execute("SELECT number FROM receipt ORDER BY number")
        assert [n for (n,) in cursor.fetchall()] == list(range(10))
    first.close()
    second.close()


def test_rollback_and_close_give_the_lock_back(db_file: Path) -> None:
    first, second = _connection(db_file, timeout=0.3), _connection(db_file, timeout=0.3)
    _begin(first)
    _end(first, commit=False)
    _begin(second)  # would time out if the rollback had kept the lock
    _end(second)
    _begin(first)
    first.close()  # e.g. a worker dropping its connection mid-transaction
    _begin(second)
    _end(second)
    second.close()


def test_waiting_writer_gives_up_with_database_is_locked(db_file: Path) -> None:
    first, second = _connection(db_file), _connection(db_file, timeout=0.2)
    _begin(first)
    started = time.monotonic()
    with pytest.raises(OperationalError, match="database is locked"):
        _begin(second)
    assert 0.2 <= time.monotonic() - started < 2
    assert second._writer_lock_fd is None
    _end(first)
    _begin(second)  # nothing left behind by the failed attempt
    _end(second)
    first.close()
    second.close()


def test_a_killed_writer_does_not_block_the_others(db_file: Path, tmp_path: Path) -> None:
    ready = tmp_path / "in-transaction"
    # The child: a writer in its own process, holding a transaction open until killed.
    script = textwrap.dedent(
        """
        import sys, time
        from pathlib import Path
        tests, db_file, ready = sys.argv[1:4]
        sys.path.insert(0, tests)
        import django
        from django.conf import settings
        settings.configure(USE_TZ=True)
        django.setup()
        from test_sqlite_writer_lock import _begin, _connection
        conn = _connection(Path(db_file))
        _begin(conn)
        conn.cursor().execute("INSERT INTO receipt VALUES (99)")
        Path(ready).touch()
        time.sleep(60)
        """
    )
    tests = str(Path(__file__).resolve().parent)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": ""}
    child = subprocess.Popen(
        [sys.executable, "-c", script, tests, str(db_file), str(ready)], env=env
    )
    try:
        deadline = time.monotonic() + 30
        while not ready.exists():
            assert child.poll() is None, "the writer process failed to start"
            assert time.monotonic() < deadline
            time.sleep(0.05)
        waiting = _connection(db_file, timeout=0.3)
        with pytest.raises(OperationalError):
            _begin(waiting)  # the live writer holds the lock
        child.send_signal(signal.SIGKILL)  # the power cut of one process
        child.wait(10)
        _begin(waiting)
        with waiting.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM receipt")
            assert cursor.fetchone() == (0,)  # its uncommitted row is gone
        _end(waiting)
        waiting.close()
    finally:
        if child.poll() is None:
            child.kill()
