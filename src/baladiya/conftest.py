"""Shared fixtures: a small Homs network, one service, staff of every role, a citizen."""

from __future__ import annotations

import datetime as dt
import os
import time
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.db import connection

from baladiya.accounts import roles
from baladiya.accounts.models import Citizen, User
from baladiya.catalog.models import Agency, Fee, FieldType, Service, ServiceField
from baladiya.centers.models import Center

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright + live_server
PASSWORD = "correct-horse-battery-staple-42"  # noqa: S105 - test-only credential


@pytest.fixture(scope="session", autouse=True)
def _no_session_outlives_the_test_database(
    django_db_setup: None, django_db_blocker: Any
) -> Iterator[None]:
    """PostgreSQL refuses to drop a database someone is still connected to: a node process
    killed by a test, or a thread's connection, can linger for a moment after its test.
    Before the test database is dropped, wait for them (5 s at most), then end them, and say
    which they were (a warning, as pytest-django's own would be, but the drop succeeds)."""
    yield
    if connection.vendor != "postgresql":
        return
    others = (
        "SELECT pid, application_name, state, left(query, 60), backend_start::text, "
        "state_change::text FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
    )
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        for _ in range(50):
            cursor.execute(others)
            lingering = cursor.fetchall()
            if not lingering:
                return
            time.sleep(0.1)
        cursor.execute(f"SELECT pg_terminate_backend(pid) FROM ({others}) AS s")  # noqa: S608
    warnings.warn(
        f"sessions still on the test database after 5 s, ended: {lingering}", stacklevel=1
    )


@pytest.fixture
def center(db: None) -> Center:
    return Center.objects.create(
        code="C03", name_ar="مركز الإنشاءات", name_en="al-Inshaat center", kind="neighbourhood"
    )


@pytest.fixture
def other_center(db: None) -> Center:
    return Center.objects.create(
        code="C05", name_ar="مركز عكرمة", name_en="Ikrima center", kind="neighbourhood"
    )


@pytest.fixture
def electronic_center(db: None) -> Center:
    """C00, the electronic center: where online applications are numbered; no counter."""
    return Center.objects.create(
        code="C00",
        name_ar="المركز الإلكتروني",
        name_en="Electronic center",
        kind=Center.Kind.ELECTRONIC,
        accepts_pickup=False,
    )


@pytest.fixture
def agency(db: None) -> Agency:
    return Agency.objects.create(code="civil", name_ar="الشؤون المدنية", name_en="Civil affairs")


@pytest.fixture
def service(agency: Agency) -> Service:
    svc = Service.objects.create(
        code="civil-individual-extract",
        agency=agency,
        name_ar="بيان قيد فردي",
        name_en="Individual civil-registry extract",
        approval=Service.Approval.COUNTER,
        sla_days=1,
        delivery_modes=["pickup", "post"],
        document_template="certificate.typ",
        document_title_ar="بيان قيد فردي",
        document_title_en="Individual civil-registry extract",
    )
    ServiceField.objects.create(
        service=svc,
        name="purpose",
        label_ar="الجهة المقدم إليها",
        label_en="Purpose",
        type=FieldType.TEXT,
        required=True,
    )
    Fee.objects.create(
        service=svc,
        label_ar="رسم",
        label_en="Fee",
        amount=5000,
        valid_from=dt.date(2026, 1, 1),
    )
    return svc


@pytest.fixture
def back_office_service(agency: Agency) -> Service:
    svc = Service.objects.create(
        code="non-employment",
        agency=agency,
        name_ar="وثيقة غير موظف",
        name_en="Non-employment certificate",
        approval=Service.Approval.BACK_OFFICE,
        sla_days=3,
        delivery_modes=["pickup"],
        document_template="certificate.typ",
        document_title_ar="وثيقة غير موظف",
        document_title_en="Non-employment certificate",
    )
    Fee.objects.create(
        service=svc, label_ar="رسم", label_en="Fee", amount=2500, valid_from=dt.date(2026, 1, 1)
    )
    return svc


@pytest.fixture
def make_user(db: None) -> Callable[..., User]:
    def make(username: str, *role_codes: str, **extra: Any) -> User:
        user = User.objects.create_user(username=username, password=PASSWORD, **extra)
        for code in role_codes:
            group, _ = Group.objects.get_or_create(name=code)
            user.groups.add(group)
        return user

    return make


@pytest.fixture
def clerk(make_user: Callable[..., User], center: Center) -> User:
    return make_user("clerk03", roles.CLERK, center=center, full_name="سامر الخطيب")


@pytest.fixture
def cashier(make_user: Callable[..., User], center: Center) -> User:
    return make_user("cashier03", roles.CASHIER, center=center, full_name="ريم العلي")


@pytest.fixture
def other_clerk(make_user: Callable[..., User], other_center: Center) -> User:
    return make_user("clerk05", roles.CLERK, center=other_center)


@pytest.fixture
def other_cashier(make_user: Callable[..., User], other_center: Center) -> User:
    return make_user("cashier05", roles.CASHIER, center=other_center)


@pytest.fixture
def supervisor(make_user: Callable[..., User], center: Center) -> User:
    return make_user("super03", roles.SUPERVISOR, center=center)


@pytest.fixture
def officer(make_user: Callable[..., User]) -> User:
    return make_user("officer", roles.OFFICER)


@pytest.fixture
def auditor(make_user: Callable[..., User]) -> User:
    return make_user("auditor", roles.AUDITOR)


@pytest.fixture
def admin_user(make_user: Callable[..., User]) -> User:
    return make_user("admin", roles.ADMIN, is_staff=True, is_superuser=True)


@pytest.fixture
def citizen(db: None) -> Citizen:
    return Citizen.objects.create(
        national_number="04012345678",
        first_name="أحمد",
        father_name="محمد",
        last_name="الحمصي",
        mother_name="فاطمة",
        birth_date=dt.date(1990, 5, 17),
        phone="+963944123456",
    )


@pytest.fixture(autouse=True)
def _isolated_files(settings: Any, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Keys and uploads go to a per-test folder, never the developer's var/."""
    base = tmp_path_factory.mktemp("node")
    settings.KEY_DIR = base / "keys"
    settings.MEDIA_ROOT = base / "media"
    settings.WATER_EXCHANGE_DIR = base / "water-exchange"
    # Argon2 is the production hasher (accounts tests check it); tests create many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _english_outside_requests() -> Any:
    """Service-level messages are asserted in English; each HTTP request still picks its own
    language (Arabic by default) through LocaleMiddleware, as in production."""
    from django.utils import translation

    with translation.override("en"):
        yield
