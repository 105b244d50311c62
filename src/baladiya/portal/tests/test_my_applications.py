"""A citizen's applications: the list, the detail (status, history without internal notes,
amount due, pay button), receipt and signed-document downloads. Another citizen's reference,
receipt or document answers exactly like one that does not exist."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from baladiya.accounts.models import Citizen, User
from baladiya.applications import services as apps
from baladiya.applications.models import Application
from baladiya.catalog.models import Service
from baladiya.centers.models import Center
from baladiya.documents.models import IssuedDocument
from baladiya.documents.services import issue_document, revoke_document
from baladiya.payments.models import Receipt
from baladiya.payments.services import record_gateway_payment
from baladiya.portal import views
from baladiya.portal.tests.conftest import ClientFor

pytestmark = pytest.mark.django_db
_NOISE = re.compile(
    r'name="csrfmiddlewaretoken" value="[^"]+"|"X-CSRFToken": "[^"]+"|<form class="lang".*?</form>'
    r"|<title>.*?</title>",
    re.S,
)


def _issue(app: Application, officer: User) -> IssuedDocument:
    record_gateway_payment(app, app.fee_amount, f"sandbox:{app.reference}")
    apps.start_review(app, officer)
    apps.approve(app, officer, "checked against the registry")  # an internal remark
    return issue_document(app, officer)


@pytest.fixture
def others_app(
    other_citizen: Citizen, service: Service, clerk: User, center: Center, officer: User
) -> Application:
    """Another citizen's application, paid and issued (a receipt and a document exist)."""
    app = apps.submit_application(
        clerk,
        apps.Submission(
            service=service,
            applicant=other_citizen,
            center=center,
            fields={"purpose": "سر"},
            delivery_mode="pickup",
            pickup_center=center,
        ),
    )
    _issue(app, officer)
    return app


@pytest.fixture
def web(client_for: ClientFor, citizen_user: User) -> Client:
    return client_for(citizen_user)


def test_list_shows_only_own_applications(
    web: Client, online_app: Application, others_app: Application
) -> None:
    body = web.get(reverse("portal:applications")).content.decode()
    assert online_app.reference in body and others_app.reference not in body
    assert "Individual civil-registry extract" in body


def test_detail_of_a_submitted_application(web: Client, online_app: Application) -> None:
    response = web.get(reverse("portal:application", args=[online_app.reference.lower()]))
    assert response.status_code == 200
    body = response.content.decode()
    assert online_app.reference in body and "وزارة الداخلية" in body
    assert "Amount due" in body and "50.00" in body
    assert "al-Inshaat center" in body


def test_pay_button_appears_when_online_payment_exists(
    web: Client, online_app: Application, monkeypatch: Any
) -> None:
    url = reverse("portal:application", args=[online_app.reference])
    real = views.online_payment_url(online_app.reference)
    body = web.get(url).content.decode()
    if real:
        assert f'action="{real}"' in body
        token = re.search(r'name="idempotency_key" value="([0-9a-f]{32})"', body)
        assert token
        # The payments app accepts the citizen: off to the gateway's page.
        response = web.post(real, {"idempotency_key": token.group(1)})
        assert response.status_code == 302, response
        assert not response["Location"].startswith(url), response["Location"]
    else:
        assert "Online payment is not available at the moment" in body
    monkeypatch.setattr(views, "online_payment_url", lambda ref: f"/pay/{ref}/")
    body = web.get(url).content.decode()
    assert f'<form method="post" action="/pay/{online_app.reference}/">' in body


def test_history_hides_staff_names_and_internal_notes(
    web: Client, online_app: Application, officer: User
) -> None:
    officer.full_name = "موظف المديرية"
    officer.save()
    record_gateway_payment(online_app, online_app.fee_amount, "sandbox:1")
    apps.start_review(online_app, officer)
    apps.return_for_correction(online_app, officer, "أرفق صورة الهوية من الجهتين")
    body = web.get(reverse("portal:application", args=[online_app.reference])).content.decode()
    assert "أرفق صورة الهوية من الجهتين" in body  # meant for the citizen
    assert "موظف المديرية" not in body and officer.username not in body
    assert "Returned for correction" in body and "Amount due" not in body


