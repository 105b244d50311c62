"""POST /applications/{reference}/actions with a citizen's token: only `cancel`, only their
own online application, only while nothing was paid; every staff step is refused."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from baladiya.accounts.models import User
from baladiya.api.tests.conftest import ApiClient
from baladiya.applications.models import Application
from baladiya.catalog.models import Service
from baladiya.centers.models import Center
from baladiya.payments.services import record_gateway_payment

pytestmark = pytest.mark.django_db
Api = Callable[..., ApiClient]


def _apply(api: Api, user: User, service: Service) -> str:
    body = {
        "service": service.code,
        "fields": {"purpose": "سفارة"},
        "delivery": {"mode": "pickup", "center": "C03"},
    }
    answer = api(user).post("/api/v1/applications", body)
    assert answer.status == 201, answer.body
    return str(answer.body["reference"])


def test_citizen_cancels_own_unpaid_application(
    api: Api, citizen_user: User, service: Service, electronic_center: Center, center: Center
) -> None:
    reference = _apply(api, citizen_user, service)
    url = f"/api/v1/applications/{reference}/actions"
    staff_step = api(citizen_user).post(url, {"action": "start_review"})
    assert staff_step.status in (403, 409)
    done = api(citizen_user).post(url, {"action": "cancel", "note": "قدمته خطأ"})
    assert done.status == 200, done.body
    assert done.body["status"] == "cancelled"


def test_citizen_refused_for_others_and_once_paid(
    api: Api,
    citizen_user: User,
    other_citizen_user: User,
    service: Service,
    electronic_center: Center,
    center: Center,
) -> None:
    reference = _apply(api, citizen_user, service)
    url = f"/api/v1/applications/{reference}/actions"
    other = api(other_citizen_user).post(url, {"action": "cancel", "note": "x"})
    assert other.status == 404
    app = Application.objects.get(reference=reference)
    record_gateway_payment(app, app.fee_amount, "sandbox:tx-7")
    paid = api(citizen_user).post(url, {"action": "cancel", "note": "x"})
    assert paid.status == 409 and paid.body["code"] == "illegal_transition"
    review = api(citizen_user).post(url, {"action": "start_review"})
    assert review.status == 403
    assert Application.objects.get(pk=app.pk).status == "paid"
