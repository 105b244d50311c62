"""Correcting a returned application at the counter: fields and new copies of its papers,
checked like a new application's; the old papers stay for the record; the audit says what
changed (never a national number's value)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from baladiya.accounts.models import Citizen, User
from baladiya.applications import services
from baladiya.applications.models import Application, Attachment
from baladiya.applications.tests.conftest import EXE, PDF, PNG, LoginAs
from baladiya.catalog.models import FieldType, RequiredAttachment, Service, ServiceField
from baladiya.centers.models import Center
from baladiya.core.errors import DomainError, NotAllowed
from baladiya.core.models import AuditEvent
from baladiya.core.uploads import check_upload

pytestmark = pytest.mark.django_db

SPOUSE = "04011122233"
NEW_SPOUSE = "04099988877"


@pytest.fixture
def papers_service(service: Service) -> Service:
    """The counter service with a national-number field and a required ID-card scan."""
    ServiceField.objects.create(
        service=service,
        name="spouse_number",
        label_ar="الرقم الوطني للزوج",
        label_en="Spouse's national number",
        type=FieldType.NATIONAL_NUMBER,
        required=False,
        position=2,
    )
    RequiredAttachment.objects.create(
        service=service, code="id-card", label_ar="صورة الهوية", label_en="ID card copy"
    )
    return service


@pytest.fixture
def returned(papers_service: Service, citizen: Citizen, clerk: User, center: Center) -> Application:
    app = services.submit_application(
        clerk,
        services.Submission(
            service=papers_service,
            applicant=citizen,
            center=center,
            fields={"purpose": "وزارة الداخلية", "spouse_number": SPOUSE},
            pickup_center=center,
            attachments={"id-card": check_upload(SimpleUploadedFile("هوية.pdf", PDF))},
        ),
    )
    services.move(app, "pay", None, check_permission=False)
    services.start_review(app, clerk)
    services.return_for_correction(app, clerk, "صورة الهوية غير واضحة")
    return app


def _url(app: Application) -> str:
    return f"/applications/{app.reference}/resubmit/"


def _files() -> set[Path]:
    return {p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()}


def _post(client: Client, app: Application, upload: SimpleUploadedFile | None, **extra: str) -> Any:
    data: dict[str, object] = {
        "f_purpose": "وزارة الداخلية - الأحوال المدنية",
        "f_spouse_number": NEW_SPOUSE,
        "note": "هوية جديدة",
        **extra,
    }
    if upload is not None:
        data["att_id-card"] = upload
    return client.post(_url(app), data)


def test_the_form_offers_a_new_copy_of_each_paper(
    login_as: LoginAs, clerk: User, returned: Application
) -> None:
    page = login_as(clerk).get(_url(returned)).content.decode()
    assert 'enctype="multipart/form-data"' in page
    assert 'name="att_id-card"' in page
    assert "New copy: ID card copy" in page
    assert "Leave empty to keep the current one." in page
    assert "صورة الهوية غير واضحة" in page  # what to correct


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (SimpleUploadedFile("scan.pdf", EXE), "Only PDF, PNG or JPEG files are accepted."),
        (SimpleUploadedFile("scan.pdf", b""), "The file is empty."),
        (SimpleUploadedFile("scan.pdf", PNG), "named as a PDF but its content is a PNG"),
    ],
)
def test_a_bad_new_copy_is_refused_and_nothing_is_written(
    login_as: LoginAs,
    clerk: User,
    returned: Application,
    upload: SimpleUploadedFile,
    message: str,
) -> None:
    files, events = _files(), AuditEvent.objects.count()
    response = _post(login_as(clerk), returned, upload)
    assert response.status_code == 200
    assert message in response.content.decode()
    fresh = Application.objects.get(pk=returned.pk)
    assert fresh.status == "returned"
    assert fresh.field_values["spouse_number"] == SPOUSE
    assert fresh.attachments.count() == 1
    assert _files() == files
    assert AuditEvent.objects.count() == events


def test_too_large_a_new_copy_is_refused(
    login_as: LoginAs, clerk: User, returned: Application, settings: object
) -> None:
    settings.UPLOAD_MAX_BYTES = 100  # type: ignore[attr-defined]
    response = _post(login_as(clerk), returned, SimpleUploadedFile("scan.pdf", PDF + b"x" * 200))
    assert "The file is too large" in response.content.decode()
    assert Application.objects.get(pk=returned.pk).status == "returned"
    assert returned.attachments.count() == 1


def test_new_copy_is_stored_beside_the_old_one_and_becomes_current(
    login_as: LoginAs, clerk: User, returned: Application
) -> None:
    old = returned.attachments.get()
    new_scan = PDF + b"% rescanned\n"
    client = login_as(clerk)
    response = _post(client, returned, SimpleUploadedFile("هوية-جديدة.pdf", new_scan))
    assert response.status_code == 302
    fresh = Application.objects.get(pk=returned.pk)
    assert fresh.status == "paid"  # back to review
    assert fresh.field_values["spouse_number"] == NEW_SPOUSE
    assert Attachment.objects.filter(pk=old.pk).exists()  # kept for the record
    current = services.current_attachments(fresh)
    assert [(a.code, a.original_name) for a in current] == [("id-card", "هوية-جديدة.pdf")]
    assert current[0].file.read() == new_scan
    assert current[0].sha256 == hashlib.sha256(new_scan).hexdigest()

    page = client.get(f"/applications/{returned.reference}/").content.decode()
    assert page.count("ID card copy") == 2
    assert page.count("(replaced)") == 1
    assert "هوية-جديدة.pdf" in page and "هوية.pdf" in page


def test_audit_names_the_changed_fields_and_replaced_papers_without_sensitive_values(
    login_as: LoginAs, clerk: User, returned: Application
) -> None:
    new_scan = PDF + b"% rescanned\n"
    _post(login_as(clerk), returned, SimpleUploadedFile("new.pdf", new_scan))
    event = AuditEvent.objects.get(action="application.resubmit")
    assert event.actor == clerk.username
    assert event.data["changed_fields"] == ["purpose", "spouse_number"]
    assert event.data["changes"] == {
        "purpose": ["وزارة الداخلية", "وزارة الداخلية - الأحوال المدنية"]
    }
    assert event.data["replaced_attachments"] == {"id-card": hashlib.sha256(new_scan).hexdigest()}
    assert event.data["note"] == "هوية جديدة"
    dumped = json.dumps(event.data, ensure_ascii=False)
    assert SPOUSE not in dumped and NEW_SPOUSE not in dumped


def test_without_a_new_copy_the_paper_stays_and_only_changes_are_audited(
    login_as: LoginAs, clerk: User, returned: Application
) -> None:
    response = _post(login_as(clerk), returned, None, f_spouse_number=SPOUSE)
    assert response.status_code == 302
    assert returned.attachments.count() == 1
    event = AuditEvent.objects.get(action="application.resubmit")
    assert event.data["changed_fields"] == ["purpose"]
    assert event.data["replaced_attachments"] == {}


def test_service_refuses_an_unknown_paper_and_a_refused_actor_stores_nothing(
    returned: Application, clerk: User, other_clerk: User, cashier: User
) -> None:
    scan = check_upload(SimpleUploadedFile("x.pdf", PDF))
    fields = {"purpose": "تعديل", "spouse_number": SPOUSE}
    with pytest.raises(DomainError, match="no paper called"):
        services.resubmit(returned, clerk, fields, attachments={"passport": scan})
    files = _files()
    for stranger in (other_clerk, cashier):
        with pytest.raises(NotAllowed):
            services.resubmit(returned, stranger, fields, attachments={"id-card": scan})
    assert _files() == files
    fresh = Application.objects.get(pk=returned.pk)
    assert (fresh.status, fresh.field_values["purpose"]) == ("returned", "وزارة الداخلية")
    assert fresh.attachments.count() == 1


def test_other_centers_clerk_cannot_open_the_form(
    login_as: LoginAs, other_clerk: User, returned: Application
) -> None:
    assert login_as(other_clerk).get(_url(returned)).status_code == 404
    response = _post(login_as(other_clerk), returned, SimpleUploadedFile("x.pdf", PDF))
    assert response.status_code == 404
    assert returned.attachments.count() == 1
