"""The admin: reference data editable and audited; service-owned records read-only."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.admin.templatetags.admin_urls import admin_urlname
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import Model
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone, translation

from baladiya.accounts import roles
from baladiya.accounts.models import Citizen, LoginAttempt, User
from baladiya.applications.models import Application, ApplicationEvent, Attachment
from baladiya.catalog.models import Agency, Fee, Service
from baladiya.centers.models import Center, Neighbourhood
from baladiya.conftest import PASSWORD
from baladiya.core import audit
from baladiya.core.models import AuditEvent
from baladiya.delivery.models import Handover
from baladiya.documents import rendering
from baladiya.documents.models import IssuedDocument, SigningKey
from baladiya.payments.models import CashierSession, Receipt, Refund

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    """Argon2 is deliberately slow; these tests create many users and check no hash."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _templates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Service.clean checks the document template exists: give it a known folder."""
    (tmp_path / "certificate.typ").write_text("// test template\n")
    (tmp_path / "receipt.typ").write_text("// test template\n")
    monkeypatch.setattr(rendering, "TEMPLATE_DIR", tmp_path)


@pytest.fixture
def staff_client(admin_user: User) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(admin_user)
    return client


@pytest.fixture
def records(
    service: Service,
    citizen: Citizen,
    center: Center,
    other_center: Center,
    clerk: User,
    cashier: User,
) -> dict[str, Model]:
    """One of every service-owned record, written directly (the admin only shows them)."""
    now = timezone.now()
    app = _filled(
        Application,
        reference="C03-26-000001",
        service=service,
        applicant=citizen,
        center=center,
        pickup_center=other_center,
        fee_amount=5000,
        sla_due=dt.date(2026, 1, 5),
        created_by=clerk,
        status="handed_over",
    )
    _filled(
        ApplicationEvent,
        application=app,
        action="submit",
        to_status="submitted",
        actor=clerk,
        actor_name="x",
    )
    _filled(
        Attachment,
        application=app,
        code="id-card",
        file="attachments/2026/01/C03-26-000001-id-card",
        original_name="id.pdf",
        content_type="application/pdf",
        size=10,
        sha256="0" * 64,
    )
    session = _filled(
        CashierSession, center=center, cashier=cashier, opened_at=now, opening_float=10_000
    )
    receipt = _filled(
        Receipt,
        number="C03-R26-000001",
        center=center,
        application=app,
        session=session,
        method="cash",
        amount=5000,
        payer_name="أحمد محمد الحمصي",
        description="بيان قيد فردي",
        issued_at=now,
        business_date=now.date(),
        issued_by=cashier,
    )
    refund = _filled(
        Refund,
        number="C03-F26-000001",
        receipt=receipt,
        center=center,
        session=session,
        method="cash",
        amount=1000,
        reason="overpaid",
        issued_at=now,
        business_date=now.date(),
        issued_by=cashier,
    )
    key = _filled(SigningKey, key_id="central-2026-1", public_key="A" * 43, valid_from=now)
    document = _filled(
        IssuedDocument,
        number="C03-D26-000001",
        application=app,
        center=center,
        title_ar="بيان قيد فردي",
        title_en="Individual extract",
        holder_name="أحمد محمد الحمصي",
        holder_national_number=citizen.national_number,
        issued_at=now,
        valid_until=dt.date(2026, 4, 1),
        issued_by=clerk,
        key=key,
        payload="payload",
        pdf=b"%PDF-1.7 secret bytes",
        pdf_sha256="0" * 64,
    )
    handover = _filled(
        Handover,
        application=app,
        center=other_center,
        handed_by=clerk,
        recipient_name="أحمد",
        id_kind="national_id",
        id_number="04012345678",
    )
    event = audit.record("test.seeded", actor=clerk, obj=app, center="C03")
    attempt = _filled(LoginAttempt, username="clerk03", ip="10.0.0.1")
    return {
        "application": app,
        "session": session,
        "receipt": receipt,
        "refund": refund,
        "key": key,
        "document": document,
        "handover": handover,
        "event": event,
        "attempt": attempt,
    }


