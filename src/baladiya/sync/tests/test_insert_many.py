"""`registry.insert_many`: COPY on PostgreSQL, bulk_create elsewhere, same meaning on both:
rows stored as given, a duplicate fails the caller's transaction (IntegrityError), or is
left alone with `skip_existing`."""

from __future__ import annotations

import uuid

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from baladiya.sync.models import CenterAuditEvent, InboundEvent
from baladiya.sync.registry import insert_many

pytestmark = pytest.mark.django_db


def _audit(seq: int) -> CenterAuditEvent:
    return CenterAuditEvent(
        center="C03",
        seq=seq,
        event_id=uuid.uuid4(),
        at=timezone.now(),
        action="payments.receipt_issued",
        data={"amount": 5000, "نص": "إيصال"},
        prev_hash="0" * 64,
        hash=f"{seq:064d}",
    )


def _inbound(seq: int, event_id: uuid.UUID | None = None) -> InboundEvent:
    return InboundEvent(
        event_id=event_id or uuid.uuid4(),
        center="C03",
        seq=seq,
        model="payments.receipt",
        object_id=str(uuid.uuid4()),
        op="upsert",
        received_at=timezone.now(),
    )


def test_rows_are_stored_as_given_and_existing_ones_skipped_on_request() -> None:
    first, second = _audit(1), _audit(2)
    insert_many(CenterAuditEvent, [first, second])
    insert_many(CenterAuditEvent, [_audit(2), _audit(3)], skip_existing=True)
    stored = list(CenterAuditEvent.objects.order_by("seq"))
    assert [r.seq for r in stored] == [1, 2, 3]
    assert stored[1].event_id == second.event_id  # the first one stays
    assert stored[0].data == {"amount": 5000, "نص": "إيصال"}
    assert stored[0].at == first.at  # microseconds kept


def test_a_duplicate_fails_the_whole_transaction() -> None:
    seen = uuid.uuid4()
    insert_many(InboundEvent, [_inbound(1, seen)])
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_many(InboundEvent, [_inbound(2), _inbound(3, seen)])
    assert list(InboundEvent.objects.values_list("seq", flat=True)) == [1]


def test_a_time_stamped_on_creation_is_stamped() -> None:
    """The change feed's rows get their time as `bulk_create` would give it."""
    from baladiya.sync.models import Change

    before = timezone.now()
    insert_many(Change, [Change(id=1, model="water.bill", object_id="x")])
    assert Change.objects.get().at >= before
