"""The electronic center in the browser, pickup at a chosen center: a citizen signs up with
their mobile and the SMS code, completes the profile, applies with an attachment for pickup at
a center of their choice, pays online at the sandbox gateway (its webhook arrives through the
outbox), and follows the status; the back office of the owning agency reviews, approves and
issues; the chosen center's clerk finds it in the pickup queue (another center's clerk does
not) and hands it over; the citizen's page says so. Someone else looks the status up by
reference and mobile."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from baladiya.accounts.models import User
from baladiya.applications.models import Application
from baladiya.applications.workflow import Status
from baladiya.catalog.models import RequiredAttachment, Service
from baladiya.centers.models import Center
from baladiya.documents.models import IssuedDocument
from baladiya.e2e.tests.conftest import (
    arabic,
    login,
    pay_online,
    review_and_issue,
    sign_up,
    sms_received,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PHONE = "+963933444555"


def test_citizen_signs_up_applies_pays_and_collects_at_the_chosen_center(
    page: Page,
    new_page: Callable[..., Page],
    outside_world: str,
    electronic_center: Center,
    service: Service,
    center: Center,
    other_center: Center,
    civil_officer: User,
    clerk: User,
    other_clerk: User,
) -> None:
    RequiredAttachment.objects.create(
        service=service, code="id-card", label_ar="صورة الهوية", label_en="ID card copy"
    )

    # The council's address leads to the electronic center, in Arabic.
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/e/$"))
    expect(page.locator("html")).to_have_attribute("dir", "rtl")

    # Sign up: the mobile typed in Arabic-Indic digits, the code from the SMS, the profile.
    sign_up(
        page,
        typed_phone="٠٩٣٣ ٤٤٤ ٥٥٥",
        phone=PHONE,
        national_number="04011122233",
        first_name="سارة",
        last_name="النجار",
    )

    # Find the service by a loosely spelled search, read it, apply.
    page.locator("#q").fill("بيان قيد فردى")
    page.locator("#q").press("Enter")
    page.get_by_role("link", name=service.name_ar).click()
    expect(page.locator("h1")).to_contain_text(service.name_ar)
    page.get_by_role("link", name=arabic("Apply online")).click()
    page.locator("#id_f_purpose").fill("جامعة البعث")
    page.locator("#id_att_id-card").set_input_files(
        {"name": "id.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    page.locator("#id_pickup_center").select_option(label=f"C03 — {center.name_ar}")
    page.get_by_role("button", name=arabic("Submit application")).click()

    app = Application.objects.get()
    expect(page).to_have_url(re.compile(rf"/e/applications/{app.reference}/$"))
    expect(page.locator("h1")).to_contain_text(app.reference)
    expect(page.locator("main .status").first).to_have_text(arabic("Submitted"))
    expect(page.locator("main")).to_contain_text(center.name_ar)
    user = User.objects.get(username=PHONE)
    assert app.applicant == user.citizen and app.channel == "online" and app.pickup_center == center
    assert app.center == electronic_center

    # Pay online at the sandbox gateway; the webhook records the payment.
    pay_online(page, app.reference)
    expect(page.locator("main .status").first).to_have_text(arabic("Paid"))
    expect(page.locator("#pay")).to_have_count(0)
    receipt = page.get_by_role("link", name=re.compile(arabic("Receipt")))
    expect(receipt).to_be_visible()
    with page.expect_download() as download:
        receipt.click()
    assert download.value.suggested_filename.endswith(".pdf")

    # The back office of the owning agency reviews, approves and issues: the printed
    # document goes to the chosen center's pickup queue.
    office = new_page("ar")
    login(office, civil_officer.username)
    review_and_issue(office, app.reference)
    doc = IssuedDocument.objects.get(application=app)
    expect(office.locator(".messages")).to_contain_text(doc.number)
    expect(office.locator("h1 .status")).to_have_class(re.compile(r"\bstatus-ready_for_pickup\b"))

    # The citizen's page and phone: ready at the chosen center.
    page.reload()
    expect(page.locator("main .status").first).to_have_text(arabic("Ready for pickup"))
    expect(page.locator("#ready")).to_contain_text(center.name_ar)
    assert center.name_ar in sms_received(PHONE)[0]

    # Another center's clerk does not have it; the chosen center's clerk hands it over.
    elsewhere = new_page("ar")
    login(elsewhere, other_clerk.username)
    elsewhere.goto("/delivery/pickup/")
    expect(elsewhere.locator("main")).not_to_contain_text(app.reference)
    desk = new_page("ar")
    login(desk, clerk.username)
    desk.locator(".main-nav").get_by_role("link", name=arabic("Pickup"), exact=True).click()
    row = desk.locator("table.queue tbody tr", has_text=app.reference)
    expect(row).to_contain_text(doc.number)
    expect(row).to_contain_text("04011122233")
    row.get_by_role("link", name=arabic("Hand over")).click()
    expect(desk.locator("main")).to_contain_text("سارة")
    desk.locator("#id_id_number").fill("04011122233")
    desk.get_by_role("button", name=arabic("Hand over the document")).click()
    expect(desk.locator(".messages")).to_contain_text(app.reference)
    expect(desk.locator("main")).to_contain_text(arabic("No document is waiting at this center."))
    assert Application.objects.get(pk=app.pk).status == Status.HANDED_OVER

    # The citizen's page: handed over, at that center; the history has every step.
    page.reload()
    expect(page.locator("main .status").first).to_have_text(arabic("Handed over"))
    expect(page.locator("#ready")).to_have_count(0)
    expect(page.locator("#handed-over")).to_contain_text(center.name_ar)
    history = page.locator("main table").last
    for status in ("Submitted", "Paid", "In review", "Approved", "Ready for pickup"):
        expect(history).to_contain_text(arabic(status))

    # My applications lists it.
    page.locator(".main-nav").get_by_role("link", name=arabic("My applications")).click()
    expect(page.get_by_role("link", name=app.reference)).to_be_visible()

    # Someone else, without an account, follows it by reference and mobile (in English).
    other = new_page("en")
    other.goto("/e/track/")
    other.locator("#id_reference").fill(app.reference)
    other.locator("#id_phone").fill("0933 444 555")
    other.get_by_role("button", name="Show the status").click()
    expect(other.locator("#result")).to_contain_text("Handed over")
    other.locator("#id_reference").fill(app.reference)
    other.locator("#id_phone").fill("0933 444 556")
    other.get_by_role("button", name="Show the status").click()
    expect(other.locator("#result")).to_contain_text("No application matches")
