"""A citizen account opens no staff screen and no staff service, even for its own records:
every staff URL answers 403 or a redirect to the staff login, never data.

(One citizen against another's records, over every URL of the site found by walking the
URL resolver, is test_cross_citizen_urls.py: new URLs are covered there automatically.)"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from baladiya.accounts.models import Citizen, User
from baladiya.accounts.permissions import (
    can_view_application,
    citizen_of,
    is_citizen_account,
    may_take,
    require_role,
    require_transition,
    staff_can_view_application,
)
from baladiya.applications import services as apps
from baladiya.applications.models import Application
from baladiya.applications.workflow import TRANSITIONS
from baladiya.catalog.models import Service
from baladiya.core.errors import NotAllowed
from baladiya.documents.models import IssuedDocument
from baladiya.documents.services import issue_document
from baladiya.payments.models import Receipt
from baladiya.payments.services import record_gateway_payment

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(citizen: Citizen) -> User:
    user = User(username=citizen.phone, citizen=citizen)
    user.set_unusable_password()
    user.save()
    return user


@pytest.fixture
def own_app(citizen: Citizen, service: Service, clerk: User) -> Application:
    """The citizen's own application, paid (gateway receipt) and issued at C03."""
    assert clerk.center is not None
    app = apps.submit_application(
        clerk,
        apps.Submission(
            service=service,
            applicant=citizen,
            center=clerk.center,
            fields={"purpose": "جامعة البعث"},
            delivery_mode="pickup",
            pickup_center=clerk.center,
        ),
    )
    record_gateway_payment(app, app.fee_amount, "sandbox:tx-1")
    apps.start_review(app, clerk)
    apps.approve(app, clerk)
    issue_document(app, clerk)
    return app


def test_citizen_account_is_recognized_and_has_no_role(account: User, citizen: Citizen) -> None:
    assert is_citizen_account(account) and citizen_of(account) == citizen
    assert not account.role_codes()
    with pytest.raises(NotAllowed):
        require_role(account, "clerk", "cashier", "supervisor", "officer", "admin", "auditor")


def test_citizen_sees_own_application_only_through_the_citizen_rule(
    account: User, own_app: Application, other_center: Any
) -> None:
    assert can_view_application(account, own_app)
    assert not staff_can_view_application(account, own_app)
    assert not any(may_take(account, own_app, t) for t in TRANSITIONS.values())
    with pytest.raises(NotAllowed):
        require_transition(account, own_app, TRANSITIONS["cancel"])
    stranger = Citizen.objects.create(national_number="04000000001", first_name="س", last_name="ع")
    Application.objects.filter(pk=own_app.pk).update(applicant=stranger)
    own_app.refresh_from_db()
    assert not can_view_application(account, own_app)


def test_staff_keep_their_rule(clerk: User, own_app: Application) -> None:
    assert can_view_application(clerk, own_app) and staff_can_view_application(clerk, own_app)
    assert citizen_of(clerk) is None and not is_citizen_account(clerk)


def test_a_password_login_never_opens_a_citizen_account(account: User) -> None:
    response = Client(REMOTE_ADDR="10.0.0.5").post(
        reverse("accounts:login"), {"username": account.username, "password": ""}
    )
    assert "_auth_user_id" not in response.client.session


def _staff_urls(app: Application) -> list[tuple[str, str]]:
    doc = IssuedDocument.objects.get(application=app)
    receipt = Receipt.objects.get(application=app)
    return [
        ("get", reverse("applications:counter")),
        ("get", reverse("applications:citizen", args=[app.applicant_id])),
        ("get", reverse("applications:supervisor")),
        ("get", reverse("applications:back_office")),
        ("get", reverse("applications:detail", args=[app.reference])),
        ("get", reverse("applications:attachment", args=[app.reference, app.pk])),
        ("post", reverse("applications:act", args=[app.reference, "cancel"])),
        ("get", reverse("payments:cashier")),
        ("post", reverse("payments:open_session")),
        ("post", reverse("payments:take_payment", args=[app.reference])),
        ("get", reverse("payments:receipt", args=[receipt.number])),
        ("get", reverse("payments:receipt_pdf", args=[receipt.number])),
        ("post", reverse("payments:refund", args=[receipt.number])),
        ("get", reverse("payments:reconciliation")),
        ("get", reverse("catalog:services")),
        ("get", reverse("delivery:pickup_queue")),
        ("get", reverse("delivery:handover", args=[app.reference])),
        ("post", reverse("documents:issue", args=[app.reference])),
        ("get", reverse("documents:pdf", args=[doc.number])),
        ("get", reverse("documents:revoke", args=[doc.number])),
        ("get", reverse("admin:index")),
        ("get", reverse("admin:accounts_citizen_changelist")),
        ("get", reverse("admin:applications_application_changelist")),
    ]


def test_every_staff_url_refuses_a_citizen_session(
    account: User, own_app: Application, citizen: Citizen
) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(account)
    doc = IssuedDocument.objects.get(application=own_app)
    for method, url in _staff_urls(own_app):
        response = getattr(client, method)(url)
        where = f"{method.upper()} {url}"
        assert response.status_code in (302, 403, 404, 405), (where, response.status_code)
        if response.status_code == 302:
            target = response["Location"]
            assert target.startswith(("/accounts/login/", "/admin/login/")), (where, target)
        assert response.get("Content-Type", "").startswith("text/html") or not response.content
        # (The language switch repeats the URL asked for: not data.)
        body = re.sub(r'<form class="lang".*?</form>', "", response.content.decode(), flags=re.S)
        for secret in (citizen.national_number, own_app.reference, doc.number):
            assert secret not in body, (where, secret)
    own_app.refresh_from_db()
    assert own_app.status == "ready_for_pickup"  # nothing was done
    assert IssuedDocument.objects.get(pk=doc.pk).state == "valid"
