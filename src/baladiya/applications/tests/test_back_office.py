"""The back office: an officer's queue of paid and in-review back-office applications."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from baladiya.accounts import roles
from baladiya.accounts.models import User
from baladiya.applications.models import Application
from baladiya.applications.tests.conftest import LoginAs, MakeApp
from baladiya.catalog.models import Agency, Service

pytestmark = pytest.mark.django_db
URL = "/applications/back-office/"


def test_queue_holds_back_office_work_oldest_first(
    login_as: LoginAs, officer: User, make_app: MakeApp, back_office_service: Service
) -> None:
    first = make_app(svc=back_office_service, status="paid")
    second = make_app(svc=back_office_service, status="in_review", reviewer=officer)
    make_app(svc=back_office_service)  # not paid yet
    make_app(status="paid")  # a counter service
    response = login_as(officer).get(URL)
    assert response.status_code == 200
    assert [r["app"].reference for r in response.context["rows"]] == [
        first.reference,
        second.reference,
    ]
    assert [r["may_start"] for r in response.context["rows"]] == [True, False]
    body = response.content.decode()
    assert f"/applications/{first.reference}/act/start_review/" in body
    assert second.sla_due.isoformat() in body


def test_officer_of_another_agency_sees_nothing(
    login_as: LoginAs,
    make_user: Callable[..., User],
    make_app: MakeApp,
    back_office_service: Service,
) -> None:
    make_app(svc=back_office_service, status="paid")
    justice = Agency.objects.create(code="justice", name_ar="العدل", name_en="Justice")
    other = make_user("judge", roles.OFFICER, agency=justice)
    assert login_as(other).get(URL).context["rows"] == []


def test_start_review_from_the_queue(
    login_as: LoginAs, officer: User, make_app: MakeApp, back_office_service: Service
) -> None:
    app = make_app(svc=back_office_service, status="paid")
    client = login_as(officer)
    response = client.post(f"/applications/{app.reference}/act/start_review/")
    assert response.status_code == 302
    assert Application.objects.get(pk=app.pk).status == "in_review"


def test_back_office_is_for_officers(login_as: LoginAs, clerk: User) -> None:
    assert login_as(clerk).get(URL).status_code == 403
