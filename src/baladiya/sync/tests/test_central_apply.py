"""Central applies what a center node pushed: exactly once, in order, all or nothing, and
only what that center may write (decision 0009)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from baladiya.accounts.models import Citizen, User
from baladiya.applications.models import Application, ApplicationEvent
from baladiya.catalog.models import Service
from baladiya.centers.models import Center
from baladiya.core.errors import Conflict
from baladiya.core.ids import uuid7
from baladiya.core.models import AuditEvent
from baladiya.core.numbering import next_reference
from baladiya.notifications.models import OutboxMessage
from baladiya.payments.models import CashierSession, Receipt
from baladiya.sync import central
from baladiya.sync.models import (
    CenterAuditEvent,
    CenterNode,
    CitizenAlias,
    InboundEvent,
    SyncConflict,
)
from baladiya.sync.tests.nodes import FakeNode

pytestmark = pytest.mark.django_db(transaction=False)


@pytest.fixture
def node(center: Center, admin_user: User) -> FakeNode:
    fake = FakeNode(Client(), center.code)
    code = central.create_enrolment_code(center.code, admin_user)
    response = fake.enrol(code)
    assert response.status_code == 200, response.content
    return fake


def _application(
    service: Service,
    citizen: Citizen,
    center: Center,
    clerk: User,
    *,
    reference: str = "C03-26-000001",
    status: str = "submitted",
    pickup: Center | None = None,
) -> Application:
    return Application(
        id=uuid7(),
        created_at=timezone.now() - dt.timedelta(days=2),  # made offline, two days ago
        reference=reference,
        service=service,
        applicant=citizen,
        center=center,
        status=status,
        fee_amount=500000,
        sla_due=dt.date.today() + dt.timedelta(days=3),
        delivery_mode="pickup",
        pickup_center=pickup or center,
        created_by=clerk,
        updated_at=timezone.now(),
    )


def _history(app: Application, to_status: str, actor: User) -> ApplicationEvent:
    return ApplicationEvent(
        id=uuid7(),
        created_at=timezone.now(),
        application=app,
        action="submit",
        from_status="",
        to_status=to_status,
        actor=actor,
        actor_name=actor.username,
    )


def _ok(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.content
    data: dict[str, Any] = response.json()
    return data


def test_a_batch_is_applied_once_with_the_times_it_was_made_at(
    node: FakeNode, service: Service, citizen: Citizen, center: Center, clerk: User
) -> None:
    app = _application(service, citizen, center, clerk)
    events = [node.event(app), node.event(_history(app, "submitted", clerk))]

    first = _ok(node.push(events))
    assert first == {"applied_through": 2, "applied": 2, "duplicates": 0, "conflicts": 0}
    stored = Application.objects.get(pk=app.pk)
    assert stored.reference == "C03-26-000001"
    assert abs(stored.created_at - app.created_at) < dt.timedelta(seconds=1)  # not "now"
    assert InboundEvent.objects.filter(center="C03").count() == 2
    assert AuditEvent.objects.filter(action="sync.batch_applied").count() == 1

    # The answer was lost: the node sends the same batch again. Nothing changes.
    again = _ok(node.push(events))
    assert again == {"applied_through": 2, "applied": 0, "duplicates": 2, "conflicts": 0}
    assert Application.objects.filter(pk=app.pk).count() == 1
    assert InboundEvent.objects.filter(center="C03").count() == 2
    assert AuditEvent.objects.filter(action="sync.batch_applied").count() == 1


def test_a_gap_is_refused_and_nothing_is_applied(
    node: FakeNode, service: Service, citizen: Citizen, center: Center, clerk: User
) -> None:
    app = _application(service, citizen, center, clerk)
    response = node.push([node.event(app, seq=3)])
    assert response.status_code == 409
    assert response.json()["code"] == "sync_gap"
    assert response.json()["expected"] == 1
    assert not Application.objects.filter(pk=app.pk).exists()
    assert CenterNode.objects.get(center=center).last_seq == 0


def test_a_batch_fails_as_a_whole(
    node: FakeNode, service: Service, citizen: Citizen, center: Center, clerk: User
) -> None:
    app = _application(service, citizen, center, clerk)
    orphan = Receipt(
        id=uuid7(),
        created_at=timezone.now(),
        number="C03-R26-000001",
        center=center,
        application=app,
        session=CashierSession(id=uuid.uuid4()),  # a session central never heard of
        method="cash",
        amount=500000,
        payer_name="x",
        description="x",
        issued_at=timezone.now(),
        business_date=dt.date.today(),
        issued_by=clerk,
    )
    response = node.push([node.event(app), node.event(orphan)])
    assert response.status_code == 400
    assert response.json()["code"] == "sync_rejected"
    assert not Application.objects.filter(pk=app.pk).exists()
    assert not InboundEvent.objects.exists()
    assert CenterNode.objects.get(center=center).last_seq == 0


def test_unsigned_forged_or_revoked_requests_are_refused(
    node: FakeNode,
    service: Service,
    citizen: Citizen,
    center: Center,
    clerk: User,
    admin_user: User,
) -> None:
    app = _application(service, citizen, center, clerk)
    events = [node.event(app)]
    unsigned = Client().post("/sync/v1/push", data=b"{}", content_type="application/json")
    assert unsigned.status_code == 403

    impostor = FakeNode(Client(), "C03")  # the right center, another key
    impostor.key_id = node.key_id
    assert impostor.push(events).status_code == 403

    central.revoke_node("C03", admin_user, "PC stolen")
    assert node.push(events).status_code == 403
    assert not Application.objects.filter(pk=app.pk).exists()


def test_another_centers_records_become_conflicts(
    node: FakeNode,
    service: Service,
    citizen: Citizen,
    center: Center,
    other_center: Center,
    clerk: User,
) -> None:
    foreign = _application(service, citizen, other_center, clerk, reference="C05-26-000001")
    result = _ok(node.push([node.event(foreign)]))
    assert result["conflicts"] == 1 and result["applied_through"] == 1
    assert not Application.objects.filter(pk=foreign.pk).exists()
    conflict = SyncConflict.objects.get()
    assert conflict.center == "C03" and "another center" in conflict.reason


def test_hand_over_of_an_online_application_and_its_conflict(
    node: FakeNode,
    service: Service,
    citizen: Citizen,
    center: Center,
    electronic_center: Center,
    officer: User,
    clerk: User,
) -> None:
    online = _application(
        service,
        citizen,
        electronic_center,
        officer,
        reference="C00-26-000001",
        status="ready_for_pickup",
        pickup=center,
    )
    online.save()
    online.status = "handed_over"
    _ok(node.push([node.event(online)]))
    assert Application.objects.get(pk=online.pk).status == "handed_over"

    cancelled = _application(
        service,
        citizen,
        electronic_center,
        officer,
        reference="C00-26-000002",
        status="cancelled",
        pickup=center,
    )
    cancelled.save()
    cancelled.status = "handed_over"  # the center handed it over while offline
    result = _ok(node.push([node.event(cancelled)]))
    assert result["conflicts"] == 1
    assert Application.objects.get(pk=cancelled.pk).status == "cancelled"
    assert "not applied" in SyncConflict.objects.get().reason


def test_a_citizen_registered_twice_offline_is_merged(
    node: FakeNode, service: Service, citizen: Citizen, center: Center, clerk: User
) -> None:
    twin = Citizen(
        id=uuid7(),
        created_at=timezone.now(),
        national_number=citizen.national_number,
        first_name=citizen.first_name,
        father_name=citizen.father_name,
        last_name=citizen.last_name,
        mother_name=citizen.mother_name,
        birth_date=citizen.birth_date,
        phone="+963955000111",
    )
    app = _application(service, twin, center, clerk)
    _ok(node.push([node.event(twin), node.event(app)]))
    assert Citizen.objects.filter(national_number=citizen.national_number).count() == 1
    assert CitizenAlias.objects.get(alias_id=twin.pk).citizen_id == citizen.pk
    assert Application.objects.get(pk=app.pk).applicant_id == citizen.pk
    citizen.refresh_from_db()
    assert citizen.phone == "+963955000111"  # the newer contact details win


def test_central_stops_numbering_in_an_enrolled_centers_series(node: FakeNode) -> None:
    from django.db import transaction

    with pytest.raises(Conflict), transaction.atomic():
        next_reference("C03", "R")
    with transaction.atomic():
        assert next_reference("C00").startswith("C00-")


def test_audit_events_and_sms_of_a_center(node: FakeNode, center: Center) -> None:
    audit_row = AuditEvent(
        id=1,
        seq=1,
        at=timezone.now(),
        actor="clerk",
        action="application.submitted",
        center="C03",
        data={},
        prev_hash="0" * 64,
        hash="a" * 64,
    )
    sms = OutboxMessage(
        id=uuid7(),
        created_at=timezone.now(),
        kind="sms",
        recipient="+963944123456",
        body="ready",
        dedupe_key="status:x",
        next_attempt_at=timezone.now(),
    )
    _ok(node.push([node.event(audit_row), node.event(sms)]))
    kept = CenterAuditEvent.objects.get(center="C03", seq=1)
    assert kept.hash == "a" * 64
    assert not AuditEvent.objects.filter(action="application.submitted").exists()
    assert OutboxMessage.objects.get(dedupe_key="status:x").state == "pending"


def test_a_replacement_pc_continues_the_series_after_a_jump(
    node: FakeNode, center: Center, admin_user: User
) -> None:
    from baladiya.documents.models import SigningKey

    report = _ok(node.push([node.event(_counter("C03", "R", 2026, 41))]))
    assert report["applied_through"] == 1
    central.revoke_node("C03", admin_user, "PC burnt")
    new_pc = FakeNode(Client(), "C03")
    package = _ok(new_pc.enrol(central.create_enrolment_code("C03", admin_user)))
    receipts = [c for c in package["counters"] if c["kind"] == "R" and c["year"] == 2026]
    assert receipts == [{"scope": "C03", "kind": "R", "year": 2026, "value": 41 + 1000}]
    assert package["last_seq"] == 1  # the new PC's events follow on from the old one's
    old_key = SigningKey.objects.get(key_id=node.key_id)
    new_key = SigningKey.objects.get(key_id=new_pc.key_id)
    assert old_key.revoked_at is not None and new_key.revoked_at is None
    assert node.push([node.event(_counter("C03", "R", 2026, 50))]).status_code == 403
    event = AuditEvent.objects.filter(action="sync.node_enrolled").last()
    assert event is not None and event.data["jump"] == 1000


def _counter(scope: str, kind: str, year: int, value: int) -> Any:
    from baladiya.core.models import Counter

    return Counter(id=900 + value, scope=scope, kind=kind, year=year, value=value)


def test_support_tickets_from_a_center_reach_the_directorate(
    node: FakeNode, center: Center, other_center: Center, clerk: User
) -> None:
    from baladiya.centers.models import SupportTicket, TicketReply

    ticket = SupportTicket(
        id=uuid7(),
        created_at=timezone.now(),
        center=center,
        opened_by=clerk,
        subject="الطابعة لا تعمل",
        body="منذ الصباح",
        status="open",
        updated_at=timezone.now(),
    )
    reply = TicketReply(
        id=uuid7(),
        created_at=timezone.now(),
        ticket=ticket,
        author=clerk,
        body="ما زالت",
    )
    foreign = SupportTicket(
        id=uuid7(),
        created_at=timezone.now(),
        center=other_center,
        opened_by=clerk,
        subject="x",
        body="y",
        status="open",
        updated_at=timezone.now(),
    )
    result = _ok(node.push([node.event(ticket), node.event(reply), node.event(foreign)]))
    assert result["conflicts"] == 1
    assert SupportTicket.objects.get(pk=ticket.pk).subject == "الطابعة لا تعمل"
    assert TicketReply.objects.filter(ticket_id=ticket.pk).count() == 1
    assert not SupportTicket.objects.filter(pk=foreign.pk).exists()


def test_a_batch_carries_only_the_last_snapshot_of_a_row(
    node: FakeNode, service: Service, citizen: Citizen, center: Center, clerk: User
) -> None:
    app = _application(service, citizen, center, clerk)
    _ok(node.push([node.event(app, seq=1)]))
    # Offline the center paid, reviewed, approved, issued and routed it: five saves; the
    # batch 2..6 sends only the last one.
    app.status = "ready_for_pickup"
    result = node._send(
        "POST",
        "/sync/v1/push",
        {"first_seq": 2, "last_seq": 6, "events": [node.event(app, seq=6)]},
    )
    assert _ok(result) == {"applied_through": 6, "applied": 1, "duplicates": 0, "conflicts": 0}
    assert Application.objects.get(pk=app.pk).status == "ready_for_pickup"
    assert CenterNode.objects.get(center=center).last_seq == 6

    # A jump no one at a counter can make (only the post's callback delivers) is not applied.
    app.status = "delivered"
    result = node._send(
        "POST", "/sync/v1/push", {"first_seq": 7, "last_seq": 7, "events": [node.event(app, seq=7)]}
    )
    assert _ok(result)["conflicts"] == 1
    assert Application.objects.get(pk=app.pk).status == "ready_for_pickup"


def test_a_range_that_does_not_fit_its_events_is_refused(
    node: FakeNode, service: Service, citizen: Citizen, center: Center, clerk: User
) -> None:
    app = _application(service, citizen, center, clerk)
    bad = node._send(
        "POST", "/sync/v1/push", {"first_seq": 1, "last_seq": 9, "events": [node.event(app, seq=3)]}
    )
    assert bad.status_code == 400 and bad.json()["code"] == "sync_malformed"
    assert not Application.objects.filter(pk=app.pk).exists()


def test_history_may_come_before_the_last_snapshot_of_its_new_application(
    node: FakeNode, service: Service, citizen: Citizen, center: Center, clerk: User
) -> None:
    app = _application(service, citizen, center, clerk, status="paid")
    history = _history(app, "submitted", clerk)
    result = _ok(node.push([node.event(history, seq=1), node.event(app, seq=2)]))
    assert result["conflicts"] == 0
    assert ApplicationEvent.objects.filter(application_id=app.pk).count() == 1


@pytest.fixture
def c03_documents(service: Service, citizen: Citizen, center: Center, clerk: User) -> list[Any]:
    """Two documents C03 issued before it ran its own node (central numbered them then)."""
    from baladiya.documents.services import issue_document

    docs = []
    for n in (1, 2):
        app = _application(
            service, citizen, center, clerk, reference=f"C03-26-00000{n}", status="approved"
        )
        app.save()
        docs.append(issue_document(app, clerk))
    return docs


def test_a_revocation_asked_at_the_center_is_carried_out_centrally(
    c03_documents: list[Any], node: FakeNode, make_user: Any, center: Center, clerk: User
) -> None:
    from baladiya.accounts import roles

    supervisor = make_user("sup03", roles.SUPERVISOR, center=center)
    doc, doc2 = c03_documents
    request = {
        "seq": 1,
        "event_id": str(uuid.uuid4()),
        "model": "documents.revoke",
        "object_id": doc.number,
        "op": "request",
        "data": {"reason": "wrong birth date", "actor": supervisor.username},
    }
    _ok(node.push([request]))
    doc.refresh_from_db()
    assert doc.state == "revoked" and doc.revoked_reason == "wrong birth date"
    assert AuditEvent.objects.filter(action="document.revoked").exists()

    # Asked by a clerk (not allowed to revoke): listed for a person, nothing revoked.
    bad = dict(request, seq=2, event_id=str(uuid.uuid4()), object_id=doc2.number)
    bad["data"] = {"reason": "x", "actor": clerk.username}
    assert _ok(node.push([bad]))["conflicts"] == 1
    doc2.refresh_from_db()
    assert doc2.state == "valid"


def test_a_centers_audit_chain_arrives_whole_and_verifies_centrally(node: FakeNode) -> None:
    from baladiya.core import audit

    prev, chain = audit.GENESIS, []
    for seq in (1, 2):
        event = AuditEvent(
            id=seq,
            seq=seq,
            at=timezone.now().replace(microsecond=123456 + seq),  # microseconds matter
            actor="clerk03",
            action="application.submitted",
            center="C03",
            data={"reference": f"C03-26-00000{seq}"},
            prev_hash=prev,
        )
        event.hash = audit._digest(prev, audit._fields(event))
        prev = event.hash
        chain.append(node.event(event))
    _ok(node.push(chain))
    assert central.verify_center_chain("C03") == []

    CenterAuditEvent.objects.filter(center="C03", seq=1).update(actor="someone else")
    problems = central.verify_center_chain("C03")
    assert [p.seq for p in problems] == [1]


def test_a_bill_paid_at_two_offline_centers_becomes_an_overpayment_to_refund(
    node: FakeNode,
    citizen: Citizen,
    center: Center,
    other_center: Center,
    cashier: User,
    other_cashier: User,
) -> None:
    from baladiya.payments import services as pay
    from baladiya.water.models import Bill, BillPayment, Category, Subscription
    from baladiya.water.seed import seed_tariffs
    from baladiya.water.services import pay_bills, record_bill

    seed_tariffs()
    meter = Subscription.objects.create(
        meter_number="HMS-7",
        subscriber=citizen,
        address="x",
        category=Category.HOUSEHOLD,
        active_since=dt.date(2020, 1, 1),
    )
    bill, _ = record_bill(meter, "2026-01", dt.date(2026, 2, 28), 100, 140)
    # Paid at C05 (online with central) ...
    pay.open_session(other_cashier, 0)
    pay_bills([bill], other_cashier, other_center)
    # ... and, the same day, at C03 while it was offline.
    session = CashierSession(
        id=uuid7(),
        created_at=timezone.now(),
        center=center,
        cashier=cashier,
        state="open",
        opened_at=timezone.now(),
        business_date=dt.date.today(),
        opening_float=0,
    )
    receipt = Receipt(
        id=uuid7(),
        created_at=timezone.now(),
        number="C03-R26-000001",
        center=center,
        session=session,
        method="cash",
        amount=bill.amount,
        payer_name=citizen.full_name,
        description="water",
        issued_at=timezone.now(),
        business_date=dt.date.today(),
        issued_by=cashier,
    )
    payment = BillPayment(
        id=uuid7(), created_at=timezone.now(), bill=bill, receipt=receipt, amount=bill.amount
    )
    paid_here = Bill.objects.get(pk=bill.pk)  # as the center saw it: unpaid, then paid
    paid_here.state = "paid"
    result = _ok(
        node.push(
            [node.event(session), node.event(receipt), node.event(payment), node.event(paid_here)]
        )
    )
    assert result["conflicts"] == 0  # applied: both payments are real money
    payments = BillPayment.objects.filter(bill=bill).order_by("created_at")
    assert [p.overpayment for p in payments] == [False, True]
    assert Receipt.objects.filter(number="C03-R26-000001").exists()
    flagged = SyncConflict.objects.get()
    assert "paid twice" in flagged.reason and "C03-R26-000001" in flagged.reason