def _filled(model: type[Model], **given: Any) -> Any:
    """Create `model` with `given` values; other required columns get a plausible value.

    Other apps add columns as they grow: the admin smoke test should not break for that.
    """
    now = timezone.now()
    values = dict(given)
    for field in model._meta.concrete_fields:
        if field.name in values or field.attname in values or field.null or field.has_default():
            continue
        if field.primary_key or getattr(field, "auto_now_add", False):
            continue
        if isinstance(field, models.DateTimeField):
            values[field.name] = now
        elif isinstance(field, models.DateField):
            values[field.name] = now.date()
        elif isinstance(field, models.IntegerField):
            values[field.name] = 1
        elif isinstance(field, models.BinaryField):
            values[field.name] = b""
        elif isinstance(field, models.CharField | models.TextField):
            values[field.name] = "x"
    return model._default_manager.create(**values)


def _request_for(user: User) -> Any:
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


# ---------------------------------------------------------------- every page loads


def test_every_changelist_add_and_change_page_loads(
    staff_client: Client, admin_user: User, records: dict[str, Model], back_office_service: Service
) -> None:
    request = _request_for(admin_user)
    assert len(admin.site._registry) >= 18
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        changelist = staff_client.get(reverse(admin_urlname(opts, "changelist")))
        assert changelist.status_code == 200, opts.label
        add = staff_client.get(reverse(admin_urlname(opts, "add")))
        assert add.status_code == (200 if model_admin.has_add_permission(request) else 403), (
            opts.label
        )
        obj = model._default_manager.first()
        if obj is not None:
            change = staff_client.get(reverse(admin_urlname(opts, "change"), args=[obj.pk]))
            assert change.status_code == 200, opts.label


def test_changelist_search_and_filters_load(
    staff_client: Client, records: dict[str, Model], center: Center
) -> None:
    for url in (
        "/admin/applications/application/?q=C03-26-000001",
        "/admin/applications/application/?q=احمد",
        f"/admin/applications/application/?status__exact=handed_over&center__id__exact={center.pk}",
        "/admin/payments/receipt/?q=C03-R26-000001&method__exact=cash",
        "/admin/core/auditevent/?q=1",
        "/admin/core/auditevent/?q=test.seeded",
        "/admin/catalog/service/?approval__exact=counter&active__exact=1",
        "/admin/catalog/service/?q=civil",
        "/admin/documents/issueddocument/?q=04012345678",
    ):
        response = staff_client.get(url)
        assert response.status_code == 200, url
        assert response.context["cl"].result_count >= 1, url


def test_site_header(staff_client: Client) -> None:
    response = staff_client.get("/admin/")
    assert "Baladiya — Homs City Council" in response.content.decode()


def test_admin_in_arabic_is_right_to_left(admin_user: User, service: Service) -> None:
    client = Client()  # no Accept-Language: the site default, Arabic
    client.force_login(admin_user)
    response = client.get(reverse("admin:catalog_service_change", args=[service.pk]))
    assert response.status_code == 200
    assert 'dir="rtl"' in response.content.decode()


# ---------------------------------------------------------------- who gets in


def test_non_staff_clerk_is_sent_to_the_login_page(clerk: User) -> None:
    client = Client()
    client.force_login(clerk)
    for url in ("/admin/", "/admin/catalog/service/", "/admin/payments/receipt/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")


def test_anonymous_is_sent_to_the_login_page(db: None) -> None:
    for url in ("/admin/", "/admin/catalog/service/", "/admin/core/auditevent/"):
        response = Client().get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")


def test_clerk_cannot_log_in_to_the_admin(clerk: User) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    login = client.post(
        "/accounts/login/?next=/admin/",
        {"username": "clerk03", "password": PASSWORD, "next": "/admin/"},
    )
    # Logged in as a clerk, but sent to the counter, not into the admin (and no loop).
    assert login.status_code == 302 and login["Location"] == "/"
    assert client.get("/admin/")["Location"].startswith("/admin/login/")
    again = client.get("/admin/login/?next=/admin/", follow=True)
    assert again.redirect_chain[-1][0] == reverse("applications:counter")
    assert len(again.redirect_chain) < 5


