"""The application page: who may see it, what it shows, which actions it offers."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from baladiya.accounts.models import Citizen, User
from baladiya.applications import services
from baladiya.applications.models import Application
from baladiya.applications.tests.conftest import PDF, LoginAs, MakeApp
from baladiya.catalog.models import RequiredAttachment, Service
from baladiya.centers.models import Center
from baladiya.core.uploads import check_upload

pytestmark = pytest.mark.django_db


def _page(client, app: Application):  # type: ignore[no-untyped-def]
    return client.get(f"/applications/{app.reference}/")


def test_clerk_sees_the_whole_application(
    login_as: LoginAs, clerk: User, make_app: MakeApp
) -> None:
    app = make_app()
    response = _page(login_as(clerk), app)
    assert response.status_code == 200
    body = response.content.decode()
    assert f'<bdi dir="ltr">{app.reference}</bdi>' in body
    assert '<span class="status status-submitted">Submitted</span>' in body
    assert "Individual civil-registry extract" in body
    assert "أحمد محمد الحمصي" in body and "04012345678" in body
    assert "50.00" in body
    assert "Purpose" in body and "وزارة الداخلية" in body
    assert app.sla_due.isoformat() in body


def test_lowercase_reference_finds_it(login_as: LoginAs, clerk: User, make_app: MakeApp) -> None:
    app = make_app()
    assert login_as(clerk).get(f"/applications/{app.reference.lower()}/").status_code == 200


def test_clerk_of_another_center_gets_404(
    login_as: LoginAs, other_clerk: User, make_app: MakeApp
) -> None:
    app = make_app()
    response = _page(login_as(other_clerk), app)
    assert response.status_code == 404
    body = response.content.decode()
    assert "does not exist" in body  # the same page as for a reference that does not exist
    assert "الحمصي" not in body and "civil-registry" not in body


def test_unknown_reference_is_404(login_as: LoginAs, clerk: User) -> None:
    assert login_as(clerk).get("/applications/C03-26-999999/").status_code == 404


@pytest.mark.parametrize("who", ["auditor", "supervisor", "officer", "cashier"])
def test_other_roles_that_may_view(
    login_as: LoginAs, make_app: MakeApp, request: pytest.FixtureRequest, who: str
) -> None:
    app = make_app()
    assert _page(login_as(request.getfixturevalue(who)), app).status_code == 200


def test_auditor_sees_no_action_buttons(
    login_as: LoginAs, auditor: User, make_app: MakeApp
) -> None:
    app = make_app(status="in_review")
    response = _page(login_as(auditor), app)
    assert response.context["buttons"] == []
    assert "/act/" not in response.content.decode()


def test_buttons_follow_role_and_state(
    login_as: LoginAs, clerk: User, cashier: User, officer: User, make_app: MakeApp
) -> None:
    submitted = make_app()
    names = lambda client, app: [b.name for b in _page(client, app).context["buttons"]]  # noqa: E731
    assert names(login_as(clerk), submitted) == ["cancel"]
    cashier_page = _page(login_as(cashier), submitted)
    assert [b.name for b in cashier_page.context["buttons"]] == ["pay"]
    assert reverse("payments:take_payment", args=[submitted.reference]) in (
        cashier_page.content.decode()
    )
    in_review = make_app(status="in_review")
    assert names(login_as(clerk), in_review) == ["approve", "return"]  # reject: officers
    assert names(login_as(officer), in_review) == ["approve", "return", "reject"]


def test_approved_application_offers_issue_to_the_clerk(
    login_as: LoginAs, clerk: User, make_app: MakeApp
) -> None:
    app = make_app(status="approved")
    body = _page(login_as(clerk), app).content.decode()
    assert f'action="{reverse("documents:issue", args=[app.reference])}"' in body


def test_overdue_is_highlighted_with_days_late(
    login_as: LoginAs, clerk: User, make_app: MakeApp
) -> None:
    app = make_app()
    Application.objects.filter(pk=app.pk).update(
        sla_due=timezone.localdate() - dt.timedelta(days=4)
    )
    response = _page(login_as(clerk), app)
    assert response.context["overdue"] is True
    assert 'class="overdue"' in response.content.decode()
    assert "4 days late" in response.content.decode()


def test_full_history_lists_every_step_with_actors(
    login_as: LoginAs, clerk: User, officer: User, make_app: MakeApp, back_office_service: Service
) -> None:
    app = make_app(svc=back_office_service, status="paid")
    services.start_review(app, officer)
    services.return_for_correction(app, officer, "صورة الهوية غير واضحة")
    response = _page(login_as(clerk), app)
    rows = [
        (r["step"], r["event"].actor_name, r["from"], r["to"]) for r in response.context["events"]
    ]
    assert rows == [
        ("Submit", "سامر الخطيب", "", "Submitted"),
        ("Record payment", "system", "Submitted", "Paid"),
        ("Start review", "officer", "Paid", "In review"),
        ("Return for correction", "officer", "In review", "Returned for correction"),
    ]
    body = response.content.decode()
    assert "صورة الهوية غير واضحة" in body and "سامر الخطيب" in body
    # Shown in Damascus time.
    first = response.context["events"][0]["event"].created_at
    local = timezone.localtime(first, timezone.get_fixed_timezone(180))
    assert local.strftime("%Y-%m-%d %H:%M") in body


def test_receipts_and_document_are_linked(
    login_as: LoginAs, clerk: User, make_app: MakeApp, center: Center
) -> None:
    from baladiya.documents.models import IssuedDocument, SigningKey
    from baladiya.payments.models import Receipt

    app = make_app(status="approved")
    now = timezone.now()
    Receipt.objects.create(
        number="C03-R26-000001", center=center, application=app, method="cash", amount=5000,
        payer_name="x", description="x", issued_at=now, business_date=now.date(),
    )  # fmt: skip
    key = SigningKey.objects.create(key_id="k1", public_key="x", valid_from=now)
    IssuedDocument.objects.create(
        number="C03-D26-000001", application=app, center=center, title_ar="x", title_en="x",
        holder_name="x", holder_national_number="04012345678", issued_at=now,
        valid_until=now.date(), key=key, payload="x", pdf=b"", pdf_sha256="0" * 64,
    )  # fmt: skip
    body = _page(login_as(clerk), app).content.decode()
    assert reverse("payments:receipt_pdf", args=["C03-R26-000001"]) in body
    assert reverse("documents:pdf", args=["C03-D26-000001"]) in body


def test_revoke_link_only_for_those_who_may_revoke(
    login_as: LoginAs, clerk: User, supervisor: User, make_app: MakeApp
) -> None:
    from baladiya.documents.services import issue_document, revoke_document

    app = make_app(status="approved")
    doc = issue_document(app, clerk)
    revoke_url = reverse("documents:revoke", args=[doc.number])
    assert revoke_url in _page(login_as(supervisor), app).content.decode()
    assert revoke_url not in _page(login_as(clerk), app).content.decode()
    revoke_document(doc, supervisor, "خطأ في الاسم")
    assert revoke_url not in _page(login_as(supervisor), app).content.decode()


def test_attachment_download_is_permission_checked(
    login_as: LoginAs,
    clerk: User,
    other_clerk: User,
    citizen: Citizen,
    service: Service,
    center: Center,
) -> None:
    RequiredAttachment.objects.create(service=service, code="id", label_ar="هوية", label_en="ID")
    app = services.submit_application(
        clerk,
        services.Submission(
            service=service, applicant=citizen, center=center, fields={"purpose": "x"},
            pickup_center=center,
            attachments={"id": check_upload(SimpleUploadedFile("هوية.pdf", PDF))},
        ),
    )  # fmt: skip
    att = app.attachments.get()
    url = reverse("applications:attachment", args=[app.reference, att.pk])
    assert url in _page(login_as(clerk), app).content.decode()
    response = login_as(clerk).get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
    assert b"".join(response.streaming_content) == PDF
    assert login_as(other_clerk).get(url).status_code == 404
