"""Portal fixtures: the electronic center C00, neighbourhoods, citizen accounts and clients."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.test import Client

from baladiya.accounts.models import Citizen, User
from baladiya.applications import services as applications
from baladiya.applications.models import Application, Channel
from baladiya.catalog.models import (
    Agency,
    Fee,
    FieldType,
    RequiredAttachment,
    Service,
    ServiceField,
)
from baladiya.centers.models import Center, Neighbourhood
from baladiya.core.testing import logged_in

PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 32
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 32

ClientFor = Callable[[User], Client]
MakeAccount = Callable[..., User]


@pytest.fixture
def electronic(electronic_center: Center) -> Center:
    return electronic_center


@pytest.fixture
def waer(db: None) -> Neighbourhood:
    return Neighbourhood.objects.create(name_ar="الوعر", name_en="al-Waer")


@pytest.fixture
def make_account(db: None) -> MakeAccount:
    """A citizen portal account as the OTP login creates it (optionally with a profile)."""

    def make(phone: str, citizen: Citizen | None = None) -> User:
        user = User(username=phone, citizen=citizen)
        user.set_unusable_password()
        user.save()
        return user

    return make


@pytest.fixture
def citizen_user(make_account: MakeAccount, citizen: Citizen) -> User:
    return make_account(citizen.phone, citizen)


@pytest.fixture
def other_citizen(db: None) -> Citizen:
    return Citizen.objects.create(
        national_number="04098765432",
        first_name="ليلى",
        father_name="سمير",
        last_name="العطار",
        phone="+963955000111",
    )


@pytest.fixture
def other_user(make_account: MakeAccount, other_citizen: Citizen) -> User:
    return make_account(other_citizen.phone, other_citizen)


@pytest.fixture
def client_for(db: None) -> ClientFor:
    return logged_in


@pytest.fixture
def portal_service(agency: Agency) -> Service:
    """A service with typed fields and a required paper, by post or pickup, downloadable."""
    svc = Service.objects.create(
        code="family-extract",
        agency=agency,
        name_ar="بيان قيد عائلي",
        name_en="Family civil-registry extract",
        description_ar="بيان بأفراد الأسرة المسجلين في القيد المدني.",
        delivery_modes=["pickup", "post"],
        document_template="certificate.typ",
        document_title_ar="بيان قيد عائلي",
        document_title_en="Family civil-registry extract",
        citizen_download=True,
    )
    ServiceField.objects.create(
        service=svc,
        name="spouse_number",
        label_ar="الرقم الوطني للزوج",
        label_en="Spouse's national number",
        type=FieldType.NATIONAL_NUMBER,
        required=True,
        position=1,
    )
    ServiceField.objects.create(
        service=svc,
        name="purpose",
        label_ar="الجهة المقدم إليها",
        label_en="Purpose",
        type=FieldType.TEXT,
        required=False,
        position=2,
    )
    RequiredAttachment.objects.create(
        service=svc, code="id-card", label_ar="صورة الهوية", label_en="ID card copy"
    )
    Fee.objects.create(
        service=svc, label_ar="رسم", label_en="Fee", amount=7500, valid_from=dt.date(2026, 1, 1)
    )
    Fee.objects.create(
        service=svc, label_ar="طابع", label_en="Stamp", amount=2500, valid_from=dt.date(2026, 1, 1)
    )
    return svc


@pytest.fixture
def online_app(
    citizen_user: User, service: Service, electronic: Center, center: Center
) -> Application:
    """An online application of `citizen`, submitted through the service layer."""
    assert citizen_user.citizen is not None
    return applications.submit_application(
        citizen_user,
        applications.Submission(
            service=service,
            applicant=citizen_user.citizen,
            center=electronic,
            fields={"purpose": "وزارة الداخلية"},
            delivery_mode="pickup",
            pickup_center=center,
            channel=Channel.ONLINE,
        ),
    )
