"""The electronic center in the browser: a citizen signs up with their mobile and the SMS
code, completes the profile, applies with an attachment for pickup at a chosen center, and
follows the status; someone else looks the status up by reference and mobile."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from baladiya.accounts.models import User
from baladiya.applications.models import Application
from baladiya.catalog.models import RequiredAttachment, Service
from baladiya.centers.models import Center
from baladiya.e2e.tests.conftest import arabic
from baladiya.notifications.models import OutboxMessage

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _sms_code(phone: str) -> str:
    message = OutboxMessage.objects.filter(recipient=phone).order_by("-created_at").first()
    assert message is not None
    found = re.search(r"(?<![0-9])([0-9]{6})(?![0-9])", message.body)
    assert found
    return found.group(1)


def test_citizen_signs_up_applies_for_pickup_and_follows_it(
    page: Page, new_page: Callable[..., Page], service: Service, center: Center
) -> None:
    Center.objects.create(
        code="C00",
        name_ar="المركز الإلكتروني",
        name_en="Electronic center",
        kind="electronic",
        accepts_pickup=False,
    )
    RequiredAttachment.objects.create(
        service=service, code="id-card", label_ar="صورة الهوية", label_en="ID card copy"
    )

    # The council's address leads to the electronic center, in Arabic.
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/e/$"))
    expect(page.locator("html")).to_have_attribute("dir", "rtl")

    # Sign up: the mobile typed in Arabic-Indic digits, then the code from the SMS.
    page.locator(".main-nav").get_by_role("link", name=arabic("Log in or sign up")).click()
    page.locator("#id_phone").fill("٠٩٣٣ ٤٤٤ ٥٥٥")
    page.locator("#id_phone").press("Enter")
    expect(page).to_have_url(re.compile(r"/e/login/code/$"))
    expect(page.locator("main")).to_contain_text("+963933444555")
    page.locator("#id_code").fill(_sms_code("+963933444555"))
    page.locator("#id_code").press("Enter")

    # The profile, once.
    expect(page).to_have_url(re.compile(r"/e/profile/"))
    page.locator("#id_national_number").fill("04011122233")
    page.locator("#id_first_name").fill("سارة")
    page.locator("#id_last_name").fill("النجار")
    page.get_by_role("button", name=arabic("Save")).click()
    expect(page).to_have_url(re.compile(r"/e/services/$"))

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
    expect(page.locator("main")).to_contain_text(arabic("Submitted"))
    expect(page.locator("#pay")).to_be_visible()
    user = User.objects.get(username="+963933444555")
    assert app.applicant == user.citizen and app.channel == "online" and app.pickup_center == center

    # Pay online, when the payments app offers it (the sandbox gateway in tests).
    pay = page.locator("#pay").get_by_role("button", name=arabic("Pay online"))
    if pay.count():
        pay.click()
        page.get_by_role("button", name=arabic("Pay successfully")).click()
        # The payments app's return page, then back to the application.
        expect(page.locator("#payment-status")).to_contain_text(
            arabic("Payment received. Thank you.")
        )
        page.get_by_role("link", name=arabic("Back to the application")).click()
        page.wait_for_url(re.compile(rf"/e/applications/{app.reference}/$"))
        expect(page.locator("main .status").first).to_have_text(arabic("Paid"))
        expect(page.locator("#pay")).to_have_count(0)
        receipt = page.get_by_role("link", name=re.compile(arabic("Receipt")))
        expect(receipt).to_be_visible()
        with page.expect_download() as download:
            receipt.click()
        assert download.value.suggested_filename.endswith(".pdf")

    # My applications lists it.
    page.locator(".main-nav").get_by_role("link", name=arabic("My applications")).click()
    expect(page.get_by_role("link", name=app.reference)).to_be_visible()

    # Someone else, without an account, follows it by reference and mobile (in English).
    other = new_page("en")
    other.goto("/e/track/")
    other.locator("#id_reference").fill(app.reference)
    other.locator("#id_phone").fill("0933 444 555")
    other.get_by_role("button", name="Show the status").click()
    expect(other.locator("#result")).to_contain_text("Submitted")
    other.locator("#id_reference").fill(app.reference)
    other.locator("#id_phone").fill("0933 444 556")
    other.get_by_role("button", name="Show the status").click()
    expect(other.locator("#result")).to_contain_text("No application matches")