# ---------------------------------------------------------------- read-only records


@pytest.mark.parametrize(
    "model", [Receipt, Refund, CashierSession, Application, IssuedDocument, SigningKey, Handover]
)
def test_service_owned_records_have_no_add_change_delete(admin_user: User, model: Any) -> None:
    model_admin = admin.site._registry[model]
    request = _request_for(admin_user)
    assert model_admin.has_add_permission(request) is False
    assert model_admin.has_change_permission(request) is False
    assert model_admin.has_delete_permission(request) is False
    assert model_admin.has_view_permission(request) is True
    assert "delete_selected" not in model_admin.get_actions(request)


def test_receipt_cannot_be_added_changed_or_deleted_over_http(
    staff_client: Client, records: dict[str, Model]
) -> None:
    receipt = records["receipt"]
    change_url = reverse("admin:payments_receipt_change", args=[receipt.pk])
    assert staff_client.get(reverse("admin:payments_receipt_add")).status_code == 403
    view = staff_client.get(change_url)
    assert view.status_code == 200
    assert 'name="_save"' not in view.content.decode()  # shown, not editable
    assert staff_client.post(change_url, {"amount": "1"}).status_code == 403
    delete_url = reverse("admin:payments_receipt_delete", args=[receipt.pk])
    assert staff_client.post(delete_url, {"post": "yes"}).status_code == 403
    changelist = reverse("admin:payments_receipt_changelist")
    staff_client.post(
        changelist, {"action": "delete_selected", "_selected_action": [receipt.pk], "post": "yes"}
    )
    receipt.refresh_from_db()
    assert Receipt.objects.filter(pk=receipt.pk, amount=5000).exists()


def test_issued_document_form_leaves_out_the_pdf(
    staff_client: Client, records: dict[str, Model]
) -> None:
    document = records["document"]
    response = staff_client.get(
        reverse("admin:documents_issueddocument_change", args=[document.pk])
    )
    assert response.status_code == 200
    assert "secret bytes" not in response.content.decode()
    assert "pdf" not in response.context["adminform"].form.fields


def test_audit_log_cannot_be_edited(staff_client: Client, records: dict[str, Model]) -> None:
    event = records["event"]
    url = reverse("admin:core_auditevent_change", args=[event.pk])
    assert staff_client.post(url, {"action": "forged"}).status_code == 403
    assert staff_client.get(reverse("admin:core_auditevent_add")).status_code == 403
    assert audit.verify_chain() == []


# ---------------------------------------------------------------- audited reference data


def _form_data(response: Any) -> dict[str, Any]:
    """The POST a browser would send for an admin change page, as currently filled in."""
    data: dict[str, Any] = {}

    def add(form: Any) -> None:
        for bound in form:
            value = bound.value()
            if value is None or value is False:
                continue
            if value is True:
                value = "on"
            data[bound.html_name] = value

    add(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        add(formset.management_form)
        for form in formset.forms:
            add(form)
    return data


def _events(action: str, model: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action, object_type=model).order_by("seq"))


def test_changing_a_fee_in_the_admin_is_audited(
    staff_client: Client, service: Service, admin_user: User
) -> None:
    url = reverse("admin:catalog_service_change", args=[service.pk])
    data = _form_data(staff_client.get(url))
    data["fees-0-amount"] = "7000"
    response = staff_client.post(url, data)
    assert response.status_code == 302, response.context and response.context["errors"]
    fee = Fee.objects.get(service=service)
    assert fee.amount == 7000
    [event] = _events("admin.change", "catalog.fee")
    assert event.actor == "admin"
    assert event.object_id == str(fee.pk)
    assert event.data["changed"] == ["amount"]
    assert event.data["values"]["amount"] == [5000, 7000]
    assert event.data["parent"] == str(service.pk)
    # The service itself did not change: no event for it.
    assert _events("admin.change", "catalog.service") == []
    assert audit.verify_chain() == []


