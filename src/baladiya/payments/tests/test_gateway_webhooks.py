"""The gateway's notifications as they really come: replayed, twice, late, retried, in the
wrong order. Whatever the order, money is recorded exactly once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone

from baladiya.accounts.models import User
from baladiya.applications.models import Application
from baladiya.applications.workflow import Status
from baladiya.notifications.models import OutboxMessage
from baladiya.notifications.senders import TransientFailure
from baladiya.payments import services as pay
from baladiya.payments.gateways import sandbox
from baladiya.payments.gateways.services import refresh_intent, start_online_payment
from baladiya.payments.models import (
    GatewayWebhook,
    IntentStatus,
    PaymentIntent,
    PaymentMethod,
    Receipt,
    Refund,
)
from baladiya.payments.tests.gateway_helpers import (
    deliver,
    event_doc,
    post_message,
    signed_post,
    webhooks,
)

FEE = 5000


@pytest.fixture
def intent(app: Application, citizen_user: User) -> PaymentIntent:
    return start_online_payment(app, citizen_user, return_url="/payments/online/return/").intent


def _paid(app: Application) -> bool:
    app.refresh_from_db()
    return app.status == Status.PAID


def test_a_replayed_webhook_changes_nothing(app: Application, intent: PaymentIntent) -> None:
    sandbox.act(intent.gateway_payment_id, "pay")
    message = webhooks()[0]
    first = post_message(message)
    assert first.status_code == 200 and first.json() == {"status": "recorded"}
    for _ in range(3):
        again = post_message(message)
        assert again.status_code == 200 and again.json() == {"status": "duplicate"}
    assert _paid(app) and Receipt.objects.count() == 1
    assert GatewayWebhook.objects.get().outcome == "recorded"


def test_duplicate_delivery_pays_once(
    app: Application, intent: PaymentIntent, settings: Any
) -> None:
    settings.SANDBOX_GATEWAY_DUPLICATE_WEBHOOKS = True
    sandbox.act(intent.gateway_payment_id, "pay")
    assert len(webhooks()) == 2
    deliver()
    assert [m.state for m in webhooks()] == ["sent", "sent"]  # both answered 2xx
    assert _paid(app) and Receipt.objects.count() == 1
    assert GatewayWebhook.objects.count() == 1


def test_late_webhook_is_scheduled_later_and_still_counts(
    app: Application, intent: PaymentIntent, settings: Any
) -> None:
    settings.SANDBOX_GATEWAY_WEBHOOK_DELAY_SECONDS = 120
    sandbox.act(intent.gateway_payment_id, "pay")
    deliver()
    assert webhooks()[0].state == "pending" and not _paid(app)
    deliver(at=timezone.now() + dt.timedelta(seconds=121))
    assert webhooks()[0].state == "sent" and _paid(app)


def test_our_endpoint_failing_makes_the_gateway_retry(
    app: Application, intent: PaymentIntent, monkeypatch: pytest.MonkeyPatch
) -> None:
    from baladiya.payments.tests import gateway_helpers

    real = gateway_helpers.client_transport

    def down(url: str, body: str, headers: dict[str, str]) -> str:
        raise TransientFailure("HTTP 503")

    sandbox.act(intent.gateway_payment_id, "pay")
    monkeypatch.setattr(gateway_helpers, "client_transport", down)
    deliver()
    message = webhooks()[0]
    assert (message.state, message.attempts) == ("pending", 1) and not _paid(app)
    monkeypatch.setattr(gateway_helpers, "client_transport", real)
    deliver(at=timezone.now() + dt.timedelta(minutes=5))
    assert webhooks()[0].state == "sent" and _paid(app)


def test_refund_event_before_the_payment_event(app: Application, intent: PaymentIntent) -> None:
    """The gateway's operator refunds part of the payment from its dashboard; its refund
    notice overtakes the payment notice. The refund waits (409, nothing written) until the
    payment is recorded, then is recorded once."""
    sandbox.act(intent.gateway_payment_id, "pay")
    sandbox.dashboard_refund(intent.gateway_payment_id, 1500)
    payment_msg, refund_msg = webhooks()
    early = post_message(refund_msg)
    assert early.status_code == 409 and early.json()["code"] == "payment_not_recorded_yet"
    assert not Refund.objects.exists() and not GatewayWebhook.objects.exists()
    assert post_message(payment_msg).json() == {"status": "recorded"}
    assert post_message(refund_msg).json() == {"status": "recorded"}
    assert post_message(refund_msg).json() == {"status": "duplicate"}
    refund = Refund.objects.get()
    assert refund.amount == 1500 and refund.method == PaymentMethod.GATEWAY
    assert refund.issued_by is None and refund.external_ref.startswith("sandbox:sbr_")
    assert _paid(app)


def test_refund_event_before_payment_via_the_outbox_retry(
    app: Application, intent: PaymentIntent
) -> None:
    sandbox.act(intent.gateway_payment_id, "pay")
    sandbox.dashboard_refund(intent.gateway_payment_id, FEE)
    payment_msg, refund_msg = webhooks()
    OutboxMessage.objects.filter(pk=payment_msg.pk).update(
        next_attempt_at=timezone.now() + dt.timedelta(minutes=1)
    )
    deliver()  # only the refund notice is due: refused for now, retried later
    refund_msg.refresh_from_db()
    assert (refund_msg.state, refund_msg.attempts) == ("pending", 1)
    deliver(at=timezone.now() + dt.timedelta(hours=2))  # still ahead of the payment: refused
    deliver(at=timezone.now() + dt.timedelta(hours=4))
    assert [m.state for m in webhooks()] == ["sent", "sent"]
    assert Receipt.objects.count() == 1 and Refund.objects.get().amount == FEE


def test_our_own_refund_notified_back_in_any_order(
    app: Application, intent: PaymentIntent, supervisor: User
) -> None:
    sandbox.act(intent.gateway_payment_id, "pay")
    refresh_intent(intent)  # the browser came back first: recorded by asking
    assert _paid(app)
    pay.cancel_with_refund(app, supervisor, "تعذر تقديم الخدمة")
    payment_msg, refund_msg = webhooks()
    assert post_message(refund_msg).json() == {"status": "already_recorded"}
    assert post_message(payment_msg).json() == {"status": "already_recorded"}
    assert Receipt.objects.count() == 1 and Refund.objects.count() == 1
    app.refresh_from_db()
    assert app.status == Status.CANCELLED  # a late payment notice never re-pays it
    intent.refresh_from_db()
    assert intent.status == IntentStatus.REFUNDED


def test_a_decline_notified_after_the_success_is_ignored(
    app: Application, intent: PaymentIntent
) -> None:
    sandbox.act(intent.gateway_payment_id, "pay")
    deliver()
    late = signed_post(
        event_doc(
            intent.gateway_payment_id,
            str(intent.pk),
            kind="payment.declined",
            status="declined",
            event_id="evt_late_decline",
        )
    )
    assert late.status_code == 200 and late.json() == {"status": "ignored"}
    intent.refresh_from_db()
    assert intent.status == IntentStatus.SUCCEEDED and _paid(app)


def test_success_after_a_decline_wins(app: Application, intent: PaymentIntent) -> None:
    """A payer declined once, then paid on the same session: the money decides."""
    sandbox.act(intent.gateway_payment_id, "decline")
    deliver()
    intent.refresh_from_db()
    assert intent.status == IntentStatus.DECLINED
    answer = signed_post(
        event_doc(intent.gateway_payment_id, str(intent.pk), event_id="evt_second_try")
    )
    assert answer.json() == {"status": "recorded"} and _paid(app)


def test_lost_start_answer_is_matched_by_our_reference(
    app: Application, intent: PaymentIntent
) -> None:
    """The gateway created the payment but its answer to `start` never reached us: its
    webhook still carries our intent id, which is enough to find the intent."""
    payment_id = intent.gateway_payment_id
    PaymentIntent.objects.filter(pk=intent.pk).update(gateway_payment_id="")
    sandbox.act(payment_id, "pay")
    deliver()
    intent.refresh_from_db()
    assert intent.gateway_payment_id == payment_id and intent.status == IntentStatus.SUCCEEDED
    assert _paid(app)


def test_wrong_amount_is_receipted_and_given_back(app: Application, intent: PaymentIntent) -> None:
    from baladiya.payments.models import SandboxPayment

    SandboxPayment.objects.update(amount=FEE - 1)  # the gateway charged something else
    sandbox.act(intent.gateway_payment_id, "pay")
    deliver()
    assert not _paid(app)
    receipt = Receipt.objects.get()
    assert receipt.amount == FEE - 1 and pay.refunded_amount(receipt) == FEE - 1
    intent.refresh_from_db()
    assert intent.status == IntentStatus.REFUNDED and "49.99" in intent.refund_due


def test_an_event_without_payment_id_pays_only_the_intent_it_names(
    app: Application,
    intent: PaymentIntent,
    make_app: Callable[..., Application],
    citizen_user: User,
) -> None:
    """Two payments whose `start` answers were both lost (no gateway payment id recorded): a
    signed event with an empty payment id must not pay whichever of them comes first, only
    the one whose reference (our intent id) it carries, or none."""
    other_app = make_app()
    other = start_online_payment(
        other_app, citizen_user, return_url="/payments/online/return/"
    ).intent
    PaymentIntent.objects.filter(pk__in=[intent.pk, other.pk]).update(gateway_payment_id="")
    answer = signed_post(event_doc("", str(other.pk), event_id="evt_no_payment_id"))
    assert answer.status_code < 500
    assert not _paid(app)
    intent.refresh_from_db()
    assert intent.status != IntentStatus.SUCCEEDED and intent.receipt_id is None
