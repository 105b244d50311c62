"""Documents fixtures: approved applications at C03, ready to be issued."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pypdfium2 as pdfium
import pytest
import zxingcpp

from baladiya.accounts.models import Citizen, User
from baladiya.applications import services as apps
from baladiya.applications.models import Application
from baladiya.catalog.models import Service
from baladiya.centers.models import Center
from baladiya.documents.models import IssuedDocument
from baladiya.documents.services import issue_document


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    """Staff fixtures hash a password each; argon2 is deliberately slow, these tests need not be."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _public_url(settings: Any) -> None:
    settings.PUBLIC_BASE_URL = "https://baladiya.example"


@pytest.fixture
def make_approved(
    clerk: User, cashier: User, citizen: Citizen, service: Service, center: Center
) -> Callable[..., Application]:
    """Submit at C03, pay, review and approve (clerk and cashier of C03, counter service)."""

    def make(
        *,
        at: Center | None = None,
        by: User | None = None,
        pay_by: User | None = None,
        svc: Service | None = None,
        reviewer: User | None = None,
        mode: str = "pickup",
        fields: dict[str, Any] | None = None,
    ) -> Application:
        where = at or center
        service_ = svc or service
        app = apps.submit_application(
            by or clerk,
            apps.Submission(
                service=service_,
                applicant=citizen,
                center=where,
                fields=fields
                if fields is not None
                else ({"purpose": "جامعة البعث"} if service_.fields.exists() else {}),
                delivery_mode=mode,
                pickup_center=where if mode == "pickup" else None,
                delivery_address={"line": "شارع الحضارة 12"} if mode == "post" else {},
            ),
        )
        apps.move(app, "pay", pay_by or cashier)
        apps.start_review(app, reviewer or by or clerk)
        apps.approve(app, reviewer or by or clerk)
        return app

    return make


@pytest.fixture
def approved(make_approved: Callable[..., Application]) -> Application:
    return make_approved()


@pytest.fixture
def issued(approved: Application, clerk: User) -> IssuedDocument:
    return issue_document(approved, clerk)


def read_qr(pdf: bytes) -> str:
    """Render page 1 like a phone camera would see it and decode the QR code."""
    document = pdfium.PdfDocument(pdf)
    try:
        image = document[0].render(scale=3).to_pil()
    finally:
        document.close()
    found = zxingcpp.read_barcodes(image)
    assert found, "no QR code found on the page"
    return str(found[0].text)


def pdf_text(pdf: bytes) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() or "" for page in reader.pages)
