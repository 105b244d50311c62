"""A subscriber pays a water bill online, in the browser (issue 5): signs up with the mobile
the water establishment has for them, finds their meter under "My water bills", pays the
oldest bill at the sandbox gateway (its signed webhook arrives before the browser returns),
sees the receipt, downloads it, and the other bill is still owed."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import Page, Route, expect

from baladiya.accounts.models import Citizen
from baladiya.centers.models import Center
from baladiya.core.money import format_pounds
from baladiya.e2e.tests.conftest import arabic, pdf_text, pump_outbox, sign_up, sms_received
from baladiya.payments.models import GatewayWebhook, Receipt
from baladiya.water.models import Bill, Category, Subscription
from baladiya.water.seed import seed_tariffs
from baladiya.water.services import record_bill

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = "+963933777888"
NATIONAL = "04015556667"


def _subscriber_with_two_bills() -> tuple[Bill, Bill]:
    seed_tariffs()
    citizen = Citizen.objects.create(
        national_number=NATIONAL,
        first_name="هبة",
        father_name="سامر",
        last_name="السباعي",
        mother_name="رنا",
        birth_date=dt.date(1988, 9, 14),
        phone=PHONE,  # the mobile the establishment's register has for her
    )
    meter = Subscription.objects.create(
        meter_number="HMS-0042117",
        subscriber=citizen,
        address="حي الإنشاءات، شارع الحضارة 12",
        category=Category.HOUSEHOLD,
        active_since=dt.date(2015, 3, 1),
    )
    old, _ = record_bill(meter, "2026-01", dt.date(2026, 2, 28), 1160, 1200)
    new, _ = record_bill(meter, "2026-02", dt.date(2026, 4, 30), 1200, 1260)
    return old, new


def test_a_citizen_pays_a_water_bill_online(
    page: Page, outside_world: str, electronic_center: Center
) -> None:
    old, new = _subscriber_with_two_bills()
    page.goto("/e/")
    sign_up(
        page,
        typed_phone="0933 777 888",
        phone=PHONE,
        national_number=NATIONAL,
        first_name="هبة",
        last_name="السباعي",
    )
    page.locator(".main-nav").get_by_role("link", name=arabic("My water bills")).click()
    meter = page.locator("section.meter", has_text="HMS-0042117")
    expect(meter).to_contain_text(format_pounds(old.amount + new.amount))
    # Only the oldest bill this time: untick the newer one.
    meter.locator(f"#bill-{new.pk}").uncheck()

    def webhook_first(route: Route) -> None:
        if route.request.method != "POST":
            route.continue_()
            return
        answer = route.fetch(max_redirects=0)  # the gateway takes the money ...
        sent.append(pump_outbox())  # ... its signed webhook reaches us ...
        route.fulfill(response=answer)  # ... then the browser comes back

    sent: list[int] = []
    hosted = re.compile(r"/payments/sandbox/pay/")
    page.route(hosted, webhook_first)
    meter.get_by_role("button", name=arabic("Pay the ticked bills online")).click()
    expect(page.locator("main")).to_contain_text(format_pounds(old.amount))
    page.get_by_role("button", name=arabic("Pay successfully")).click()
    status = page.locator("#payment-status")
    status.wait_for()
    page.unroute(hosted)
    assert sent and sent[0] >= 1, "the webhook was not delivered"
    assert GatewayWebhook.objects.get().outcome == "recorded"
    receipt = Receipt.objects.get()
    expect(status).to_contain_text(arabic("Payment received. Thank you."))
    expect(status).to_contain_text(receipt.number)
    assert receipt.amount == old.amount and receipt.number.startswith("C00-R")

    page.get_by_role("link", name=arabic("Back")).click()
    page.wait_for_url(re.compile(r"/water/my/$"))
    meter = page.locator("section.meter", has_text="HMS-0042117")
    expect(meter).to_contain_text(format_pounds(new.amount))  # what is still owed
    expect(meter.locator(f"#bill-{new.pk}")).to_be_visible()
    expect(meter.locator(f"#bill-{old.pk}")).to_have_count(0)  # paid: nothing to tick
    link = meter.get_by_role("link", name=re.compile(receipt.number))
    pdf = page.request.get(link.get_attribute("href") or "")
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
    text = pdf_text(pdf.body())
    assert receipt.number in text and format_pounds(old.amount) in text
    assert receipt.number in sms_received(PHONE)[0]  # her phone heard of it too
    old.refresh_from_db()
    new.refresh_from_db()
    assert (old.state, new.state) == ("paid", "unpaid")
