"""The electronic center in the browser, delivery by post: a citizen applies for delivery to
their address and pays online; the back office reviews, approves and issues, then sends the
document from the day's dispatch list and prints the address label; the sandbox post office
carries it and its signed callbacks reach us through the outbox; the citizen's page shows
the tracking number while it travels, then the delivery with the post's events."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from baladiya.accounts.models import User
from baladiya.applications.models import Application
from baladiya.applications.workflow import Status
from baladiya.catalog.models import Service
from baladiya.centers.models import Center, Neighbourhood
from baladiya.delivery.models import Shipment
from baladiya.delivery.post.models import ShipmentEvent
from baladiya.documents.models import IssuedDocument
from baladiya.e2e.tests.conftest import (
    arabic,
    login,
    open_pdf,
    pay_online,
    pdf_text,
    review_and_issue,
    sign_up,
    sms_received,
)
from baladiya.notifications.models import OutboxMessage

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = "+963955777888"
STREET = "شارع الحضارة، بناء 12، الطابق الثاني"


def test_citizen_chooses_post_and_follows_dispatch_tracking_and_delivery(
    page: Page,
    new_page: Callable[..., Page],
    outside_world: str,
    electronic_center: Center,
    service: Service,
    center: Center,
    civil_officer: User,
) -> None:
    inshaat = Neighbourhood.objects.create(name_ar="الإنشاءات", name_en="al-Inshaat")
    center.neighbourhoods.add(inshaat)

    # A citizen signs up and applies for delivery by post to their home.
    page.goto("/e/")
    sign_up(
        page,
        typed_phone="0955 777 888",
        phone=PHONE,
        national_number="04055566677",
        first_name="مريم",
        last_name="الخوري",
    )
    page.goto(f"/e/services/{service.code}/apply/")
    page.locator("#id_f_purpose").fill("وزارة الخارجية")
    page.locator("input[name=delivery_mode][value=post]").check()
    page.locator("#id_address_line").fill(STREET)
    page.locator("#id_address_neighbourhood").select_option(label=inshaat.name_ar)
    expect(page.locator("#id_address_phone")).to_have_value(PHONE)  # their verified mobile
    page.get_by_role("button", name=arabic("Submit application")).click()
    app = Application.objects.get()
    expect(page).to_have_url(re.compile(rf"/e/applications/{app.reference}/$"))
    expect(page.locator("main")).to_contain_text(STREET)
    assert app.delivery_mode == "post" and app.delivery_address["neighbourhood"] == "الإنشاءات"
    pay_online(page, app.reference)
    expect(page.locator("main .status").first).to_have_text(arabic("Paid"))

    # The back office issues it: for the post, it waits in the dispatch list, not a center's.
    office = new_page("ar")
    login(office, civil_officer.username)
    review_and_issue(office, app.reference)
    expect(office.locator("h1 .status")).to_have_class(re.compile(r"\bstatus-issued\b"))
    doc = IssuedDocument.objects.get(application=app)

    # The day's dispatch list: the address to write on the envelope; tick it and send it.
    office.locator(".main-nav").get_by_role("link", name=arabic("Post"), exact=True).click()
    expect(office).to_have_url(re.compile(r"/delivery/post/$"))
    waiting = office.locator("table.queue tbody tr", has_text=app.reference)
    expect(waiting).to_contain_text(doc.number)
    expect(waiting).to_contain_text(STREET)
    expect(waiting).to_contain_text(PHONE)
    office.locator(f"#send-{app.reference}").check()
    office.get_by_role("button", name=arabic("Send the ticked documents by post")).click()
    shipment = Shipment.objects.get(application=app)
    tracking = shipment.tracking_number
    assert re.fullmatch(r"RR\d{9}SY", tracking), tracking
    expect(office.locator(".messages .msg.success")).to_have_count(1)
    expect(office.locator(".messages .msg.error")).to_have_count(0)
    sent = office.locator("table.queue tbody tr", has_text=tracking)
    expect(sent).to_contain_text(app.reference)
    expect(sent).to_contain_text(arabic("With the post"))
    expect(office.locator("main")).to_contain_text(
        arabic("No document is waiting to be sent by post.")
    )

    # The address labels, printed: the label carries the tracking number and the address.
    labels = pdf_text(
        open_pdf(office, office.get_by_role("link", name=arabic("Print the address labels (PDF)")))
    )
    for text in (tracking, app.reference, doc.number, PHONE, "الحضارة", "الإنشاءات", "الخوري"):
        assert text in labels, text

    # The citizen: sent by post, with the tracking number (by SMS too); nothing reported yet.
    page.reload()
    expect(page.locator("main .status").first).to_have_text(arabic("Sent by post"))
    expect(page.locator("#tracking-number")).to_have_text(tracking)
    expect(page.locator("#shipment-state")).to_have_text(arabic("With the post"))
    expect(page.locator("#delivery")).to_contain_text(
        arabic("The post has not reported anything yet.")
    )
    assert arabic("Sent by post") in sms_received(PHONE)[0]

    # The sandbox post office delivers it (`baladiya post simulate --outcome deliver
    # --flush`): its signed callbacks go through the outbox to the live server.
    call_command("post_simulate", tracking, outcome="deliver", flush=True)
    callbacks = OutboxMessage.objects.filter(recipient__endswith="/delivery/post/callback/")
    assert callbacks.count() == 3
    assert set(callbacks.values_list("state", flat=True)) == {OutboxMessage.State.SENT}
    assert callbacks.first().recipient.startswith(outside_world)  # type: ignore[union-attr]
    assert set(ShipmentEvent.objects.values_list("outcome", flat=True)) == {"recorded", "applied"}
    assert Application.objects.get(pk=app.pk).status == Status.DELIVERED

    # The citizen's page: delivered, with the post's events in order, in Arabic ...
    page.reload()
    expect(page.locator("main .status").first).to_have_text(arabic("Delivered by post"))
    expect(page.locator("#tracking-number")).to_have_text(tracking)
    expect(page.locator("#shipment-state")).to_have_text(arabic("Delivered"))
    rows = page.locator("table.postal-events tbody tr")
    expect(rows).to_have_count(3)
    for row, kind in enumerate(("In transit", "Out for delivery", "Delivered")):
        expect(rows.nth(row)).to_contain_text(arabic(kind))
    expect(rows.nth(2)).to_contain_text("الإنشاءات")
    assert arabic("Delivered by post") in sms_received(PHONE)[0]

    # ... and in English.
    page.locator("form.lang").get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("dir", "ltr")
    expect(page.locator("main .status").first).to_have_text("Delivered by post")
    expect(page.locator("#delivery h2")).to_have_text("Delivery by post")
    expect(page.locator("#delivery dl")).to_contain_text("Tracking number")
    expect(page.locator("#shipment-state")).to_have_text("Delivered")
    expect(rows.nth(0)).to_contain_text("In transit")
    expect(rows.nth(2)).to_contain_text("Delivered")

    # The back office's list of the day shows the delivery too.
    office.reload()
    expect(office.locator("table.queue tbody tr", has_text=tracking)).to_contain_text(
        arabic("Delivered")
    )
