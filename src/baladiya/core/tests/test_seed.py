"""The Homs seed: the network of DESIGN §7, real services with dated fees, idempotent."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.contrib.auth.models import Group

from baladiya.accounts import roles
from baladiya.accounts.models import Citizen, User
from baladiya.applications.services import Submission, submit_application
from baladiya.catalog.forms import clean_field_values
from baladiya.catalog.models import Agency, Fee, Service
from baladiya.centers.models import Center, Neighbourhood
from baladiya.centers.services import neighbourhoods_without_center
from baladiya.core import audit
from baladiya.core.models import AuditEvent
from baladiya.core.money import from_old_pounds
from baladiya.core.seed.homs import NEIGHBOURHOODS, seed_homs

pytestmark = pytest.mark.django_db
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def fast_passwords(settings: Any) -> None:
    settings.PASSWORD_HASHERS = FAST_HASHERS


def _state() -> dict[str, Any]:
    """Everything the seed writes, as comparable values."""
    return {
        "centers": list(Center.objects.order_by("code").values()),
        "links": sorted(
            Center.neighbourhoods.through.objects.values_list("center_id", "neighbourhood_id")
        ),
        "neighbourhoods": list(Neighbourhood.objects.order_by("name_ar").values()),
        "agencies": list(Agency.objects.order_by("code").values()),
        "services": list(Service.objects.order_by("code").values()),
        "fees": list(Fee.objects.order_by("id").values()),
        "staff": list(User.objects.order_by("username").values("username", "password")),
        "citizens": list(Citizen.objects.order_by("national_number").values()),
        "groups": sorted(Group.objects.values_list("name", "permissions")),
        "audit": AuditEvent.objects.count(),
    }


def test_twelve_centers_of_the_right_kinds() -> None:
    seed_homs()
    kinds = dict(Center.objects.values_list("code", "kind"))
    assert sorted(kinds) == [f"C{i:02d}" for i in range(12)]
    assert kinds["C00"] == Center.Kind.ELECTRONIC
    assert {kinds[f"C{i:02d}"] for i in range(1, 10)} == {Center.Kind.NEIGHBOURHOOD}
    assert kinds["C10"] == kinds["C11"] == Center.Kind.INSTITUTIONAL
    assert "البعث" in Center.objects.get(code="C10").name_ar
    assert "مصفاة حمص" in Center.objects.get(code="C11").name_ar
    assert not Center.objects.get(code="C00").accepts_pickup
    assert all(c.opening_hours for c in Center.objects.all())


def test_six_of_nine_neighbourhood_centers_are_solar() -> None:
    seed_homs()
    local = Center.objects.filter(kind=Center.Kind.NEIGHBOURHOOD)
    solar = local.filter(power_source=Center.Power.SOLAR)
    assert (local.count(), solar.count()) == (9, 6)
    assert all(c.solar_kw and c.solar_kw > 0 for c in solar)
    assert not local.filter(power_source=Center.Power.GRID, solar_kw__isnull=False).exists()


def test_center_two_is_ten_kw_solar_serving_arman_zahraa_muhajirin() -> None:
    seed_homs()
    c02 = Center.objects.get(code="C02")
    assert c02.power_source == Center.Power.SOLAR
    assert c02.solar_kw == 10
    assert {n.name_ar for n in c02.neighbourhoods.all()} == {"الأرمن", "الزهراء", "المهاجرين"}


def test_all_31_neighbourhoods_some_without_a_center() -> None:
    seed_homs()
    assert Neighbourhood.objects.count() == 31 == len(NEIGHBOURHOODS)
    for name in ("الوعر", "بابا عمرو", "عكرمة الجديدة", "جورة الشياح", "الشماس"):
        assert Neighbourhood.objects.filter(name_ar=name).exists()
    uncovered = {n.name_ar for n in neighbourhoods_without_center()}
    assert 0 < len(uncovered) < 31
    assert "الزهراء" not in uncovered
    # No neighbourhood is served by two centers.
    through = Center.neighbourhoods.through.objects
    assert through.count() == through.values("neighbourhood_id").distinct().count()


def test_services_have_agencies_fees_fields_and_templates() -> None:
    seed_homs()
    services = Service.objects.select_related("agency").prefetch_related("fees", "fields")
    assert services.count() >= 12
    for s in services:
        assert s.agency_id and s.document_template == "certificate.typ"
        assert s.document_title_ar and s.document_title_en and s.sla_days >= 1
        assert s.delivery_modes and set(s.delivery_modes) <= {"pickup", "post"}
        assert s.fee_on(dt.date(2026, 1, 1)) > 0, s.code
        assert s.fee_on(dt.date(2025, 12, 31)) == 0, s.code  # fees start with the new pound
        assert s.fields.exists(), s.code
    assert {a.code for a in Agency.objects.all()} >= {
        "civil",
        "justice",
        "cadastral",
        "finance",
        "water",
        "council-technical",
    }


def test_real_services_and_their_approval() -> None:
    seed_homs()
    by_name = {s.name_ar: s for s in Service.objects.all()}
    for name in ("بيان قيد فردي", "بيان قيد عائلي", "بيان ولادة", "بيان طلاق"):
        assert by_name[name].approval == Service.Approval.COUNTER
        assert by_name[name].agency.code == "civil"
    permit = Service.objects.get(code="council-building-permit")
    assert permit.approval == Service.Approval.BACK_OFFICE
    assert permit.attachments.filter(required=True).count() >= 3
    assert Service.objects.get(code="council-trade-licence").approval == "back_office"
    assert "براءة ذمة" in Service.objects.get(code="council-clearance").name_ar
    assert Service.objects.filter(code="council-lease-certification").exists()


def test_criminal_record_stamp_is_5000_old_pounds() -> None:
    seed_homs()
    service = Service.objects.get(code="justice-not-convicted")
    assert "غير محكوم" in service.name_ar
    assert service.agency.code == "justice"
    stamp = service.fees.get(label_en="Stamp duty")
    assert stamp.amount == from_old_pounds(5000) == 5000
    assert stamp.valid_from == dt.date(2026, 1, 1)


def test_typed_fields_accept_valid_values_and_refuse_bad_ones() -> None:
    seed_homs()
    service = Service.objects.get(code="civil-individual-extract")
    types = dict(service.fields.values_list("name", "type"))
    assert types["national_number"] == "national_number" and types["purpose"] == "choice"
    cleaned = clean_field_values(
        service, {"national_number": "04012345678", "purpose": "مصرف", "phone": "0944123456"}
    )
    assert cleaned["phone"] == "+963944123456"
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        clean_field_values(service, {"national_number": "123", "purpose": "مصرف"})


def test_roles_are_groups_and_the_auditor_may_view_everything() -> None:
    seed_homs()
    assert set(Group.objects.values_list("name", flat=True)) >= set(roles.ALL_ROLES)
    perms = set(
        Group.objects.get(name=roles.AUDITOR).permissions.values_list("codename", flat=True)
    )
    assert "view_auditevent" in perms and "view_application" in perms
    assert not any(p.startswith(("add_", "change_", "delete_")) for p in perms)


def test_no_demo_staff_unless_asked() -> None:
    result = seed_homs()
    assert result["credentials"] == []
    assert not User.objects.exists()
    assert not Citizen.objects.exists()


def test_demo_staff(fast_passwords: None) -> None:
    result = seed_homs(demo=True)
    creds = {c["username"]: c for c in result["credentials"]}
    for code in [f"C{i:02d}" for i in range(1, 12)]:
        for role in (roles.CLERK, roles.CASHIER):
            user = User.objects.get(center__code=code, groups__name=role)
            assert user.check_password(creds[user.username]["password"])
    assert not User.objects.filter(center__code="C00").exists()
    assert User.objects.get(groups__name=roles.SUPERVISOR, center__code="C02")
    assert User.objects.get(groups__name=roles.SUPERVISOR, center__isnull=True)
    officers = User.objects.filter(groups__name=roles.OFFICER)
    assert {o.agency.code if o.agency else None for o in officers} == {"civil", None}
    admin = User.objects.get(groups__name=roles.ADMIN)
    assert admin.is_superuser and admin.is_staff
    assert User.objects.get(groups__name=roles.AUDITOR).is_staff
    finance = User.objects.get(groups__name=roles.FINANCE)
    assert finance.check_password(creds[finance.username]["password"]) and not finance.center
    staff = [c for c in result["credentials"] if c["role"] != "citizen"]
    passwords = [c["password"] for c in staff]
    assert len(set(passwords)) == len(passwords) and min(map(len, passwords)) >= 16
    # Citizens have no password: they log in with a one-time code sent by SMS.
    citizens = [c for c in result["credentials"] if c["role"] == "citizen"]
    assert len(citizens) == 3 and {c["password"] for c in citizens} == {""}


def test_demo_citizens_are_from_homs(fast_passwords: None) -> None:
    seed_homs(demo=True)
    citizens = list(Citizen.objects.all())
    assert len(citizens) >= 5
    for c in citizens:
        assert len(c.national_number) == 11 and c.national_number.startswith("04")
        assert c.phone.startswith("+9639") and len(c.phone) == 13
        assert c.first_name and c.last_name and c.mother_name


def test_running_twice_changes_nothing(fast_passwords: None) -> None:
    out = io.StringIO()
    first = seed_homs(out, demo=True)
    assert first["created"]["centers"] == 12
    before = _state()
    second = seed_homs(out, demo=True)
    assert second["created"] == {} and second["credentials"] == []
    assert _state() == before
    assert "nothing to add" in out.getvalue()
    assert audit.verify_chain() == []


def test_seed_leaves_an_administrators_edits_alone() -> None:
    seed_homs()
    Center.objects.filter(code="C06").update(power_source="solar", solar_kw=5)
    Fee.objects.filter(service__code="civil-family-extract").delete()
    Fee.objects.create(
        service=Service.objects.get(code="civil-family-extract"),
        label_ar="رسم",
        label_en="Fee",
        amount=9900,
        valid_from=dt.date(2026, 6, 1),
    )
    seed_homs()
    assert Center.objects.get(code="C06").power_source == "solar"
    family = Service.objects.get(code="civil-family-extract")
    assert list(family.fees.values_list("amount", flat=True)) == [9900]


def test_seeded_service_takes_an_application(fast_passwords: None) -> None:
    """The seed is usable as is: a C02 clerk submits an extract with the right fee."""
    result = seed_homs(demo=True)
    clerk = User.objects.get(username="c02.clerk")
    service = Service.objects.get(code="civil-individual-extract")
    citizen = Citizen.objects.first()
    assert citizen is not None and result["credentials"]
    app = submit_application(
        clerk,
        Submission(
            service=service,
            applicant=citizen,
            center=clerk.center,  # type: ignore[arg-type]
            fields={"national_number": citizen.national_number, "purpose": "جامعة"},
            pickup_center=clerk.center,
        ),
    )
    assert app.reference.startswith("C02-")
    assert app.fee_amount == service.fee_on(app.created_at.date())
