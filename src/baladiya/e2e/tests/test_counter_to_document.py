"""A citizen served end to end in the browser: the clerk finds them at the counter, files an
application for a seeded service, the cashier of the same center takes the cash and prints the
receipt, the clerk reviews, approves and issues, and the printed document verifies by its QR."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from baladiya.accounts.models import Citizen, User
from baladiya.applications.models import Application
from baladiya.applications.workflow import Status
from baladiya.catalog.models import Service
from baladiya.core.money import format_pounds
from baladiya.core.seed.homs import seed_homs
from baladiya.documents import payload as wire
from baladiya.documents.models import IssuedDocument
from baladiya.documents.services import verify_payload, verify_pdf
from baladiya.e2e.tests.conftest import arabic, login, open_pdf, pdf_text, read_qr
from baladiya.payments.models import Receipt

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SERVICE = "civil-individual-extract"  # a counter-approved service of the Homs seed


@pytest.fixture
def seeded(clerk: User, cashier: User, live_server: Any, settings: Any) -> Service:
    """The Homs catalog on top of the shared C03 staff; QR codes point at the live server."""
    settings.PUBLIC_BASE_URL = live_server.url
    seed_homs()
    return Service.objects.get(code=SERVICE)


def test_clerk_serves_a_citizen_from_search_to_printed_document(
    page: Page,
    new_page: Callable[..., Page],
    seeded: Service,
    citizen: Citizen,
    clerk: User,
    cashier: User,
    live_server: Any,
) -> None:
    # --- The clerk logs in and lands on the counter, in Arabic, right to left.
    login(page, clerk.username)
    expect(page).to_have_url(re.compile(r"/applications/counter/$"))
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.locator("html")).to_have_attribute("lang", "ar")
    expect(page.locator("h1")).to_contain_text(arabic("Counter"))

    # Search by Arabic name, spelled without the hamza (أحمد -> احمد): the citizen is found.
    search = page.locator("#q")
    expect(search).to_be_focused()  # autofocus: the clerk just types
    search.fill("احمد الحمصي")
    search.press("Enter")
    result = page.locator("table.results tbody tr")
    expect(result).to_have_count(1)
    expect(result).to_contain_text(citizen.national_number)

    # By national number, a single exact match opens the citizen's page directly.
    page.locator("#q").fill(citizen.national_number)
    page.locator("#q").press("Enter")
    expect(page).to_have_url(re.compile(rf"/applications/citizens/{citizen.pk}/$"))
    expect(page.locator("h1")).to_have_text(citizen.full_name)

    # --- Apply for the seeded service.
    page.get_by_role("link", name=seeded.name_ar, exact=True).click()
    expect(page).to_have_url(re.compile(rf"/apply/{SERVICE}/$"))
    page.get_by_label(seeded.fields.get(name="national_number").label_ar).fill(
        citizen.national_number
    )
    page.get_by_label(seeded.fields.get(name="purpose").label_ar).select_option("جامعة")
    # Pickup at the clerk's own center is preselected.
    expect(page.locator("#id_pickup_center")).to_have_value(str(clerk.center_id))
    page.get_by_role("button", name=arabic("Submit application")).click()
    expect(page).to_have_url(re.compile(r"/applications/C03-\d{2}-\d{6}/$"))
    reference = page.url.rstrip("/").rsplit("/", 1)[-1]
    expect(page.locator("h1")).to_contain_text(reference)
    expect(page.locator("h1 .status")).to_have_class(re.compile(r"\bstatus-submitted\b"))
    app = Application.objects.get(reference=reference)
    assert app.applicant_id == citizen.pk and app.service_id == seeded.pk
    assert app.status == Status.SUBMITTED
    fee = format_pounds(app.fee_amount)
    assert app.fee_amount > 0

    # --- The cashier of the same center opens a drawer and takes the cash.
    desk = new_page("ar")
    login(desk, cashier.username)
    expect(desk).to_have_url(re.compile(r"/payments/$"))
    desk.locator("#id_opening_float").fill("100")
    desk.locator("#id_opening_float").press("Enter")
    expect(desk.locator("#session")).to_be_visible()
    expect(desk.locator("#awaiting")).to_contain_text(reference)
    desk.locator("#q").fill(reference)
    desk.locator("#q").press("Enter")
    expect(desk).to_have_url(re.compile(rf"/payments/pay/{reference}/$"))
    expect(desk.locator("main")).to_contain_text(fee)
    cash_form = desk.locator(f'form[action="{reverse("payments:take_payment", args=[reference])}"]')
    confirm = cash_form.locator("button[type=submit]")
    expect(confirm).to_contain_text(fee)
    expect(confirm).to_be_focused()  # Enter confirms
    confirm.press("Enter")
    expect(desk).to_have_url(re.compile(r"/payments/receipts/[^/]+/$"))
    receipt = Receipt.objects.get(application=app)
    expect(desk.locator("h1")).to_contain_text(receipt.number)
    receipt_pdf = open_pdf(desk, desk.get_by_role("link", name=arabic("Print receipt (PDF)")))
    assert receipt_pdf.startswith(b"%PDF-")
    text = pdf_text(receipt_pdf)
    assert receipt.number in text
    assert fee in text
    assert reference in text

    # --- Back at the counter: the clerk reviews, approves and issues (a counter service).
    page.reload()
    expect(page.locator("h1 .status")).to_have_class(re.compile(r"\bstatus-paid\b"))
    expect(page.get_by_role("link", name=receipt.number)).to_be_visible()
    page.get_by_role("button", name=arabic("Start review")).click()
    expect(page.locator("h1 .status")).to_have_class(re.compile(r"\bstatus-in_review\b"))
    page.locator("#note-approve").fill("الوثائق مطابقة")
    page.get_by_role("button", name=arabic("Approve"), exact=True).click()
    expect(page.locator("h1 .status")).to_have_class(re.compile(r"\bstatus-approved\b"))
    page.get_by_role("button", name=arabic("Issue document")).click()
    # Delivered by pickup: issuing puts it straight into this center's pickup queue.
    expect(page.locator("h1 .status")).to_have_class(re.compile(r"\bstatus-ready_for_pickup\b"))
    doc = IssuedDocument.objects.get(application=app)
    expect(page.locator(".messages")).to_contain_text(doc.number)

    # --- The printed document: its text, its QR code, and the QR's verdict.
    pdf = open_pdf(page, page.get_by_role("link", name=doc.number))
    assert pdf == bytes(doc.pdf)
    text = pdf_text(pdf)
    assert doc.number in text
    assert citizen.national_number in text
    scanned = read_qr(pdf)
    assert scanned.startswith(f"{live_server.url}/verify/{doc.number}/?p=")
    payload = wire.payload_from_text(scanned)
    assert payload is not None
    verdict = verify_payload(payload, doc.number)
    assert verdict.status == "valid", verdict.message
    assert verdict.holder == citizen.full_name
    assert verify_pdf(pdf).status == "valid"

    # A phone scanning the QR opens the public page: valid, with the holder in full.
    phone = new_page("ar")
    phone.goto(scanned)
    expect(phone.locator(".verdict")).to_have_attribute("data-status", "valid")
    expect(phone.locator("dl.facts")).to_contain_text(citizen.full_name)
    expect(phone.locator("dl.facts")).to_contain_text(citizen.national_number)
