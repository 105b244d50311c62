"""Pages: issue button, PDF download, revoke form, and the public verification pages."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from baladiya.accounts.models import User
from baladiya.applications.models import Application
from baladiya.applications.workflow import Status
from baladiya.conftest import PASSWORD
from baladiya.documents.models import IssuedDocument
from baladiya.documents.services import revoke_document
from baladiya.documents.views import VERIFY_MAX_BYTES

pytestmark = pytest.mark.django_db


def _login(user: User) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def _status(response: object) -> str:
    html = response.content.decode()  # type: ignore[attr-defined]
    return html.split('data-status="', 1)[1].split('"', 1)[0]


# ---------------------------------------------------------------- staff


def test_clerk_issues_from_the_application_page(approved: Application, clerk: User) -> None:
    response = _login(clerk).post(reverse("documents:issue", args=[approved.reference]))
    assert response.status_code == 302
    assert response["Location"] == reverse("applications:detail", args=[approved.reference])
    doc = IssuedDocument.objects.get()
    approved.refresh_from_db()
    assert approved.status == Status.READY_FOR_PICKUP and doc.application == approved


def test_double_click_on_issue_gives_one_document_and_a_message(
    approved: Application, clerk: User
) -> None:
    client = _login(clerk)
    url = reverse("documents:issue", args=[approved.reference])
    client.post(url)
    response = client.post(url, follow=False)
    assert response.status_code == 302
    assert IssuedDocument.objects.count() == 1
    messages = [str(m) for m in response.wsgi_request._messages]  # type: ignore[attr-defined]
    assert any(IssuedDocument.objects.get().number in m for m in messages)


def test_issue_refused_for_wrong_role_and_other_center(
    approved: Application, cashier: User, other_clerk: User
) -> None:
    url = reverse("documents:issue", args=[approved.reference])
    assert _login(cashier).post(url).status_code == 302  # may see it, may not issue
    assert _login(other_clerk).post(url).status_code == 403  # may not even see it
    assert Client().post(url).status_code == 302  # anonymous: to the login page
    assert _login(cashier).get(url).status_code == 405
    assert not IssuedDocument.objects.exists()


def test_pdf_download_only_for_staff_who_may_see_the_application(
    issued: IssuedDocument, clerk: User, other_clerk: User, auditor: User
) -> None:
    url = reverse("documents:pdf", args=[issued.number])
    response = _login(clerk).get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content == bytes(issued.pdf)
    assert "no-store" in response["Cache-Control"]
    assert _login(auditor).get(url).status_code == 200
    assert _login(other_clerk).get(url).status_code == 403
    assert Client().get(url).status_code == 302
    assert _login(clerk).get(reverse("documents:pdf", args=["C03-D26-999999"])).status_code == 404


def test_revoke_form_and_post(issued: IssuedDocument, supervisor: User, clerk: User) -> None:
    url = reverse("documents:revoke", args=[issued.number])
    assert _login(clerk).get(url).status_code == 403
    assert _login(clerk).post(url, {"reason": "x"}).status_code == 403
    client = _login(supervisor)
    assert b'name="reason"' in client.get(url).content
    response = client.post(url, {"reason": ""})
    assert response.status_code == 400
    assert IssuedDocument.objects.get().state == "valid"
    response = client.post(url, {"reason": "خطأ في تاريخ الولادة"})
    assert response.status_code == 302
    doc = IssuedDocument.objects.get()
    assert doc.state == "revoked" and doc.revoked_reason == "خطأ في تاريخ الولادة"
    assert client.post(url, {"reason": "again"}).status_code == 400


# ---------------------------------------------------------------- public


def test_scanned_qr_shows_valid_with_full_details(client: Client, issued: IssuedDocument) -> None:
    response = client.get(reverse("verify:detail", args=[issued.number]), {"p": issued.payload})
    assert response.status_code == 200
    assert _status(response) == "valid"
    html = response.content.decode()
    assert "أحمد محمد الحمصي" in html and "04012345678" in html
    assert 'class="verdict valid' in html
    assert response["Cache-Control"] == "no-store"


def test_revoked_document_page(client: Client, issued: IssuedDocument, supervisor: User) -> None:
    revoke_document(issued, supervisor, "خطأ")
    url = reverse("verify:detail", args=[issued.number])
    assert _status(client.get(url, {"p": issued.payload})) == "revoked"
    response = client.get(url)
    assert response.status_code == 200 and _status(response) == "revoked"
    assert 'class="verdict revoked' in response.content.decode()


def test_number_only_page_masks_details(client: Client, issued: IssuedDocument) -> None:
    response = client.get(reverse("verify:detail", args=[issued.number]))
    html = response.content.decode()
    assert _status(response) == "valid"
    assert "أحمد م. ا." in html and "04012345678" not in html and "الحمصي" not in html


@pytest.mark.parametrize(
    "number,payload",
    [
        ("C03-D26-999999", None),
        ("not-a-number", None),
        ("<script>alert(1)<", None),
        ("C03-D26-000001", "garbage"),
        ("C03-D26-000001", "BLD1." + "A" * 50_000 + ".x"),
        ("x" * 3000, "BLD1.%%.%%"),
    ],
)
def test_any_input_gets_a_verdict_page_never_a_500(
    client: Client, issued: IssuedDocument, number: str, payload: str | None
) -> None:
    params = {"p": payload} if payload else {}
    response = client.get(f"/verify/{number}/", params)
    assert response.status_code == 200
    assert _status(response) in ("unknown", "forged")
    assert "<script>alert" not in response.content.decode()


def test_lookup_form_redirects_to_the_number(client: Client, issued: IssuedDocument) -> None:
    assert client.get(reverse("verify:lookup")).status_code == 200
    response = client.get(reverse("verify:lookup"), {"number": " " + issued.number.lower()})
    assert response.status_code == 302
    assert response["Location"] == reverse("verify:detail", args=[issued.number])
    arabic_digits = issued.number.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    response = client.get(reverse("verify:lookup"), {"number": arabic_digits})
    assert response["Location"] == reverse("verify:detail", args=[issued.number])
    response = client.get(reverse("verify:lookup"), {"number": "hello"})
    assert response.status_code == 400 and b"C03-D26-000017" in response.content


def test_upload_the_pdf(client: Client, issued: IssuedDocument) -> None:
    url = reverse("verify:upload")
    pdf = bytes(issued.pdf)
    response = client.post(url, {"file": SimpleUploadedFile("doc.pdf", pdf, "application/pdf")})
    assert response.status_code == 200 and _status(response) == "valid"
    changed = bytearray(pdf)
    changed[len(pdf) // 2] ^= 0x04
    response = client.post(
        url, {"file": SimpleUploadedFile("doc.pdf", bytes(changed), "application/pdf")}
    )
    assert response.status_code == 200 and _status(response) in ("forged", "unknown")


def test_upload_refuses_non_pdf_too_large_and_missing(client: Client) -> None:
    url = reverse("verify:upload")
    png = b"\x89PNG\r\n\x1a\n" + b"0" * 100
    response = client.post(url, {"file": SimpleUploadedFile("doc.pdf", png, "application/pdf")})
    assert response.status_code == 400 and b"PDF" in response.content
    big = b"%PDF-1.7\n" + b"0" * VERIFY_MAX_BYTES
    response = client.post(url, {"file": SimpleUploadedFile("big.pdf", big, "application/pdf")})
    assert response.status_code == 400
    assert client.post(url, {}).status_code == 400
    assert client.get(url).status_code == 302


def test_verify_pages_need_no_login_and_keys_json_is_listed(
    client: Client, make_approved: Callable[..., Application]
) -> None:
    response = client.get(reverse("verify:lookup"))
    assert response.status_code == 200
    assert b"/.well-known/baladiya/keys.json" in response.content