def test_adding_and_deleting_a_fee_line_is_audited(staff_client: Client, service: Service) -> None:
    url = reverse("admin:catalog_service_change", args=[service.pk])
    data = _form_data(staff_client.get(url))
    old_fee = Fee.objects.get(service=service)
    data["fees-0-DELETE"] = "on"
    data.update(
        {
            "fees-TOTAL_FORMS": "2",
            "fees-1-label_ar": "رسم جديد",
            "fees-1-label_en": "New fee",
            "fees-1-amount": "6000",
            "fees-1-valid_from": "2026-03-01",
            "fees-1-service": str(service.pk),
        }
    )
    response = staff_client.post(url, data)
    assert response.status_code == 302
    [deleted] = _events("admin.delete", "catalog.fee")
    assert deleted.object_id == str(old_fee.pk)
    assert deleted.data["snapshot"]["amount"] == 5000
    [added] = _events("admin.add", "catalog.fee")
    assert added.data["values"]["amount"] == [None, 6000]
    assert list(service.fees.values_list("amount", flat=True)) == [6000]


def test_service_change_records_old_and_new_values(staff_client: Client, service: Service) -> None:
    url = reverse("admin:catalog_service_change", args=[service.pk])
    data = _form_data(staff_client.get(url))
    data["sla_days"] = "3"
    data["delivery_modes"] = ["pickup"]
    assert staff_client.post(url, data).status_code == 302
    [event] = _events("admin.change", "catalog.service")
    assert sorted(event.data["changed"]) == ["delivery_modes", "sla_days"]
    assert event.data["values"]["sla_days"] == [1, 3]
    assert event.data["values"]["delivery_modes"] == [["pickup", "post"], ["pickup"]]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("delivery_modes", [], "Choose pickup, post or both."),
        ("delivery_modes", ["drone"], "Select a valid choice"),
        ("document_template", "", "No such document template."),
        ("document_template", "../../etc/passwd", "Select a valid choice"),
    ],
)
def test_service_validation_refuses_and_writes_nothing(
    staff_client: Client, service: Service, field: str, value: Any, message: str
) -> None:
    url = reverse("admin:catalog_service_change", args=[service.pk])
    data = _form_data(staff_client.get(url))
    data[field] = value
    data["sla_days"] = "9"
    response = staff_client.post(url, data)
    assert response.status_code == 200
    assert message in response.content.decode()
    service.refresh_from_db()
    assert service.sla_days == 1
    assert not AuditEvent.objects.filter(action__startswith="admin.").exists()


def test_template_missing_on_disk_is_refused_by_service_clean(
    service: Service, tmp_path: Path
) -> None:
    from django.core.exceptions import ValidationError

    service.document_template = "gone.typ"
    with pytest.raises(ValidationError) as info:
        service.full_clean()
    assert "document_template" in info.value.message_dict


def test_choice_field_without_options_is_refused(staff_client: Client, service: Service) -> None:
    url = reverse("admin:catalog_service_change", args=[service.pk])
    data = _form_data(staff_client.get(url))
    data["fields-0-type"] = "choice"
    data["fields-0-choices"] = "[]"
    response = staff_client.post(url, data)
    assert response.status_code == 200
    assert "A choice field needs at least one option." in response.content.decode()


def test_adding_an_agency_is_audited(staff_client: Client) -> None:
    response = staff_client.post(
        reverse("admin:catalog_agency_add"),
        {"code": "water", "name_ar": "مؤسسة المياه", "name_en": "Water establishment"},
    )
    assert response.status_code == 302
    agency = Agency.objects.get(code="water")
    [event] = _events("admin.add", "catalog.agency")
    assert event.object_id == str(agency.pk)
    assert event.data["values"]["name_ar"] == [None, "مؤسسة المياه"]


def test_center_neighbourhoods_change_is_audited(staff_client: Client, center: Center) -> None:
    waer = Neighbourhood.objects.create(name_ar="الوعر", name_en="al-Waer")
    url = reverse("admin:centers_center_change", args=[center.pk])
    data = _form_data(staff_client.get(url))
    data["neighbourhoods"] = [str(waer.pk)]
    assert staff_client.post(url, data).status_code == 302
    assert list(center.neighbourhoods.all()) == [waer]
    [event] = _events("admin.change", "centers.center")
    assert event.data["values"]["neighbourhoods"] == [[], ["الوعر"]]


