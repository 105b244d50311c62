"""Gap-free per-node numbers: `C03-26-000001`, one series per kind, given back on rollback."""

from __future__ import annotations

import re
import threading

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from baladiya.core.models import Counter
from baladiya.core.numbering import next_reference, next_value

pytestmark = pytest.mark.django_db


def _take(prefix: str, kind: str = "") -> str:
    with transaction.atomic():
        return next_reference(prefix, kind)


def _yy() -> str:
    return f"{timezone.localdate().year % 100:02d}"


def test_reference_format() -> None:
    assert _take("C03") == f"C03-{_yy()}-000001"
    assert re.fullmatch(r"C03-\d{2}-\d{6}", _take("C03"))


def test_numbers_follow_each_other_without_gaps() -> None:
    refs = [_take("C03") for _ in range(25)]
    assert [int(r.rsplit("-", 1)[1]) for r in refs] == list(range(1, 26))


def test_rolled_back_transaction_gives_the_number_back() -> None:
    assert _take("C03").endswith("-000001")
    with pytest.raises(RuntimeError), transaction.atomic():
        assert next_reference("C03").endswith("-000002")
        raise RuntimeError("the receipt could not be saved")
    assert _take("C03").endswith("-000002")


def test_kinds_are_independent_series() -> None:
    yy = _yy()
    assert _take("C03") == f"C03-{yy}-000001"
    assert _take("C03", "R") == f"C03-R{yy}-000001"
    assert _take("C03", "R") == f"C03-R{yy}-000002"
    assert _take("C03", "D") == f"C03-D{yy}-000001"
    assert _take("C03", "F") == f"C03-F{yy}-000001"
    assert _take("C03") == f"C03-{yy}-000002"


def test_centers_are_independent_series() -> None:
    assert _take("C03").endswith("-000001")
    assert _take("C05").endswith("-000001")
    assert _take("C03").endswith("-000002")


def test_series_are_per_year() -> None:
    with transaction.atomic():
        assert next_value("C03", "A", 2025) == 1
        assert next_value("C03", "A", 2026) == 1
        assert next_value("C03", "A", 2025) == 2
    assert Counter.objects.get(scope="C03", kind="A", year=2025).value == 2


@pytest.mark.django_db(transaction=True)  # a plain test runs inside a transaction already
def test_outside_a_transaction_is_refused() -> None:
    # In autocommit a number would be committed before its record: a crash would leave a gap.
    with pytest.raises(RuntimeError):
        next_value("C03", "A", 2026)


@pytest.mark.django_db(transaction=True)
def test_concurrent_takers_get_distinct_gap_free_numbers() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite's shared in-memory test database does not take concurrent writers")
    threads, per_thread = 8, 15
    barrier = threading.Barrier(threads)
    taken: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def work() -> None:
        try:
            barrier.wait(timeout=10)
            for _ in range(per_thread):
                ref = _take("C03", "R")
                with lock:
                    taken.append(ref)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert errors == []
    numbers = sorted(int(ref.rsplit("-", 1)[1]) for ref in taken)
    assert numbers == list(range(1, threads * per_thread + 1))
