"""Payments fixtures: applications awaiting payment and an open drawer at C03."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from baladiya.accounts import roles
from baladiya.accounts.models import Citizen, User
from baladiya.applications import services as apps
from baladiya.applications.models import Application
from baladiya.catalog.models import Service
from baladiya.centers.models import Center
from baladiya.payments import services as pay
from baladiya.payments.models import CashierSession

FLOAT = 50_000  # 500.00 pounds in the drawer at opening


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    """Staff fixtures hash a password each; argon2 is deliberately slow, these tests need not be."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def make_app(
    clerk: User, citizen: Citizen, service: Service, center: Center
) -> Callable[..., Application]:
    """Submit an application at the clerk's center (fee 50.00 from the `service` fixture)."""

    def make(at: Center | None = None, by: User | None = None) -> Application:
        where = at or center
        return apps.submit_application(
            by or clerk,
            apps.Submission(
                service=service,
                applicant=citizen,
                center=where,
                fields={"purpose": "مصرف"},
                pickup_center=where,
            ),
        )

    return make


@pytest.fixture
def app(make_app: Callable[..., Application]) -> Application:
    return make_app()


@pytest.fixture
def drawer(cashier: User) -> CashierSession:
    return pay.open_session(cashier, FLOAT)


@pytest.fixture
def reject(make_user: Callable[..., User]) -> Callable[[Application], Application]:
    """A network supervisor reviews and rejects a paid application: its fee is then owed back
    (a fee is refunded only for a rejected or cancelled application)."""
    chief = make_user("chief", roles.SUPERVISOR)

    def run(app: Application) -> Application:
        apps.start_review(app, chief)
        return apps.reject(app, chief, "الوثائق غير مكتملة")

    return run


# ---------------------------------------------------------------- online payment


@pytest.fixture(autouse=True)
def online(settings: Any) -> Any:
    """The sandbox gateway, its secret, and webhooks delivered through the test client."""
    from baladiya.payments.tests.gateway_helpers import SECRET

    settings.PAYMENT_GATEWAYS = ["sandbox"]
    settings.PAYMENT_GATEWAY_DEFAULT = "sandbox"
    settings.PAYMENT_GATEWAY_SECRETS = {"sandbox": SECRET}
    settings.PAYMENT_WEBHOOK_TOLERANCE_SECONDS = 900
    settings.PAYMENT_INTENT_TTL_SECONDS = 1800
    settings.SANDBOX_GATEWAY_SESSION_SECONDS = 3600
    settings.SANDBOX_GATEWAY_DUPLICATE_WEBHOOKS = False
    settings.SANDBOX_GATEWAY_WEBHOOK_DELAY_SECONDS = 0
    settings.WEBHOOK_TRANSPORT = "baladiya.payments.tests.gateway_helpers.client_transport"
    settings.PUBLIC_BASE_URL = "http://testserver"
    return settings


def make_citizen_account(citizen: Citizen) -> User:
    user = User(username=citizen.phone)
    user.set_unusable_password()
    user.citizen = citizen  # type: ignore[attr-defined]
    user.save()
    return user


@pytest.fixture
def citizen_user(citizen: Citizen) -> User:
    """The applicant's own portal account (no role, no password)."""
    return make_citizen_account(citizen)


@pytest.fixture
def other_citizen_user(db: None) -> User:
    other = Citizen.objects.create(
        national_number="04099999999", first_name="ليلى", last_name="العلي", phone="+963955000111"
    )
    return make_citizen_account(other)


@pytest.fixture
def finance(make_user: Callable[..., User]) -> User:
    return make_user("finance", roles.FINANCE, full_name="مالية")
