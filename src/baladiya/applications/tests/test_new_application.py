"""Applying for a service at the counter: typed fields, attachments, delivery, double submit."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from baladiya.accounts.models import Citizen, User
from baladiya.applications.models import Application, ApplicationEvent, Attachment
from baladiya.applications.tests.conftest import EXE, PDF, PNG, LoginAs
from baladiya.catalog.models import FieldType, RequiredAttachment, Service, ServiceField
from baladiya.centers.models import Center
from baladiya.core.models import AuditEvent, Counter

pytestmark = pytest.mark.django_db
TOKEN = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def rich_service(service: Service) -> Service:
    """The fixture service plus one field of every type and a required attachment."""
    for pos, (name, kind, extra) in enumerate(
        [
            ("father_nn", FieldType.NATIONAL_NUMBER, {}),
            ("mobile", FieldType.PHONE, {}),
            ("event_date", FieldType.DATE, {}),
            ("copies", FieldType.NUMBER, {}),
            ("language", FieldType.CHOICE, {"choices": ["عربي", "English"]}),
        ],
        start=1,
    ):
        ServiceField.objects.create(
            service=service,
            name=name,
            label_ar=name,
            label_en=name.replace("_", " ").title(),
            type=kind,
            position=pos,
            **extra,
        )
    RequiredAttachment.objects.create(
        service=service, code="id-copy", label_ar="صورة الهوية", label_en="Copy of the ID card"
    )
    return service


def _url(citizen: Citizen, service: Service) -> str:
    return f"/applications/citizens/{citizen.pk}/apply/{service.code}/"


def _post(client: Client, citizen: Citizen, service: Service, **override: Any) -> Any:
    data: dict[str, Any] = {
        "token": TOKEN,
        "f_purpose": "وزارة الداخلية",
        "f_father_nn": "04012345670",
        "f_mobile": "0933 111 222",
        "f_event_date": "2025-12-31",
        "f_copies": "٢",
        "f_language": "English",
        "att_id-copy": SimpleUploadedFile("id.pdf", PDF, content_type="application/pdf"),
        "delivery_mode": "pickup",
        "pickup_center": "",
    }
    data.update(override)
    return client.post(_url(citizen, service), {k: v for k, v in data.items() if v is not None})


@pytest.fixture
def clerk_client(login_as: LoginAs, clerk: User, center: Center) -> Client:
    return login_as(clerk)


def _nothing_created() -> None:
    assert not Application.objects.exists()
    assert not Attachment.objects.exists()
    assert not ApplicationEvent.objects.exists()
    assert not AuditEvent.objects.filter(action="application.submitted").exists()
    assert not Counter.objects.filter(kind="A").exclude(value=0).exists()


def test_form_renders_typed_inputs_fee_and_a_token(
    clerk_client: Client, citizen: Citizen, rich_service: Service
) -> None:
    response = clerk_client.get(_url(citizen, rich_service))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="f_event_date"' in body and 'type="date"' in body
    assert 'type="tel"' in body and 'inputmode="numeric"' in body
    assert '<select name="f_language"' in body and "English</option>" in body
    assert 'type="file" name="att_id-copy"' in body
    assert 'enctype="multipart/form-data"' in body
    assert "50.00" in body  # the fee in force: 5,000 piastres
    token = response.context["token"]
    assert len(token) == 32 and f'value="{token}"' in body


def test_pickup_defaults_to_the_clerks_center(
    clerk_client: Client, citizen: Citizen, service: Service, center: Center
) -> None:
    form = clerk_client.get(_url(citizen, service)).context["form"]
    assert form["pickup_center"].value() == center.pk
    assert form["delivery_mode"].value() == "pickup"


def test_pickup_centers_are_those_accepting_pickup(
    clerk_client: Client, citizen: Citizen, service: Service, other_center: Center
) -> None:
    Center.objects.create(code="C11", name_ar="المصفاة", name_en="Refinery", kind="institutional",
                          accepts_pickup=False)  # fmt: skip
    form = clerk_client.get(_url(citizen, service)).context["form"]
    codes = [c.code for c in form.fields["pickup_center"].queryset]
    assert codes == ["C03", "C05"]


def test_submit_creates_the_application_and_opens_it(
    clerk_client: Client, citizen: Citizen, rich_service: Service, center: Center, clerk: User
) -> None:
    response = _post(clerk_client, citizen, rich_service, pickup_center=str(center.pk))
    app = Application.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/applications/{app.reference}/"
    assert app.status == "submitted" and app.center == center and app.created_by == clerk
    assert app.fee_amount == 5000
    assert app.pickup_center == center
    assert app.field_values == {
        "purpose": "وزارة الداخلية",
        "father_nn": "04012345670",
        "mobile": "+963933111222",
        "event_date": "2025-12-31",
        "copies": 2,
        "language": "English",
    }
    att = Attachment.objects.get()
    assert att.code == "id-copy" and att.content_type == "application/pdf"
    follow = clerk_client.get(response["Location"])
    assert app.reference in follow.content.decode()
    assert "submitted" in follow.content.decode()


def test_reference_format_and_gap_free_per_center(
    clerk_client: Client,
    citizen: Citizen,
    service: Service,
    center: Center,
    login_as: LoginAs,
    other_clerk: User,
    other_center: Center,
) -> None:
    yy = timezone.localdate().year % 100
    refs = []
    for i in range(3):
        token = f"{i:032x}"
        _post(clerk_client, citizen, service, token=token, pickup_center=str(center.pk))
        # A refused form in between takes no number.
        _post(clerk_client, citizen, service, token=f"{i + 100:032x}", f_purpose="")
    refs = list(Application.objects.order_by("reference").values_list("reference", flat=True))
    assert refs == [f"C03-{yy:02d}-00000{n}" for n in (1, 2, 3)]
    _post(login_as(other_clerk), citizen, service, pickup_center=str(other_center.pk))
    assert Application.objects.filter(reference=f"C05-{yy:02d}-000001").exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("f_purpose", "", "This field is required."),
        ("f_father_nn", "123", "A national number is exactly 11 digits."),
        ("f_mobile", "12345", "Enter a Syrian mobile number"),
        ("f_event_date", "31/12/2025", "Enter a date as YYYY-MM-DD."),
        ("f_copies", "two", "Enter a whole number."),
        ("f_language", "Français", "Choose one of the listed options."),
    ],
)
def test_invalid_field_shows_its_error_and_creates_nothing(
    clerk_client: Client,
    citizen: Citizen,
    rich_service: Service,
    center: Center,
    field: str,
    value: str,
    message: str,
) -> None:
    response = _post(
        clerk_client, citizen, rich_service, pickup_center=str(center.pk), **{field: value}
    )
    assert response.status_code == 200
    assert message in str(response.context["form"].errors[field])
    assert message in response.content.decode()
    _nothing_created()


def test_all_errors_are_shown_at_once(
    clerk_client: Client, citizen: Citizen, rich_service: Service
) -> None:
    response = _post(
        clerk_client, citizen, rich_service, f_purpose="", f_copies="x", **{"att_id-copy": None}
    )
    errors = response.context["form"].errors
    assert {"f_purpose", "f_copies", "att_id-copy", "pickup_center"} <= set(errors)
    assert "Attach this document" in response.content.decode()
    _nothing_created()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("scan.pdf", EXE, "Only PDF, PNG or JPEG files are accepted."),
        ("scan.pdf", PNG, "named as a PDF but its content is a PNG"),
        ("empty.pdf", b"", "empty"),
    ],
)
def test_bad_upload_is_refused_with_a_clear_error(
    clerk_client: Client,
    citizen: Citizen,
    rich_service: Service,
    center: Center,
    name: str,
    content: bytes,
    message: str,
) -> None:
    upload = SimpleUploadedFile(name, content, content_type="application/pdf")
    response = _post(
        clerk_client, citizen, rich_service, pickup_center=str(center.pk), **{"att_id-copy": upload}
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    _nothing_created()


def test_too_large_upload_is_refused(
    clerk_client: Client, citizen: Citizen, rich_service: Service, center: Center, settings: Any
) -> None:
    settings.UPLOAD_MAX_BYTES = 1024
    upload = SimpleUploadedFile("big.pdf", PDF + b"0" * 2048, content_type="application/pdf")
    response = _post(
        clerk_client, citizen, rich_service, pickup_center=str(center.pk), **{"att_id-copy": upload}
    )
    assert "The file is too large (at most 1.0\xa0KB)." in response.content.decode()
    _nothing_created()


def test_png_named_png_is_accepted(
    clerk_client: Client, citizen: Citizen, rich_service: Service, center: Center
) -> None:
    upload = SimpleUploadedFile("id.png", PNG, content_type="image/png")
    _post(
        clerk_client, citizen, rich_service, pickup_center=str(center.pk), **{"att_id-copy": upload}
    )
    assert Attachment.objects.get().content_type == "image/png"


def test_double_submit_creates_one_application(
    clerk_client: Client, citizen: Citizen, service: Service, center: Center
) -> None:
    first = _post(clerk_client, citizen, service, pickup_center=str(center.pk))
    second = _post(clerk_client, citizen, service, pickup_center=str(center.pk))
    assert Application.objects.count() == 1
    assert first["Location"] == second["Location"]
    assert AuditEvent.objects.filter(action="application.submitted").count() == 1
    # A new form (new token) is a new application.
    _post(clerk_client, citizen, service, pickup_center=str(center.pk), token="f" * 32)
    assert Application.objects.count() == 2


def test_missing_token_is_refused_and_a_fresh_one_issued(
    clerk_client: Client, citizen: Citizen, service: Service, center: Center
) -> None:
    response = _post(clerk_client, citizen, service, pickup_center=str(center.pk), token="")
    assert "This form has expired" in response.content.decode()
    assert len(response.context["token"]) == 32
    assert not Application.objects.exists()


def test_delivery_by_post_needs_an_address(
    clerk_client: Client, citizen: Citizen, service: Service
) -> None:
    response = _post(clerk_client, citizen, service, delivery_mode="post")
    assert "A postal address is required" in response.content.decode()
    assert not Application.objects.exists()
    _post(
        clerk_client,
        citizen,
        service,
        delivery_mode="post",
        address_line="شارع الحضارة، بناء 12",
        address_neighbourhood="الإنشاءات",
        address_phone="0944123456",
    )
    app = Application.objects.get()
    assert app.delivery_mode == "post" and app.pickup_center is None
    assert app.delivery_address == {
        "line": "شارع الحضارة، بناء 12",
        "neighbourhood": "الإنشاءات",
        "phone": "+963944123456",
    }


def test_delivery_mode_the_service_does_not_offer_is_refused(
    clerk_client: Client, citizen: Citizen, back_office_service: Service
) -> None:
    response = _post(
        clerk_client, citizen, back_office_service, delivery_mode="post", address_line="x",
        f_purpose=None, **{"att_id-copy": None},
    )  # fmt: skip
    assert "delivery_mode" in response.context["form"].errors
    assert not Application.objects.exists()


def test_other_roles_cannot_apply(
    login_as: LoginAs, cashier: User, citizen: Citizen, service: Service
) -> None:
    client = login_as(cashier)
    assert client.get(_url(citizen, service)).status_code == 403
    assert _post(client, citizen, service).status_code == 403
    assert not Application.objects.exists()


def test_inactive_service_is_not_offered(
    clerk_client: Client, citizen: Citizen, service: Service
) -> None:
    service.active = False
    service.save()
    assert clerk_client.get(_url(citizen, service)).status_code == 404
    page = clerk_client.get(f"/applications/citizens/{citizen.pk}/")
    assert service.code not in page.content.decode()


def test_sla_due_skips_the_weekend(
    clerk_client: Client, citizen: Citizen, service: Service, center: Center
) -> None:
    _post(clerk_client, citizen, service, pickup_center=str(center.pk))
    due = Application.objects.get().sla_due
    assert due > timezone.localdate() and due.weekday() not in (4, 5)
    assert due - timezone.localdate() <= dt.timedelta(days=3)


def test_racing_double_submit_returns_the_first_and_leaves_no_gap(
    clerk: User,
    citizen: Citizen,
    service: Service,
    center: Center,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two copies of a form pass the idempotency check at the same moment: one application."""
    from baladiya.applications import services

    original = services._check_submission
    raced: list[Application] = []
    started: list[bool] = []

    def competitor_commits_first(sub: services.Submission) -> None:
        original(sub)
        if not started:
            started.append(True)
            raced.append(services.submit_application(clerk, sub))

    monkeypatch.setattr(services, "_check_submission", competitor_commits_first)
    sub = services.Submission(
        service=service, applicant=citizen, center=center, fields={"purpose": "x"},
        pickup_center=center, idempotency_key="counter:race",
    )  # fmt: skip
    app = services.submit_application(clerk, sub)
    assert app == raced[0]
    assert Application.objects.count() == 1
    monkeypatch.setattr(services, "_check_submission", original)
    sub.idempotency_key = "counter:next"
    after = services.submit_application(clerk, sub)
    assert after.reference.endswith("-000002")  # the loser's number was given back
