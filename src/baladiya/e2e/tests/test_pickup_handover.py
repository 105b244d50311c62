"""Pickup in the browser: the clerk of the pickup center finds the waiting document, checks the
ID shown (a wrong card number is refused), hands it over, and the queue no longer lists it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from baladiya.accounts.models import Citizen, User
from baladiya.applications.models import Application
from baladiya.applications.workflow import Status
from baladiya.delivery.models import Handover
from baladiya.documents.models import IssuedDocument
from baladiya.e2e.tests.conftest import arabic, login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_clerk_hands_over_a_waiting_document_after_the_id_check(
    page: Page, ready_document: IssuedDocument, clerk: User, citizen: Citizen
) -> None:
    app = ready_document.application
    login(page, clerk.username)

    # The pickup queue, from the menu: this document waits here.
    page.locator(".main-nav").get_by_role("link", name=arabic("Pickup"), exact=True).click()
    expect(page).to_have_url(re.compile(r"/delivery/pickup/$"))
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    row = page.locator("table.queue tbody tr", has_text=app.reference)
    expect(row).to_have_count(1)
    expect(row).to_contain_text(ready_document.number)
    expect(row).to_contain_text(citizen.national_number)
    expect(row.get_by_role("link", name=arabic("Hand over"))).to_be_visible()

    # Keyboard: type the reference into the focused search box, Enter: the form opens.
    search = page.locator("#id_q")
    expect(search).to_be_focused()
    search.fill(app.reference)
    search.press("Enter")
    expect(page).to_have_url(re.compile(rf"/delivery/handover/{app.reference}/$"))
    expect(page.locator("main")).to_contain_text(ready_document.number)
    expect(page.locator("main")).to_contain_text(citizen.full_name)
    # The applicant in person, with a national ID card: the defaults.
    expect(page.locator("input[name=recipient][value=applicant]")).to_be_checked()
    expect(page.locator("#id_id_kind")).to_have_value("national_id")

    # A card whose number is not the applicant's: refused, nothing handed over.
    id_number = page.locator("#id_id_number")
    expect(id_number).to_be_focused()
    id_number.fill("04099999999")
    id_number.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text(
        arabic(
            "The ID card number does not match the applicant's national number. "
            "The document was not handed over."
        )
    )
    assert Application.objects.get(pk=app.pk).status == Status.READY_FOR_PICKUP

    # The right card: handed over, back to the queue, which no longer lists it.
    page.locator("#id_id_number").fill(citizen.national_number)
    page.get_by_role("button", name=arabic("Hand over the document")).click()
    expect(page).to_have_url(re.compile(r"/delivery/pickup/$"))
    expect(page.locator(".messages")).to_contain_text(app.reference)
    expect(page.locator("table.queue")).to_have_count(0)
    expect(page.locator("main")).to_contain_text(arabic("No document is waiting at this center."))
    page.locator("#id_q").fill(app.reference)
    page.locator("#id_q").press("Enter")
    expect(page.locator("main")).to_contain_text(
        arabic("No document waiting at this center matches the search.")
    )

    handover = Handover.objects.get(application=app)
    assert handover.id_number == citizen.national_number and handover.is_applicant
    assert Application.objects.get(pk=app.pk).status == Status.HANDED_OVER

    # The application page shows the new status and the step in its history.
    page.goto(f"/applications/{app.reference}/")
    expect(page.locator("h1 .status")).to_have_class(re.compile(r"\bstatus-handed_over\b"))
    expect(page.locator("table.history")).to_contain_text(arabic("Hand over"))
    # Opening the form again shows who collected it instead of a second form.
    page.goto(f"/delivery/handover/{app.reference}/")
    expect(page.get_by_role("button", name=arabic("Hand over the document"))).to_have_count(0)
    expect(page.locator("main")).to_contain_text(arabic("Already handed over"))