def test_deleting_a_neighbourhood_is_audited_and_bulk_delete_too(staff_client: Client) -> None:
    one = Neighbourhood.objects.create(name_ar="جوبر", name_en="Jobar")
    two = Neighbourhood.objects.create(name_ar="بابا عمرو", name_en="Baba Amr")
    three = Neighbourhood.objects.create(name_ar="الإنشاءات", name_en="al-Inshaat")
    url = reverse("admin:centers_neighbourhood_delete", args=[one.pk])
    assert staff_client.post(url, {"post": "yes"}).status_code == 302
    changelist = reverse("admin:centers_neighbourhood_changelist")
    response = staff_client.post(
        changelist,
        {"action": "delete_selected", "_selected_action": [two.pk, three.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert not Neighbourhood.objects.exists()
    deleted = _events("admin.delete", "centers.neighbourhood")
    assert {e.object_id for e in deleted} == {str(one.pk), str(two.pk), str(three.pk)}
    assert {e.data["snapshot"]["name_en"] for e in deleted} == {"Jobar", "Baba Amr", "al-Inshaat"}
    assert audit.verify_chain() == []


def test_neighbourhood_search_is_normalized(staff_client: Client) -> None:
    Neighbourhood.objects.create(name_ar="الإنشاءات", name_en="al-Inshaat")
    response = staff_client.get("/admin/centers/neighbourhood/?q=الانشاءات")
    assert response.context["cl"].result_count == 1


def test_citizen_search_by_name_variants_and_arabic_digits(
    staff_client: Client, citizen: Citizen
) -> None:
    for query in ("احمد", "أحمد الحمصى", "٠٤٠١٢٣٤٥٦٧٨", "04012345678"):
        response = staff_client.get("/admin/accounts/citizen/", {"q": query})
        assert response.context["cl"].result_count == 1, query


def test_citizen_admin_validates_identifiers(staff_client: Client, citizen: Citizen) -> None:
    url = reverse("admin:accounts_citizen_change", args=[citizen.pk])
    data = _form_data(staff_client.get(url))
    data["phone"] = "0944 999 888"
    data["national_number"] = "٠٤٠١٢٣٤٥٦٧٨"
    assert staff_client.post(url, data).status_code == 302
    citizen.refresh_from_db()
    assert citizen.phone == "+963944999888"
    assert citizen.national_number == "04012345678"
    data["national_number"] = "123"
    response = staff_client.post(url, data)
    assert response.status_code == 200
    assert "A national number is exactly 11 digits." in response.content.decode()


# ---------------------------------------------------------------- staff accounts


def test_staff_user_page_has_center_agency_full_name_and_groups(
    staff_client: Client, clerk: User
) -> None:
    response = staff_client.get(reverse("admin:accounts_user_change", args=[clerk.pk]))
    fields = response.context["adminform"].form.fields
    assert {"center", "agency", "full_name", "groups"} <= set(fields)


def test_clerk_without_center_is_refused(staff_client: Client, center: Center) -> None:
    clerks = Group.objects.create(name=roles.CLERK)
    data = {
        "username": "newclerk",
        "full_name": "موظف جديد",
        "groups": [str(clerks.pk)],
        "usable_password": "true",
        "password1": PASSWORD,
        "password2": PASSWORD,
    }
    response = staff_client.post(reverse("admin:accounts_user_add"), data)
    assert response.status_code == 200
    assert "Clerks and cashiers must belong to a center." in response.content.decode()
    assert not User.objects.filter(username="newclerk").exists()
    data["center"] = str(center.pk)
    response = staff_client.post(reverse("admin:accounts_user_add"), data)
    assert response.status_code == 302
    user = User.objects.get(username="newclerk")
    assert user.center == center and user.has_role(roles.CLERK)
    [event] = _events("admin.add", "accounts.user")
    assert "password1" in event.data["changed"]
    assert PASSWORD not in str(event.data)  # never a password in the audit log
    assert event.data["values"]["groups"] == [None, [roles.CLERK]]


def test_password_change_in_admin_is_audited_without_the_password(
    staff_client: Client, clerk: User
) -> None:
    url = reverse("admin:auth_user_password_change", args=[clerk.pk])
    new = "another-long-password-77"
    response = staff_client.post(url, {"password1": new, "password2": new})
    assert response.status_code == 302
    clerk.refresh_from_db()
    assert clerk.check_password(new)
    [event] = _events("admin.password", "accounts.user")
    assert event.actor == "admin"
    assert new not in str(event.data)


def test_group_changes_are_audited(staff_client: Client) -> None:
    response = staff_client.post(reverse("admin:auth_group_add"), {"name": roles.AUDITOR})
    assert response.status_code == 302
    assert len(_events("admin.add", "auth.group")) == 1


# ---------------------------------------------------------------- Arabic first


def _in_arabic(text: object) -> bool:
    return any("\u0600" <= ch <= "\u06ff" for ch in str(text))


def test_every_record_list_speaks_arabic(admin_user: User) -> None:
    """An auditor reading the records in Arabic sees Arabic names: of each section and kind
    of record, and of every column and filter of its list (they read 'seq', 'at',
    'Receipts' before)."""
    untranslated = []
    with translation.override("ar"):
        for model, model_admin in admin.site._registry.items():
            opts = model._meta
            if not _in_arabic(opts.app_config.verbose_name):
                untranslated.append(f"{opts.app_label}: {opts.app_config.verbose_name}")
            if not _in_arabic(opts.verbose_name_plural):
                untranslated.append(f"{opts.label}: {opts.verbose_name_plural}")
            if opts.app_label == "django_tasks_database":
                continue  # its columns are the package's, named in English only
            shown = [*model_admin.list_display, *model_admin.list_filter]
            for name in shown:
                name = name[0] if isinstance(name, tuple) else name
                if not isinstance(name, str):
                    continue
                try:
                    field = opts.get_field(name.split("__")[0])
                except FieldDoesNotExist:
                    continue  # a computed column: its own description
                if not _in_arabic(field.verbose_name):
                    untranslated.append(f"{opts.label}.{name}: {field.verbose_name}")
    assert untranslated == [], "\n".join(untranslated)


def test_the_audit_log_is_in_the_auditors_menu_and_reads_in_arabic(
    make_user: Any, clerk: User
) -> None:
    auditor = make_user("auditor1", roles.AUDITOR, is_staff=True)
    view_log = Permission.objects.get(codename="view_auditevent")
    Group.objects.get(name=roles.AUDITOR).permissions.add(view_log)  # as the Homs seed does
    client = Client()  # no Accept-Language: Arabic
    client.force_login(auditor)
    audit.record("test.seeded", actor=auditor)  # a code nobody named: shown as it is
    audit.record("login.failed", actor="anonymous", username="someone")
    home = client.get("/", follow=True).content.decode()
    log = reverse("admin:core_auditevent_changelist")
    assert f'href="{log}"' in home
    page = client.get(log)
    assert page.status_code == 200
    html = page.content.decode()
    assert "test.seeded" in html
    for header in ("الرقم التسلسلي", "الوقت", "المنفّذ", "ما جرى", "نوع السجل"):
        assert header in html
    assert "محاولة دخول موظف فاشلة" in html and "login.failed" in html  # words, and the code
    counter = Client()
    counter.force_login(clerk)  # no admin access: no link that leads to a login page
    assert f'href="{log}"' not in counter.get("/", follow=True).content.decode()


def test_what_became_of_a_gateway_webhook_reads_arabic(admin_user: User) -> None:
    from baladiya.payments.models import GatewayWebhook

    for n, outcome in enumerate(("recorded", "duplicate", "declined")):
        GatewayWebhook.objects.create(
            gateway="sandbox",
            event_id=f"evt_{n}",
            kind="payment.x",
            payment_id="p",
            outcome=outcome,
        )
    client = Client()
    client.force_login(admin_user)
    html = client.get(reverse("admin:payments_gatewaywebhook_changelist")).content.decode()
    for words in ("سُجِّل", "وصل من قبل", "مرفوضة"):
        assert words in html, words
