"""A webhook, its duplicate and the payer's browser arriving at the same instant (several
workers): one receipt, one `paid`. Real parallel transactions need PostgreSQL (on SQLite the
test database has one writer at a time by design); the same paths run one after another in
the other test files."""

from __future__ import annotations

import pytest
from django.db import connection

from baladiya.accounts.models import User
from baladiya.applications import services as apps
from baladiya.applications.models import Application
from baladiya.applications.workflow import Status
from baladiya.core.audit import verify_chain
from baladiya.core.errors import DomainError
from baladiya.payments import services as pay
from baladiya.payments.gateways import sandbox
from baladiya.payments.gateways.services import (
    handle_webhook,
    refresh_intent,
    start_online_payment,
)
from baladiya.payments.models import GatewayWebhook, IntentStatus, PaymentIntent, Receipt, Refund
from baladiya.payments.tests.gateway_helpers import (
    HEADER,
    event_doc,
    post_message,
    race,
    signed_post,
    webhooks,
)

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="parallel writers need PostgreSQL"
    ),
]
FEE = 5000


@pytest.fixture
def paid_at_gateway(app: Application, citizen_user: User) -> PaymentIntent:
    intent = start_online_payment(app, citizen_user, return_url="/r/").intent
    sandbox.act(intent.gateway_payment_id, "pay")
    return intent


def _one_receipt(app: Application) -> None:
    assert Receipt.objects.count() == 1
    app.refresh_from_db()
    assert app.status == Status.PAID
    assert not verify_chain()


def test_the_same_webhook_four_times_at_once(
    app: Application, paid_at_gateway: PaymentIntent
) -> None:
    message = webhooks()[0]
    results, errors = race(lambda: post_message(message).json()["status"])
    assert not errors, errors
    assert sorted(results) == ["duplicate"] * 3 + ["recorded"]
    assert GatewayWebhook.objects.count() == 1
    _one_receipt(app)


def test_two_different_success_events_at_once(
    app: Application, paid_at_gateway: PaymentIntent
) -> None:
    counter = iter(range(100))

    def post() -> str:
        doc = event_doc(
            paid_at_gateway.gateway_payment_id,
            str(paid_at_gateway.pk),
            event_id=f"evt_{next(counter)}",
        )
        return str(signed_post(doc).json()["status"])

    results, errors = race(post)
    assert not errors, errors
    assert sorted(results) == ["already_recorded"] * 3 + ["recorded"]
    _one_receipt(app)


def test_webhook_and_returning_browser_at_once(
    app: Application, paid_at_gateway: PaymentIntent
) -> None:
    message = webhooks()[0]
    turn = iter(range(100))

    def either() -> str:
        if next(turn) % 2:
            return str(
                handle_webhook("sandbox", {HEADER: message.headers[HEADER]}, message.body.encode())
            )
        return str(refresh_intent(paid_at_gateway).status)

    results, errors = race(either)
    assert not errors, errors
    assert set(results) <= {"succeeded", "recorded", "already_recorded", "duplicate"}
    _one_receipt(app)
    paid_at_gateway.refresh_from_db()
    assert paid_at_gateway.status == IntentStatus.SUCCEEDED


def test_payment_and_cancellation_at_once_keep_the_books_straight(
    app: Application, paid_at_gateway: PaymentIntent, clerk: User
) -> None:
    message = webhooks()[0]
    turn = iter(range(2))

    def either() -> object:
        if next(turn):
            return post_message(message).status_code
        return apps.cancel(app, clerk, "إلغاء")

    _results, errors = race(either, n=2)
    assert all(isinstance(e, DomainError) for e in errors), errors
    receipt = Receipt.objects.get()
    app.refresh_from_db()
    if app.status == Status.CANCELLED:  # cancelled first: the money went back
        assert pay.refunded_amount(receipt) == FEE
    else:  # paid first: the cancel was refused
        assert app.status == Status.PAID and not Refund.objects.exists()


def test_two_starts_with_the_same_key_make_one_intent(app: Application, citizen_user: User) -> None:
    results, errors = race(
        lambda: (
            start_online_payment(
                app, citizen_user, return_url="/r/", idempotency_key="double-click"
            ).intent.pk
        )
    )
    assert not errors, errors
    assert len(set(results)) == 1 and PaymentIntent.objects.count() == 1
