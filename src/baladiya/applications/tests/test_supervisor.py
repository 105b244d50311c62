"""Supervision: counts per center and status, overdue list, in review, filters, pages."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
import time_machine
from django.utils import timezone

from baladiya.accounts import roles
from baladiya.accounts.models import User
from baladiya.applications import views
from baladiya.applications.models import Application
from baladiya.applications.tests.conftest import LoginAs, MakeApp
from baladiya.centers.models import Center

pytestmark = pytest.mark.django_db
URL = "/applications/supervisor/"


def _late(app: Application, days: int) -> None:
    Application.objects.filter(pk=app.pk).update(
        sla_due=timezone.localdate() - dt.timedelta(days=days)
    )


@pytest.fixture
def world(make_app: MakeApp, other_clerk: User, other_center: Center) -> dict[str, Application]:
    late = make_app(status="paid")
    _late(late, 3)
    return {
        "late": late,
        "review": make_app(status="in_review"),
        "fresh": make_app(),
        "elsewhere": make_app(by=other_clerk, at=other_center, status="in_review"),
    }


def test_overdue_list_shows_days_late(
    login_as: LoginAs, supervisor: User, world: dict[str, Application]
) -> None:
    response = login_as(supervisor).get(URL)
    assert response.status_code == 200
    assert [(a.reference, late) for a, late in response.context["overdue_rows"]] == [
        (world["late"].reference, 3)
    ]
    assert world["late"].reference in response.content.decode()


def test_center_supervisor_sees_only_their_center(
    login_as: LoginAs, supervisor: User, world: dict[str, Application]
) -> None:
    response = login_as(supervisor).get(URL)
    counts = response.context["counts"]
    assert [(r["center__code"], r["total"], r["n_paid"], r["n_in_review"]) for r in counts] == [
        ("C03", 3, 1, 1)
    ]
    assert counts[0]["n_overdue"] == 1
    review = [a.reference for a in response.context["review_page"].object_list]
    assert review == [world["review"].reference]
    assert world["elsewhere"].reference not in response.content.decode()


def test_network_supervisor_sees_every_center(
    login_as: LoginAs, make_user: Callable[..., User], world: dict[str, Application]
) -> None:
    network = make_user("network", roles.SUPERVISOR)
    response = login_as(network).get(URL)
    assert [r["center__code"] for r in response.context["counts"]] == ["C03", "C05"]
    review = {a.reference for a in response.context["review_page"].object_list}
    assert review == {world["review"].reference, world["elsewhere"].reference}


def test_filters_by_center_status_and_service(
    login_as: LoginAs, admin_user: User, world: dict[str, Application], other_center: Center
) -> None:
    client = login_as(admin_user)
    by_center = client.get(URL, {"center": str(other_center.pk)})
    assert [a.reference for a in by_center.context["list_page"].object_list] == [
        world["elsewhere"].reference
    ]
    by_status = client.get(URL, {"status": "submitted"})
    assert [a.reference for a in by_status.context["list_page"].object_list] == [
        world["fresh"].reference
    ]
    assert by_status.context["overdue_rows"] == []  # the late one is paid, not submitted
    by_service = client.get(URL, {"service": str(world["late"].service_id)})
    assert by_service.context["list_page"].paginator.count == 4


def test_list_is_paginated_keeping_the_filters(
    login_as: LoginAs, supervisor: User, make_app: MakeApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    for _ in range(5):
        make_app()
    client = login_as(supervisor)
    first = client.get(URL, {"status": "submitted"})
    assert first.context["list_page"].paginator.num_pages == 3
    assert "?status=submitted&amp;page=2" in first.content.decode()
    third = client.get(URL, {"status": "submitted", "page": "3"})
    assert len(third.context["list_page"].object_list) == 1


def test_supervision_is_not_for_clerks(login_as: LoginAs, clerk: User, auditor: User) -> None:
    assert login_as(clerk).get(URL).status_code == 403
    assert login_as(auditor).get(URL).status_code == 200


def test_work_by_day_counts_what_came_in_and_went_out_each_day(
    login_as: LoginAs,
    supervisor: User,
    clerk: User,
    make_app: MakeApp,
    other_clerk: User,
    other_center: Center,
) -> None:
    from baladiya.delivery.services import hand_over
    from baladiya.documents.services import issue_document

    today = timezone.localdate()
    three_days_ago = today - dt.timedelta(days=3)
    with time_machine.travel(
        timezone.make_aware(dt.datetime.combine(three_days_ago, dt.time(10, 0))), tick=True
    ):
        make_app()
        approved = make_app(status="approved")
    issue_document(approved, clerk)  # today: the document waits at the counter
    holder = approved.applicant
    hand_over(approved, clerk, holder.full_name, "national_id", holder.national_number)
    make_app()
    make_app(by=other_clerk, at=other_center)  # another center's: not this supervisor's

    response = login_as(supervisor).get(URL)
    work = {d.day: (d.received, d.issued, d.completed) for d in response.context["work"]}
    assert len(work) == 21 and max(work) == today
    assert work[three_days_ago] == (2, 0, 0)
    assert work[today] == (1, 1, 1)
    assert sum(received for received, _, _ in work.values()) == 3
    html = response.content.decode()
    assert 'id="by-day"' in html and html.count('<rect class="bar issued"') == 21
    assert three_days_ago.isoformat() in html  # in the figures table under the chart


def test_work_by_day_follows_the_filters(
    login_as: LoginAs, admin_user: User, world: dict[str, Application], other_center: Center
) -> None:
    response = login_as(admin_user).get(URL, {"center": str(other_center.pk)})
    today = timezone.localdate()
    assert [(d.day, d.received) for d in response.context["work"] if d.received] == [(today, 1)]
