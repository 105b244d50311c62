"""Paying online at the sandbox gateway, as a citizen would: start, hosted page, come back.

Success, decline, abandon and timeout; who may pay; idempotent starts; a late success after
expiry or cancellation is still receipted (and refunded when it cannot pay the application).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.utils import timezone, translation

from baladiya.accounts.models import User
from baladiya.applications import services as apps
from baladiya.applications.models import Application, Channel
from baladiya.applications.workflow import Status
from baladiya.catalog.models import Service
from baladiya.centers.models import Center
from baladiya.conftest import PASSWORD
from baladiya.core.errors import Conflict, DomainError, IllegalTransition, NotAllowed
from baladiya.core.models import AuditEvent
from baladiya.notifications.models import OutboxMessage
from baladiya.payments import reports
from baladiya.payments import services as pay
from baladiya.payments.gateways import sandbox
from baladiya.payments.gateways.base import GatewayUnavailable, NotConfigured
from baladiya.payments.gateways.services import (
    PaymentStart,
    refresh_intent,
    start_online_payment,
    sweep_intents,
)
from baladiya.payments.models import (
    CashierSession,
    IntentStatus,
    PaymentIntent,
    PaymentMethod,
    Receipt,
    Refund,
    SandboxPayment,
    SandboxRefund,
)
from baladiya.payments.tests.gateway_helpers import deliver, record_gateway_queries, webhooks

FEE = 5000
RETURN = "/payments/online/return/"


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _start(app: Application, user: User, **kwargs: Any) -> PaymentStart:
    return start_online_payment(app, user, return_url=RETURN, **kwargs)


def _return_path(intent: PaymentIntent) -> str:
    return f"{RETURN}?intent={intent.pk}"


def _status(app: Application) -> str:
    app.refresh_from_db()
    return app.status


# ---------------------------------------------------------------- the happy path, over HTTP


def test_citizen_pays_through_the_hosted_page(app: Application, citizen_user: User) -> None:
    client = _client(citizen_user)
    started = client.post(f"/payments/online/{app.reference}/start/", {"idempotency_key": "k1"})
    assert started.status_code == 302
    intent = PaymentIntent.objects.get()
    assert intent.status == IntentStatus.PENDING and intent.amount == FEE
    assert started["Location"] == f"/payments/sandbox/pay/{intent.gateway_payment_id}/"
    page = client.get(started["Location"])  # Arabic first
    assert page.status_code == 200
    assert 'dir="rtl"' in page.content.decode()
    back = client.post(started["Location"], {"action": "pay"})
    assert back.status_code == 302
    location = urlsplit(back["Location"])
    assert location.path == RETURN
    assert parse_qs(location.query)["intent"] == [str(intent.pk)]
    assert len(webhooks()) == 1  # the signed notification waits in the outbox
    deliver()
    assert [m.state for m in webhooks()] == ["sent"]
    assert _status(app) == Status.PAID
    receipt = Receipt.objects.get()
    assert receipt.method == PaymentMethod.GATEWAY and receipt.session is None
    assert receipt.external_ref == f"sandbox:{intent.gateway_payment_id}"
    assert receipt.business_date == timezone.localdate()
    shown = client.get(back["Location"], headers={"Accept-Language": "en"})
    assert shown.status_code == 200
    body = shown.content.decode()
    assert "Payment received" in body and receipt.number in body
    assert "Refresh" not in shown
    assert AuditEvent.objects.filter(action="payments.intent_succeeded").count() == 1


def test_an_online_application_at_the_electronic_center(
    citizen_user: User, service: Service, center: Center
) -> None:
    c00 = Center.objects.create(code="C00", name_ar="المركز الإلكتروني", name_en="e", kind="x")
    app = apps.submit_application(
        citizen_user,
        apps.Submission(
            service=service,
            applicant=citizen_user.citizen,  # type: ignore[attr-defined]
            center=c00,
            fields={"purpose": "مصرف"},
            pickup_center=center,
            channel=Channel.ONLINE,
        ),
    )
    start = _start(app, citizen_user)
    sandbox.act(start.intent.gateway_payment_id, "pay")
    deliver()
    receipt = Receipt.objects.get()
    assert receipt.number.startswith("C00-R") and _status(app) == Status.PAID


def test_webhook_before_the_browser_comes_back(app: Application, citizen_user: User) -> None:
    intent = _start(app, citizen_user).intent
    sandbox.act(intent.gateway_payment_id, "pay")
    deliver()
    assert _status(app) == Status.PAID
    page = _client(citizen_user).get(_return_path(intent))
    assert page.status_code == 200
    assert Receipt.objects.count() == 1


def test_browser_back_before_the_webhook_asks_the_gateway(
    app: Application, citizen_user: User
) -> None:
    intent = _start(app, citizen_user).intent
    sandbox.act(intent.gateway_payment_id, "pay")
    page = _client(citizen_user).get(_return_path(intent))  # webhook still in the outbox
    assert page.status_code == 200
    assert _status(app) == Status.PAID
    deliver()  # the webhook arrives afterwards: nothing more happens
    assert Receipt.objects.count() == 1
    assert OutboxMessage.objects.get(kind="webhook").state == "sent"


# ---------------------------------------------------------------- unhappy endings


def test_decline_leaves_the_application_payable(app: Application, citizen_user: User) -> None:
    client = _client(citizen_user)
    intent = _start(app, citizen_user).intent
    client.post(f"/payments/sandbox/pay/{intent.gateway_payment_id}/", {"action": "decline"})
    deliver()
    intent.refresh_from_db()
    assert intent.status == IntentStatus.DECLINED and _status(app) == Status.SUBMITTED
    page = client.get(_return_path(intent), headers={"Accept-Language": "en"}).content.decode()
    assert "declined" in page and "Pay again" in page
    again = client.post(f"/payments/online/{app.reference}/start/", {"idempotency_key": "k2"})
    second = PaymentIntent.objects.exclude(pk=intent.pk).get()
    assert again["Location"].endswith(f"/{second.gateway_payment_id}/")
    sandbox.act(second.gateway_payment_id, "pay")
    deliver()
    assert _status(app) == Status.PAID and Receipt.objects.count() == 1


def test_abandon_is_learned_by_asking(app: Application, citizen_user: User) -> None:
    client = _client(citizen_user)
    intent = _start(app, citizen_user).intent
    back = client.post(f"/payments/sandbox/pay/{intent.gateway_payment_id}/", {"action": "abandon"})
    assert back.status_code == 302
    assert not webhooks()  # gateways do not notify an abandoned session
    page = client.get(back["Location"], headers={"Accept-Language": "en"}).content.decode()
    assert "without paying" in page
    intent.refresh_from_db()
    assert intent.status == IntentStatus.ABANDONED and _status(app) == Status.SUBMITTED
    assert _start(app, citizen_user).intent.pk != intent.pk


def test_timeout_then_expiry_then_payable_again(app: Application, citizen_user: User) -> None:
    client = _client(citizen_user)
    intent = _start(app, citizen_user).intent
    page = client.post(f"/payments/sandbox/pay/{intent.gateway_payment_id}/", {"action": "timeout"})
    assert page.status_code == 200 and not webhooks()
    waiting = client.get(_return_path(intent))
    assert waiting["Refresh"] == "5"
    assert refresh_intent(intent).status == IntentStatus.PENDING
    assert _start(app, citizen_user).intent.pk == intent.pk  # still live: same session
    PaymentIntent.objects.filter(pk=intent.pk).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    tally = sweep_intents()
    assert (tally.checked, tally.expired) == (1, 1)
    intent.refresh_from_db()
    assert intent.status == IntentStatus.EXPIRED and _status(app) == Status.SUBMITTED
    fresh = _start(app, citizen_user).intent
    assert fresh.pk != intent.pk and fresh.status == IntentStatus.PENDING


def test_a_return_page_left_reloading_asks_the_gateway_a_few_times_a_minute(
    app: Application, citizen_user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    from baladiya.payments.gateways import services as gateways

    asked = record_gateway_queries(monkeypatch)
    client = _client(citizen_user)
    intent = _start(app, citizen_user).intent
    for _ in range(gateways.CHECKS_PER_MINUTE + 4):  # the page reloads itself every 5 s
        assert client.get(_return_path(intent))["Refresh"] == "5"
    assert len(asked) == gateways.CHECKS_PER_MINUTE
    sandbox.act(intent.gateway_payment_id, "pay")
    deliver()  # the gateway's notification is not throttled
    shown = client.get(_return_path(intent), headers={"Accept-Language": "en"})
    assert "Payment received" in shown.content.decode() and "Refresh" not in shown
    assert len(asked) == gateways.CHECKS_PER_MINUTE


def test_late_success_after_expiry_is_still_recorded(app: Application, citizen_user: User) -> None:
    intent = _start(app, citizen_user).intent
    PaymentIntent.objects.filter(pk=intent.pk).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    sweep_intents()
    intent.refresh_from_db()
    assert intent.status == IntentStatus.EXPIRED
    sandbox.act(intent.gateway_payment_id, "pay")  # the gateway's session was still open
    deliver()
    intent.refresh_from_db()
    assert intent.status == IntentStatus.SUCCEEDED and _status(app) == Status.PAID
    late = AuditEvent.objects.get(action="payments.intent_succeeded")
    assert late.data["late"] is True and late.data["previous"] == "expired"


def test_expired_session_at_the_gateway_cannot_be_paid(
    app: Application, citizen_user: User
) -> None:
    intent = _start(app, citizen_user).intent
    SandboxPayment.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    page = _client(citizen_user).post(
        f"/payments/sandbox/pay/{intent.gateway_payment_id}/",
        {"action": "pay"},
        headers={"Accept-Language": "en"},
    )
    assert page.status_code == 200 and "expired" in page.content.decode()
    assert refresh_intent(intent).status == IntentStatus.EXPIRED
    assert _status(app) == Status.SUBMITTED


def test_money_arriving_after_cancellation_is_receipted_then_refunded(
    app: Application, citizen_user: User, clerk: User, center: Center
) -> None:
    intent = _start(app, citizen_user).intent
    apps.cancel(app, clerk, "طلب المواطن الإلغاء")
    sandbox.act(intent.gateway_payment_id, "pay")
    deliver()
    intent.refresh_from_db()
    assert intent.status == IntentStatus.REFUNDED and intent.refund_due
    receipt = Receipt.objects.get()
    refund = Refund.objects.get()
    assert (receipt.amount, refund.amount, refund.receipt_id) == (FEE, FEE, receipt.pk)
    assert refund.method == PaymentMethod.GATEWAY and refund.issued_by is None
    assert refund.external_ref.startswith("sandbox:sbr_")
    assert SandboxRefund.objects.get().amount == FEE  # the money really went back
    assert _status(app) == Status.CANCELLED
    assert reports.money_balances(center, timezone.localdate())
    page = _client(citizen_user).get(_return_path(intent), headers={"Accept-Language": "en"})
    assert "refunded" in page.content.decode()


def test_paid_in_cash_meanwhile_the_online_money_goes_back(
    app: Application, citizen_user: User, cashier: User, drawer: CashierSession
) -> None:
    intent = _start(app, citizen_user).intent
    cash = pay.record_cash_payment(app, cashier)
    sandbox.act(intent.gateway_payment_id, "pay")
    deliver()
    assert _status(app) == Status.PAID
    online = Receipt.objects.exclude(pk=cash.pk).get()
    assert pay.refunded_amount(online) == FEE and pay.refunded_amount(cash) == 0


def test_failed_automatic_refund_is_retried_by_the_sweep(
    app: Application, citizen_user: User, clerk: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    intent = _start(app, citizen_user).intent
    apps.cancel(app, clerk, "إلغاء")

    def down(*args: object, **kwargs: object) -> None:
        raise GatewayUnavailable("gateway down")

    monkeypatch.setattr(sandbox.SandboxGateway, "refund", down)
    sandbox.act(intent.gateway_payment_id, "pay")
    deliver()
    intent.refresh_from_db()
    assert intent.status == IntentStatus.SUCCEEDED and intent.refund_due
    assert Receipt.objects.count() == 1 and not Refund.objects.exists()
    monkeypatch.undo()
    assert sweep_intents().refunds_retried == 1
    intent.refresh_from_db()
    assert intent.status == IntentStatus.REFUNDED
    assert Refund.objects.get().amount == FEE


# ---------------------------------------------------------------- who may pay, and when


def test_idempotent_start(
    app: Application, citizen_user: User, make_app: Callable[..., Any]
) -> None:
    first = _start(app, citizen_user, idempotency_key="same")
    again = _start(app, citizen_user, idempotency_key="same")
    assert again.intent.pk == first.intent.pk and again.redirect_url == first.redirect_url
    assert not again.created
    other_click = _start(app, citizen_user, idempotency_key="another-tab")
    assert other_click.intent.pk == first.intent.pk  # one payable session at a time
    assert SandboxPayment.objects.count() == 1
    with pytest.raises(Conflict):
        _start(make_app(), citizen_user, idempotency_key="same")


def test_only_the_applicant_or_a_cashier_of_the_center_may_pay(
    app: Application,
    citizen_user: User,
    other_citizen_user: User,
    clerk: User,
    cashier: User,
    other_cashier: User,
) -> None:
    for outsider in (other_citizen_user, clerk, other_cashier):
        with pytest.raises(NotAllowed):
            _start(app, outsider)
    assert not PaymentIntent.objects.exists()
    assert _start(app, cashier).intent.started_by == cashier


def test_other_citizen_gets_404_and_anonymous_is_sent_to_log_in(
    app: Application, other_citizen_user: User
) -> None:
    url = f"/payments/online/{app.reference}/start/"
    assert _client(other_citizen_user).post(url).status_code == 404
    anonymous = Client().post(url)
    assert anonymous.status_code == 302 and "login" in anonymous["Location"]
    assert not PaymentIntent.objects.exists()


def test_a_paid_or_cancelled_application_is_not_payable(
    app: Application, citizen_user: User, clerk: User, make_app: Callable[..., Any]
) -> None:
    first = _start(app, citizen_user).intent
    sandbox.act(first.gateway_payment_id, "pay")
    deliver()
    with pytest.raises(pay.AlreadyPaid):
        _start(app, citizen_user)
    client = _client(citizen_user)
    answer = client.post(f"/payments/online/{app.reference}/start/", follow=False)
    assert answer.status_code == 302 and "/payments/sandbox/" not in answer["Location"]
    cancelled = make_app()
    apps.cancel(cancelled, clerk, "إلغاء")
    with pytest.raises(IllegalTransition):
        _start(cancelled, citizen_user)


def test_bad_return_address_and_unknown_channel_are_refused(
    app: Application, citizen_user: User
) -> None:
    for url in ("https://evil.example/steal", "//evil.example/x", "javascript:alert(1)", ""):
        with pytest.raises(DomainError):
            start_online_payment(app, citizen_user, return_url=url)
    assert _start(app, citizen_user, gateway="sandbox").intent
    with pytest.raises(DomainError) as unknown:
        _start(app, citizen_user, gateway="paypal")
    assert unknown.value.code == "unknown_gateway"


def test_an_unconnected_channel_says_so_and_writes_nothing_payable(
    app: Application, citizen_user: User, settings: Any
) -> None:
    settings.PAYMENT_GATEWAYS = ["sandbox", "syriatel"]
    with translation.override("en"):
        with pytest.raises(NotConfigured) as refused:
            _start(app, citizen_user, gateway="syriatel")
        assert "Syriatel Cash" in str(refused.value.message)
    intent = PaymentIntent.objects.get()
    assert intent.status == IntentStatus.EXPIRED and intent.error
    page = _client(citizen_user).post(
        f"/payments/online/{app.reference}/start/",
        {"gateway": "syriatel"},
        headers={"Accept-Language": "en"},
        follow=True,
    )
    assert page.status_code == 200
    assert _status(app) == Status.SUBMITTED


def test_cashier_offers_electronic_payment_on_the_desk(
    app: Application, cashier: User, drawer: CashierSession
) -> None:
    client = Client()
    assert client.login(username=cashier.username, password=PASSWORD)
    page = client.get(f"/payments/pay/{app.reference}/")
    assert f"/payments/online/{app.reference}/start/" in page.content.decode()
    started = client.post(f"/payments/online/{app.reference}/start/", {"gateway": "sandbox"})
    assert started.status_code == 302 and "/payments/sandbox/pay/" in started["Location"]


# ---------------------------------------------------------------- pages never 500


def test_bad_links_are_clear_404s(app: Application, citizen_user: User) -> None:
    client = _client(citizen_user)
    for url in (
        f"{RETURN}?intent=not-a-uuid",
        f"{RETURN}?intent=01900000-0000-7000-8000-000000000000",
        RETURN,
        "/payments/sandbox/pay/sbx_nothing/",
        "/payments/online/C03-26-999999/start/",
    ):
        method = client.post if url.endswith("start/") else client.get
        assert method(url).status_code == 404, url


def test_another_citizen_cannot_see_the_return_page(
    app: Application, citizen_user: User, other_citizen_user: User
) -> None:
    intent = _start(app, citizen_user).intent
    assert _client(other_citizen_user).get(_return_path(intent)).status_code == 404
    anonymous = Client().get(_return_path(intent))
    assert anonymous.status_code == 302 and "login" in anonymous["Location"]


def test_sandbox_page_is_gone_when_the_sandbox_is_disabled(
    app: Application, citizen_user: User, settings: Any
) -> None:
    intent = _start(app, citizen_user).intent
    settings.PAYMENT_GATEWAYS = []
    assert Client().get(f"/payments/sandbox/pay/{intent.gateway_payment_id}/").status_code == 404
    with pytest.raises(NotConfigured):
        _start(app, citizen_user)


def test_sandbox_page_refuses_an_unknown_choice(app: Application, citizen_user: User) -> None:
    intent = _start(app, citizen_user).intent
    page = Client().post(
        f"/payments/sandbox/pay/{intent.gateway_payment_id}/",
        {"action": "steal"},
        headers={"Accept-Language": "en"},
    )
    assert page.status_code == 400 and "Unknown choice" in page.content.decode()
    assert SandboxPayment.objects.get().state == "pending"