def test_paid_issued_application_offers_receipt_and_document(
    web: Client, online_app: Application, officer: User
) -> None:
    doc = _issue(online_app, officer)
    receipt = Receipt.objects.get(application=online_app)
    body = web.get(reverse("portal:application", args=[online_app.reference])).content.decode()
    assert "checked against the registry" not in body  # the approval remark is internal
    receipt_url = reverse("portal:receipt_pdf", args=[online_app.reference, receipt.number])
    assert receipt_url in body
    response = web.get(receipt_url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert response["Cache-Control"] == "private, no-store"
    # The sample service does not let citizens download the document: collect it.
    doc_url = reverse("portal:document_pdf", args=[online_app.reference])
    assert doc_url not in body and "cannot be downloaded" in body
    assert web.get(doc_url).status_code == 404
    Service.objects.filter(pk=online_app.service_id).update(citizen_download=True)
    body = web.get(reverse("portal:application", args=[online_app.reference])).content.decode()
    assert doc_url in body
    response = web.get(doc_url)
    assert response.status_code == 200 and response.content == bytes(doc.pdf)
    # Revoked: no longer offered.
    revoke_document(doc, officer, "خطأ في الاسم")
    assert web.get(doc_url).status_code == 404
    body = web.get(reverse("portal:application", args=[online_app.reference])).content.decode()
    assert "The document was revoked" in body


def _page(response: Any) -> str:
    return _NOISE.sub("", response.content.decode())


def test_another_citizens_records_look_like_nothing_exists(
    web: Client, online_app: Application, others_app: Application, other_citizen: Citizen
) -> None:
    """Guessing references, receipt numbers and document numbers gets a plain 404."""
    Service.objects.update(citizen_download=True)
    receipt = Receipt.objects.get(application=others_app)
    own_receipt_number = "C00-R26-999999"
    missing = others_app.reference[:-1] + ("9" if others_app.reference[-1] != "9" else "8")
    tries = {
        "theirs": [
            reverse("portal:application", args=[others_app.reference]),
            reverse("portal:receipt_pdf", args=[others_app.reference, receipt.number]),
            reverse("portal:receipt_pdf", args=[online_app.reference, receipt.number]),
            reverse("portal:document_pdf", args=[others_app.reference]),
        ],
        "nothing": [
            reverse("portal:application", args=[missing]),
            reverse("portal:receipt_pdf", args=[missing, receipt.number]),
            reverse("portal:receipt_pdf", args=[online_app.reference, own_receipt_number]),
            reverse("portal:document_pdf", args=[missing]),
        ],
    }
    pages: dict[str, list[tuple[int, str]]] = {}
    for kind, urls in tries.items():
        pages[kind] = []
        for url in urls:
            response = web.get(url)
            assert response.status_code == 404, url
            body = response.content.decode()
            for secret in (other_citizen.national_number, other_citizen.first_name, "سر"):
                assert secret not in body
            pages[kind].append((response.status_code, _page(response)))
    assert pages["theirs"] == pages["nothing"]


def test_an_account_without_profile_sees_nobodys_applications(
    client_for: ClientFor, online_app: Application, make_account: Any
) -> None:
    # Same mobile as the applicant, but no profile yet: nothing until the profile is linked.
    stranger = make_account("+963933000000")
    response = client_for(stranger).get(reverse("portal:application", args=[online_app.reference]))
    assert response.status_code == 302 and "/e/profile/" in response["Location"]


def test_citizen_pages_need_a_login(online_app: Application) -> None:
    for url in (
        reverse("portal:applications"),
        reverse("portal:application", args=[online_app.reference]),
        reverse("portal:document_pdf", args=[online_app.reference]),
    ):
        response = Client().get(url)
        assert response.status_code == 302 and response["Location"].startswith("/e/login/")
