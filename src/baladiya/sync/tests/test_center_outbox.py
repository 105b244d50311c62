"""On a center node every change to a replicated record is captured in the same transaction,
pushed in order, and what comes down from central is applied without bouncing back."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest
from django.db import transaction
from django.test import override_settings

from baladiya.accounts.models import Citizen, User
from baladiya.applications import services as apps
from baladiya.catalog.models import Fee, Service
from baladiya.centers.models import Center
from baladiya.documents import signing
from baladiya.notifications.models import OutboxMessage
from baladiya.notifications.services import deliver_due
from baladiya.payments import services as pay
from baladiya.sync import client, protocol, registry
from baladiya.sync.models import OutboxEvent, SyncState

pytestmark = pytest.mark.django_db

AS_CENTER = override_settings(BALADIYA_NODE="center:C03", NODE_CENTER_CODE="C03")


def _submit(clerk: User, service: Service, citizen: Citizen, center: Center) -> Any:
    return apps.submit_application(
        clerk,
        apps.Submission(
            service=service,
            applicant=citizen,
            center=center,
            fields={"purpose": "bank"},
            pickup_center=center,
        ),
    )


@AS_CENTER
def test_counter_work_is_captured_in_order_and_a_rollback_leaves_nothing(
    clerk: User, cashier: User, service: Service, citizen: Citizen, center: Center
) -> None:
    pay.open_session(cashier, 0)
    app = _submit(clerk, service, citizen, center)
    pay.record_cash_payment(app, cashier)
    events = list(OutboxEvent.objects.order_by("seq"))
    assert [e.seq for e in events] == list(range(1, len(events) + 1))  # no gap
    models = {e.model for e in events}
    assert {
        "applications.application",
        "applications.applicationevent",
        "payments.receipt",
        "payments.cashiersession",
        "core.auditevent",
        "core.counter",
    } <= models
    last_app = [e for e in events if e.model == "applications.application"][-1]
    assert last_app.data["fields"]["status"] == "paid"

    before = OutboxEvent.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        _submit(clerk, service, citizen, center)
        raise RuntimeError("power cut before commit")
    assert OutboxEvent.objects.count() == before
    nxt = _submit(clerk, service, citizen, center)
    seqs = list(OutboxEvent.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))  # the rolled-back numbers were given back
    assert nxt.reference.startswith("C03-")


@AS_CENTER
def test_sms_wait_for_central_and_travel_with_the_changes(
    clerk: User, cashier: User, service: Service, citizen: Citizen, center: Center
) -> None:
    pay.open_session(cashier, 0)
    app = _submit(clerk, service, citizen, center)
    pay.record_cash_payment(app, cashier)
    queued = OutboxMessage.objects.filter(kind="sms")
    assert queued.exists()
    tally = deliver_due()
    assert tally.sent == 0  # the center's own pump sends nothing
    relayed = OutboxEvent.objects.filter(model="notifications.outboxmessage")
    assert {e.object_id for e in relayed} == {str(m.pk) for m in queued}


class Recorder:
    """Central as seen from the center: records requests, answers as told."""

    def __init__(self, answers: list[tuple[int, dict[str, Any]]]) -> None:
        self.answers = answers
        self.requests: list[tuple[str, str, Any, dict[str, str]]] = []

    def send(self, method: str, path: str, body: bytes, headers: dict[str, str]) -> client.Reply:
        self.requests.append((method, path, protocol.decode_body(body) if body else None, headers))
        status, data = self.answers.pop(0)
        return client.Reply(status, data)


@AS_CENTER
def test_push_sends_in_order_marks_sent_and_resends_after_a_gap(
    clerk: User, service: Service, citizen: Citizen, center: Center
) -> None:
    signing.active_key()  # made at enrolment, before any push
    _submit(clerk, service, citizen, center)
    total = OutboxEvent.objects.count()
    transport = Recorder([(200, {"applied_through": 2}), (200, {"applied_through": total})])
    result = client.push(transport, batch_size=2)
    assert result.sent == total
    first = transport.requests[0]
    assert (first[2]["first_seq"], first[2]["last_seq"]) == (1, 2)
    assert [e["seq"] for e in first[2]["events"]] == [1, 2]
    assert first[3]["X-Baladiya-Center"] == "C03" and first[3]["X-Baladiya-Signature"]
    assert not OutboxEvent.objects.filter(sent_at=None).exists()

    # Central was restored from a backup and lacks events 2.. : it says so, we send again.
    _submit(clerk, service, citizen, center)
    now_total = OutboxEvent.objects.count()
    transport = Recorder(
        [(409, {"code": "sync_gap", "expected": 2}), (200, {"applied_through": now_total})]
    )
    client.push(transport, batch_size=1000)
    assert transport.requests[0][2]["first_seq"] == total + 1
    resent = transport.requests[1][2]
    assert (resent["first_seq"], resent["last_seq"]) == (2, now_total)
    # Only the last snapshot of each row travels: e.g. the application once, as it is now.
    sent = resent["events"]
    rows = [(e["model"], e["object_id"]) for e in sent if e["op"] == "upsert"]
    assert len(rows) == len(set(rows)) and len(sent) < now_total - 1


@AS_CENTER
def test_a_refusal_keeps_everything_for_later(
    clerk: User, service: Service, citizen: Citizen, center: Center
) -> None:
    _submit(clerk, service, citizen, center)
    with pytest.raises(client.SyncUnavailable):
        client.push(Recorder([(503, {})]))
    with pytest.raises(client.SyncUnavailable):
        client.push(Recorder([(403, {"message": "not enrolled"})]))
    assert not OutboxEvent.objects.exclude(sent_at=None).exists()


@AS_CENTER
def test_pulled_rows_are_applied_but_not_pushed_back(service: Service) -> None:
    SyncState.objects.create(pk=1, enrolled_at="2026-11-01T00:00:00Z")
    fee = service.fees.get()
    before = OutboxEvent.objects.count()
    fee.amount = 7500
    row = registry.serialize(fee)
    fee.amount = 5000  # the local copy still has the old fee
    changed = json.loads(json.dumps({"cursor": 42, "more": False, "rows": [row]}))
    applied, skipped = client.apply_pulled(changed)
    assert (applied, skipped) == (1, 0)
    assert Fee.objects.get(pk=fee.pk).amount == 7500
    assert OutboxEvent.objects.count() == before
    assert SyncState.objects.get().cursor == 42


@AS_CENTER
def test_a_pulled_row_with_unsent_local_changes_waits(
    clerk: User, service: Service, citizen: Citizen, center: Center
) -> None:
    app = _submit(clerk, service, citizen, center)
    stale = registry.serialize(app)
    stale["fields"]["status"] = "cancelled"
    _applied, skipped = client.apply_pulled({"cursor": 5, "rows": [stale]})
    assert skipped == 1
    app.refresh_from_db()
    assert app.status == "submitted"


@AS_CENTER
@pytest.mark.parametrize("path", ["/e/", "/api/v1/services", "/delivery/post/", "/admin/"])
def test_what_only_the_central_node_does_says_so_on_a_center(clerk: User, path: str) -> None:
    from baladiya.core.testing import logged_in

    response = logged_in(clerk, "ar").get(path)
    assert response.status_code == 503
    text = response.json()["message"] if path.startswith("/api/") else response.content.decode()
    assert "العقدة المركزية" in text


@AS_CENTER
def test_a_revocation_at_a_center_is_queued_for_the_central_node(
    make_user: Any, clerk: User, service: Service, citizen: Citizen, center: Center
) -> None:
    from baladiya.accounts import roles
    from baladiya.applications.models import Application
    from baladiya.core.testing import logged_in
    from baladiya.documents.models import IssuedDocument
    from baladiya.documents.services import issue_document

    app = _submit(clerk, service, citizen, center)
    Application.objects.filter(pk=app.pk).update(status="approved")
    app.refresh_from_db()
    doc = issue_document(app, clerk)
    supervisor = make_user("sup03", roles.SUPERVISOR, center=center)
    response = logged_in(supervisor).post(
        f"/documents/{doc.number}/revoke/", {"reason": "wrong name"}, follow=True
    )
    assert response.status_code == 200
    doc.refresh_from_db()
    assert doc.state == IssuedDocument.State.VALID  # until central carries it out
    queued = OutboxEvent.objects.get(op="request")
    assert queued.model == "documents.revoke" and queued.object_id == doc.number
    assert queued.data == {"reason": "wrong name", "actor": "sup03"}


@AS_CENTER
def test_batches_are_cut_by_size_and_their_ranges_follow_on(
    settings: Any, clerk: User, service: Service, citizen: Citizen, center: Center
) -> None:
    signing.active_key()
    for _ in range(3):
        _submit(clerk, service, citizen, center)
    total = OutboxEvent.objects.count()
    settings.SYNC_BATCH_BYTES = 3000  # a few events per batch
    transport = Recorder([])

    def answer(method: str, path: str, body: bytes, headers: dict[str, str]) -> client.Reply:
        payload = protocol.decode_body(body)
        transport.requests.append((method, path, payload, headers))
        return client.Reply(200, {"applied_through": payload["last_seq"]})

    transport.send = answer  # type: ignore[method-assign]
    result = client.push(transport)
    ranges = [(p["first_seq"], p["last_seq"]) for _m, _p, p, _h in transport.requests]
    assert len(ranges) > 2 and result.sent == total
    assert ranges[0][0] == 1 and ranges[-1][1] == total
    assert all(b[0] == a[1] + 1 for a, b in itertools.pairwise(ranges))  # no hole, no overlap
