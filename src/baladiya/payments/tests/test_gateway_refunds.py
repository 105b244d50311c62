"""Refunding an electronic payment sends the money back through its gateway: recorded only
when the gateway did it, never twice, never more than what was paid."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.utils import translation

from baladiya.accounts.models import User
from baladiya.applications.models import Application
from baladiya.core.errors import DomainError
from baladiya.payments import services as pay
from baladiya.payments.gateways import sandbox
from baladiya.payments.gateways.base import GatewayError, GatewayUnavailable
from baladiya.payments.gateways.services import start_online_payment
from baladiya.payments.models import (
    IntentStatus,
    PaymentIntent,
    PaymentMethod,
    Receipt,
    Refund,
    SandboxRefund,
)
from baladiya.payments.tests.gateway_helpers import SECRET, deliver

FEE = 5000


@pytest.fixture
def paid(app: Application, citizen_user: User) -> Receipt:
    intent = start_online_payment(app, citizen_user, return_url="/r/").intent
    sandbox.act(intent.gateway_payment_id, "pay")
    deliver()
    return Receipt.objects.get()


def test_cancel_with_refund_goes_back_through_the_gateway(
    app: Application, paid: Receipt, supervisor: User
) -> None:
    refund = pay.cancel_with_refund(app, supervisor, "تعذر تقديم الخدمة")
    at_gateway = SandboxRefund.objects.get()
    assert at_gateway.amount == FEE and at_gateway.merchant_ref == refund.number
    assert refund.external_ref == f"sandbox:{at_gateway.refund_id}"
    assert refund.method == PaymentMethod.GATEWAY and refund.session is None
    assert PaymentIntent.objects.get().status == IntentStatus.REFUNDED
    deliver()  # the gateway's refund notice: already recorded, nothing more
    assert Refund.objects.count() == 1


def test_partial_refund_of_a_rejected_application(
    app: Application,
    paid: Receipt,
    cashier: User,
    reject: Callable[[Application], Application],
) -> None:
    reject(app)
    first = pay.refund_receipt(paid, cashier, "رسم زائد", amount=2000)
    assert first.amount == 2000 and PaymentIntent.objects.get().status == IntentStatus.SUCCEEDED
    pay.refund_receipt(paid, cashier, "الباقي")
    assert sum(r.amount for r in SandboxRefund.objects.all()) == FEE
    assert PaymentIntent.objects.get().status == IntentStatus.REFUNDED
    with pytest.raises(DomainError):
        pay.refund_receipt(paid, cashier, "مرة ثالثة")


def test_a_refused_refund_records_nothing_and_gives_the_number_back(
    app: Application,
    paid: Receipt,
    cashier: User,
    reject: Callable[[Application], Application],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reject(app)

    def refuse(*args: object, **kwargs: object) -> None:
        raise GatewayError("refused")

    monkeypatch.setattr(sandbox.SandboxGateway, "refund", refuse)
    with pytest.raises(GatewayError):
        pay.refund_receipt(paid, cashier, "خطأ")

    def down(*args: object, **kwargs: object) -> None:
        raise GatewayUnavailable("timeout")

    monkeypatch.setattr(sandbox.SandboxGateway, "refund", down)
    with pytest.raises(GatewayUnavailable) as unavailable:
        pay.refund_receipt(paid, cashier, "خطأ")
    assert unavailable.value.status == 503
    assert not Refund.objects.exists() and not SandboxRefund.objects.exists()
    monkeypatch.undo()
    refund = pay.refund_receipt(paid, cashier, "خطأ")
    assert refund.number.endswith("-000001")  # no gap left by the failed attempts


def test_the_gateway_itself_never_refunds_twice_or_too_much(paid: Receipt) -> None:
    gateway = sandbox.SandboxGateway([SECRET])
    payment_id = paid.external_ref.split(":", 1)[1]
    first = gateway.refund(payment_id, 1000, "C03-F26-000001")
    again = gateway.refund(payment_id, 1000, "C03-F26-000001")
    assert first == again and SandboxRefund.objects.count() == 1
    with pytest.raises(GatewayError):
        gateway.refund(payment_id, 2000, "C03-F26-000001")  # same reference, other amount
    with pytest.raises(GatewayError):
        gateway.refund(payment_id, FEE, "C03-F26-000002")  # more than what is left
    with pytest.raises(GatewayError):
        gateway.refund("sbx_unknown", 100, "x")


def test_a_receipt_without_a_gateway_reference_cannot_be_refunded_here(
    app: Application, supervisor: User
) -> None:
    pay.record_gateway_payment(app, FEE, "SEP-2026-000981")
    with translation.override("en"):
        with pytest.raises(DomainError) as refused:
            pay.cancel_with_refund(app, supervisor, "خطأ")
        assert "gateway reference" in str(refused.value.message)
    assert not Refund.objects.exists()
    app.refresh_from_db()
    assert app.status == "paid"  # cancel and refund are one transaction


def test_a_receipt_of_a_disabled_channel_says_so(
    app: Application, paid: Receipt, supervisor: User, settings: object
) -> None:
    settings.PAYMENT_GATEWAYS = []  # type: ignore[attr-defined]
    with pytest.raises(DomainError) as refused:
        pay.cancel_with_refund(app, supervisor, "خطأ")
    assert refused.value.code == "gateway_not_configured"
    assert not Refund.objects.exists()
