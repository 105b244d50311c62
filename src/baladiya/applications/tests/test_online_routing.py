"""Routing (issue 3, point 5): an online application of any service is fulfilled by the back
office of the owning agency; its printed document goes to the chosen pickup center's queue or
to the dispatch list for the post. Counter applications of counter services stay at the counter.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.urls import reverse

from baladiya.accounts import roles
from baladiya.accounts.models import Citizen, User
from baladiya.accounts.permissions import can_view_application, may_take
from baladiya.applications import services
from baladiya.applications.models import Application, Channel
from baladiya.applications.tests.conftest import LoginAs
from baladiya.applications.workflow import Status, transition
from baladiya.catalog.models import Agency, Service
from baladiya.centers.models import Center
from baladiya.core.errors import NotAllowed
from baladiya.delivery.post.services import awaiting_dispatch
from baladiya.delivery.services import hand_over, pickup_queue
from baladiya.documents.services import issue_document

pytestmark = pytest.mark.django_db
QUEUE = "/applications/back-office/"

Online = Callable[..., Application]


@pytest.fixture
def civil_officer(make_user: Callable[..., User], agency: Agency) -> User:
    return make_user("officer.civil", roles.OFFICER, agency=agency)


@pytest.fixture
def justice_officer(make_user: Callable[..., User]) -> User:
    justice = Agency.objects.create(code="justice", name_ar="العدل", name_en="Justice")
    return make_user("officer.justice", roles.OFFICER, agency=justice)


@pytest.fixture
def online(citizen: Citizen, service: Service, electronic_center: Center) -> Online:
    """A paid online application (the citizen portal and the gateway did their part)."""

    def make(*, pickup: Center | None = None, svc: Service | None = None) -> Application:
        app = services.submit_application(
            None,
            services.Submission(
                service=svc or service,
                applicant=citizen,
                center=electronic_center,
                fields={"purpose": "جامعة البعث"},
                delivery_mode="pickup" if pickup else "post",
                pickup_center=pickup,
                delivery_address={} if pickup else {"line": "شارع الدبلان 5"},
                channel=Channel.ONLINE,
            ),
        )
        services.move(app, "pay", None, check_permission=False)
        return app

    return make


def _rows(login_as: LoginAs, user: User) -> list[str]:
    response = login_as(user).get(QUEUE)
    assert response.status_code == 200
    return [row["app"].reference for row in response.context["rows"]]


def test_online_applications_of_any_service_reach_the_owning_agencys_back_office(
    login_as: LoginAs,
    online: Online,
    civil_officer: User,
    justice_officer: User,
    clerk: User,
    center: Center,
    make_app: Callable[..., Application],
) -> None:
    web = online(pickup=center)  # a counter-approval service, applied for online
    at_counter = make_app(status="paid")  # the same service at the counter: stays there
    assert web.service.approval == Service.Approval.COUNTER
    assert _rows(login_as, civil_officer) == [web.reference]
    assert _rows(login_as, justice_officer) == []
    assert at_counter.reference not in _rows(login_as, civil_officer)
    assert login_as(clerk).get(QUEUE).status_code == 403


def test_only_the_back_office_reviews_and_issues_online_applications(
    online: Online,
    make_user: Callable[..., User],
    electronic_center: Center,
    civil_officer: User,
    justice_officer: User,
    center: Center,
) -> None:
    app = online(pickup=center)
    portal_clerk = make_user("clerk00", roles.CLERK, center=electronic_center)
    for name in ("start_review", "approve", "return", "issue", "dispatch"):
        assert not may_take(portal_clerk, app, transition(name)), name
        assert not may_take(justice_officer, app, transition(name)), name
    with pytest.raises(NotAllowed):
        services.start_review(app, portal_clerk)
    services.start_review(app, civil_officer)
    services.approve(app, civil_officer)
    assert app.status == Status.APPROVED


def test_approved_online_applications_wait_in_the_queue_to_be_issued(
    login_as: LoginAs, online: Online, civil_officer: User, center: Center
) -> None:
    app = online(pickup=center)
    services.start_review(app, civil_officer)
    services.approve(app, civil_officer)
    response = login_as(civil_officer).get(QUEUE)
    (row,) = response.context["rows"]
    assert row["app"] == app and row["may_issue"]
    assert reverse("documents:issue", args=[app.reference]) in response.content.decode()
    issue_document(app, civil_officer)
    assert _rows(login_as, civil_officer) == []  # issued: out of the back office's queue


def test_issued_pickup_document_goes_to_the_chosen_centers_queue(
    online: Online,
    civil_officer: User,
    clerk: User,
    other_clerk: User,
    center: Center,
    other_center: Center,
) -> None:
    app = online(pickup=other_center)
    services.start_review(app, civil_officer)
    services.approve(app, civil_officer)
    issue_document(app, civil_officer)

    assert app.status == Status.READY_FOR_PICKUP
    assert list(pickup_queue(other_center)) == [app]
    assert list(pickup_queue(center)) == []
    assert list(awaiting_dispatch(civil_officer)) == []
    assert can_view_application(other_clerk, app) and not can_view_application(clerk, app)
    with pytest.raises(NotAllowed):
        hand_over(app, clerk, "", "national_id", app.applicant.national_number)
    hand_over(app, other_clerk, "", "national_id", app.applicant.national_number)
    assert Application.objects.get(pk=app.pk).status == Status.HANDED_OVER


def test_issued_post_document_goes_to_the_dispatch_list(
    online: Online, civil_officer: User, justice_officer: User, center: Center
) -> None:
    app = online()
    services.start_review(app, civil_officer)
    services.approve(app, civil_officer)
    issue_document(app, civil_officer)
    assert app.status == Status.ISSUED
    assert list(awaiting_dispatch(civil_officer)) == [app]
    assert list(awaiting_dispatch(justice_officer)) == []
    assert list(pickup_queue(center)) == []


def test_back_office_service_at_the_counter_still_goes_to_the_back_office(
    login_as: LoginAs,
    civil_officer: User,
    make_app: Callable[..., Application],
    back_office_service: Service,
) -> None:
    app = make_app(svc=back_office_service, status="paid")
    assert _rows(login_as, civil_officer) == [app.reference]
