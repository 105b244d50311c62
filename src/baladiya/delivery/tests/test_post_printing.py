"""The day's paper: address labels and the dispatch list as PDFs, read back as text."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from baladiya.accounts.models import Citizen, User
from baladiya.applications.models import Application
from baladiya.core.errors import DomainError
from baladiya.core.testing import pdf_line_as_seen
from baladiya.delivery.models import Shipment
from baladiya.delivery.post.printing import dispatch_list_pdf, labels_pdf
from baladiya.delivery.post.services import dispatch
from baladiya.delivery.tests.conftest import ADDRESS_PHONE, MakePostApp, client_for

pytestmark = pytest.mark.django_db


def pdf_text(pdf: bytes) -> tuple[int, str]:
    reader = PdfReader(io.BytesIO(pdf))
    return len(reader.pages), "\n".join(page.extract_text() or "" for page in reader.pages)


@pytest.fixture
def second_citizen(db: None) -> Citizen:
    return Citizen.objects.create(
        national_number="04029876543",
        first_name="مريم",
        father_name="يوسف",
        last_name="الخوري",
        phone="+963955000111",
    )


def test_labels_carry_the_address_and_tracking_number(
    make_post_app: MakePostApp, civil_officer: User, second_citizen: Citizen
) -> None:
    first = dispatch(make_post_app(), civil_officer)
    second = dispatch(make_post_app(applicant=second_citizen), civil_officer)
    pages, text = pdf_text(labels_pdf(civil_officer, timezone.localdate()))
    assert pages == 1  # eight labels to a sheet
    for shipment in (first, second):
        assert shipment.tracking_number in text
        assert shipment.application.reference in text
        assert shipment.application.document.number in text  # type: ignore[attr-defined]
    for word in ("الحمصي", "الخوري", "الحضارة", "الإنشاءات", "حمص", "الشؤون"):
        assert word in text, word
    assert ADDRESS_PHONE in text


def test_each_label_has_a_qr_code_of_its_tracking_number(
    make_post_app: MakePostApp, civil_officer: User
) -> None:
    import pypdfium2 as pdfium
    import zxingcpp

    numbers = {dispatch(make_post_app(), civil_officer).tracking_number for _ in range(3)}
    document = pdfium.PdfDocument(labels_pdf(civil_officer, timezone.localdate()))
    try:
        image = document[0].render(scale=3).to_pil()
    finally:
        document.close()
    assert {code.text for code in zxingcpp.read_barcodes(image)} == numbers


def test_nine_labels_take_two_sheets(make_post_app: MakePostApp, civil_officer: User) -> None:
    for _ in range(9):
        dispatch(make_post_app(), civil_officer)
    pages, text = pdf_text(labels_pdf(civil_officer, timezone.localdate()))
    assert pages == 2
    assert all(s.tracking_number in text for s in Shipment.objects.all())


def test_no_labels_for_a_day_without_post(civil_officer: User) -> None:
    with pytest.raises(DomainError) as info:
        labels_pdf(civil_officer, timezone.localdate())
    assert info.value.code == "empty"


def test_dispatch_list_shows_the_days_shipments_and_what_waits(
    make_post_app: MakePostApp, civil_officer: User, second_citizen: Citizen
) -> None:
    sent = dispatch(make_post_app(), civil_officer)
    waiting = make_post_app(applicant=second_citizen)
    _, text = pdf_text(dispatch_list_pdf(civil_officer, timezone.localdate()))
    assert "قائمة" in text and "الإرسال" in text
    assert sent.tracking_number in text and sent.application.reference in text
    assert waiting.reference in text and "الخوري" in text
    assert "الشؤون" in text and "المدنية" in text  # whose post it is
    # Another day: nothing sent then, the waiting document is still listed.
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    _, text = pdf_text(dispatch_list_pdf(civil_officer, yesterday))
    assert sent.tracking_number not in text
    assert waiting.reference in text


def test_labels_are_per_scope(
    make_post_app: MakePostApp,
    civil_officer: User,
    justice_officer: User,
    clerk: User,
    other_clerk: User,
) -> None:
    online = dispatch(make_post_app(), civil_officer)
    counter = dispatch(make_post_app(online=False), clerk)
    today = timezone.localdate()
    assert online.tracking_number not in pdf_text(labels_pdf(clerk, today))[1]
    assert counter.tracking_number in pdf_text(labels_pdf(clerk, today))[1]
    assert counter.tracking_number not in pdf_text(labels_pdf(civil_officer, today))[1]
    for user in (justice_officer, other_clerk):
        with pytest.raises(DomainError):
            labels_pdf(user, today)


def test_label_and_list_pages(post_app: Application, civil_officer: User, cashier: User) -> None:
    client = client_for(civil_officer)
    day = timezone.localdate().isoformat()
    # No shipment yet: back to the list with a message.
    response = client.get(reverse("delivery:labels"), {"day": day})
    assert response.status_code == 302
    shipment = dispatch(post_app, civil_officer)
    response = client.get(reverse("delivery:labels"), {"day": day})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == "private, no-store"
    assert shipment.tracking_number in pdf_text(response.content)[1]
    response = client.get(reverse("delivery:dispatch_list_pdf"), {"day": day})
    assert response.status_code == 200
    assert shipment.tracking_number in pdf_text(response.content)[1]
    # A bad date falls back to today; other roles are refused.
    assert client.get(reverse("delivery:dispatch_list"), {"day": "2026-13-45"}).status_code == 200
    assert client_for(cashier).get(reverse("delivery:dispatch_list_pdf")).status_code == 403


def test_a_building_number_like_12_4_prints_the_right_way(
    make_post_app: MakePostApp, civil_officer: User
) -> None:
    """An address "بناء 12-4" on the label and on the dispatch list reads 12-4, not 4-12
    (Typst's bidi split the number at its hyphen)."""
    address = {"line": "شارع الحضارة، بناء 12-4", "neighbourhood": "الإنشاءات", "phone": ""}
    dispatch(make_post_app(address=address), civil_officer)
    day = timezone.localdate()
    for pdf in (labels_pdf(civil_officer, day), dispatch_list_pdf(civil_officer, day)):
        seen = pdf_line_as_seen(pdf, "الحضارة")
        assert "12-4" in seen and "4-12" not in seen, seen
