"""The check a node runs on its database at every start: each problem it must report."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection, transaction
from django.utils import timezone, translation

from baladiya.accounts.models import Citizen, User
from baladiya.applications import services as applications
from baladiya.applications.models import Application
from baladiya.catalog.models import Service
from baladiya.centers.models import Center
from baladiya.core import audit, numbering
from baladiya.core.errors import Conflict
from baladiya.core.models import AuditEvent, Counter
from baladiya.core.numbering import next_reference
from baladiya.core.startup import (
    CONFIG,
    CORRUPTION,
    NUMBER_SERIES,
    check_node_database,
    highest_number,
    sqlite_problems,
)

pytestmark = pytest.mark.django_db
on_sqlite = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="SQLite pragmas (a center node's engine)"
)


def _corruption(report_lines: list[str], words: str) -> bool:
    return any(words in line for line in report_lines)


def _submit(clerk: User, citizen: Citizen, service: Service, center: Center) -> Application:
    return applications.submit_application(
        clerk,
        applications.Submission(
            service=service,
            applicant=citizen,
            center=center,
            fields={"purpose": "مصرف"},
            pickup_center=center,
        ),
    )


# ---------------------------------------------------------------- a healthy node


def test_a_healthy_database_has_no_corruption() -> None:
    audit.record("test.event")
    report = check_node_database()
    assert not report.corrupt
    assert report.checked  # says what it looked at
    if connection.vendor == "postgresql":
        assert report.ok and report.lines() == []


def _sqlite_file(path: Path, rows: int = 2000, *, wal: bool = True) -> None:
    db = sqlite3.connect(path)
    if wal:
        db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE receipt (id INTEGER PRIMARY KEY, number TEXT UNIQUE, amount INT)")
    db.executemany(
        "INSERT INTO receipt (number, amount) VALUES (?, ?)",
        [(f"C03-R26-{i:06d}", i * 100) for i in range(1, rows + 1)],
    )
    db.commit()
    db.close()


@pytest.fixture
def sqlite_file(tmp_path: Path) -> Iterator[sqlite3.Cursor]:
    """A cursor on a sound WAL file opened as the node opens its database."""
    path = tmp_path / "node.sqlite3"
    _sqlite_file(path)
    db = sqlite3.connect(path)
    db.execute("PRAGMA synchronous=FULL")
    yield db.cursor()
    db.close()


def test_a_sound_wal_file_with_synchronous_full_passes(sqlite_file: sqlite3.Cursor) -> None:
    assert sqlite_problems(sqlite_file) == []


# ---------------------------------------------------------------- not power-safe


def test_a_journal_that_is_not_wal_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "rollback.sqlite3"
    _sqlite_file(path, rows=10, wal=False)
    db = sqlite3.connect(path)
    db.execute("PRAGMA synchronous=FULL")
    problems = sqlite_problems(db.cursor())
    db.close()
    assert [p.kind for p in problems] == [CONFIG]
    assert "journal is “delete”, not WAL" in str(problems[0])


def test_synchronous_below_full_is_reported(sqlite_file: sqlite3.Cursor) -> None:
    sqlite_file.execute("PRAGMA synchronous=NORMAL")
    problems = sqlite_problems(sqlite_file)
    assert [p.kind for p in problems] == [CONFIG]
    assert "synchronous mode is 1, not FULL (2)" in str(problems[0])


@on_sqlite
@pytest.mark.django_db(transaction=True)  # synchronous cannot change inside a transaction
def test_the_node_checks_its_own_connection() -> None:
    """Through Django's connection: the test database lives in memory (journal "memory"),
    and synchronous turned down on it is seen too."""
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA synchronous")
        before = cursor.fetchone()[0]
        cursor.execute("PRAGMA synchronous=NORMAL")
    try:
        lines = check_node_database().lines()
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA synchronous={int(before)}")
    assert any("not WAL" in line for line in lines)
    assert any("synchronous mode is 1" in line for line in lines)


# ---------------------------------------------------------------- a damaged file


def _root_page(path: Path, table: str) -> int:
    db = sqlite3.connect(path)
    (page,) = db.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)).fetchone()
    db.close()
    return int(page)


def test_garbage_in_the_file_is_corruption(tmp_path: Path) -> None:
    path = tmp_path / "damaged.sqlite3"
    _sqlite_file(path)
    index_page = _root_page(path, "sqlite_autoindex_receipt_1")
    with path.open("r+b") as fh:  # a page a failing disk wrote garbage over
        fh.seek((index_page - 1) * 4096)
        fh.write(b"\xde\xad\xbe\xef" * 1024)
    db = sqlite3.connect(path)
    problems = sqlite_problems(db.cursor())
    db.close()
    assert [p.kind for p in problems] == [CORRUPTION]
    assert "damaged" in str(problems[0]) or "cannot be read" in str(problems[0])


def test_a_file_that_is_not_a_database_cannot_be_read(tmp_path: Path) -> None:
    path = tmp_path / "garbage.sqlite3"
    path.write_bytes(b"this is not a database" * 500)
    db = sqlite3.connect(path)
    problems = sqlite_problems(db.cursor())
    db.close()
    assert [p.kind for p in problems] == [CORRUPTION]
    assert "cannot be read" in str(problems[0])


# ---------------------------------------------------------------- the audit log's tail


def test_a_changed_audit_event_refuses_the_start() -> None:
    for i in range(5):
        audit.record("test.event", n=i)
    AuditEvent.objects.filter(seq=4).update(action="test.forged")
    report = check_node_database()
    assert report.corrupt
    assert "The audit log does not verify at seq 4: row content was changed." in report.lines()


def test_lost_audit_rows_refuse_the_start() -> None:
    for i in range(5):
        audit.record("test.event", n=i)
    AuditEvent.objects.filter(seq=5).delete()
    report = check_node_database()
    assert report.corrupt
    assert any("seq 5: rows 5..5 are missing" in line for line in report.lines())


# ---------------------------------------------------------------- counters


def test_a_counter_behind_its_records_refuses_the_start(
    clerk: User, citizen: Citizen, service: Service, center: Center
) -> None:
    first = _submit(clerk, citizen, service, center)
    second = _submit(clerk, citizen, service, center)
    year = timezone.localdate().year
    assert not check_node_database().corrupt
    Counter.objects.filter(scope="C03", kind="A", year=year).update(value=1)
    report = check_node_database()
    assert report.corrupt
    assert (
        f"The number counter C03/A/{year} stands at 1 but {second.reference} is already "
        "stored: the next number would be taken twice."
    ) in report.lines()
    assert first.reference not in " ".join(report.lines())


def test_a_series_written_by_another_node_is_not_this_nodes_to_check(
    clerk: User,
    citizen: Citizen,
    service: Service,
    center: Center,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The central node keeps its old counter of a center that now runs its own node; the
    center's records arrive by sync with higher numbers. Not a problem of this node."""
    _submit(clerk, citizen, service, center)
    Counter.objects.filter(scope="C03", kind="A").update(value=0)

    def guard(scope: str) -> None:
        if scope == "C03":
            raise Conflict("C03 runs its own node")

    monkeypatch.setattr(numbering, "SERIES_GUARDS", [guard])
    assert not check_node_database().corrupt


