"""The portal's online-payment form token is scoped to the citizen who posts it: one
citizen's token never collides with, nor replays, another's payment."""

from __future__ import annotations

import pytest
from django.test import Client

from baladiya.accounts.models import User
from baladiya.applications import services as apps
from baladiya.applications.models import Application
from baladiya.catalog.models import Service
from baladiya.centers.models import Center
from baladiya.payments.models import PaymentIntent

pytestmark = pytest.mark.django_db


def _start(user: User, app: Application, token: str) -> str:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    response = client.post(f"/payments/online/{app.reference}/start/", {"idempotency_key": token})
    assert response.status_code == 302
    return str(response["Location"])


def test_the_same_token_from_two_citizens_opens_two_payments(
    app: Application,
    citizen_user: User,
    other_citizen_user: User,
    clerk: User,
    service: Service,
    center: Center,
) -> None:
    assert other_citizen_user.citizen is not None
    theirs = apps.submit_application(
        clerk,
        apps.Submission(
            service=service,
            applicant=other_citizen_user.citizen,
            center=center,
            fields={"purpose": "مصرف"},
            pickup_center=center,
        ),
    )
    mine = _start(citizen_user, app, "same-token")
    other = _start(other_citizen_user, theirs, "same-token")
    intents = {i.application_id: i for i in PaymentIntent.objects.all()}
    assert set(intents) == {app.pk, theirs.pk}  # no "form already used", no shared intent
    assert intents[app.pk].idempotency_key == f"web:{citizen_user.pk}:same-token"
    assert intents[theirs.pk].idempotency_key == f"web:{other_citizen_user.pk}:same-token"
    assert intents[theirs.pk].started_by_id == other_citizen_user.pk
    assert mine.endswith(f"/{intents[app.pk].gateway_payment_id}/")
    assert other.endswith(f"/{intents[theirs.pk].gateway_payment_id}/")
    # A double submit by the same citizen still replays their own payment.
    assert _start(citizen_user, app, "same-token") == mine
    assert PaymentIntent.objects.count() == 2


def test_a_start_without_a_token_has_no_key(app: Application, citizen_user: User) -> None:
    _start(citizen_user, app, "")
    assert PaymentIntent.objects.get().idempotency_key is None
