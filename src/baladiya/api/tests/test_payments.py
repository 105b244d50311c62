"""POST /applications/{reference}/payments: cash by a cashier (receipt), online for citizens
(redirect to the gateway's hosted page)."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable

import pytest
from django.test import Client

from baladiya.accounts.models import Citizen, User
from baladiya.api.tests.conftest import ApiClient, pickup_body
from baladiya.applications.models import Application
from baladiya.catalog.models import Service
from baladiya.centers.models import Center
from baladiya.payments import services as payments
from baladiya.payments.models import Receipt

Api = Callable[..., ApiClient]


def _gateway_services_ready() -> bool:
    try:
        return importlib.util.find_spec("baladiya.payments.gateways.services") is not None
    except ImportError:
        return False


GATEWAY_READY = _gateway_services_ready()
needs_gateway = pytest.mark.skipif(
    not GATEWAY_READY, reason="helper B's payments.gateways is not there yet"
)


@pytest.fixture
def reference(api: Api, clerk: User, citizen: Citizen, service: Service) -> str:
    answer = api(clerk).post("/api/v1/applications", pickup_body())
    assert answer.status == 201
    return str(answer.body["reference"])


def test_cashier_records_cash_and_gets_the_receipt(api: Api, cashier: User, reference: str) -> None:
    payments.open_session(cashier, 0)
    answer = api(cashier).post(f"/api/v1/applications/{reference}/payments", {})
    assert answer.status == 201, answer.body
    body = answer.body
    assert body["action"] == "none" and body["url"] is None
    assert body["application"] == {"reference": reference, "status": "paid"}
    receipt = body["receipt"]
    assert receipt["number"].startswith("C03-R") and receipt["method"] == "cash"
    assert receipt["amount"] == {"amount": 5000, "currency": "SYP"}
    status = api(cashier).get(f"/api/v1/applications/{reference}").body
    assert status["status"] == "paid" and status["amount_due"]["amount"] == 0
    assert [r["number"] for r in status["receipts"]] == [receipt["number"]]


def test_paying_twice_is_a_conflict_and_no_drawer_is_an_error(
    api: Api, cashier: User, reference: str
) -> None:
    client = api(cashier)
    answer = client.post(f"/api/v1/applications/{reference}/payments", {"method": "cash"})
    assert answer.status == 400 and answer.body["code"] == "no_open_session"
    payments.open_session(cashier, 0)
    assert client.post(f"/api/v1/applications/{reference}/payments", {}).status == 201
    again = client.post(f"/api/v1/applications/{reference}/payments", {})
    assert again.status == 409 and again.body["code"] == "already_paid"
    assert Receipt.objects.count() == 1


def test_cashier_of_another_center_sees_404(api: Api, other_cashier: User, reference: str) -> None:
    payments.open_session(other_cashier, 0)
    answer = api(other_cashier).post(f"/api/v1/applications/{reference}/payments", {})
    assert answer.status == 404
    assert Application.objects.get(reference=reference).status == "submitted"


def test_clerk_may_not_take_cash(api: Api, clerk: User, reference: str) -> None:
    answer = api(clerk).post(f"/api/v1/applications/{reference}/payments", {"method": "cash"})
    assert answer.status == 403 and answer.body["code"] == "forbidden"


def test_citizen_cannot_pay_cash_through_the_api(
    api: Api, citizen_user: User, reference: str
) -> None:
    answer = api(citizen_user).post(
        f"/api/v1/applications/{reference}/payments", {"method": "cash"}
    )
    assert answer.status == 403


def _deliver_webhooks(client: Client) -> int:
    """Play the outbox pump: POST each queued webhook to its URL (through the test client)."""
    from urllib.parse import urlsplit

    from baladiya.notifications.models import OutboxMessage

    sent = 0
    for message in OutboxMessage.objects.filter(kind="webhook").order_by("created_at"):
        headers = {k: v for k, v in (message.headers or {}).items()}
        response = client.post(
            urlsplit(message.recipient).path,
            message.body,
            content_type="application/json",
            headers=headers,
        )
        assert response.status_code == 200, response.content
        sent += 1
    return sent


@needs_gateway
def test_online_payment_then_back_office_issue_end_to_end(
    api: Api,
    citizen_user: User,
    officer: User,
    service: Service,
    electronic_center: Center,
    center: Center,
) -> None:
    from urllib.parse import urlsplit

    from baladiya.payments.gateways import sandbox

    client = api(citizen_user)
    reference = client.post("/api/v1/applications", pickup_body()).body["reference"]
    answer = client.post(f"/api/v1/applications/{reference}/payments", {}, key="pay-1")
    assert answer.status == 201, answer.body
    body = answer.body
    assert body["action"] == "redirect" and body["url"].startswith("http")
    assert body["payment"]["amount"] == {"amount": 5000, "currency": "SYP"}
    assert body["payment"]["gateway"] == "sandbox"
    assert body["application"] == {"reference": reference, "status": "submitted"}
    again = client.post(f"/api/v1/applications/{reference}/payments", {}, key="pay-1")
    assert again.body == body  # replayed: no second payment session

    payment_id = urlsplit(body["url"]).path.rstrip("/").rsplit("/", 1)[-1]
    sandbox.act(payment_id, "pay")  # the payer's choice on the gateway's hosted page
    assert _deliver_webhooks(client.client) == 1
    status = client.get(f"/api/v1/applications/{reference}").body
    assert status["status"] == "paid" and status["amount_due"]["amount"] == 0
    assert status["receipts"][0]["method"] == "gateway"

    back_office = api(officer)
    for action in ("start_review", "approve", "issue"):
        step = back_office.post(f"/api/v1/applications/{reference}/actions", {"action": action})
        assert step.status == 200, step.body
    assert step.body["document"]["number"]
    final = client.get(f"/api/v1/applications/{reference}").body
    assert final["document"]["number"] == step.body["document"]["number"]


def test_actions_follow_the_workflow_and_roles(
    api: Api, clerk: User, cashier: User, citizen_user: User, reference: str
) -> None:
    path = f"/api/v1/applications/{reference}/actions"
    early = api(clerk).post(path, {"action": "approve"})
    assert early.status == 409 and early.body["code"] == "illegal_transition"
    assert api(citizen_user).post(path, {"action": "cancel", "note": "x"}).status == 403
    no_note = api(clerk).post(path, {"action": "cancel"})
    assert no_note.status == 400
    done = api(clerk).post(path, {"action": "cancel", "note": "طلب المواطن"})
    assert done.status == 200 and done.body["status"] == "cancelled"
    bad = api(clerk).post(path, {"action": "teleport"})
    assert bad.status == 422 and "action" in bad.body["fields"]


def _start_online(client: ApiClient) -> tuple[str, str, str]:
    """(reference, payment id, the gateway's payment id) of a citizen's new online payment."""
    from urllib.parse import urlsplit

    reference = client.post("/api/v1/applications", pickup_body()).body["reference"]
    body = client.post(f"/api/v1/applications/{reference}/payments", {}).body
    gateway_id = urlsplit(body["url"]).path.rstrip("/").rsplit("/", 1)[-1]
    return reference, body["payment"]["id"], gateway_id


@needs_gateway
def test_a_client_back_from_the_gateway_learns_the_outcome_without_the_webhook(
    api: Api,
    citizen_user: User,
    service: Service,
    electronic_center: Center,
    center: Center,
) -> None:
    from baladiya.payments.gateways import sandbox

    client = api(citizen_user)
    reference, payment_id, gateway_id = _start_online(client)
    path = f"/api/v1/applications/{reference}/payments/{payment_id}"
    before = client.get(path)
    assert before.status == 200, before.body
    assert before.body["payment"]["status"] == "pending" and before.body["receipt"] is None
    assert before.body["application"] == {"reference": reference, "status": "submitted"}

    sandbox.act(gateway_id, "pay")  # the webhook is queued, not delivered
    after = client.get(path).body
    assert after["payment"]["status"] == "succeeded"
    assert after["application"]["status"] == "paid"
    assert after["receipt"]["method"] == "gateway"
    assert after["receipt"]["amount"] == {"amount": 5000, "currency": "SYP"}

    # The webhook comes later: it pays nothing twice.
    assert _deliver_webhooks(client.client) == 1
    assert Receipt.objects.filter(application__reference=reference).count() == 1
    assert client.get(path).body == after


@needs_gateway
def test_a_declined_payment_reads_declined_and_the_fee_is_still_due(
    api: Api, citizen_user: User, service: Service, electronic_center: Center, center: Center
) -> None:
    from baladiya.payments.gateways import sandbox

    client = api(citizen_user)
    reference, payment_id, gateway_id = _start_online(client)
    sandbox.act(gateway_id, "decline")
    answer = client.get(f"/api/v1/applications/{reference}/payments/{payment_id}").body
    assert answer["payment"]["status"] == "declined" and answer["receipt"] is None
    assert answer["application"]["status"] == "submitted"
    assert client.get(f"/api/v1/applications/{reference}").body["amount_due"]["amount"] == 5000


@needs_gateway
def test_a_client_asking_in_a_loop_does_not_make_us_hammer_the_gateway(
    api: Api,
    citizen_user: User,
    service: Service,
    electronic_center: Center,
    center: Center,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from baladiya.payments.gateways import sandbox
    from baladiya.payments.gateways import services as gateways
    from baladiya.payments.tests.gateway_helpers import record_gateway_queries

    asked = record_gateway_queries(monkeypatch)
    client = api(citizen_user)
    reference, payment_id, gateway_id = _start_online(client)
    path = f"/api/v1/applications/{reference}/payments/{payment_id}"
    for _ in range(gateways.CHECKS_PER_MINUTE + 3):
        assert client.get(path).body["payment"]["status"] == "pending"
    assert len(asked) == gateways.CHECKS_PER_MINUTE
    sandbox.act(gateway_id, "pay")
    assert client.get(path).body["payment"]["status"] == "pending"  # not asked again yet
    assert len(asked) == gateways.CHECKS_PER_MINUTE
    assert _deliver_webhooks(client.client) == 1  # the gateway's notification still pays it
    assert client.get(path).body["application"]["status"] == "paid"


@needs_gateway
def test_nobody_else_reads_a_payment_and_unknown_ids_are_404(
    api: Api,
    citizen_user: User,
    other_citizen_user: User,
    service: Service,
    electronic_center: Center,
    center: Center,
) -> None:
    client = api(citizen_user)
    reference, payment_id, _gateway_id = _start_online(client)
    _second, second_payment, _ = _start_online(client)
    mine = f"/api/v1/applications/{reference}/payments/{payment_id}"
    assert api(other_citizen_user).get(mine).status == 404
    for path in (  # the payment of another application, and no payment at all
        f"/api/v1/applications/{reference}/payments/{second_payment}",
        f"/api/v1/applications/{reference}/payments/not-a-uuid",
    ):
        answer = client.get(path)
        assert answer.status == 404, (path, answer.body)
        assert answer.body["code"] == "not_found"
    assert api(None).get(f"/api/v1/applications/{reference}/payments/{payment_id}").status == 401
