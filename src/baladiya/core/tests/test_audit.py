"""The hash-chained audit log: appends chain, and `verify_chain()` catches tampering."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Callable

import pytest
from django.db import connection, connections, transaction

from baladiya.accounts.models import User
from baladiya.centers.models import Center
from baladiya.core import audit
from baladiya.core.models import AuditEvent, Counter

pytestmark = pytest.mark.django_db


def _chain(n: int) -> list[AuditEvent]:
    return [audit.record("test.event", actor="tester", n=i, name="أحمد") for i in range(n)]


def _problems() -> list[str]:
    return [str(p) for p in audit.verify_chain()]


def test_first_event_links_to_genesis_and_the_next_to_it() -> None:
    first, second = _chain(2)
    assert (first.seq, second.seq) == (1, 2)
    assert first.prev_hash == audit.GENESIS
    assert second.prev_hash == first.hash
    assert len(first.hash) == 64 and first.hash != second.hash


def test_record_keeps_actor_object_center_and_data(clerk: User, center: Center) -> None:
    event = audit.record(
        "center.checked",
        actor=clerk,
        obj=center,
        center="C03",
        day=dt.date(2026, 1, 2),
        ref=uuid.UUID(int=1),
        note="ملاحظة",
    )
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.actor == "clerk03"
    assert stored.object_type == "centers.center"
    assert stored.object_id == str(center.pk)
    assert stored.center == "C03"
    # Values JSON cannot hold are stored as text, so the stored row hashes the same.
    assert stored.data == {"day": "2026-01-02", "ref": str(uuid.UUID(int=1)), "note": "ملاحظة"}


def test_system_actor_when_none() -> None:
    assert audit.record("test.system").actor == "system"


def test_intact_chain_verifies() -> None:
    assert _problems() == []  # empty chain
    _chain(12)
    assert _problems() == []


def test_verify_walks_in_batches() -> None:
    _chain(7)
    assert audit.verify_chain(batch_size=2) == []


def test_changed_data_is_detected() -> None:
    _chain(5)
    AuditEvent.objects.filter(seq=3).update(data={"n": 99})
    assert _problems() == ["seq 3: row content was changed"]


def test_changed_actor_is_detected() -> None:
    _chain(5)
    AuditEvent.objects.filter(seq=2).update(actor="someone-else")
    assert _problems() == ["seq 2: row content was changed"]


def test_deleted_middle_row_is_detected() -> None:
    _chain(5)
    AuditEvent.objects.filter(seq=3).delete()
    problems = _problems()
    assert "seq 3: rows 3..3 are missing" in problems
    assert "seq 4: link to the previous row is broken" in problems


def test_deleted_last_row_is_detected() -> None:
    _chain(5)
    AuditEvent.objects.filter(seq=5).delete()
    assert _problems() == ["seq 5: rows 5..5 are missing"]


def test_deleted_everything_is_detected() -> None:
    _chain(3)
    AuditEvent.objects.all().delete()
    assert _problems() == ["seq 1: rows 1..3 are missing"]


def test_reordered_rows_are_detected() -> None:
    _chain(5)
    # Swap the positions of rows 2 and 3 (through a free value: seq is unique).
    AuditEvent.objects.filter(seq=2).update(seq=1_000_000)
    AuditEvent.objects.filter(seq=3).update(seq=2)
    AuditEvent.objects.filter(seq=1_000_000).update(seq=3)
    problems = _problems()
    assert "seq 2: row content was changed" in problems
    assert "seq 3: row content was changed" in problems
    assert "seq 2: link to the previous row is broken" in problems


def test_forged_hash_is_detected() -> None:
    _chain(5)
    AuditEvent.objects.filter(seq=3).update(hash="f" * 64)
    assert _problems() == [
        "seq 3: row content was changed",
        "seq 4: link to the previous row is broken",
    ]


def test_rewritten_row_with_recomputed_hash_breaks_the_next_link() -> None:
    events = _chain(4)
    forged = AuditEvent.objects.get(seq=2)
    forged.data = {"n": 42}
    forged.hash = audit._digest(forged.prev_hash, audit._fields(forged))
    forged.save()
    assert events[2].prev_hash != forged.hash
    assert _problems() == ["seq 3: link to the previous row is broken"]


def test_rewritten_last_row_with_recomputed_hash_is_detected() -> None:
    _chain(3)
    forged = AuditEvent.objects.get(seq=3)
    forged.data = {"n": 42}
    forged.hash = audit._digest(forged.prev_hash, audit._fields(forged))
    forged.save()
    assert _problems() == ["seq 3: the last row differs from the chain head"]


def test_head_from_before_it_kept_the_hash_still_links() -> None:
    first = _chain(1)[0]
    Counter.objects.filter(scope="audit", kind="chain").update(last_hash="")
    second = audit.record("test.after_upgrade")
    assert second.prev_hash == first.hash
    assert _problems() == []


def test_rolled_back_record_leaves_no_gap() -> None:
    _chain(2)
    with pytest.raises(RuntimeError), transaction.atomic():
        audit.record("test.rolled_back")
        raise RuntimeError("the surrounding operation failed")
    assert audit.record("test.after").seq == 3
    assert not AuditEvent.objects.filter(action="test.rolled_back").exists()
    assert _problems() == []


def test_second_event_in_a_transaction_reuses_the_locked_head() -> None:
    from django.test.utils import CaptureQueriesContext

    _chain(1)
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        audit.record("test.one")
        with transaction.atomic(savepoint=False):
            audit.record("test.two")
        audit.record("test.three")
    head_reads = [q for q in queries if 'FROM "core_counter"' in q["sql"]]
    assert len(head_reads) == 1
    assert _problems() == []
    assert Counter.objects.get(scope="audit", kind="chain").value == 4


def test_rollback_to_a_manual_savepoint_reads_the_head_again() -> None:
    with transaction.atomic():
        audit.record("test.kept")
        sid = transaction.savepoint()
        audit.record("test.rolled_back")
        transaction.savepoint_rollback(sid)
        after = audit.record("test.after")
    assert after.seq == 2
    assert not AuditEvent.objects.filter(action="test.rolled_back").exists()
    assert _problems() == []


def test_rollback_of_an_inner_block_reads_the_head_again() -> None:
    with transaction.atomic():
        audit.record("test.kept")
        with pytest.raises(RuntimeError), transaction.atomic():
            audit.record("test.rolled_back")
            raise RuntimeError("the inner operation failed")
        after = audit.record("test.after")
    assert after.seq == 2
    assert _problems() == []


def _run_threads(count: int, work: Callable[[int], None]) -> list[BaseException]:
    """Run `work(i)` in `count` threads that start together; return their errors."""
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=10)
            work(i)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()  # this thread's connections only

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_make_one_gap_free_chain() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite's shared in-memory test database does not take concurrent writers")
    threads, per_thread = 8, 10

    def work(i: int) -> None:
        for k in range(per_thread):
            audit.record("test.concurrent", actor=f"worker{i}", k=k)

    assert _run_threads(threads, work) == []
    seqs = list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, threads * per_thread + 1))
    assert audit.verify_chain() == []


def test_hash_covers_every_meaningful_column() -> None:
    event = _chain(1)[0]
    assert set(audit._fields(event)) == {
        "seq",
        "at",
        "actor",
        "action",
        "object_type",
        "object_id",
        "center",
        "data",
    }
