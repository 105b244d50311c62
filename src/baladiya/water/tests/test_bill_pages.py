"""Water bills as people pay them (issue 5 point 4): a cashier at the counter, looked up by
meter or national number, several bills on one receipt; a subscriber online through the
gateway, with a replayed webhook, a bill paid at a counter meanwhile, someone else's meter."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client

from baladiya.accounts.models import Citizen, User
from baladiya.centers.models import Center
from baladiya.core.models import AuditEvent
from baladiya.notifications.models import OutboxMessage
from baladiya.payments import services as pay
from baladiya.payments.gateways import sandbox
from baladiya.payments.models import IntentStatus, PaymentIntent, Receipt, Refund
from baladiya.payments.tests.conftest import make_citizen_account
from baladiya.payments.tests.gateway_helpers import SECRET, deliver, webhooks
from baladiya.water.models import Bill, BillPayment, Category, Subscription
from baladiya.water.services import pay_bills, record_bill

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def gateway(settings: Any) -> None:
    settings.PAYMENT_GATEWAYS = ["sandbox"]
    settings.PAYMENT_GATEWAY_DEFAULT = "sandbox"
    settings.PAYMENT_GATEWAY_SECRETS = {"sandbox": SECRET}
    settings.PAYMENT_WEBHOOK_TOLERANCE_SECONDS = 900
    settings.SANDBOX_GATEWAY_DUPLICATE_WEBHOOKS = False
    settings.SANDBOX_GATEWAY_WEBHOOK_DELAY_SECONDS = 0
    settings.WEBHOOK_TRANSPORT = "baladiya.payments.tests.gateway_helpers.client_transport"
    settings.PUBLIC_BASE_URL = "http://testserver"


@pytest.fixture
def meter(citizen: Citizen, tariffs: None) -> Subscription:
    sub = Subscription.objects.create(
        meter_number="HMS-0042117",
        subscriber=citizen,
        address="حي الإنشاءات، شارع الحضارة 12",
        category=Category.HOUSEHOLD,
        active_since=dt.date(2015, 3, 1),
    )
    record_bill(sub, "2026-01", dt.date(2026, 2, 28), 1160, 1200)  # 40 m³ at 150 = 6,000
    record_bill(sub, "2026-02", dt.date(2026, 4, 30), 1200, 1260, estimated=True)  # 24,000
    return sub


@pytest.fixture
def electronic(db: None) -> Center:
    return Center.objects.create(
        code="C00", name_ar="المركز الإلكتروني", name_en="Electronic center", kind="electronic"
    )


def _client(user: User) -> Client:
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)
    return client


def _bill_ids(meter: Subscription) -> list[str]:
    return [str(b.pk) for b in meter.bills.order_by("period_end")]


# ---------------------------------------------------------------- the counter


def test_the_cashier_finds_the_meter_and_takes_cash_for_both_bills(
    meter: Subscription, cashier: User, citizen: Citizen
) -> None:
    pay.open_session(cashier, 0)
    client = _client(cashier)
    for query in ("HMS-0042117", citizen.national_number):
        page = client.get("/water/counter/", {"q": query})
        body = page.content.decode()
        assert page.status_code == 200
        assert "HMS-0042117" in body and citizen.full_name in body
        assert body.index("2026-01") < body.index("2026-02")  # the oldest debt first
        assert "estimated" in body and "300.00" in body  # 30,000 piastres owed
    paid = client.post("/water/counter/pay/", {"bill": _bill_ids(meter), "q": "HMS-0042117"})
    receipt = Receipt.objects.get()
    assert paid.status_code == 302 and paid["Location"] == f"/payments/receipts/{receipt.number}/"
    assert receipt.amount == 30000 and "HMS-0042117" in receipt.description
    assert set(meter.bills.values_list("state", flat=True)) == {"paid"}
    shown = client.get(paid["Location"]).content.decode()
    assert "HMS-0042117" in shown  # what was paid for is on the receipt page
    sms = OutboxMessage.objects.get(recipient=citizen.phone)
    assert receipt.number in sms.body
    assert "2026-01، 2026-02" in sms.body  # an Arabic SMS: the Arabic comma between cycles
    # A double click: refused by name, nothing charged twice.
    again = client.post(
        "/water/counter/pay/", {"bill": _bill_ids(meter), "q": "HMS-0042117"}, follow=True
    )
    assert "Already paid" in again.content.decode()
    assert Receipt.objects.count() == 1 and BillPayment.objects.count() == 2


def test_a_clerk_may_look_but_only_a_cashier_takes_money(
    meter: Subscription, clerk: User, make_user: Any
) -> None:
    client = _client(clerk)
    page = client.get("/water/counter/", {"q": "HMS-0042117"}).content.decode()
    assert "A cashier takes the payment" in page
    refused = client.post("/water/counter/pay/", {"bill": _bill_ids(meter)})
    assert refused.status_code == 403
    assert not Receipt.objects.exists()
    citizenless = make_user("auditor.one", "auditor")
    assert _client(citizenless).get("/water/counter/", {"q": "HMS"}).status_code == 403


def test_the_counter_shows_who_held_the_meter_before(meter: Subscription, clerk: User) -> None:
    from baladiya.water.models import MeterChange, OwnerPeriod

    seller = Citizen.objects.create(
        national_number="04077777777", first_name="سليم", last_name="الحسيني", phone=""
    )
    OwnerPeriod.objects.create(
        subscription=meter,
        citizen=seller,
        valid_from=dt.date(2015, 3, 1),
        valid_to=dt.date(2024, 6, 30),
    )
    OwnerPeriod.objects.create(
        subscription=meter, citizen=meter.subscriber, valid_from=dt.date(2024, 7, 1)
    )
    MeterChange.objects.create(
        subscription=meter,
        old_number="HMS-0000001",
        new_number="HMS-0042117",
        changed_on=dt.date(2020, 1, 5),
        reason="عطل",
    )
    page = _client(clerk).get("/water/counter/", {"q": "HMS-0042117"}).content.decode()
    assert "History of owners and meters" in page
    assert "04077777777" in page and "2024-06-30" in page and "HMS-0000001" in page


def test_nonsense_and_unknown_meters_get_a_clear_answer(meter: Subscription, cashier: User) -> None:
    pay.open_session(cashier, 0)
    client = _client(cashier)
    page = client.get("/water/counter/", {"q": "NOPE-1"}).content.decode()
    assert "No meter found" in page
    nothing = client.post("/water/counter/pay/", {"bill": ["not-an-id"]}, follow=True)
    assert nothing.status_code == 200
    assert "Choose at least one bill" in nothing.content.decode()
    assert not Receipt.objects.exists()


# ---------------------------------------------------------------- online


def _pay_online(client: Client, bills: list[str]) -> PaymentIntent:
    started = client.post("/water/my/pay/", {"bill": bills, "idempotency_key": "t1"})
    assert started.status_code == 302, started.content
    intent = PaymentIntent.objects.order_by("-created_at").first()
    assert intent is not None
    assert started["Location"] == f"/payments/sandbox/pay/{intent.gateway_payment_id}/"
    return intent


def test_the_subscriber_pays_online_and_downloads_the_receipt(
    meter: Subscription, citizen: Citizen, electronic: Center
) -> None:
    user = make_citizen_account(citizen)
    client = _client(user)
    mine = client.get("/water/my/").content.decode()
    assert "HMS-0042117" in mine and "300.00" in mine
    intent = _pay_online(client, _bill_ids(meter))
    assert intent.amount == 30000 and intent.application_id is None
    sandbox.act(intent.gateway_payment_id, "pay")
    deliver()
    deliver()  # nothing left to send: a second round changes nothing
    receipt = Receipt.objects.get()
    assert receipt.number.startswith("C00-R") and receipt.amount == 30000
    assert set(meter.bills.values_list("state", flat=True)) == {"paid"}
    back = client.get(f"/payments/online/return/?intent={intent.pk}").content.decode()
    assert "Payment received" in back and receipt.number in back
    pdf = client.get(f"/water/my/receipts/{receipt.number}.pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert AuditEvent.objects.filter(action="water.bills_paid").count() == 1


def test_a_replayed_webhook_pays_once(
    meter: Subscription, citizen: Citizen, electronic: Center
) -> None:
    from baladiya.payments.tests.gateway_helpers import post_message

    client = _client(make_citizen_account(citizen))
    intent = _pay_online(client, _bill_ids(meter))
    sandbox.act(intent.gateway_payment_id, "pay")
    deliver()
    post_message(webhooks()[0])  # the gateway sends the same notice again
    assert Receipt.objects.count() == 1 and BillPayment.objects.count() == 2


def test_a_bill_paid_at_a_counter_meanwhile_gets_the_online_money_back(
    meter: Subscription, citizen: Citizen, electronic: Center, cashier: User, center: Center
) -> None:
    client = _client(make_citizen_account(citizen))
    intent = _pay_online(client, _bill_ids(meter))
    pay.open_session(cashier, 0)
    pay_bills([meter.bills.get(cycle="2026-01")], cashier, center)  # at the counter
    sandbox.act(intent.gateway_payment_id, "pay")
    deliver()
    intent.refresh_from_db()
    assert intent.status == IntentStatus.REFUNDED
    assert "2026-01" in intent.refund_due
    online = Receipt.objects.get(number__startswith="C00-R")
    assert Refund.objects.get(receipt=online).amount == 30000  # all of it, not split
    assert meter.bills.get(cycle="2026-02").state == Bill.State.UNPAID  # still owed
    assert BillPayment.objects.filter(receipt=online).count() == 0
    told = OutboxMessage.objects.filter(recipient=citizen.phone).values_list("body", flat=True)
    assert any(online.number in text and "300.00" in text for text in told)


def test_someone_elses_meter_cannot_be_paid_or_seen(
    meter: Subscription, electronic: Center
) -> None:
    other = Citizen.objects.create(
        national_number="04099999999", first_name="ليلى", last_name="العلي", phone="+963955000111"
    )
    client = _client(make_citizen_account(other))
    assert "HMS-0042117" not in client.get("/water/my/").content.decode()
    refused = client.post("/water/my/pay/", {"bill": _bill_ids(meter)}, follow=True)
    assert "not in your name" in refused.content.decode()
    assert not PaymentIntent.objects.exists()


def test_staff_cannot_use_the_citizen_page(meter: Subscription, cashier: User) -> None:
    assert _client(cashier).get("/water/my/").status_code == 403
