"""The gateway's daily settlement file against our receipts and refunds: every mismatch kind
is listed for the finance officer, and DESIGN §5 invariant 1 (receipts − refunds = cash
counted + gateway settlements) holds with electronic payments in the day, and breaks when
the settlement says otherwise."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone, translation

from baladiya.accounts.models import User
from baladiya.applications import services as apps
from baladiya.applications.models import Application
from baladiya.centers.models import Center
from baladiya.core.errors import DomainError, NotAllowed
from baladiya.core.models import AuditEvent
from baladiya.notifications.models import OutboxMessage
from baladiya.payments import reports
from baladiya.payments import services as pay
from baladiya.payments.gateways import sandbox
from baladiya.payments.gateways.services import (
    import_settlement,
    refresh_intent,
    start_online_payment,
)
from baladiya.payments.gateways.settlement import (
    AMOUNT_DIFFERS,
    MISSING_GATEWAY,
    MISSING_OURS,
    settlement_report,
)
from baladiya.payments.models import (
    CashierSession,
    PaymentIntent,
    Receipt,
    SandboxPayment,
    SettlementImport,
)
from baladiya.payments.tests.gateway_helpers import deliver

FEE = 5000


def today() -> Any:
    return timezone.localdate()


def _pay_online(app: Application, user: User, *, notify: bool = True) -> PaymentIntent:
    intent = start_online_payment(app, user, return_url="/r/").intent
    sandbox.act(intent.gateway_payment_id, "pay")
    if notify:
        deliver()
    else:  # the webhook is lost for good
        OutboxMessage.objects.filter(kind="webhook").delete()
    intent.refresh_from_db()
    return intent


@pytest.fixture
def day_of_business(
    make_app: Callable[..., Application],
    citizen_user: User,
    cashier: User,
    drawer: CashierSession,
    reject: Callable[[Application], Application],
    supervisor: User,
    clerk: User,
) -> list[Application]:
    """Cash and online payments, a gateway refund and an automatic one, in one day."""
    online = [make_app() for _ in range(3)]
    for app in online:
        _pay_online(app, citizen_user)
    pay.record_cash_payment(make_app(), cashier)
    reject(online[0])
    pay.refund_receipt(online[0].receipts.get(), cashier, "رسم زائد", amount=1000)
    pay.cancel_with_refund(online[1], supervisor, "تعذر تقديم الخدمة")
    late = make_app()
    intent = start_online_payment(late, citizen_user, return_url="/r/").intent
    apps.cancel(late, clerk, "إلغاء")
    sandbox.act(intent.gateway_payment_id, "pay")
    deliver()  # receipted, then refunded automatically
    return online


def test_a_clean_day_reconciles_and_balances(
    day_of_business: list[Application], finance: User, center: Center
) -> None:
    rec = reports.daily_reconciliation(center, today())
    net = 4 * FEE - 1000 - FEE - FEE  # 4 captured; a partial, a cancel and an automatic refund
    assert rec.balanced and rec.gateway is not None and rec.gateway_awaiting == net
    imp = import_settlement("sandbox", today(), finance)
    assert imp.source == "fetched" and imp.line_count == 4 + 3  # 4 captured, 3 refunds
    report = settlement_report("sandbox", today())
    assert report.reconciled and report.matched == 7 and not report.mismatches
    assert report.gateway_net == report.our_net == net
    rec = reports.daily_reconciliation(center, today())
    assert rec.balanced and rec.gateway_awaiting == 0
    assert rec.gateway_settlements == report.gateway_net
    assert AuditEvent.objects.filter(action="payments.settlement_imported").count() == 1


def test_money_the_gateway_took_that_we_never_recorded(
    app: Application, citizen_user: User, finance: User, center: Center
) -> None:
    intent = _pay_online(app, citizen_user, notify=False)
    assert not Receipt.objects.exists()
    import_settlement("sandbox", today(), finance)
    report = settlement_report("sandbox", today())
    [missing] = report.mismatches
    assert missing.kind == MISSING_OURS and missing.gateway_amount == FEE
    assert missing.application_reference == app.reference and missing.intent_id == str(intent.pk)
    rec = reports.daily_reconciliation(center, today())
    assert not rec.balanced and rec.difference == -FEE  # money taken, no receipt
    # The finance officer asks the gateway: the payment is recorded, everything matches.
    client = Client()
    client.force_login(finance)
    asked = client.post(f"/payments/online/intents/{intent.pk}/refresh/")
    assert asked.status_code == 302
    assert settlement_report("sandbox", today()).reconciled
    assert reports.money_balances(center, today())


def test_money_we_recorded_that_the_gateway_does_not_list(
    app: Application, citizen_user: User, make_app: Callable[..., Application],
    finance: User, center: Center,
) -> None:  # fmt: skip
    _pay_online(app, citizen_user)
    ghost = pay.record_gateway_payment(make_app(), FEE, "sandbox:sbx_ghost")
    import_settlement("sandbox", today(), finance)
    report = settlement_report("sandbox", today())
    [missing] = report.mismatches
    assert missing.kind == MISSING_GATEWAY and missing.our_number == ghost.number
    assert missing.our_amount == FEE and missing.gateway_amount is None
    rec = reports.daily_reconciliation(center, today())
    assert not rec.balanced and rec.difference == FEE


def test_amount_differs(
    app: Application, citizen_user: User, finance: User, center: Center
) -> None:
    intent = _pay_online(app, citizen_user)
    SandboxPayment.objects.filter(payment_id=intent.gateway_payment_id).update(amount=4900)
    import_settlement("sandbox", today(), finance)
    [differs] = settlement_report("sandbox", today()).mismatches
    assert differs.kind == AMOUNT_DIFFERS
    assert (differs.gateway_amount, differs.our_amount) == (4900, FEE)
    assert reports.daily_reconciliation(center, today()).difference == 100


def test_a_refund_made_at_the_gateway_whose_notice_was_lost(
    app: Application, citizen_user: User, finance: User, center: Center
) -> None:
    intent = _pay_online(app, citizen_user)
    sandbox.dashboard_refund(intent.gateway_payment_id, 700)
    OutboxMessage.objects.filter(kind="webhook", state="pending").delete()
    import_settlement("sandbox", today(), finance)
    [missing] = settlement_report("sandbox", today()).mismatches
    assert (missing.kind, missing.record_type, missing.gateway_amount) == (
        MISSING_OURS,
        "refund",
        700,
    )
    assert reports.daily_reconciliation(center, today()).difference == 700


def test_a_later_import_replaces_the_earlier_one(
    app: Application, citizen_user: User, finance: User
) -> None:
    import_settlement("sandbox", today(), finance)  # imported too early: empty
    _pay_online(app, citizen_user)
    assert settlement_report("sandbox", today()).of_kind(MISSING_GATEWAY)
    import_settlement("sandbox", today(), finance)
    assert settlement_report("sandbox", today()).reconciled


def test_uploaded_files_are_checked(app: Application, citizen_user: User, finance: User) -> None:
    _pay_online(app, citizen_user)
    good = sandbox.settlement_csv(today())
    assert import_settlement("sandbox", today(), finance, good).source == "uploaded"
    yesterday = today().fromordinal(today().toordinal() - 1)
    bad_files = {
        b"not,a,settlement\n1,2,3\n": "columns",
        good + good.splitlines(keepends=True)[1]: "twice",
        good.replace(b",5000,", b",50.00,"): "Line 2",
        b"\xff\xfe": "UTF-8",
    }
    for content, why in bad_files.items():
        with translation.override("en"):
            with pytest.raises(DomainError) as refused:
                import_settlement("sandbox", today(), finance, content)
            assert why in str(refused.value.message)
    with translation.override("en"):
        with pytest.raises(DomainError) as wrong_day:
            import_settlement("sandbox", yesterday, finance, good)
        assert "another day" in str(wrong_day.value.message)
    assert SettlementImport.objects.count() == 1  # only the good one


def test_who_may_import_and_read(
    cashier: User, supervisor: User, auditor: User, finance: User, admin_user: User
) -> None:
    for user in (cashier, supervisor, auditor):
        with pytest.raises(NotAllowed):
            import_settlement("sandbox", today(), user)
    assert import_settlement("sandbox", today(), admin_user)
    url = "/payments/settlements/"
    for user, status in ((cashier, 403), (supervisor, 200), (auditor, 200), (finance, 200)):
        client = Client()
        client.force_login(user)
        assert client.get(url).status_code == status, user
    reader = Client()
    reader.force_login(auditor)
    assert reader.post(url, {"gateway": "sandbox", "date": today().isoformat()}).status_code in (
        302,
        403,
    )
    assert Client().get(url).status_code in (302, 403)


def test_the_finance_page_lists_mismatches_and_imports(
    app: Application,
    citizen_user: User,
    make_app: Callable[..., Application],
    finance: User,
) -> None:
    _pay_online(make_app(), citizen_user, notify=False)
    ghost = pay.record_gateway_payment(app, FEE, "sandbox:sbx_ghost")
    client = Client()
    client.force_login(finance)
    day = today().isoformat()
    fetched = client.post("/payments/settlements/", {"gateway": "sandbox", "date": day})
    assert fetched.status_code == 302
    page = client.get(fetched["Location"], headers={"Accept-Language": "en"})
    body = page.content.decode()
    assert page.status_code == 200
    assert "2 mismatches to resolve" in body
    assert "Missing on our side" in body and "Missing at the gateway" in body
    assert ghost.number in body and "Ask the gateway" in body
    arabic = client.get(fetched["Location"])
    assert arabic.status_code == 200 and 'dir="rtl"' in arabic.content.decode()
    # The day's filter and the import form both ask for a channel and a day: each label
    # points at its own field (a screen reader, a click on the label).
    ids = re.findall(r'\sid="([^"]+)"', body)
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    for target in re.findall(r'<label for="([^"]+)"', body):
        assert target in ids, target
    upload = SimpleUploadedFile("s.csv", b"garbage", content_type="text/csv")
    refused = client.post(
        "/payments/settlements/",
        {"gateway": "sandbox", "date": day, "file": upload},
        headers={"Accept-Language": "en"},
    )
    assert refused.status_code == 400 and "columns" in refused.content.decode()


def test_invariant_1_with_online_money_across_centers(
    make_app: Callable[..., Application],
    citizen_user: User,
    cashier: User,
    drawer: CashierSession,
    other_center: Center,
    other_clerk: User,
    center: Center,
    finance: User,
) -> None:
    """Online payments of two centers' applications; the settlement file covers both; each
    center balances on its own, and a discrepancy lands on the right center."""
    here = make_app()
    there = make_app(at=other_center, by=other_clerk)
    _pay_online(here, citizen_user)
    lost = _pay_online(there, citizen_user, notify=False)
    pay.record_cash_payment(make_app(), cashier)
    pay.close_session(drawer, cashier, drawer.opening_float + FEE)
    assert reports.money_balances(center, today())
    assert reports.money_balances(other_center, today())  # nothing recorded, nothing settled
    import_settlement("sandbox", today(), finance)
    assert reports.money_balances(center, today())
    assert reports.daily_reconciliation(other_center, today()).difference == -FEE
    refresh_intent(lost)
    assert reports.money_balances(other_center, today())
    assert reports.money_balances(center, today())