@pytest.mark.parametrize("series", NUMBER_SERIES, ids=lambda s: s.kind)
def test_every_number_series_is_checked(series: object) -> None:
    """Receipts, documents and refunds too, each with its letter (`C03-R26-…`)."""
    kind = series.kind  # type: ignore[attr-defined]
    year = timezone.localdate().year
    with transaction.atomic():
        number = next_reference("C03", "" if kind == "A" else kind)
    assert series.prefix("C03", year) == number[:-6]  # type: ignore[attr-defined]
    Counter.objects.filter(scope="C03", kind=kind, year=year).update(value=0)
    # No record carries the number yet: a counter ahead of its records is no problem.
    assert not check_node_database().corrupt


def test_the_highest_number_is_found_past_six_digits(
    citizen: Citizen, service: Service, center: Center
) -> None:
    year = timezone.localdate().year
    for seq in (999_998, 999_999, 1_000_000):  # `{seq:06d}` grows a seventh digit
        Application.objects.create(
            reference=f"C03-{year % 100:02d}-{seq:06d}",
            service=service,
            applicant=citizen,
            center=center,
            fee_amount=0,
            sla_due=dt.date(2026, 1, 1),
        )
    found = highest_number(NUMBER_SERIES[0], "C03", year)
    assert found == (1_000_000, f"C03-{year % 100:02d}-1000000")
    Counter.objects.create(scope="C03", kind="A", year=year, value=999_999)
    assert check_node_database().corrupt


def test_problems_are_told_in_arabic() -> None:
    for i in range(3):
        audit.record("test.event", n=i)
    AuditEvent.objects.filter(seq=3).delete()
    with translation.override("ar"):
        lines = check_node_database().lines()
    assert any("سجل التدقيق" in line for line in lines)
