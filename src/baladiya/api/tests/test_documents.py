"""GET /documents/{number}/verify: valid, revoked, unknown (and forged with a bad QR payload),
public, never cached; the document appears on the application's status."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from baladiya.accounts.models import Citizen, User
from baladiya.api.tests.conftest import ApiClient
from baladiya.applications import services as apps
from baladiya.catalog.models import Service
from baladiya.centers.models import Center
from baladiya.documents.models import IssuedDocument
from baladiya.documents.services import issue_document, revoke_document

Api = Callable[..., ApiClient]


@pytest.fixture
def issued(
    clerk: User, cashier: User, citizen: Citizen, service: Service, center: Center
) -> IssuedDocument:
    app = apps.submit_application(
        clerk,
        apps.Submission(
            service=service,
            applicant=citizen,
            center=center,
            fields={"purpose": "جامعة البعث"},
            pickup_center=center,
        ),
    )
    apps.move(app, "pay", cashier)
    apps.start_review(app, clerk)
    apps.approve(app, clerk)
    return issue_document(app, clerk)


def test_valid_document(api: Api, issued: IssuedDocument) -> None:
    answer = api().get(f"/api/v1/documents/{issued.number}/verify")
    assert answer.status == 200
    body = answer.body
    assert body["status"] == "valid" and body["number"] == issued.number
    assert body["in_register"] is True and body["masked"] is True
    assert body["national_number"] != issued.holder_national_number  # shortened
    assert body["keys_url"].endswith("/.well-known/baladiya/keys.json")
    assert answer.headers["Cache-Control"] == "no-store"


def test_revoked_document(api: Api, issued: IssuedDocument, supervisor: User) -> None:
    revoke_document(issued, supervisor, "صدرت خطأً")
    body = api().get(f"/api/v1/documents/{issued.number}/verify").body
    assert body["status"] == "revoked" and body["revoked_at"]


def test_unknown_and_garbage_numbers(api: Api, db: None) -> None:
    unknown = api().get("/api/v1/documents/C03-D26-999999/verify")
    assert unknown.status == 200 and unknown.body["status"] == "unknown"
    garbage = api().get("/api/v1/documents/%F0%9F%92%A5'--/verify")
    assert garbage.status == 200 and garbage.body["status"] == "unknown"


def test_qr_payload_checked_against_the_register(api: Api, issued: IssuedDocument) -> None:
    good = api().get(f"/api/v1/documents/{issued.number}/verify", p=issued.payload).body
    assert good["status"] == "valid" and good["masked"] is False
    forged = api().get(f"/api/v1/documents/{issued.number}/verify", p=issued.payload[:-4] + "AAAA")
    assert forged.body["status"] == "forged"


def test_issued_document_on_the_application_status(
    api: Api, issued: IssuedDocument, clerk: User
) -> None:
    body = api(clerk).get(f"/api/v1/applications/{issued.application.reference}").body
    assert body["status"] in ("issued", "ready_for_pickup")  # routed to pickup on issue
    assert body["document"]["number"] == issued.number
    assert body["document"]["verify_url"].endswith(f"/verify/{issued.number}/")
