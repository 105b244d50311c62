"""Helpers for the online-payment tests: deliver the outbox's webhooks through Django's test
client (as the outbox pump would over HTTP), sign hand-made webhooks, pay at the sandbox."""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any
from urllib.parse import urlsplit

from django.test import Client
from django.utils import timezone

from baladiya.applications.models import Application
from baladiya.core.testing import race  # noqa: F401 - the gateway tests import it from here
from baladiya.notifications.models import OutboxMessage
from baladiya.notifications.senders import TransientFailure
from baladiya.notifications.services import DeliveryTally, deliver_due
from baladiya.payments import services as pay
from baladiya.payments.gateways import sandbox, signing
from baladiya.payments.gateways.base import StartRequest
from baladiya.payments.models import Receipt

SECRET = "test-sandbox-secret"
WEBHOOK_URL = "/payments/gateways/sandbox/webhook/"
HEADER = "X-Sandbox-Signature"


def client_transport(url: str, body: str, headers: dict[str, str]) -> str:
    """`WEBHOOK_TRANSPORT` for tests: POST to our own webhook view; non-2xx is retried."""
    response = Client().post(
        urlsplit(url).path, data=body.encode("utf-8"), content_type="application/json",
        headers=headers,
    )  # fmt: skip
    if 200 <= response.status_code < 300:
        return f"HTTP {response.status_code}"
    raise TransientFailure(f"HTTP {response.status_code}")


def deliver(at: dt.datetime | None = None) -> DeliveryTally:
    return deliver_due(now=at or timezone.now())


def webhooks() -> list[OutboxMessage]:
    return list(
        OutboxMessage.objects.filter(kind=OutboxMessage.Kind.WEBHOOK).order_by("created_at")
    )


def post_message(message: OutboxMessage, client: Client | None = None) -> Any:
    """Deliver one queued webhook by hand (to choose the order)."""
    return (client or Client()).post(
        WEBHOOK_URL, data=message.body.encode("utf-8"), content_type="application/json",
        headers=message.headers,
    )  # fmt: skip


def signed_post(
    doc: dict[str, Any] | str,
    *,
    secret: str = SECRET,
    timestamp: int | None = None,
    client: Client | None = None,
    gateway: str = "sandbox",
) -> Any:
    body = doc if isinstance(doc, str) else json.dumps(doc)
    header = signing.sign(secret, body.encode("utf-8"), timestamp)
    return (client or Client()).post(
        f"/payments/gateways/{gateway}/webhook/", data=body.encode("utf-8"),
        content_type="application/json", headers={HEADER: header},
    )  # fmt: skip


def event_doc(
    payment_id: str,
    merchant_ref: str,
    *,
    kind: str = "payment.succeeded",
    amount: int = 5000,
    event_id: str = "evt_forged",
    status: str = "succeeded",
) -> dict[str, Any]:
    return {
        "id": event_id,
        "type": kind,
        "created": int(time.time()),
        "data": {
            "payment_id": payment_id,
            "merchant_ref": merchant_ref,
            "status": status,
            "amount": amount,
            "currency": "SYP",
            "paid_at": timezone.now().isoformat(),
        },
    }


def sandbox_receipt(app: Application) -> Receipt:
    """A payment of `app` made at the sandbox gateway and recorded as its webhook would."""
    started = sandbox.SandboxGateway([SECRET]).start(
        StartRequest(
            merchant_ref=f"test-{app.pk}",
            amount=app.fee_amount,
            currency="SYP",
            description=app.reference,
            return_url="/",
            notify_url="http://testserver/unused/",
        )
    )
    sandbox.act(started.payment_id, "pay")
    OutboxMessage.objects.filter(recipient="http://testserver/unused/").delete()
    return pay.record_gateway_payment(app, app.fee_amount, f"sandbox:{started.payment_id}")


def record_gateway_queries(monkeypatch: Any) -> list[str]:
    """The payment ids the sandbox gateway is asked about from now on (status queries)."""
    asked: list[str] = []
    real_query = sandbox.SandboxGateway.query

    def query(self: sandbox.SandboxGateway, payment_id: str) -> Any:
        asked.append(payment_id)
        return real_query(self, payment_id)

    monkeypatch.setattr(sandbox.SandboxGateway, "query", query)
    return asked
