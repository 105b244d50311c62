"""A new water meter in the browser, from the counter to an active subscription: the clerk
takes the application with its papers, the cashier takes the fee, the water establishment's
officer checks the papers, schedules the field visit, records it as passed with the meter
number installed and approves; the subscription is active and the clerk sees it."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from baladiya.accounts import roles
from baladiya.accounts.models import Citizen, User
from baladiya.applications.models import Application, InspectionVisit
from baladiya.applications.workflow import Status
from baladiya.catalog.models import Agency, Service
from baladiya.core.seed.homs import seed_homs
from baladiya.e2e.tests.conftest import arabic, login
from baladiya.notifications.models import OutboxMessage
from baladiya.water.models import Subscription

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SERVICE = "water-new-meter"
PDF = b"%PDF-1.4\n% scanned paper\n%%EOF\n"
METER = "HMS-0099001"


@pytest.fixture
def seeded(clerk: User, cashier: User, live_server: Any, settings: Any) -> Service:
    settings.PUBLIC_BASE_URL = live_server.url
    seed_homs()
    return Service.objects.get(code=SERVICE)


@pytest.fixture
def water_officer(make_user: Callable[..., User], seeded: Service) -> User:
    return make_user(
        "officer.water",
        roles.OFFICER,
        agency=Agency.objects.get(code="water"),
        full_name="م. سامي الحسيني",
    )


def _status(page: Page, status: str) -> None:
    expect(page.locator("h1 .status")).to_have_class(re.compile(rf"\bstatus-{status}\b"))


def test_clerk_registers_a_new_meter_through_to_activation(
    page: Page,
    new_page: Callable[..., Page],
    seeded: Service,
    citizen: Citizen,
    clerk: User,
    cashier: User,
    water_officer: User,
) -> None:
    # --- The clerk files the application for the citizen, with the two papers.
    login(page, clerk.username)
    page.goto(f"/applications/citizens/{citizen.pk}/")
    page.get_by_role("link", name=seeded.name_ar, exact=True).click()
    expect(page).to_have_url(re.compile(rf"/apply/{SERVICE}/$"))
    page.locator("#id_f_address").fill("حي الإنشاءات، شارع البرازيل، بناء 7")
    page.locator("#id_f_neighbourhood").select_option("الإنشاءات")
    page.locator("#id_f_category").select_option("منزلي")
    page.locator("#id_f_phone").fill(citizen.phone)
    for code in ("id-copy", "deed-or-lease"):
        page.locator(f"#id_att_{code}").set_input_files(
            {"name": f"{code}.pdf", "mimeType": "application/pdf", "buffer": PDF}
        )
    page.get_by_role("button", name=arabic("Submit application")).click()
    expect(page).to_have_url(re.compile(r"/applications/C03-\d{2}-\d{6}/$"))
    reference = page.url.rstrip("/").rsplit("/", 1)[-1]
    _status(page, "submitted")
    app = Application.objects.get(reference=reference)
    assert app.service == seeded and app.attachments.count() == 2

    # --- The cashier of the same center takes the fee.
    desk = new_page("ar")
    login(desk, cashier.username)
    desk.locator("#id_opening_float").fill("100")
    desk.locator("#id_opening_float").press("Enter")
    expect(desk.locator("#session")).to_be_visible()
    desk.locator("#q").fill(reference)
    desk.locator("#q").press("Enter")
    expect(desk).to_have_url(re.compile(rf"/payments/pay/{reference}/$"))
    desk.locator(f'form[action="/payments/pay/{reference}/"] button[type=submit]').click()
    expect(desk).to_have_url(re.compile(r"/payments/receipts/[^/]+/$"))

    # --- The water establishment's officer checks the papers and schedules the visit.
    office = new_page("ar")
    login(office, water_officer.username)
    office.goto(f"/applications/{reference}/")
    _status(office, "paid")
    office.get_by_role("button", name=arabic("Start review")).click()
    _status(office, "in_review")
    schedule = office.locator("#schedule-inspection")
    expect(schedule).to_be_visible()
    today = timezone.localdate().isoformat()
    expect(schedule.locator("#id_scheduled_for")).to_have_value(today)
    schedule.locator("#id_inspector").select_option(label=water_officer.display_name())
    schedule.get_by_role("button", name=arabic("Schedule the visit")).click()
    expect(office.locator(".messages")).to_contain_text(today)
    expect(office.locator("table.inspections tbody tr")).to_have_count(1)
    expect(office.locator("#schedule-inspection")).to_have_count(0)  # one visit at a time

    # Approving before the result is refused with a clear message; nothing changes.
    office.get_by_role("button", name=arabic("Approve"), exact=True).click()
    expect(office.locator(".msg.error")).to_contain_text(
        arabic("The field inspection of %(day)s has no result yet: record it first.")
        % {"day": today}
    )
    _status(office, "in_review")

    # --- The visit passed: the result and the meter installed are recorded.
    record = office.locator("#record-inspection")
    record.locator("input[name=result][value=passed]").check()
    record.locator("#id_meter_number").fill(METER.lower())
    record.locator("#id_notes").fill("تم تركيب العداد")
    record.get_by_role("button", name=arabic("Record the result")).click()
    expect(office.locator("table.inspections")).to_contain_text(METER)
    visit = InspectionVisit.objects.get(application=app)
    assert (visit.result, visit.meter_number, visit.inspector) == ("passed", METER, water_officer)

    office.get_by_role("button", name=arabic("Approve"), exact=True).click()
    _status(office, "approved")
    active = office.locator("#subscription")
    expect(active).to_be_visible()
    expect(active.locator(".meter")).to_have_text(METER)
    expect(active).to_contain_text(citizen.full_name)

    # --- The subscription exists, active, in the citizen's name; the citizen was told.
    sub = Subscription.objects.get(meter_number=METER)
    assert sub.subscriber == citizen and sub.active_since == timezone.localdate()
    assert sub.owners.get().valid_to is None
    assert OutboxMessage.objects.filter(recipient=citizen.phone, body__contains=METER).exists()

    # --- Back at the counter, the clerk sees the approved application and the meter.
    page.reload()
    _status(page, "approved")
    expect(page.locator("#subscription .meter")).to_have_text(METER)
    expect(page.locator("#record-inspection")).to_have_count(0)
    assert Application.objects.get(pk=app.pk).status == Status.APPROVED
